-- citus_undistributed_tables: the agent-memory tables of this Citus database and how Citus holds each: hash-
-- distributed (by which column), a reference table (a copy on every node), a Citus local table, or a plain table
-- on the coordinator only. A memory table left on the coordinator gains nothing from the workers.
-- Shows: table, citus_table_type (distributed / reference / local / none), distribution_column, agent_column
--        ("agentId" or agent_id, the column to distribute by), estimated_rows, size_bytes.
-- Parameters: tables (text[] of table names to look at; okai_insight.diagnostics.citus passes memories and the
--             tables that follow it).
-- Thresholds: okai_insight/schema/_citus.py (memories distributed by "agentId"; accounts, rooms, participants,
--             relationships, goals, logs, knowledge as reference tables); Citus docs, "Choosing a distribution
--             column" (multi-tenant: the tenant id, here the agent).
SELECT
    c.oid::regclass::text AS table,
    CASE
        WHEN p.partmethod = 'h' THEN 'distributed'
        WHEN p.repmodel = 't' THEN 'reference'
        WHEN p.logicalrelid IS NOT NULL THEN 'local'
        ELSE 'none'
    END AS citus_table_type,
    CASE WHEN p.partmethod = 'h' THEN column_to_column_name(p.logicalrelid, p.partkey) END AS distribution_column,
    (
        SELECT a.attname
        FROM pg_attribute AS a
        WHERE a.attrelid = c.oid
            AND a.attname IN ('agentId', 'agent_id')
            AND NOT a.attisdropped
        ORDER BY a.attname
        LIMIT 1
    )::text AS agent_column,
    greatest(c.reltuples, 0)::bigint AS estimated_rows,
    pg_total_relation_size(c.oid) AS size_bytes
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_dist_partition AS p ON p.logicalrelid = c.oid
WHERE c.relkind IN ('r', 'p')
    AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'citus', 'citus_internal', 'columnar', 'columnar_internal')
    AND c.relname = ANY(%(tables)s::text[])
ORDER BY c.oid::regclass::text
