-- key_settings: the settings that matter most for an agent-memory database, in bytes / ms where they have a
-- unit, with where each value comes from. The value is reset_val: what the session has without a SET LOCAL, so
-- the runner's own transaction settings (statement_timeout, lock_timeout, track_counts) are not reported as the
-- server's.
-- Shows: name, setting, unit, value_bytes (memory settings), source, pending_restart.
-- Parameters: none.
-- Thresholds: none here (the diagnostic compares a few: autovacuum, track_counts, track_io_timing;
--             PgHero lib/pghero/methods/settings.rb lists the same family).
SELECT
    s.name,
    s.reset_val AS setting,
    s.unit,
    CASE
        WHEN s.unit IN ('8kB', 'kB', 'MB', 'B') THEN pg_size_bytes(s.reset_val || ' ' || replace(s.unit, '8kB', 'kB'))
            * CASE WHEN s.unit = '8kB' THEN 8 ELSE 1 END
    END AS value_bytes,
    CASE WHEN s.setting IS DISTINCT FROM s.reset_val THEN 'reset value' ELSE s.source END AS source,
    s.pending_restart
FROM pg_settings AS s
WHERE s.name IN (
    'max_connections', 'shared_buffers', 'effective_cache_size', 'work_mem', 'maintenance_work_mem',
    'random_page_cost', 'effective_io_concurrency', 'max_parallel_workers_per_gather',
    'max_parallel_maintenance_workers', 'autovacuum', 'autovacuum_vacuum_scale_factor',
    'autovacuum_vacuum_threshold', 'autovacuum_analyze_scale_factor', 'autovacuum_max_workers',
    'autovacuum_freeze_max_age', 'track_counts', 'track_io_timing', 'statement_timeout',
    'idle_in_transaction_session_timeout', 'shared_preload_libraries', 'hnsw.ef_search', 'hnsw.iterative_scan',
    'hnsw.max_scan_tuples', 'ivfflat.probes', 'ivfflat.iterative_scan', 'jit', 'server_version'
)
ORDER BY s.name
