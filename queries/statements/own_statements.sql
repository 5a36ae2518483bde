-- own_statements: okai-insight's own statements in pg_stat_statements for this database (the runner ends each
-- with /* okai-insight */); query_stats, slow_queries and vector_queries leave them out and say how many.
-- Shows: statements, calls, total_ms.
-- Parameters: none.
SELECT
    count(*) AS statements,
    coalesce(sum(s.calls), 0)::bigint AS calls,
    coalesce(round(sum(s.total_exec_time)::numeric, 3), 0)::float8 AS total_ms
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND s.query LIKE '%%/* okai-insight */%%'
