-- probe_rows: the probe rows of embeddings/near_neighbours.sql (their id, group and vector as text), read first on
-- a Citus database, where each probe's neighbours are then asked for one statement a probe (probe_neighbours.sql).
-- Placeholders: {table}, {column}, {group}.
-- Parameters: ids (uuid[] of the probe rows).
-- Shows: id, grp, v (the vector's text form).
-- Thresholds: none (zero vectors are skipped, as near_neighbours skips them).
SELECT
    id::text AS id,
    {group} AS grp,
    {column}::text AS v
FROM {table}
WHERE id = ANY(%(ids)s::uuid[])
    AND {column} IS NOT NULL
    AND vector_norm({column}::vector) > 0
ORDER BY id
