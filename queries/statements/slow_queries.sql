-- slow_queries: statements of this database whose mean execution time and call count both pass a threshold
-- (pg_stat_statements, PostgreSQL 13+).
-- Shows: queryid, calls, mean_ms, total_ms, max_ms, rows_per_call, user, query.
-- Parameters: min_mean_ms, min_calls (defaults below: slow_queries()'s own).
-- Thresholds: PgHero lib/pghero.rb (slow_query_ms 20, slow_query_calls 100), used by
--             lib/pghero/methods/query_stats.rb (slow_queries).
-- Defaults: min_mean_ms = 20, min_calls = 100
SELECT
    s.queryid,
    s.calls,
    round(s.mean_exec_time::numeric, 3)::float8 AS mean_ms,
    round(s.total_exec_time::numeric, 3)::float8 AS total_ms,
    round(s.max_exec_time::numeric, 3)::float8 AS max_ms,
    round((s.rows::numeric / nullif(s.calls, 0)), 2)::float8 AS rows_per_call,
    pg_get_userbyid(s.userid) AS user,
    s.query
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND s.mean_exec_time >= %(min_mean_ms)s
    AND s.calls >= %(min_calls)s
    AND s.query NOT ILIKE '%%pg_stat_statements%%'
    AND s.query NOT LIKE '%%/* okai-insight */%%'  -- okai-insight's own statements (statements.own_statements)
ORDER BY s.total_exec_time DESC, s.queryid
