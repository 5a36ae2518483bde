-- table_info: what the embedding checks need to know about one table: its vector column's type and declared
-- dimension (NULL when the column was declared without one), the columns it has (agentId, roomId, ...), its
-- estimated row count (NULL before the first ANALYZE), whether this role may read it, and whether row level
-- security filters what it reads (RLS on, and this role neither superuser, BYPASSRLS, nor an owner the table does
-- not FORCE: PostgreSQL docs, "Row Security Policies").
-- Parameters: table (a table name, optionally schema-qualified; resolved with to_regclass), column (the vector
--             column's name).
-- Shows: schema, table, column, type_name, declared_dims, columns, estimated_rows, readable, row_security.
SELECT
    n.nspname AS schema,
    c.relname AS table,
    a.attname AS column,
    t.typname AS type_name,
    CASE
        WHEN a.atttypmod > 0 THEN a.atttypmod
    END AS declared_dims,
    (
        SELECT array_agg(x.attname::text ORDER BY x.attnum)
        FROM pg_attribute AS x
        WHERE x.attrelid = c.oid
            AND x.attnum > 0
            AND NOT x.attisdropped
    ) AS columns,
    CASE
        WHEN c.reltuples >= 0 THEN c.reltuples::bigint
    END AS estimated_rows,
    has_table_privilege(c.oid, 'SELECT') AS readable,
    c.relrowsecurity
        AND NOT (SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles AS r WHERE r.rolname = current_user)
        AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE')) AS row_security
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid
    AND a.attname = %(column)s
    AND NOT a.attisdropped
LEFT JOIN pg_type AS t ON t.oid = a.atttypid
WHERE c.oid = to_regclass(%(table)s)
ORDER BY n.nspname, c.relname
