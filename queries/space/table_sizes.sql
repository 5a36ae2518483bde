-- table_sizes: every table of this database with its heap, TOAST and index sizes (largest in total first).
-- Shows: schema, table, live_rows (estimate), heap_bytes, toast_bytes, indexes_bytes, total_bytes.
-- Parameters: limit: at most this many tables.
-- Thresholds: none (a listing; PgHero lib/pghero/methods/space.rb relation_sizes / table_sizes).
-- Defaults: limit = 100
SELECT
    n.nspname AS schema,
    c.relname AS table,
    greatest(c.reltuples, 0)::bigint AS live_rows,
    pg_relation_size(c.oid) AS heap_bytes,
    coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) AS toast_bytes,
    pg_indexes_size(c.oid) AS indexes_bytes,
    pg_total_relation_size(c.oid) AS total_bytes
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 'p')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%%'
ORDER BY total_bytes DESC, n.nspname, c.relname
LIMIT %(limit)s
