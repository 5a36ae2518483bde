-- volatile_calls: which of the functions and operators a statement calls are VOLATILE (PostgreSQL's mark for "may
-- change state"), so that EXPLAIN ANALYZE refuses to run them; names match case-insensitively, every overload and
-- every schema (a same-named function elsewhere could come first in the search_path).
-- Shows: kind ('function' or 'operator'), name, schema_name.
-- Parameters: functions (text[] of lower-case function names), operators (text[] of operator names).
-- Thresholds: none (pg_proc.provolatile = 'v').
-- Defaults: functions = ARRAY['random'], operators = ARRAY['<=>']
SELECT
    'function' AS kind,
    p.proname::text AS name,
    n.nspname::text AS schema_name
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE lower(p.proname) = ANY(%(functions)s::text[])
    AND p.provolatile = 'v'
UNION
SELECT
    'operator' AS kind,
    o.oprname::text AS name,
    n.nspname::text AS schema_name
FROM pg_operator AS o
JOIN pg_namespace AS n ON n.oid = o.oprnamespace
JOIN pg_proc AS p ON p.oid = o.oprcode
WHERE o.oprname = ANY(%(operators)s::text[])
    AND p.provolatile = 'v'
ORDER BY kind, name, schema_name
