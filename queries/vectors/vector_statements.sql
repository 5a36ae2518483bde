-- vector_statements: statements of this database recorded by pg_stat_statements that use a pgvector distance
-- operator (<->, <=>, <#>, <+>, <~>, < percent>); the vectors diagnostic checks each against the vector indexes.
-- Shows: queryid, calls, mean_ms, total_ms, rows_per_call, query (normalised: constants are $n).
-- Parameters: none.
SELECT
    s.queryid,
    s.calls,
    round(s.mean_exec_time::numeric, 3)::float8 AS mean_ms,
    round(s.total_exec_time::numeric, 3)::float8 AS total_ms,
    round((s.rows::numeric / nullif(s.calls, 0)), 2)::float8 AS rows_per_call,
    s.query
FROM pg_stat_statements AS s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND s.query ~ '<(->|=>|#>|\+>|~>|[%%]>)'
    AND s.query NOT ILIKE '%%pg_stat_statements%%'
    AND s.query NOT LIKE '%%/* okai-insight */%%'  -- okai-insight's own statements (statements.own_statements)
ORDER BY s.total_exec_time DESC, s.queryid
