-- idle_in_transaction: sessions of this database holding a transaction open while doing nothing.
-- They keep row versions alive (vacuum cannot remove dead rows newer than their snapshot) and hold their locks.
-- Shows: pid, user, application, client, transaction_ms, idle_ms (since the last statement ended), locks_held,
--        and the last query.
-- Parameters: min_idle_ms: only sessions idle in transaction at least this long.
-- Thresholds: PostgreSQL docs, idle_in_transaction_session_timeout (runtime-config-client).
-- Defaults: min_idle_ms = 60000
SELECT
    a.pid,
    a.state,
    a.usename AS user,
    a.application_name AS application,
    host(a.client_addr) AS client,
    round((extract(EPOCH FROM clock_timestamp() - a.xact_start) * 1000)::numeric, 1)::float8 AS transaction_ms,
    round((extract(EPOCH FROM clock_timestamp() - a.state_change) * 1000)::numeric, 1)::float8 AS idle_ms,
    (SELECT count(*) FROM pg_locks AS l WHERE l.pid = a.pid AND l.granted) AS locks_held,
    a.query AS last_query
FROM pg_stat_activity AS a
WHERE a.datname = current_database()
    AND a.pid <> pg_backend_pid()
    AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
    AND a.state_change <= clock_timestamp() - make_interval(secs => %(min_idle_ms)s / 1000.0)
ORDER BY a.state_change ASC, a.pid
