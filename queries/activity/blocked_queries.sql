-- blocked_queries: the lock tree. Every session of this database that waits for a lock, or holds one another
-- session waits for, with the pids blocking it (pg_blocking_pids) and its depth in the tree (0 = a root blocker).
-- Shows: pid, blocked_by (array of pids), blocking (array of pids it blocks), depth, state, wait_event_type,
--        wait_event, duration_ms, transaction_ms, the lock mode it waits for, relation, user, application, query.
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/queries.rb (blocked_queries).
WITH RECURSIVE sessions AS (
    SELECT
        a.pid,
        pg_blocking_pids(a.pid) AS blocked_by,
        a.state,
        a.wait_event_type,
        a.wait_event,
        a.usename,
        a.application_name,
        a.query,
        a.query_start,
        a.xact_start
    FROM pg_stat_activity AS a
    WHERE a.datname = current_database()
        AND a.pid <> pg_backend_pid()
),
edges AS (
    SELECT
        s.pid,
        unnest(s.blocked_by) AS blocker
    FROM sessions AS s
    WHERE cardinality(s.blocked_by) > 0
),
involved AS (
    SELECT pid FROM edges
    UNION
    SELECT blocker FROM edges
),
tree AS (
    SELECT
        i.pid,
        0 AS depth
    FROM involved AS i
    WHERE NOT EXISTS (SELECT 1 FROM edges AS e WHERE e.pid = i.pid)
    UNION ALL
    SELECT
        e.pid,
        t.depth + 1
    FROM tree AS t
    JOIN edges AS e ON e.blocker = t.pid
    WHERE t.depth < 20
)
SELECT
    s.pid,
    s.blocked_by,
    (SELECT array_agg(e.pid ORDER BY e.pid) FROM edges AS e WHERE e.blocker = s.pid) AS blocking,
    coalesce((SELECT max(t.depth) FROM tree AS t WHERE t.pid = s.pid), 0) AS depth,
    s.state,
    s.wait_event_type,
    s.wait_event,
    round((extract(EPOCH FROM clock_timestamp() - s.query_start) * 1000)::numeric, 1)::float8 AS duration_ms,
    round((extract(EPOCH FROM clock_timestamp() - s.xact_start) * 1000)::numeric, 1)::float8 AS transaction_ms,
    (
        SELECT l.mode
        FROM pg_locks AS l
        WHERE l.pid = s.pid
            AND NOT l.granted
        LIMIT 1
    ) AS waiting_for_mode,
    (
        SELECT l.relation::regclass::text
        FROM pg_locks AS l
        WHERE l.pid = s.pid
            AND NOT l.granted
        LIMIT 1
    ) AS waiting_for_relation,
    s.usename AS user,
    s.application_name AS application,
    s.query
FROM sessions AS s
WHERE s.pid IN (SELECT pid FROM involved)
ORDER BY depth, s.pid
