-- near_neighbours: for each probe row, its k nearest rows through the vector index (one
-- ORDER BY column <op> probe LIMIT k per probe, a LATERAL join: no O(n^2) scan), with cosine similarity,
-- L2 distance and inner product. Rows of another dimension and zero vectors are skipped.
-- Placeholders: {table}, {column}, {group}, {op} (the index's operator: <=>, <-> or <#>).
-- Parameters: ids (uuid[] of the probe rows), k.
-- Shows: probe_id, probe_group, neighbour_id, neighbour_group, cosine_similarity, l2_distance, inner_product.
-- Thresholds: pgvector README: an HNSW index serves ORDER BY column <op> value LIMIT k when <op> matches its
--             operator class.
WITH probe AS MATERIALIZED (
    SELECT
        id,
        {group} AS grp,
        {column} AS v
    FROM {table}
    WHERE id = ANY(%(ids)s::uuid[])
        AND {column} IS NOT NULL
        AND vector_norm({column}::vector) > 0
)
SELECT
    p.id::text AS probe_id,
    p.grp AS probe_group,
    nb.id AS neighbour_id,
    nb.grp AS neighbour_group,
    nb.cosine_similarity,
    nb.l2_distance,
    nb.inner_product
FROM probe AS p
CROSS JOIN LATERAL (
    SELECT
        t.id::text AS id,
        {group} AS grp,
        1 - (t.{column} <=> p.v) AS cosine_similarity,
        t.{column} <-> p.v AS l2_distance,
        -(t.{column} <#> p.v) AS inner_product
    FROM {table} AS t
    WHERE t.id <> p.id
        AND vector_dims(t.{column}) = vector_dims(p.v)
    ORDER BY t.{column} {op} p.v
    LIMIT %(k)s
) AS nb
ORDER BY p.id, nb.cosine_similarity DESC
