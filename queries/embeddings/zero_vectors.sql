-- zero_vectors: ids of rows whose vector is all zeros (an embedding call that failed; ElizaOS 1.x stores
-- non-finite embeddings as zeros), in id order. On ElizaOS 1.x the ids are memory ids.
-- Placeholders: {table}, {column}.
-- Parameters: limit.
-- Shows: id.
SELECT id::text AS id
FROM {table}
WHERE {column} IS NOT NULL
    AND vector_norm({column}::vector) = 0
ORDER BY id
LIMIT %(limit)s
