-- relation_sizes: every table and index of this database with its size, for a history snapshot (space growth).
-- Shows: schema, name, kind ('table' | 'index'), table (an index's table), bytes (a table's total, TOAST and
--        indexes included; an index's own), live_rows (tables: the planner's estimate).
-- Parameters: none.
-- Thresholds: none (PgHero lib/pghero/methods/space.rb relation_sizes).
SELECT
    n.nspname AS schema,
    c.relname AS name,
    CASE WHEN c.relkind IN ('i', 'I') THEN 'index' ELSE 'table' END AS kind,
    coalesce(t.relname, c.relname) AS table,
    CASE WHEN c.relkind IN ('i', 'I') THEN pg_relation_size(c.oid) ELSE pg_total_relation_size(c.oid) END AS bytes,
    CASE WHEN c.relkind IN ('i', 'I') THEN NULL ELSE greatest(c.reltuples, 0)::bigint END AS live_rows
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_index AS x ON x.indexrelid = c.oid
LEFT JOIN pg_class AS t ON t.oid = x.indrelid
WHERE c.relkind IN ('r', 'm', 'p', 'i', 'I')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%%'
ORDER BY n.nspname, c.relname
