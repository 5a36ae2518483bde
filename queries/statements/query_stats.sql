-- query_stats: the statements of this database by total execution time (pg_stat_statements, PostgreSQL 13+).
-- Shows: queryid, calls, total_ms, mean_ms, max_ms, stddev_ms, rows, rows_per_call, percent_of_total_time,
--        shared_blks_hit / shared_blks_read, cache_hit_ratio, user, and the (normalised) query text.
-- Parameters: order_by: 'total' | 'mean' | 'calls'; limit: how many statements.
-- Thresholds: PgHero lib/pghero/methods/query_stats.rb (query_stats: top by total time).
-- Defaults: order_by = 'total', limit = 20
SELECT
    s.queryid,
    s.calls,
    round(s.total_exec_time::numeric, 3)::float8 AS total_ms,
    round(s.mean_exec_time::numeric, 3)::float8 AS mean_ms,
    round(s.max_exec_time::numeric, 3)::float8 AS max_ms,
    round(s.stddev_exec_time::numeric, 3)::float8 AS stddev_ms,
    s.rows,
    round((s.rows::numeric / nullif(s.calls, 0)), 2)::float8 AS rows_per_call,
    round((100 * s.total_exec_time / nullif(sum(s.total_exec_time) OVER (), 0))::numeric, 2)::float8
        AS percent_of_total_time,
    s.shared_blks_hit,
    s.shared_blks_read,
    round((s.shared_blks_hit::numeric / nullif(s.shared_blks_hit + s.shared_blks_read, 0)), 4)::float8
        AS cache_hit_ratio,
    pg_get_userbyid(s.userid) AS user,
    s.query
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND s.query NOT ILIKE '%%pg_stat_statements%%'
    AND s.query NOT LIKE '%%/* okai-insight */%%'  -- okai-insight's own statements (statements.own_statements)
    AND s.query NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK', 'BEGIN TRANSACTION READ ONLY')
ORDER BY
    CASE %(order_by)s
        WHEN 'mean' THEN s.mean_exec_time
        WHEN 'calls' THEN s.calls::float8
        ELSE s.total_exec_time
    END DESC,
    s.queryid
LIMIT %(limit)s
