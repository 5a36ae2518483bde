-- unused_indexes: indexes of this database that were never (or hardly ever) scanned since statistics were
-- last reset, and do not enforce a constraint (unique and primary-key indexes are left out).
-- Shows: schema, table, index, qualified_index (quoted, for fix SQL), index_scans, size_bytes, definition,
--        and stats_reset of the database (the counts are only as old as that).
-- Parameters: max_scans, min_size_bytes (defaults below: unused_indexes()'s own).
-- Thresholds: PgHero lib/pghero/methods/indexes.rb (unused_indexes: non-unique, idx_scan <= 50, any size, largest
--             first): PgHero's mode is min_size_bytes = 0, max_scans = 50. The default (10 MB, never scanned) is
--             okai-insight's stricter doctor floor: small or once-used indexes are not worth a warning.
-- Defaults: max_scans = 0, min_size_bytes = 10485760
SELECT
    s.schemaname AS schema,
    s.relname AS table,
    s.indexrelname AS index,
    quote_ident(s.schemaname) || '.' || quote_ident(s.indexrelname) AS qualified_index,
    s.idx_scan AS index_scans,
    pg_relation_size(s.indexrelid) AS size_bytes,
    pg_get_indexdef(s.indexrelid) AS definition,
    (SELECT d.stats_reset FROM pg_stat_database AS d WHERE d.datname = current_database()) AS stats_reset
FROM pg_stat_user_indexes AS s
JOIN pg_index AS i ON i.indexrelid = s.indexrelid
WHERE NOT i.indisunique
    AND NOT i.indisprimary
    AND i.indisvalid
    AND s.idx_scan <= %(max_scans)s
    AND pg_relation_size(s.indexrelid) >= %(min_size_bytes)s
ORDER BY size_bytes DESC, s.schemaname, s.indexrelname
