-- database_identity: what identifies this database for the local history store: the cluster's system
-- identifier (pg_control_system(); a role that may not call it gets history keyed by server address instead) and the database's name and oid.
-- Shows: system_identifier, database, database_oid, server_version.
-- Parameters: none.
SELECT
    (SELECT s.system_identifier::text FROM pg_control_system() AS s) AS system_identifier,
    current_database() AS database,
    (SELECT d.oid::bigint FROM pg_database AS d WHERE d.datname = current_database()) AS database_oid,
    current_setting('server_version') AS server_version
