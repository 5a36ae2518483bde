-- near_neighbours: for each probe row, its k nearest rows through the vector index (one
-- ORDER BY column <op> probe LIMIT k per probe, a LATERAL join: no O(n^2) scan), with cosine similarity,
-- L2 distance and inner product. Rows of another dimension and zero vectors are skipped. Unqualified names in the
-- LATERAL subquery resolve to its own FROM first ({table} may be a derived table with its own alias).
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
        id::text AS id,
        {group} AS grp,
        1 - ({column} <=> p.v) AS cosine_similarity,
        {column} <-> p.v AS l2_distance,
        -({column} <#> p.v) AS inner_product
    FROM {table}
    WHERE id <> p.id
        AND {column} IS NOT NULL
        AND vector_dims({column}) = vector_dims(p.v)
    ORDER BY {column} {op} p.v
    LIMIT %(k)s
) AS nb
ORDER BY p.id, nb.cosine_similarity DESC
