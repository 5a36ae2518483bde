-- elizaos_schema_keys: key and index defects of an ElizaOS schema in public: foreign keys declared more than once
-- (the same definition under two names), foreign keys of memories without an index starting with their columns
-- (whatever the table's size: ElizaOS filters every search by them), and tables without a primary key.
-- Shows: kind (duplicate_foreign_key, memories_foreign_key_without_index, no_primary_key), qualified_table,
--        constraints (names), definition.
-- Parameters: none.
-- Thresholds: PostgreSQL docs, ddl-constraints-fk ("declaring an index on the referencing columns is often a good
--             idea"); measured on @elizaos/plugin-sql 1.7.x (docs/elizaos1.md).
SELECT
    'duplicate_foreign_key' AS kind,
    k.conrelid::regclass::text AS qualified_table,
    array_agg(k.conname::text ORDER BY k.conname) AS constraints,
    pg_get_constraintdef(min(k.oid)) AS definition
FROM pg_constraint AS k
JOIN pg_namespace AS n ON n.oid = k.connamespace
WHERE k.contype = 'f'
    AND n.nspname = 'public'
GROUP BY k.conrelid, k.confrelid, k.conkey, k.confkey
HAVING count(*) > 1
UNION ALL
SELECT
    'memories_foreign_key_without_index',
    k.conrelid::regclass::text,
    ARRAY[k.conname::text],
    pg_get_constraintdef(k.oid)
FROM pg_constraint AS k
WHERE k.contype = 'f'
    AND k.conrelid = to_regclass('public.memories')
    AND NOT EXISTS (
        SELECT 1
        FROM pg_index AS i
        WHERE i.indrelid = k.conrelid
            AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(k.conkey, 1)] = k.conkey
    )
UNION ALL
SELECT
    'no_primary_key',
    c.oid::regclass::text,
    ARRAY[]::text[],
    NULL
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
    AND n.nspname = 'public'
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = c.oid AND k.contype = 'p')
ORDER BY 1, 2, 3
