-- elizaos1_zero_vectors: the memories of an ElizaOS 1.x database whose embedding in one dim_N column is a zero
-- vector (plugin-sql stores non-finite embedding values as 0), and how many later memories of the same agent,
-- entity and room are marked not unique (the per-insert near-duplicate search matches the zero vector: its NaN
-- similarity passes every threshold).
-- Shows: memory_id, agent_id, room_id, entity_id, type, created_at, later_not_unique.
-- Placeholders: {column} (a dim_N column of embeddings), composed with psycopg.sql.Identifier by the runner.
-- Parameters: limit: at most this many memories.
-- Thresholds: pgvector README (cosine distance of a zero vector is NaN); @elizaos/plugin-sql 1.7.x searchMemories.
SELECT
    m.id AS memory_id,
    m.agent_id,
    m.room_id,
    m.entity_id,
    m.type,
    m.created_at,
    (
        SELECT count(*)
        FROM memories AS later
        WHERE later.agent_id = m.agent_id
            AND later.entity_id = m.entity_id
            AND later.room_id = m.room_id
            AND later.created_at > m.created_at
            AND NOT later."unique"
    ) AS later_not_unique
FROM embeddings AS e
JOIN memories AS m ON m.id = e.memory_id
WHERE e.{column} IS NOT NULL
    AND vector_norm(e.{column}) = 0
ORDER BY m.created_at, m.id
LIMIT %(limit)s
