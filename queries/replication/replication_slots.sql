-- replication_slots: the server's replication slots. An inactive slot keeps every WAL segment since its
-- restart_lsn, so the disk fills up.
-- Shows: slot, slot_type, database, active, retained_wal_bytes, wal_status, safe_wal_size_bytes.
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/replication.rb (replication_slots: inactive slots);
--             PostgreSQL docs, view-pg-replication-slots (wal_status 'lost').
SELECT
    s.slot_name AS slot,
    s.slot_type,
    s.database,
    s.active,
    CASE
        WHEN pg_is_in_recovery() THEN NULL
        ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint
    END AS retained_wal_bytes,
    s.wal_status,
    s.safe_wal_size AS safe_wal_size_bytes
FROM pg_replication_slots AS s
ORDER BY s.slot_name
