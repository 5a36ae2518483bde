-- replication_status: whether this server is a primary or a standby; on a standby, how far replay lags; on a
-- primary, each connected standby with its lag.
-- Shows: role, standby (application_name), client, state, sync_state, write_lag_ms, flush_lag_ms, replay_lag_ms,
--        replay_lag_bytes.
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/replication.rb (replication_lag; lag alert at 5 s in its checks).
SELECT
    'standby' AS role,
    NULL::text AS standby,
    NULL::text AS client,
    'replaying' AS state,
    NULL::text AS sync_state,
    NULL::float8 AS write_lag_ms,
    NULL::float8 AS flush_lag_ms,
    CASE
        WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
        ELSE round((extract(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::numeric, 1)
    END::float8 AS replay_lag_ms,
    pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint AS replay_lag_bytes
WHERE pg_is_in_recovery()
UNION ALL
SELECT
    'primary' AS role,
    r.application_name AS standby,
    host(r.client_addr) AS client,
    r.state,
    r.sync_state,
    (extract(EPOCH FROM r.write_lag) * 1000)::float8 AS write_lag_ms,
    (extract(EPOCH FROM r.flush_lag) * 1000)::float8 AS flush_lag_ms,
    (extract(EPOCH FROM r.replay_lag) * 1000)::float8 AS replay_lag_ms,
    pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint AS replay_lag_bytes
FROM pg_stat_replication AS r
WHERE NOT pg_is_in_recovery()
ORDER BY role, standby
