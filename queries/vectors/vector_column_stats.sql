-- vector_column_stats: what one vector column actually stores: the dimensions found (with counts), NULL vectors
-- and zero vectors (which a cosine index cannot serve: their cosine distance is undefined, so they are not
-- indexed and never found). Reads a TABLESAMPLE SYSTEM sample on large tables.
-- Placeholders: {table} (schema-qualified) and {column}, composed with psycopg.sql.Identifier by the runner
--               (to run it by hand, replace them with a table and column name).
-- Parameters: percent: the share of the table's pages to read (100 = all).
-- Thresholds: pgvector README ("NULL vectors are not indexed, nor are zero vectors for cosine distance").
-- Defaults: percent = 100, {table} = memories, {column} = embedding
WITH sample AS MATERIALIZED (
    SELECT {column}::vector AS v
    FROM {table} TABLESAMPLE SYSTEM (%(percent)s)
),
dims AS (
    SELECT
        vector_dims(v) AS dims,
        count(*) AS n
    FROM sample
    WHERE v IS NOT NULL
    GROUP BY vector_dims(v)
)
SELECT
    (SELECT count(*) FROM sample) AS sampled_rows,
    (SELECT count(*) FROM sample WHERE v IS NULL) AS null_vectors,
    (SELECT count(*) FROM sample WHERE v IS NOT NULL AND vector_norm(v) = 0) AS zero_vectors,
    (SELECT jsonb_object_agg(dims::text, n ORDER BY dims) FROM dims) AS stored_dims
