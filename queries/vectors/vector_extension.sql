-- vector_extension: pgvector on this server: the version installed in this database and the newest available.
-- Shows: available_version, installed_version, schema (where its types live), and this session's search
--        settings: ef_search_setting (hnsw.ef_search; NULL = not set, pgvector's default 40 applies),
--        iterative_scan_setting (hnsw.iterative_scan, pgvector 0.8+).
-- Parameters: none.
-- Thresholds: pgvector README (ALTER EXTENSION vector UPDATE after installing a new version).
SELECT
    (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS available_version,
    e.extversion AS installed_version,
    n.nspname AS schema,
    current_setting('hnsw.ef_search', true) AS ef_search_setting,
    current_setting('hnsw.iterative_scan', true) AS iterative_scan_setting
FROM (SELECT 1) AS one
LEFT JOIN pg_extension AS e ON e.extname = 'vector'
LEFT JOIN pg_namespace AS n ON n.oid = e.extnamespace
