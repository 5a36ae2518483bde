-- foreign_keys_without_index: foreign keys whose columns do not lead any valid index of the referencing table.
-- Deleting or updating a referenced row then scans the whole referencing table (once per row), and joins on
-- the key cannot use an index.
-- Shows: schema, table, qualified_table, constraint, columns, columns_sql (quoted, comma-separated), referenced_table, table_rows (estimate),
--        table_size_bytes.
-- table_size_bytes is the catalog's estimate (relpages, as of the last VACUUM / ANALYZE): reading it
-- takes no lock, so a table locked by a long ALTER does not stall the check.
-- Parameters: none.
-- Thresholds: PostgreSQL docs, ddl-constraints-fk ("declaring an index on the referencing columns is often a
--             good idea"); findings only from min_rows rows in Python (default 10000, as PgHero's
--             missing-index advice).
SELECT
    n.nspname AS schema,
    t.relname AS table,
    quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS qualified_table,
    c.conname AS constraint,
    (
        SELECT array_agg(a.attname ORDER BY k.ord)
        FROM unnest(c.conkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    ) AS columns,
    (
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
        FROM unnest(c.conkey) WITH ORDINALITY AS k (attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    ) AS columns_sql,
    c.confrelid::regclass::text AS referenced_table,
    greatest(t.reltuples, coalesce(s.n_live_tup, 0))::bigint AS table_rows,
    t.relpages::bigint * current_setting('block_size')::bigint AS table_size_bytes
FROM pg_constraint AS c
JOIN pg_class AS t ON t.oid = c.conrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
LEFT JOIN pg_stat_user_tables AS s ON s.relid = t.oid
WHERE c.contype = 'f'
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND NOT EXISTS (
        SELECT 1
        FROM pg_index AS i
        WHERE i.indrelid = c.conrelid
            AND i.indisvalid
            AND i.indpred IS NULL
            AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] @> c.conkey
            AND (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(c.conkey)] <@ c.conkey
    )
ORDER BY table_rows DESC, n.nspname, t.relname, c.conname
