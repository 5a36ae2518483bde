-- sequence_danger: sequences owned by a column (serial / identity) and how much of the column type's range
-- they have used. An int4 column fed by a sequence fails at 2147483647.
-- Shows: schema, table, column, qualified_table, quoted_column, column_type, sequence, last_value, max_value, used_ratio.
-- Parameters: none (the diagnostic flags used_ratio >= 0.9).
-- Thresholds: PgHero lib/pghero/methods/sequences.rb (sequence_danger: threshold 0.9).
SELECT
    tn.nspname AS schema,
    t.relname AS table,
    a.attname AS column,
    quote_ident(tn.nspname) || '.' || quote_ident(t.relname) AS qualified_table,
    quote_ident(a.attname) AS quoted_column,
    format_type(a.atttypid, a.atttypmod) AS column_type,
    quote_ident(sn.nspname) || '.' || quote_ident(seq.relname) AS sequence,
    ps.last_value,
    least(
        ps.max_value,
        CASE a.atttypid
            WHEN 'int2'::regtype THEN 32767
            WHEN 'int4'::regtype THEN 2147483647
            ELSE 9223372036854775807
        END
    ) AS max_value,
    round((coalesce(ps.last_value, 0)::numeric / least(
        ps.max_value,
        CASE a.atttypid
            WHEN 'int2'::regtype THEN 32767
            WHEN 'int4'::regtype THEN 2147483647
            ELSE 9223372036854775807
        END
    )), 6)::float8 AS used_ratio
FROM pg_depend AS d
JOIN pg_class AS seq ON seq.oid = d.objid AND seq.relkind = 'S'
JOIN pg_namespace AS sn ON sn.oid = seq.relnamespace
JOIN pg_class AS t ON t.oid = d.refobjid
JOIN pg_namespace AS tn ON tn.oid = t.relnamespace
JOIN pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
JOIN pg_sequences AS ps ON ps.schemaname = sn.nspname AND ps.sequencename = seq.relname
WHERE d.classid = 'pg_class'::regclass
    AND d.refclassid = 'pg_class'::regclass
    AND d.deptype IN ('a', 'i')
ORDER BY used_ratio DESC NULLS LAST, tn.nspname, t.relname, a.attname
