-- vector_index_usage: the pgvector indexes (hnsw, ivfflat) of this database with their cumulative scan
-- counters and size, for a history snapshot (is the index used, and how much more since the last one).
-- Shows: schema, index, table, method, idx_scan, idx_tup_read, bytes.
-- Parameters: none.
-- Thresholds: none (pg_stat_user_indexes; pgvector README for the access methods).
SELECT
    s.schemaname AS schema,
    s.indexrelname AS index,
    s.relname AS table,
    am.amname AS method,
    s.idx_scan,
    s.idx_tup_read,
    pg_relation_size(s.indexrelid) AS bytes
FROM pg_stat_user_indexes AS s
JOIN pg_class AS c ON c.oid = s.indexrelid
JOIN pg_am AS am ON am.oid = c.relam
WHERE am.amname IN ('hnsw', 'ivfflat')
ORDER BY s.schemaname, s.indexrelname
