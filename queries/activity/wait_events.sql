-- wait_events: what the active sessions of this database are waiting on right now, grouped.
-- Shows: wait_event_type, wait_event (NULL = running on CPU), sessions.
-- Parameters: none.
SELECT
    coalesce(a.wait_event_type, 'CPU') AS wait_event_type,
    coalesce(a.wait_event, 'running') AS wait_event,
    count(*) AS sessions
FROM pg_stat_activity AS a
WHERE a.datname = current_database()
    AND a.pid <> pg_backend_pid()
    AND a.state = 'active'
GROUP BY 1, 2
ORDER BY sessions DESC, 1, 2
