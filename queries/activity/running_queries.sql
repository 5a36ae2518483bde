-- running_queries: sessions of this database that are not idle (other than this one), longest first.
-- Shows: pid, state, user, application, client, duration_ms (of the current statement), transaction_ms,
--        wait_event_type / wait_event, backend_type and the query text.
-- Parameters: min_duration_ms: only statements running at least this long (0 for all).
-- Thresholds: PgHero lib/pghero/methods/queries.rb (running_queries, long_running_query_sec 60).
-- Defaults: min_duration_ms = 0
SELECT
    a.pid,
    a.state,
    a.usename AS user,
    a.application_name AS application,
    host(a.client_addr) AS client,
    round((extract(EPOCH FROM clock_timestamp() - a.query_start) * 1000)::numeric, 1)::float8 AS duration_ms,
    round((extract(EPOCH FROM clock_timestamp() - a.xact_start) * 1000)::numeric, 1)::float8 AS transaction_ms,
    a.wait_event_type,
    a.wait_event,
    a.backend_type,
    a.query
FROM pg_stat_activity AS a
WHERE a.datname = current_database()
    AND a.pid <> pg_backend_pid()
    AND a.state IS DISTINCT FROM 'idle'
    AND a.backend_type = 'client backend'
    AND a.query_start <= clock_timestamp() - make_interval(secs => %(min_duration_ms)s / 1000.0)
ORDER BY a.query_start ASC NULLS LAST, a.pid
