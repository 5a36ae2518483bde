-- relation_rows: the estimated rows and size of the tables a plan reads, to judge its scans (a sequential scan
-- over a large table, a vector search over every row).
-- Shows: relation (as named in the plan), estimated_rows (pg_class.reltuples; -1 = never analyzed), size_bytes.
-- Parameters: relations (text[] of table names as EXPLAIN names them; default ARRAY['memories']).
-- Thresholds: none here (the analysis uses PgHero's 10k rows for a large table).
-- Defaults: relations = ARRAY['memories']
SELECT
    r.relation,
    c.reltuples::bigint AS estimated_rows,
    pg_relation_size(c.oid) AS size_bytes
FROM unnest(%(relations)s::text[]) AS r (relation)
JOIN pg_class AS c ON c.oid = to_regclass(quote_ident(r.relation))
ORDER BY r.relation
