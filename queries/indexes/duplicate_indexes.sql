-- duplicate_indexes: indexes made redundant by another index on the same table: same access method, same
-- predicate and expressions, and their columns (with operator classes and collations) a leading prefix of the
-- other's. A unique index is only redundant when the covering index is unique on exactly the same columns.
-- Shows: schema, table, index, qualified_index, covered_by, size_bytes, definition, covering_definition.
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/indexes.rb (duplicate_indexes: indexes covered by another).
WITH idx AS (
    SELECT
        i.indexrelid,
        i.indrelid,
        i.indisunique,
        i.indisprimary,
        c.relam,
        n.nspname,
        t.relname AS table_name,
        c.relname AS index_name,
        string_to_array(i.indkey::text, ' ')::int2[] AS keys,
        string_to_array(i.indclass::text, ' ')::oid[] AS classes,
        string_to_array(i.indcollation::text, ' ')::oid[] AS collations,
        coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
        coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred
    FROM pg_index AS i
    JOIN pg_class AS c ON c.oid = i.indexrelid
    JOIN pg_class AS t ON t.oid = i.indrelid
    JOIN pg_namespace AS n ON n.oid = t.relnamespace
    WHERE i.indisvalid
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%%'
)
SELECT
    a.nspname AS schema,
    a.table_name AS table,
    a.index_name AS index,
    quote_ident(a.nspname) || '.' || quote_ident(a.index_name) AS qualified_index,
    b.index_name AS covered_by,
    pg_relation_size(a.indexrelid) AS size_bytes,
    pg_get_indexdef(a.indexrelid) AS definition,
    pg_get_indexdef(b.indexrelid) AS covering_definition
FROM idx AS a
JOIN idx AS b
    ON b.indrelid = a.indrelid
    AND b.indexrelid <> a.indexrelid
    AND b.relam = a.relam
    AND b.exprs = a.exprs
    AND b.pred = a.pred
    AND cardinality(b.keys) >= cardinality(a.keys)
    AND b.keys[1:cardinality(a.keys)] = a.keys
    AND b.classes[1:cardinality(a.classes)] = a.classes
    AND b.collations[1:cardinality(a.collations)] = a.collations
WHERE NOT a.indisprimary
    AND (
        NOT a.indisunique
        OR (b.indisunique AND cardinality(b.keys) = cardinality(a.keys))
    )
    -- of two identical indexes report one (the newer, higher oid), unless the other is the primary key
    AND NOT (
        cardinality(b.keys) = cardinality(a.keys)
        AND a.indisunique = b.indisunique
        AND NOT b.indisprimary
        AND a.indexrelid < b.indexrelid
    )
ORDER BY size_bytes DESC, a.nspname, a.index_name
