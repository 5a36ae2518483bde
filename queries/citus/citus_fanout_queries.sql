-- citus_fanout_queries: the statements run on this coordinator's hash-distributed tables (pg_stat_statements),
-- and whether each fans out to every shard or is routed to one. Where citus_stat_statements records the statement
-- (citus.stat_statements_track = 'all') Citus itself says so (partition_key NULL: multi-shard); elsewhere the
-- statement's text decides: it fans out when it does not name the table's distribution column.
-- Shows: queryid, table, distribution_column, calls, total_ms, mean_ms, tracked (citus_stat_statements saw it),
--        fans_out, filtered (the text has a WHERE: a filter that could name the distribution column), query.
-- Parameters: limit (the most expensive statements first, fan-outs before routed ones).
-- Thresholds: Citus docs, "Query processing" (a query filtered by the distribution column is routed to one
--             shard; any other runs on every shard) and citus_stat_statements (partition_key is NULL for a
--             multi-shard query). okai-insight's own statements are left out.
WITH distributed AS (
    SELECT
        p.logicalrelid::regclass::text AS table_name,
        column_to_column_name(p.logicalrelid, p.partkey) AS column_name
    FROM pg_dist_partition AS p
    WHERE p.partmethod = 'h'
),
citus AS (
    SELECT
        c.queryid,
        bool_or(c.partition_key IS NOT NULL) AS routed
    FROM citus_stat_statements AS c
    GROUP BY c.queryid
),
statements AS (
    SELECT
        s.queryid,
        d.table_name,
        d.column_name,
        s.calls,
        s.total_exec_time,
        s.mean_exec_time,
        c.routed,
        s.query
    FROM pg_stat_statements AS s
    JOIN distributed AS d
        ON s.query ~* ('\m' || replace(d.table_name, '"', '') || '\M')
    LEFT JOIN citus AS c ON c.queryid = s.queryid
    WHERE s.dbid = (SELECT db.oid FROM pg_database AS db WHERE db.datname = current_database())
        AND s.toplevel
        AND s.query ~* '^\s*(SELECT|WITH|UPDATE|DELETE)\M'
        AND s.query NOT LIKE '%%/* okai-insight */%%'  -- okai-insight's own statements (statements.own_statements)
)
SELECT
    st.queryid,
    st.table_name AS table,
    st.column_name AS distribution_column,
    st.calls,
    round(st.total_exec_time::numeric, 1)::float8 AS total_ms,
    round(st.mean_exec_time::numeric, 3)::float8 AS mean_ms,
    (st.routed IS NOT NULL) AS tracked,
    coalesce(NOT st.routed, position(st.column_name IN st.query) = 0) AS fans_out,
    (st.query ~* '\mWHERE\M') AS filtered,
    left(st.query, 500) AS query
FROM statements AS st
ORDER BY fans_out DESC, st.total_exec_time DESC, st.queryid
LIMIT %(limit)s
