-- transaction_id_danger: how many transaction IDs each table of this database has left before PostgreSQL must
-- stop accepting writes to prevent wraparound (the oldest unfrozen XID's age against 2^31).
-- Shows: schema, table, qualified_table, xid_age, transactions_left, freeze_max_age.
-- Parameters: max_value (2146483648), threshold (show tables with fewer transactions left than this).
-- Thresholds: PgHero lib/pghero/methods/maintenance.rb (transaction_id_danger: threshold 10000000,
--             max_value 2146483648); PostgreSQL docs, routine-vacuuming (vacuum-for-wraparound).
-- Defaults: max_value = 2146483648, threshold = 10000000
SELECT
    n.nspname AS schema,
    c.relname AS table,
    quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qualified_table,
    age(c.relfrozenxid) AS xid_age,
    %(max_value)s - age(c.relfrozenxid) AS transactions_left,
    current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'm', 't')
    AND c.relfrozenxid <> '0'::xid
    AND %(max_value)s - age(c.relfrozenxid) < %(threshold)s
ORDER BY transactions_left ASC, n.nspname, c.relname
