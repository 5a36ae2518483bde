-- server_features: what this server offers the current role, read once per diagnostics session.
-- Shows: server_version_num, extensions available (default version) and installed (version) as JSON objects,
--        the roles the current role is a member of, superuser, whether pg_stat_statements is readable, and the
--        settings the checks compare against (hnsw.*, shared_buffers, maintenance_work_mem, ...).
-- Parameters: none.
SELECT
    current_setting('server_version_num')::int AS server_version_num,
    current_database() AS database,
    current_user AS current_user,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
    (
        SELECT jsonb_object_agg(name, default_version)
        FROM pg_available_extensions
    ) AS available,
    (
        SELECT jsonb_object_agg(extname, extversion)
        FROM pg_extension
    ) AS installed,
    (
        SELECT array_agg(r.rolname ORDER BY r.rolname)
        FROM pg_roles AS r
        WHERE pg_has_role(current_user, r.oid, 'USAGE')
    ) AS roles,
    (
        SELECT coalesce(bool_and(has_table_privilege(c.oid, 'SELECT')), false)
        FROM pg_class AS c
        JOIN pg_extension AS e ON e.extnamespace = c.relnamespace
        WHERE e.extname = 'pg_stat_statements'
            AND c.relname = 'pg_stat_statements'
    ) AS statements_readable,
    (
        SELECT jsonb_object_agg(name, setting)
        FROM pg_settings
        WHERE name IN (
            'shared_buffers', 'maintenance_work_mem', 'work_mem', 'effective_cache_size', 'max_connections',
            'autovacuum', 'track_io_timing', 'track_counts', 'shared_preload_libraries', 'block_size',
            'hnsw.ef_search', 'hnsw.iterative_scan', 'hnsw.max_scan_tuples', 'ivfflat.probes'
        )
    ) AS settings
