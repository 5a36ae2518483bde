-- elizaos1_largest_scope: on an ElizaOS 1.x database, the largest scope its searches read from one dim_N column:
-- vectors per agent and memory type (searchMemories always filters by both), largest first.
-- Shows: agent_id, type, vectors, column_vectors (all non-NULL vectors of the column).
-- Placeholders: {column} (a dim_N column of embeddings), composed with psycopg.sql.Identifier by the runner.
-- Parameters: none.
-- Thresholds: @elizaos/plugin-sql 1.7.x searchMemories (WHERE type = $ AND agent_id = $ ...).
SELECT
    m.agent_id,
    m.type,
    count(*) AS vectors,
    sum(count(*)) OVER ()::bigint AS column_vectors
FROM embeddings AS e
JOIN memories AS m ON m.id = e.memory_id
WHERE e.{column} IS NOT NULL
GROUP BY m.agent_id, m.type
ORDER BY vectors DESC, m.agent_id, m.type
LIMIT 1
