-- citus_vector_indexes: each vector index (HNSW, IVFFlat) of a hash-distributed table judged on every shard
-- placement: Citus creates the index once a shard, and a shard whose copy is missing or invalid answers its part of
-- every search by a sequential scan. The coordinator asks each placement's node for the shard's vector indexes
-- (run_command_on_placements, a read of the worker's catalog: pg_index, pg_class, pg_am).
-- Shows: table, index (the coordinator's name), method, shard_id, shard (the shard table's name), node
--        (host:port), checked (the node answered), present, valid (indisvalid), ready (indisready), size_bytes
--        (the shard's index), error (the node's error when it did not answer), shard_index_sql (the shard's
--        CREATE INDEX, to run on its node).
-- Parameters: table (one table's name, or NULL for every distributed table).
-- Thresholds: pgvector README (an index is used only where it exists and is valid); Citus docs, "Creating and
--             modifying distributed objects" (CREATE INDEX on a distributed table creates it on every shard, named
--             <index>_<shardid>).
WITH expected AS (
    SELECT
        p.logicalrelid AS table_oid,
        ic.relname AS index_name,
        am.amname AS method,
        pg_get_indexdef(i.indexrelid) AS definition
    FROM pg_dist_partition AS p
    JOIN pg_index AS i ON i.indrelid = p.logicalrelid
    JOIN pg_class AS ic ON ic.oid = i.indexrelid
    JOIN pg_am AS am ON am.oid = ic.relam
    WHERE p.partmethod = 'h'
        AND am.amname IN ('hnsw', 'ivfflat')
        AND (%(table)s::text IS NULL OR p.logicalrelid = to_regclass(%(table)s::text))
),
placements AS (
    SELECT
        t.table_oid,
        r.nodename,
        r.nodeport,
        r.shardid,
        r.success,
        r.result
    FROM (SELECT DISTINCT e.table_oid FROM expected AS e) AS t
    CROSS JOIN LATERAL run_command_on_placements(
        t.table_oid,
        -- run on each placement's node, chr(37) || 's' standing for the shard's name (run_command_on_placements'
        -- placeholder, spelled so that no client library takes it for a parameter)
        'SELECT coalesce(json_agg(json_build_object(''index_name'', c.relname, ''valid'', i.indisvalid, '
        || '''ready'', i.indisready, ''size_bytes'', pg_relation_size(c.oid))), ''[]'')::text '
        || 'FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS am ON am.oid = c.relam '
        || 'WHERE am.amname IN (''hnsw'', ''ivfflat'') AND i.indrelid = '
        || quote_literal(chr(37) || 's') || '::regclass'
    ) AS r
),
found AS (
    SELECT
        pl.shardid,
        f.index_name,
        f.valid,
        f.ready,
        f.size_bytes
    FROM placements AS pl
    CROSS JOIN LATERAL json_to_recordset(pl.result::json) AS f(index_name text, valid boolean, ready boolean, size_bytes bigint)
    WHERE pl.success
)
SELECT
    e.table_oid::regclass::text AS table,
    e.index_name AS index,
    e.method,
    pl.shardid AS shard_id,
    shard_name(e.table_oid, pl.shardid) AS shard,
    pl.nodename || ':' || pl.nodeport AS node,
    pl.success AS checked,
    (f.index_name IS NOT NULL) AS present,
    f.valid,
    f.ready,
    f.size_bytes,
    CASE WHEN NOT pl.success THEN pl.result END AS error,
    -- the index as Citus builds it on this shard (to run on the shard's node when it is missing)
    'CREATE INDEX CONCURRENTLY ' || quote_ident(e.index_name || '_' || pl.shardid) || ' ON '
    || shard_name(e.table_oid, pl.shardid) || substring(e.definition FROM ' USING .*$') AS shard_index_sql
FROM expected AS e
JOIN placements AS pl ON pl.table_oid = e.table_oid
LEFT JOIN found AS f ON f.shardid = pl.shardid AND f.index_name = e.index_name || '_' || pl.shardid
ORDER BY e.table_oid::regclass::text, e.index_name, pl.shardid, pl.nodename, pl.nodeport
