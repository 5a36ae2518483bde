-- sequential_scans: tables read mostly by sequential scans (the index usage per table). Large tables read this
-- way usually lack an index for a frequent query.
-- Shows: schema, table, seq_scans, index_scans, percent_index_used, seq_rows_read, live_rows (estimate),
--        table_size_bytes.
-- table_size_bytes is the catalog's estimate (relpages, as of the last VACUUM / ANALYZE): reading it
-- takes no lock, so a table locked by a long ALTER does not stall the check.
-- Parameters: none (the thresholds are applied by the diagnostic: percent_index_used < 95, live_rows >= 10000).
-- Thresholds: PgHero lib/pghero/methods/indexes.rb (missing_indexes: percent_of_times_index_used < 95 and
--             estimated_rows >= 10000).
SELECT
    s.schemaname AS schema,
    s.relname AS table,
    quote_ident(s.schemaname) || '.' || quote_ident(s.relname) AS qualified_table,
    s.seq_scan AS seq_scans,
    coalesce(s.idx_scan, 0) AS index_scans,
    CASE
        WHEN s.seq_scan + coalesce(s.idx_scan, 0) = 0 THEN NULL
        ELSE round((100.0 * coalesce(s.idx_scan, 0) / (s.seq_scan + coalesce(s.idx_scan, 0)))::numeric, 1)::float8
    END AS percent_index_used,
    s.seq_tup_read AS seq_rows_read,
    greatest(c.reltuples, s.n_live_tup)::bigint AS live_rows,
    c.relpages::bigint * current_setting('block_size')::bigint AS table_size_bytes
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
ORDER BY s.seq_tup_read DESC, s.schemaname, s.relname
