-- missing_vector_indexes: memories tables (okai-insight's and ElizaOS 0.1.9's schema) whose embedding column has
-- no valid HNSW or IVFFlat index, though its declared dimension allows one (vector up to 2000, halfvec up to
-- 4000): every similarity search reads the whole table. An interrupted bulk load leaves this state; the next
-- okai-insight load (create_memories, copy) rebuilds the index.
-- Shows: schema, table, qualified_table, column, vector_type, dims, live_rows, invalid_indexes.
-- Parameters: none.
-- Thresholds: pgvector README (Indexing: HNSW supports vector up to 2,000 and halfvec up to 4,000 dimensions).
SELECT
    n.nspname AS schema,
    t.relname AS table,
    quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS qualified_table,
    a.attname AS column,
    ty.typname AS vector_type,
    a.atttypmod AS dims,
    greatest(t.reltuples, 0)::bigint AS live_rows,
    (
        SELECT count(*)
        FROM pg_index AS bad
        WHERE bad.indrelid = t.oid
            AND NOT bad.indisvalid
            AND a.attnum = ANY (bad.indkey)
    ) AS invalid_indexes
FROM pg_class AS t
JOIN pg_namespace AS n ON n.oid = t.relnamespace
JOIN pg_attribute AS a ON a.attrelid = t.oid
JOIN pg_type AS ty ON ty.oid = a.atttypid
WHERE t.relname = 'memories'
    AND t.relkind IN ('r', 'p')
    AND NOT t.relispartition
    AND a.attname = 'embedding'
    AND NOT a.attisdropped
    AND ((ty.typname = 'vector' AND a.atttypmod BETWEEN 1 AND 2000) OR (ty.typname = 'halfvec' AND a.atttypmod BETWEEN 1 AND 4000))
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND NOT EXISTS (
        SELECT 1
        FROM pg_index AS i
        JOIN pg_class AS ic ON ic.oid = i.indexrelid
        JOIN pg_am AS am ON am.oid = ic.relam
        WHERE i.indrelid = t.oid
            AND i.indisvalid
            AND am.amname IN ('hnsw', 'ivfflat')
            AND a.attnum = ANY (i.indkey)
    )
ORDER BY n.nspname, t.relname
