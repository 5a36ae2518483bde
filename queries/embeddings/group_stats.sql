-- group_stats: per group (agent, room, type or the whole table) what the vector column stores: rows, NULL, zero
-- and NaN / infinite vectors, vectors whose L2 norm is not 1 (beyond unit_tolerance), the norm distribution
-- and the dimensions found. Reads a TABLESAMPLE SYSTEM sample when percent < 100.
-- Placeholders: {sampled} (the table, TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)), {column}, {group} (composed with psycopg.sql by okai_insight.embeddings._table).
-- Parameters: percent (share of pages read, 100 = all), seed (REPEATABLE seed), unit_tolerance.
-- Thresholds: pgvector README: NULL vectors are not indexed, nor zero vectors for cosine distance; pgvector
--             rejects NaN and infinity on input, so a non-zero count means the data bypassed its checks.
WITH sample AS MATERIALIZED (
    SELECT
        {group} AS grp,
        {column}::vector AS v
    FROM {sampled}
),
measured AS (
    SELECT
        grp,
        v IS NULL AS is_null,
        vector_dims(v) AS dims,
        vector_norm(v) AS norm
    FROM sample
),
dims AS (
    SELECT
        grp,
        jsonb_object_agg(dims::text, n ORDER BY dims) AS stored_dims
    FROM (
        SELECT
            grp,
            dims,
            count(*) AS n
        FROM measured
        WHERE dims IS NOT NULL
        GROUP BY grp, dims
    ) AS per_dims
    GROUP BY grp
)
SELECT
    m.grp AS "group",
    count(*) AS sampled_rows,
    count(*) FILTER (WHERE m.is_null) AS null_vectors,
    count(*) FILTER (WHERE m.norm = 0) AS zero_vectors,
    count(*) FILTER (WHERE m.norm = 'NaN'::float8 OR m.norm = 'Infinity'::float8) AS nan_vectors,
    count(*) FILTER (WHERE m.norm > 0 AND abs(m.norm - 1) > %(unit_tolerance)s) AS non_unit_vectors,
    min(m.norm) FILTER (WHERE m.norm > 0) AS norm_min,
    percentile_cont(0.05) WITHIN GROUP (ORDER BY m.norm) FILTER (WHERE m.norm > 0) AS norm_p05,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY m.norm) FILTER (WHERE m.norm > 0) AS norm_median,
    percentile_cont(0.95) WITHIN GROUP (ORDER BY m.norm) FILTER (WHERE m.norm > 0) AS norm_p95,
    max(m.norm) FILTER (WHERE m.norm > 0) AS norm_max,
    avg(m.norm) FILTER (WHERE m.norm > 0) AS norm_mean,
    stddev_samp(m.norm) FILTER (WHERE m.norm > 0) AS norm_stddev,
    d.stored_dims
FROM measured AS m
LEFT JOIN dims AS d ON d.grp IS NOT DISTINCT FROM m.grp
GROUP BY m.grp, d.stored_dims
ORDER BY count(*) DESC, m.grp
