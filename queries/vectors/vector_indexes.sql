-- vector_indexes: every pgvector index (hnsw, ivfflat) with its column, operator class, the distance operator
-- that class serves in ORDER BY, its build options, and its size against shared_buffers and
-- maintenance_work_mem.
-- Shows: schema, table, index, qualified_index, qualified_table, column, quoted_column, method, opclass, operator, m,
--        ef_construction, lists, valid, size_bytes, table_rows, shared_buffers_bytes,
--        maintenance_work_mem_bytes, definition, partition_of (the partitioned index a partition's index belongs
--        to), partitions (of a partitioned index: its size_bytes and table_rows are the sums of its partitions').
-- Parameters: none.
-- Thresholds: pgvector README (HNSW defaults m 16, ef_construction 64; IVFFlat lists rows / 1000 up to 1M rows,
--             sqrt(rows) above; "the index should fit into shared_buffers / maintenance_work_mem").
SELECT
    n.nspname AS schema,
    t.relname AS table,
    c.relname AS index,
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qualified_index,
    quote_ident(n.nspname) || '.' || quote_ident(t.relname) AS qualified_table,
    a.attname AS column,
    quote_ident(a.attname) AS quoted_column,
    am.amname AS method,
    opc.opcname AS opclass,
    (
        SELECT op.oprname
        FROM pg_amop AS ao
        JOIN pg_operator AS op ON op.oid = ao.amopopr
        WHERE ao.amopfamily = opc.opcfamily
            AND ao.amoppurpose = 'o'
        LIMIT 1
    ) AS operator,
    coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(c.reloptions) AS o WHERE o LIKE 'm=%%'),
        CASE WHEN am.amname = 'hnsw' THEN 16 END) AS m,
    coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(c.reloptions) AS o WHERE o LIKE 'ef_construction=%%'),
        CASE WHEN am.amname = 'hnsw' THEN 64 END) AS ef_construction,
    coalesce((SELECT split_part(o, '=', 2)::int FROM unnest(c.reloptions) AS o WHERE o LIKE 'lists=%%'),
        CASE WHEN am.amname = 'ivfflat' THEN 100 END) AS lists,
    i.indisvalid AS valid,
    CASE WHEN c.relkind = 'I'
        THEN (SELECT coalesce(sum(pg_relation_size(pt.relid)), 0) FROM pg_partition_tree(c.oid) AS pt WHERE pt.isleaf)
        ELSE pg_relation_size(c.oid) END::bigint AS size_bytes,
    CASE WHEN t.relkind = 'p' THEN (
        SELECT coalesce(sum(greatest(pc.reltuples, 0)), 0)
        FROM pg_partition_tree(t.oid) AS pt
        JOIN pg_class AS pc ON pc.oid = pt.relid
        WHERE pt.isleaf
    ) ELSE greatest(t.reltuples, 0) END::bigint AS table_rows,
    pg_size_bytes(current_setting('shared_buffers')) AS shared_buffers_bytes,
    pg_size_bytes(current_setting('maintenance_work_mem')) AS maintenance_work_mem_bytes,
    pg_get_indexdef(c.oid) AS definition,
    (
        SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)
        FROM pg_inherits AS h
        JOIN pg_class AS pc ON pc.oid = h.inhparent
        JOIN pg_namespace AS pn ON pn.oid = pc.relnamespace
        WHERE c.relispartition AND h.inhrelid = c.oid
    ) AS partition_of,
    CASE WHEN c.relkind = 'I' THEN (SELECT count(*) FROM pg_partition_tree(c.oid) WHERE isleaf) END AS partitions
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_class AS t ON t.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_am AS am ON am.oid = c.relam
JOIN pg_opclass AS opc ON opc.oid = i.indclass[0]
LEFT JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
WHERE am.amname IN ('hnsw', 'ivfflat')
ORDER BY n.nspname, t.relname, c.relname
