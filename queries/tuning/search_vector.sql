-- search_vector: the k nearest rows by cosine distance at full precision, the shape an HNSW index on
-- ({column} vector_cosine_ops) serves (ORDER BY column <=> query LIMIT k). Without an index it is the exact answer
-- tune_index measures recall against.
-- Placeholders: {table}, {key}, {column}.
-- Parameters: q (the query vector), k.
-- Shows: id, distance (full-precision cosine distance, so recall can count ties with the k-th exact distance).
-- Thresholds: pgvector README (HNSW; Query options).
SELECT {key}::text AS id, ({column} <=> %(q)s::vector)::float8 AS distance
FROM {table}
ORDER BY {column} <=> %(q)s::vector
LIMIT %(k)s
