-- 005_metrics.sql: what a /metrics scrape reads.
--
-- The scrape counts pending deliveries per integration (and those already
-- retried, and the oldest's age). Through deliveries_pending alone that is
-- one table lookup per pending row: about 3 s for a backlog of a million
-- (a dead endpoint), the moment an operator looks. This partial index
-- covers the query, so a scrape reads the index only (0.3 s for the same
-- backlog; bench/metrics-scrape.sh); like deliveries_pending it holds
-- pending rows only, so it stays as small as the backlog.
CREATE INDEX deliveries_pending_integration ON deliveries(integration_id, attempts, created_at)
    WHERE status = 'pending';
