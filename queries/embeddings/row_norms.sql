-- row_norms: each sampled row's id, group, dimension and L2 norm (no vectors), for the mixed-model checks:
-- two embedding models in one group show as two dimensions or two separated norm populations.
-- Placeholders: {sampled} (the table, TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)), {column}, {group}.
-- Parameters: percent, seed (the same sample as group_stats), limit (at most this many rows, keyed sample).
-- Shows: id, group, dims, norm.
SELECT
    id::text AS id,
    {group} AS "group",
    vector_dims({column}::vector) AS dims,
    vector_norm({column}::vector) AS norm
FROM {sampled}
WHERE {column} IS NOT NULL
ORDER BY md5(id::text || %(seed)s::text)
LIMIT %(limit)s
