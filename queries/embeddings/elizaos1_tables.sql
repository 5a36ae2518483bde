-- elizaos1_tables: the schemas holding ElizaOS 1.x's memory tables: an embeddings table with memory_id and dim_N
-- vector columns next to a memories table with snake_case agent_id (and whether that memories table has an
-- embedding column of its own, as okai-insight's and ElizaOS 0.1.9's do).
-- Parameters: schema (NULL: the schemas on the search_path, first match first).
-- Shows: schema, memories_has_embedding.
SELECT
    n.nspname AS schema,
    EXISTS (
        SELECT 1
        FROM pg_attribute AS a
        WHERE a.attrelid = m.oid
            AND a.attname = 'embedding'
            AND NOT a.attisdropped
    ) AS memories_has_embedding
FROM pg_class AS e
JOIN pg_namespace AS n ON n.oid = e.relnamespace
JOIN pg_class AS m ON m.relnamespace = n.oid
    AND m.relname = 'memories'
    AND m.relkind IN ('r', 'p', 'v', 'm', 'f')
WHERE e.relname = 'embeddings'
    AND e.relkind IN ('r', 'p')
    AND (%(schema)s::text IS NULL AND n.nspname = ANY(current_schemas(false)) OR n.nspname = %(schema)s::text)
    AND EXISTS (
        SELECT 1
        FROM pg_attribute AS a
        WHERE a.attrelid = e.oid
            AND a.attname = 'memory_id'
            AND NOT a.attisdropped
    )
    AND EXISTS (
        SELECT 1
        FROM pg_attribute AS a
        WHERE a.attrelid = e.oid
            AND a.attname ~ '^dim_[0-9]+$'
            AND NOT a.attisdropped
    )
    AND EXISTS (
        SELECT 1
        FROM pg_attribute AS a
        WHERE a.attrelid = m.oid
            AND a.attname = 'agent_id'
            AND NOT a.attisdropped
    )
ORDER BY array_position(current_schemas(false), n.nspname::name), n.nspname
