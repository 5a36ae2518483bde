-- vector_columns: every pgvector column (vector, halfvec, sparsevec) of this database's tables with its declared
-- dimension (NULL when the column has no typmod, so rows of any dimension fit) and whether a vector index
-- (hnsw, ivfflat) covers it.
-- Shows: schema, table, column, qualified_table, quoted_column, type, declared_dims, estimated_rows, table_size_bytes,
--        vector_indexes (names), readable (whether this role may SELECT the column), partition_of (the parent of a
--        partition), partitions and partitions_without_vector_index (of a partitioned table; its estimated_rows
--        is the sum of its partitions').
-- table_size_bytes is the catalog's estimate (relpages, as of the last VACUUM / ANALYZE): reading it
-- takes no lock, so a table locked by a long ALTER does not stall the check.
-- Parameters: none.
SELECT
    n.nspname AS schema,
    c.relname AS table,
    a.attname AS column,
    quote_ident(a.attname) AS quoted_column,
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qualified_table,
    t.typname AS type,
    CASE WHEN a.atttypmod > 0 THEN a.atttypmod END AS declared_dims,
    CASE WHEN c.relkind = 'p' THEN (
        SELECT coalesce(sum(greatest(pc.reltuples, 0)), 0)
        FROM pg_partition_tree(c.oid) AS pt
        JOIN pg_class AS pc ON pc.oid = pt.relid
        WHERE pt.isleaf
    ) ELSE greatest(c.reltuples, 0) END::bigint AS estimated_rows,
    c.relpages::bigint * current_setting('block_size')::bigint AS table_size_bytes,
    (
        SELECT array_agg(ic.relname::text ORDER BY ic.relname)
        FROM pg_index AS i
        JOIN pg_class AS ic ON ic.oid = i.indexrelid
        JOIN pg_am AS am ON am.oid = ic.relam
        WHERE i.indrelid = c.oid
            AND a.attnum = ANY (string_to_array(i.indkey::text, ' ')::int2[])
            AND am.amname IN ('hnsw', 'ivfflat')
    ) AS vector_indexes,
    has_column_privilege(c.oid, a.attnum, 'SELECT') AS readable,
    (
        SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
        FROM pg_inherits AS h
        JOIN pg_class AS pc ON pc.oid = h.inhparent
        JOIN pg_namespace AS pn ON pn.oid = pc.relnamespace
        WHERE c.relispartition AND h.inhrelid = c.oid
    ) AS partition_of,
    CASE WHEN c.relkind = 'p' THEN (SELECT count(*) FROM pg_partition_tree(c.oid) WHERE isleaf) END AS partitions,
    CASE WHEN c.relkind = 'p' THEN (
        SELECT count(*)
        FROM pg_partition_tree(c.oid) AS pt
        WHERE pt.isleaf
            AND NOT EXISTS (
                SELECT 1
                FROM pg_index AS i
                JOIN pg_class AS ic ON ic.oid = i.indexrelid
                JOIN pg_am AS am ON am.oid = ic.relam
                JOIN pg_attribute AS pa ON pa.attrelid = pt.relid AND pa.attname = a.attname
                WHERE i.indrelid = pt.relid
                    AND pa.attnum = ANY (string_to_array(i.indkey::text, ' ')::int2[])
                    AND am.amname IN ('hnsw', 'ivfflat')
            )
    ) END AS partitions_without_vector_index
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_type AS t ON t.oid = a.atttypid
WHERE t.typname IN ('vector', 'halfvec', 'sparsevec')
    AND c.relkind IN ('r', 'p', 'm')
    AND a.attnum > 0
    AND NOT a.attisdropped
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY n.nspname, c.relname, a.attnum
