-- database_xid_age: the transaction-ID age of every database (the oldest unfrozen XID of any of its tables),
-- against the 2^31 wraparound limit and autovacuum_freeze_max_age.
-- Shows: database, xid_age, transactions_left, percent_towards_wraparound, freeze_max_age, on_pglite (PGlite,
-- PostgreSQL compiled to WebAssembly with Emscripten and run as one backend whose pid is 0: its ages are not real).
-- Parameters: max_value (2146483648).
-- Thresholds: PgHero lib/pghero/methods/maintenance.rb (max_value 2146483648); PostgreSQL docs,
--             routine-vacuuming (vacuum-for-wraparound).
-- Defaults: max_value = 2146483648
SELECT
    d.datname AS database,
    age(d.datfrozenxid) AS xid_age,
    %(max_value)s - age(d.datfrozenxid) AS transactions_left,
    round((100.0 * age(d.datfrozenxid) / %(max_value)s)::numeric, 2)::float8 AS percent_towards_wraparound,
    current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age,
    (version() ~ 'Emscripten' OR pg_backend_pid() = 0) AS on_pglite
FROM pg_database AS d
ORDER BY xid_age DESC, d.datname
