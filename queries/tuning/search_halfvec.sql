-- search_halfvec: the k nearest rows by cosine distance at half precision, the shape an HNSW expression index on
-- (({column}::halfvec(dims)) halfvec_cosine_ops) serves; the distance shown is the full-precision one.
-- Placeholders: {table}, {key}, {column}, {dims}.
-- Parameters: q (the query vector), k.
-- Shows: id, distance (full-precision cosine distance).
-- Thresholds: pgvector README (Half-precision indexing).
SELECT {key}::text AS id, ({column} <=> %(q)s::vector)::float8 AS distance
FROM {table}
ORDER BY {column}::halfvec({dims}) <=> %(q)s::halfvec({dims})
LIMIT %(k)s
