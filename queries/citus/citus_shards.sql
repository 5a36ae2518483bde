-- citus_shards: shard placement and balance of each hash-distributed table, one row per table and node: the
-- shards the node holds, their size, and the rebalancer's cost of them (size plus a base cost a shard, Citus's
-- by_disk_size strategy), against the mean cost over the nodes that hold or should hold shards.
-- Shows: table, node (host:port), should_have_shards, shards, size_bytes, cost_bytes, mean_cost_bytes,
--        imbalance (cost_bytes / mean_cost_bytes - 1), threshold (by_disk_size's default_threshold),
--        base_cost_bytes.
-- Parameters: table (one table's name, or NULL for every distributed table); base_cost_bytes (NULL: the server's
--             citus.rebalancer_by_disk_size_base_cost, 100 MB unless changed).
-- Thresholds: Citus's rebalancer, pg_dist_rebalance_strategy 'by_disk_size' (default_threshold 0.1: a node more
--             than 10 %% above the mean cost is unbalanced) and citus.rebalancer_by_disk_size_base_cost (each shard
--             group costs 100 MB on top of its size, so a small cluster is not judged by near-empty shards).
WITH tables AS (
    SELECT p.logicalrelid
    FROM pg_dist_partition AS p
    WHERE p.partmethod = 'h'
        AND (%(table)s::text IS NULL OR p.logicalrelid = to_regclass(%(table)s::text))
),
placed AS (
    SELECT
        s.table_name AS logicalrelid,
        s.nodename,
        s.nodeport,
        count(*) AS shards,
        sum(s.shard_size) AS size_bytes
    FROM citus_shards AS s
    WHERE s.table_name IN (SELECT t.logicalrelid FROM tables AS t)
    GROUP BY s.table_name, s.nodename, s.nodeport
),
nodes AS (
    SELECT
        n.nodename,
        n.nodeport,
        n.shouldhaveshards
    FROM pg_dist_node AS n
    WHERE n.isactive
        AND n.noderole = 'primary'
        AND (n.shouldhaveshards OR EXISTS (
            SELECT 1 FROM placed AS pl WHERE pl.nodename = n.nodename AND pl.nodeport = n.nodeport
        ))
),
settings AS (
    SELECT
        coalesce(
            %(base_cost_bytes)s::bigint,
            pg_size_bytes(current_setting('citus.rebalancer_by_disk_size_base_cost', TRUE)),
            104857600
        ) AS base_cost_bytes,
        coalesce(
            (SELECT r.default_threshold FROM pg_dist_rebalance_strategy AS r WHERE r.name = 'by_disk_size'),
            0.1
        )::float8 AS threshold
),
costs AS (
    SELECT
        t.logicalrelid,
        n.nodename,
        n.nodeport,
        n.shouldhaveshards,
        coalesce(pl.shards, 0) AS shards,
        coalesce(pl.size_bytes, 0)::bigint AS size_bytes,
        (coalesce(pl.size_bytes, 0) + coalesce(pl.shards, 0) * st.base_cost_bytes)::bigint AS cost_bytes,
        st.base_cost_bytes,
        st.threshold
    FROM tables AS t
    CROSS JOIN nodes AS n
    CROSS JOIN settings AS st
    LEFT JOIN placed AS pl
        ON pl.logicalrelid = t.logicalrelid AND pl.nodename = n.nodename AND pl.nodeport = n.nodeport
)
SELECT
    c.logicalrelid::regclass::text AS table,
    c.nodename || ':' || c.nodeport AS node,
    c.shouldhaveshards AS should_have_shards,
    c.shards,
    c.size_bytes,
    c.cost_bytes,
    round(avg(c.cost_bytes) OVER w)::bigint AS mean_cost_bytes,
    round((c.cost_bytes / nullif(avg(c.cost_bytes) OVER w, 0) - 1)::numeric, 3)::float8 AS imbalance,
    c.threshold,
    c.base_cost_bytes
FROM costs AS c
WINDOW w AS (PARTITION BY c.logicalrelid)
ORDER BY c.logicalrelid::regclass::text, c.nodename, c.nodeport
