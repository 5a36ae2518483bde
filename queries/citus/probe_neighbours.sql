-- probe_neighbours: one probe row's k nearest rows, the form of embeddings/near_neighbours.sql a Citus distributed
-- table can run. Citus cannot push near_neighbours' LATERAL subquery with LIMIT down to the shards ("cannot push
-- down this subquery"); one ORDER BY column <op> probe LIMIT k a probe is a plain multi-shard top-k: each shard
-- answers its k nearest from its own vector index and the coordinator merges them into the global k.
-- Placeholders: {table}, {column}, {group}, {op}, {vtype}.
-- Parameters: probe_id, probe_group, v (the probe's vector, text form), k.
-- Shows: probe_id, probe_group, neighbour_id, neighbour_group, cosine_similarity, l2_distance, inner_product.
-- Thresholds: pgvector README (an HNSW index serves ORDER BY column <op> value LIMIT k); Citus docs, query
--             processing (a multi-shard ORDER BY ... LIMIT is pushed down to every shard, then merged).
SELECT
    %(probe_id)s::text AS probe_id,
    %(probe_group)s::text AS probe_group,
    id::text AS neighbour_id,
    {group} AS neighbour_group,
    1 - ({column} <=> %(v)s::{vtype}) AS cosine_similarity,
    {column} <-> %(v)s::{vtype} AS l2_distance,
    -({column} <#> %(v)s::{vtype}) AS inner_product
FROM {table}
WHERE id <> %(probe_id)s::uuid
    AND {column} IS NOT NULL
    AND vector_dims({column}) = vector_dims(%(v)s::{vtype})
ORDER BY {column} {op} %(v)s::{vtype}
LIMIT %(k)s
