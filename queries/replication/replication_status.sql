-- replication_status: whether this server is a primary or a standby; on a standby, how far replay lags and
-- whether a WAL receiver runs; on a primary, each connected standby with its lag. okai-insight's one replication
-- lag query: the replication diagnostic, ops health (okai-insight health), the Prometheus metrics and
-- ops.replicas.replication_status all read it.
-- Shows: role, standby (application_name), client, state, sync_state, write_lag_ms, flush_lag_ms, replay_lag_ms,
--        replay_lag_bytes, wal_receiver (standby: a WAL receiver runs; NULL on a primary).
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/replication.rb (replication_lag, the standby's lag as below) and
--             app/controllers/pg_hero/home_controller.rb (good while replication_lag < 5 s).
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
    pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint AS replay_lag_bytes,
    -- the view's pid is visible to every role (its other columns need pg_read_all_stats)
    EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS wal_receiver
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
    pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint AS replay_lag_bytes,
    NULL::boolean AS wal_receiver
FROM pg_stat_replication AS r
WHERE NOT pg_is_in_recovery()
ORDER BY role, standby
