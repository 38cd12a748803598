-- ingest.lua: wrk script for bench/ingest.sh. Each request is one standard
-- alert event with a distinct alert_key (thread id + counter), so every
-- request makes a new alert and a new incident: the full ingest path.
local counter = 0
local tid = 0
local prefix = ""
local threads = {}

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    -- bench/cluster.sh runs one wrk per node: a prefix per wrk keeps keys distinct
    prefix = args[1] or ""
    tid = tonumber(wrk.thread:get("tid")) or 0
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    counter = counter + 1
    local body = string.format(
        '{"title_rule":"bench $service %d","event_status":"Critical","alert_key":"bench-%s%d-%d",' ..
        '"description":"load test","labels":{"service":"api","host":"h%d","region":"eu"}}',
        counter, prefix, tid, counter, counter % 100)
    return wrk.format(nil, nil, nil, body)
end
