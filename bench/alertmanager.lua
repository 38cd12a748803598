-- alertmanager.lua: the same load against Alertmanager's own ingest
-- (POST /api/v2/alerts), one alert with distinct labels per request.
local counter = 0
local tid = 0
local threads = {}

function setup(thread)
    thread:set("tid", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    tid = tonumber(wrk.thread:get("tid")) or 0
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    counter = counter + 1
    local body = string.format(
        '[{"labels":{"alertname":"bench %d","key":"bench-%d-%d","service":"api","host":"h%d",' ..
        '"region":"eu","severity":"critical"},"annotations":{"description":"load test"}}]',
        counter, tid, counter, counter % 100)
    return wrk.format(nil, nil, nil, body)
end
