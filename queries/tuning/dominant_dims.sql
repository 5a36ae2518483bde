-- dominant_dims: the most frequent vector dimension of a column without a declared one (vector rather than
-- vector(384)), read from a TABLESAMPLE of pages: tune_index copies vectors of that dimension only.
-- Placeholders: {sampled} (the table, TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)), {column}.
-- Parameters: percent, seed.
-- Shows: dims, rows (in the sample).
SELECT
    vector_dims({column}) AS dims,
    count(*) AS rows
FROM {sampled}
WHERE {column} IS NOT NULL
GROUP BY 1
ORDER BY 2 DESC, 1
LIMIT 1
