-- invalid_indexes: indexes left invalid by a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY. The
-- planner never uses them, yet every write still maintains them.
-- Shows: schema, table, index, qualified_index, size_bytes, definition.
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/indexes.rb (invalid_indexes).
SELECT
    n.nspname AS schema,
    t.relname AS table,
    c.relname AS index,
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qualified_index,
    pg_relation_size(c.oid) AS size_bytes,
    pg_get_indexdef(c.oid) AS definition
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, c.relname
