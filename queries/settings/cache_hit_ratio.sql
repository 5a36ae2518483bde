-- cache_hit_ratio: the share of table and index block reads of this database served from shared_buffers.
-- Shows: table_hit_ratio, index_hit_ratio, table_blocks_read, index_blocks_read (from disk or OS cache),
--        table_blocks_hit, index_blocks_hit.
-- Parameters: none.
-- Thresholds: PgHero lib/pghero/methods/basic.rb + lib/pghero.rb (cache_hit_rate_threshold 99 percent).
SELECT
    round((sum(t.heap_blks_hit)::numeric / nullif(sum(t.heap_blks_hit) + sum(t.heap_blks_read), 0)), 4)::float8
        AS table_hit_ratio,
    (
        SELECT round((sum(i.idx_blks_hit)::numeric / nullif(sum(i.idx_blks_hit) + sum(i.idx_blks_read), 0)), 4)
        FROM pg_statio_user_indexes AS i
    )::float8 AS index_hit_ratio,
    coalesce(sum(t.heap_blks_read), 0)::bigint AS table_blocks_read,
    (SELECT coalesce(sum(i.idx_blks_read), 0) FROM pg_statio_user_indexes AS i)::bigint AS index_blocks_read,
    coalesce(sum(t.heap_blks_hit), 0)::bigint AS table_blocks_hit,
    (SELECT coalesce(sum(i.idx_blks_hit), 0) FROM pg_statio_user_indexes AS i)::bigint AS index_blocks_hit
FROM pg_statio_user_tables AS t
