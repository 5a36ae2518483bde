-- shard_row_estimate: the planner's row estimate of a hash-distributed table, summed over its shards. On the
-- coordinator the distributed table itself is an empty shell (reltuples 0), so the embedding checks, which sample
-- big tables, would read every row of every shard: each shard's own pg_class.reltuples is read on its node
-- (run_command_on_shards, a SELECT).
-- Parameters: table (the table's name).
-- Shows: shards (0: not a distributed table), estimated_rows (NULL when a shard was never analysed or did not
--        answer: count the rows instead).
-- Thresholds: none.
SELECT
    count(*) AS shards,
    CASE
        WHEN bool_and(r.success AND r.result::float8 >= 0) THEN sum(r.result::float8)::bigint
    END AS estimated_rows
FROM pg_dist_partition AS p
CROSS JOIN LATERAL run_command_on_shards(
    p.logicalrelid,
    'SELECT reltuples FROM pg_class WHERE oid = ' || quote_literal(chr(37) || 's') || '::regclass'
) AS r
WHERE p.logicalrelid = to_regclass(%(table)s::text)
    AND p.partmethod = 'h'
