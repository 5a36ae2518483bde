-- vacuum_stats: per table, when it was last vacuumed and analysed (by hand or by autovacuum), its dead rows, and
-- the dead-row count at which autovacuum should have vacuumed it (per-table storage options win over the
-- server's settings).
-- Shows: schema, table, qualified_table, live_rows, dead_rows, dead_ratio, autovacuum_trigger_rows,
--        autovacuum_enabled, last_vacuum, last_autovacuum, last_analyze, last_autoanalyze, modified_since_analyze,
--        vacuum_count, autovacuum_count.
-- Parameters: none.
-- Thresholds: PostgreSQL docs, routine-vacuuming ("vacuum threshold = autovacuum_vacuum_threshold +
--             autovacuum_vacuum_scale_factor * number of tuples"); PgHero lib/pghero/methods/maintenance.rb.
WITH opts AS (
    SELECT
        c.oid,
        (
            SELECT split_part(o, '=', 2)
            FROM unnest(c.reloptions) AS o
            WHERE o LIKE 'autovacuum_enabled=%%'
        ) AS enabled,
        (
            SELECT split_part(o, '=', 2)::float8
            FROM unnest(c.reloptions) AS o
            WHERE o LIKE 'autovacuum_vacuum_scale_factor=%%'
        ) AS scale_factor,
        (
            SELECT split_part(o, '=', 2)::float8
            FROM unnest(c.reloptions) AS o
            WHERE o LIKE 'autovacuum_vacuum_threshold=%%'
        ) AS threshold
    FROM pg_class AS c
)
SELECT
    s.schemaname AS schema,
    s.relname AS table,
    quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS qualified_table,
    s.n_live_tup AS live_rows,
    s.n_dead_tup AS dead_rows,
    round((s.n_dead_tup::numeric / nullif(s.n_live_tup + s.n_dead_tup, 0)), 4)::float8 AS dead_ratio,
    (
        coalesce(o.threshold, current_setting('autovacuum_vacuum_threshold')::float8)
        + coalesce(o.scale_factor, current_setting('autovacuum_vacuum_scale_factor')::float8)
        * greatest(c.reltuples, 0)
    )::bigint AS autovacuum_trigger_rows,
    coalesce(o.enabled::boolean, true) AND current_setting('autovacuum')::boolean AS autovacuum_enabled,
    s.last_vacuum,
    s.last_autovacuum,
    s.last_analyze,
    s.last_autoanalyze,
    s.n_mod_since_analyze AS modified_since_analyze,
    s.vacuum_count,
    s.autovacuum_count
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
JOIN opts AS o ON o.oid = s.relid
ORDER BY s.n_dead_tup DESC, s.schemaname, s.relname
