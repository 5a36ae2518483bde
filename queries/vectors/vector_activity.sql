-- vector_activity: statements running (or last run) in the sessions of this database right now that use a
-- pgvector distance operator; unlike pg_stat_statements these keep their literal values (LIMIT 100, ...).
-- Shows: pid, state, duration_ms, query.
-- Parameters: none.
SELECT
    a.pid,
    a.state,
    round((extract(EPOCH FROM clock_timestamp() - a.query_start) * 1000)::numeric, 1)::float8 AS duration_ms,
    a.query
FROM pg_stat_activity AS a
WHERE a.datname = current_database()
    AND a.pid <> pg_backend_pid()
    AND a.query ~ '<(->|=>|#>|\+>|~>|[%%]>)'
    AND a.query NOT ILIKE '%%pg_stat_activity%%'
    AND a.query NOT LIKE '%%/* okai-insight */%%'  -- okai-insight's own sessions
ORDER BY a.query_start, a.pid
