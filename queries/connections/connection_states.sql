-- connection_states: connections to the whole server grouped by database, user, application, client and state,
-- against max_connections and the superuser reserve.
-- Shows: database, user, application, client, state, connections, max_connections, reserved_connections.
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/connections.rb (connection_sources; total_connections_threshold 500).
SELECT
    a.datname AS database,
    a.usename AS user,
    a.application_name AS application,
    host(a.client_addr) AS client,
    coalesce(a.state, a.backend_type) AS state,
    count(*) AS connections,
    current_setting('max_connections')::int AS max_connections,
    current_setting('superuser_reserved_connections')::int AS reserved_connections
FROM pg_stat_activity AS a
WHERE a.backend_type = 'client backend'
GROUP BY 1, 2, 3, 4, 5
ORDER BY connections DESC, 1, 2, 3, 4, 5
