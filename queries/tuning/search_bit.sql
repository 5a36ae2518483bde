-- search_bit: binary quantization with re-ranking: the fetch nearest rows by Hamming distance between binary
-- codes (an HNSW expression index on ((binary_quantize({column})::bit(dims)) bit_hamming_ops) serves the inner
-- ORDER BY), then the k best of them by exact cosine distance.
-- Placeholders: {table}, {key}, {column}, {dims}.
-- Parameters: q (the query vector), k, fetch (k times the over-fetch factor; hnsw.ef_search must be at least this).
-- Shows: id, distance (full-precision cosine distance).
-- Thresholds: pgvector README (Binary quantization; re-ranking).
SELECT candidates.id, candidates.distance
FROM (
    SELECT {key}::text AS id, ({column} <=> %(q)s::vector)::float8 AS distance
    FROM {table}
    ORDER BY binary_quantize({column})::bit({dims}) <~> binary_quantize(%(q)s::vector)
    LIMIT %(fetch)s
) AS candidates
ORDER BY candidates.distance, candidates.id
LIMIT %(k)s
