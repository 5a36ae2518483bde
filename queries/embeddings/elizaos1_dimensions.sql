-- elizaos1_dimensions: how many vectors each agent has in each dim_N column of ElizaOS 1.x's embeddings table
-- (one pass over embeddings joined to memories): the active column(s), from the data, never from a default.
-- Placeholders: {embeddings}, {memories} (schema-qualified), {counts} (count(e."dim_N") AS "dim_N", one a column).
-- Parameters: none.
-- Shows: agent_id, then one count column per dim_N column.
SELECT
    m.agent_id::text AS agent_id,
    {counts}
FROM {embeddings} AS e
JOIN {memories} AS m ON m.id = e.memory_id
GROUP BY m.agent_id
ORDER BY m.agent_id
