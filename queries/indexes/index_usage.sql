-- index_usage: every index of this database with its size, scans and rows read (largest first).
-- Shows: schema, table, index, method, unique, primary, valid, index_scans, rows_read, rows_fetched,
--        size_bytes, definition (NULL while another session holds the table ACCESS EXCLUSIVE:
--        pg_get_indexdef would wait for that lock).
-- Parameters: none.
-- Thresholds: none (a listing; PgHero lib/pghero/methods/indexes.rb index_usage / relation_sizes).
SELECT
    s.schemaname AS schema,
    s.relname AS table,
    s.indexrelname AS index,
    am.amname AS method,
    i.indisunique AS unique,
    i.indisprimary AS primary,
    i.indisvalid AS valid,
    s.idx_scan AS index_scans,
    s.idx_tup_read AS rows_read,
    s.idx_tup_fetch AS rows_fetched,
    pg_relation_size(s.indexrelid) AS size_bytes,
    CASE WHEN locked.relation IS NULL THEN pg_get_indexdef(s.indexrelid) END AS definition
FROM pg_stat_user_indexes AS s
JOIN pg_index AS i ON i.indexrelid = s.indexrelid
JOIN pg_class AS c ON c.oid = s.indexrelid
JOIN pg_am AS am ON am.oid = c.relam
LEFT JOIN (
    SELECT DISTINCT l.relation
    FROM pg_locks AS l
    WHERE l.mode = 'AccessExclusiveLock'
        AND l.granted
        AND l.pid <> pg_backend_pid()
) AS locked ON locked.relation IN (s.relid, s.indexrelid)
ORDER BY size_bytes DESC, s.schemaname, s.indexrelname
