-- table_sizes: every table of this database with its heap, TOAST and index sizes (largest in total first).
-- Shows: schema, table, live_rows (estimate), heap_bytes, toast_bytes, indexes_bytes, total_bytes.
--        live_rows is pg_class.reltuples once VACUUM or ANALYZE has measured the table; before that reltuples is
--        -1 or the 0 CREATE INDEX wrote on an empty table, so it is the cumulative statistics' n_live_tup (counted
--        by every insert; vacuum_stats shows the same): a table loaded after its indexes were built no longer
--        reads 0 until autovacuum's first ANALYZE. (n_live_tup alone is not used: an insert flushed after an
--        ANALYZE is counted twice.)
-- Parameters: limit: at most this many tables.
-- Thresholds: none (a listing; PgHero lib/pghero/methods/space.rb relation_sizes / table_sizes).
-- Defaults: limit = 100
SELECT
    n.nspname AS schema,
    c.relname AS table,
    CASE
        WHEN c.reltuples >= 0 AND coalesce(s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze) IS NOT NULL
            THEN c.reltuples
        ELSE coalesce(s.n_live_tup, greatest(c.reltuples, 0))
    END::bigint AS live_rows,
    pg_relation_size(c.oid) AS heap_bytes,
    coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast_bytes,
    pg_indexes_size(c.oid) AS indexes_bytes,
    pg_total_relation_size(c.oid) AS total_bytes
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_tables AS s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'm', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%%'
ORDER BY total_bytes DESC, n.nspname, c.relname
LIMIT %(limit)s
