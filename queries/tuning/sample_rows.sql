-- sample_rows: the rows tune_index copies into its scratch server (binary COPY out of a READ ONLY transaction): a
-- keyed sample (ordered by md5(id || seed): stable and unbiased), optionally from a TABLESAMPLE of pages.
-- Placeholders: {sampled} (the table, TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)), {column}.
-- Parameters: percent, seed, dims (only vectors of this dimension), limit.
-- Shows: id (text), embedding (the vector, cast to vector: the scratch copy holds full precision).
-- Zero vectors are left out: cosine distance is undefined for them and pgvector does not index them.
SELECT
    id::text AS id,
    {column}::vector AS embedding
FROM {sampled}
WHERE {column} IS NOT NULL
    AND vector_dims({column}) = %(dims)s::int
    AND vector_norm({column}::vector) > 0
ORDER BY md5(id::text || %(seed)s::text)
LIMIT %(limit)s
