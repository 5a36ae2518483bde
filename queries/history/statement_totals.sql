-- statement_totals: the cumulative counters of this database's statements in pg_stat_statements, for a
-- history snapshot (okai-insight's own, tagged /* okai-insight */, left out): the deltas between two
-- snapshots are what ran in between.
-- Shows: queryid, calls, total_ms, rows, query.
-- Parameters: limit: at most this many statements, by total time.
-- Thresholds: none (PgHero's query_stats history keeps the same counters).
-- Defaults: limit = 500
SELECT
    s.queryid::text AS queryid,
    sum(s.calls)::bigint AS calls,
    round(sum(s.total_exec_time)::numeric, 3)::float8 AS total_ms,
    sum(s.rows)::bigint AS rows,
    min(s.query) AS query
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND s.toplevel
    AND s.query NOT ILIKE '%%pg_stat_statements%%'
    AND s.query NOT LIKE '%%/* okai-insight */%%'
    AND s.query NOT IN ('BEGIN', 'COMMIT', 'ROLLBACK')
GROUP BY s.queryid
ORDER BY sum(s.total_exec_time) DESC, s.queryid
LIMIT %(limit)s
