-- statements_info: the state of pg_stat_statements itself: when it was last reset, how many statements it
-- tracks against pg_stat_statements.max, and how many it had to evict (its counts are incomplete if many).
-- Shows: stats_reset, dealloc, tracked_statements (okai-insight's own left out), own_statements (those left out),
--        max_statements.
-- Parameters: none.
-- Thresholds: PostgreSQL docs, pgstatstatements (pg_stat_statements_info.dealloc).
SELECT
    i.stats_reset,
    i.dealloc,
    (SELECT count(*) FROM pg_stat_statements AS s WHERE s.query NOT LIKE '%%/* okai-insight */%%')
        AS tracked_statements,
    (SELECT count(*) FROM pg_stat_statements AS s WHERE s.query LIKE '%%/* okai-insight */%%') AS own_statements,
    current_setting('pg_stat_statements.max')::int AS max_statements
FROM pg_stat_statements_info AS i
