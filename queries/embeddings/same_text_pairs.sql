-- same_text_pairs: rows whose text is identical to an earlier row's but whose vectors differ (cosine similarity
-- below max_similarity, or another dimension). One embedding model maps one text to one vector: identical
-- texts far apart mean two models (or a changed model) wrote to the table. Each later row is paired with the
-- earliest row of its text (id_a), so id_b is the row written after the change.
-- Placeholders: {sampled} (the table, TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)), {column}, {group}, {text}, {created_at}.
-- Parameters: percent, seed (TABLESAMPLE), max_similarity, limit.
-- Shows: id_a, id_b, group_a, group_b, text_preview, dims_a, dims_b, cosine_similarity.
WITH sample AS MATERIALIZED (
    SELECT
        id,
        {group} AS grp,
        {text} AS body,
        {created_at} AS created_at,
        {column} AS v
    FROM {sampled}
    WHERE {column} IS NOT NULL
        AND {text} IS NOT NULL
        AND vector_norm({column}::vector) > 0
),
firsts AS (
    SELECT DISTINCT ON (md5(body))
        md5(body) AS h,
        id,
        grp,
        v
    FROM sample
    ORDER BY md5(body), created_at, id
),
pairs AS (
    SELECT
        f.id::text AS id_a,
        s.id::text AS id_b,
        f.grp AS group_a,
        s.grp AS group_b,
        left(s.body, 80) AS text_preview,
        vector_dims(f.v) AS dims_a,
        vector_dims(s.v) AS dims_b,
        CASE
            WHEN vector_dims(f.v) = vector_dims(s.v) THEN 1 - (f.v <=> s.v)
        END AS cosine_similarity
    FROM sample AS s
    JOIN firsts AS f ON f.h = md5(s.body)
        AND f.id <> s.id
)
SELECT
    id_a,
    id_b,
    group_a,
    group_b,
    text_preview,
    dims_a,
    dims_b,
    cosine_similarity
FROM pairs
WHERE cosine_similarity IS NULL
    OR cosine_similarity < %(max_similarity)s
ORDER BY cosine_similarity NULLS FIRST, id_a, id_b
LIMIT %(limit)s
