-- citus_nodes: the nodes of this Citus database as the coordinator's metadata (pg_dist_node) records them: group,
-- role, whether active, whether it should hold shards, metadata sync, the distributed shard placements it holds,
-- and (check_health) whether every other node can connect to it.
-- Shows: node_id, group_id, node (host:port), role ('coordinator' for group 0, else 'worker'), node_role
--        (primary / secondary), is_active, should_have_shards, has_metadata, metadata_synced, shard_placements
--        (of hash-distributed tables), reachable (NULL when not checked), unreachable_from (the nodes that failed
--        to connect to it).
-- Parameters: check_health (boolean: run citus_check_cluster_node_health(), one connection from every node to
--             every node; okai_insight.diagnostics.citus passes true).
-- Thresholds: Citus docs, "Cluster management" (citus_check_cluster_node_health; an inactive node's shards are not
--             queried); Citus 11+ keeps metadata on every worker (hasmetadata / metadatasynced).
WITH health AS (
    SELECT
        h.to_nodename,
        h.to_nodeport,
        bool_and(coalesce(h.result, FALSE)) AS reachable,
        string_agg(
            CASE WHEN NOT coalesce(h.result, FALSE) THEN h.from_nodename || ':' || h.from_nodeport END,
            ', '
            ORDER BY h.from_nodename, h.from_nodeport
        ) AS unreachable_from
    FROM citus_check_cluster_node_health() AS h
    WHERE %(check_health)s::boolean
    GROUP BY h.to_nodename, h.to_nodeport
),
placements AS (
    SELECT
        pl.groupid,
        count(*) AS shard_placements
    FROM pg_dist_placement AS pl
    JOIN pg_dist_shard AS s ON s.shardid = pl.shardid
    JOIN pg_dist_partition AS p ON p.logicalrelid = s.logicalrelid
    WHERE p.partmethod = 'h'
    GROUP BY pl.groupid
)
SELECT
    n.nodeid AS node_id,
    n.groupid AS group_id,
    n.nodename || ':' || n.nodeport AS node,
    CASE WHEN n.groupid = 0 THEN 'coordinator' ELSE 'worker' END AS role,
    n.noderole::text AS node_role,
    n.isactive AS is_active,
    n.shouldhaveshards AS should_have_shards,
    n.hasmetadata AS has_metadata,
    n.metadatasynced AS metadata_synced,
    coalesce(pl.shard_placements, 0) AS shard_placements,
    h.reachable,
    h.unreachable_from
FROM pg_dist_node AS n
LEFT JOIN placements AS pl ON pl.groupid = n.groupid
LEFT JOIN health AS h ON h.to_nodename = n.nodename AND h.to_nodeport = n.nodeport
ORDER BY n.groupid, n.nodeid
