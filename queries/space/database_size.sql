-- database_size: the size of this database, and of every database of the server the role may connect to.
-- Shows: database, size_bytes, current (whether it is this database).
-- Parameters: none.
SELECT
    d.datname AS database,
    pg_database_size(d.oid) AS size_bytes,
    d.datname = current_database() AS current
FROM pg_database AS d
WHERE d.datallowconn
    AND has_database_privilege(d.oid, 'CONNECT')
ORDER BY size_bytes DESC, d.datname
