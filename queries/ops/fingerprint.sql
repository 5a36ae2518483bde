-- fingerprint: what a restore must reproduce: the row count of every table in the given schemas, and an md5 over
-- every pgvector column (vector, halfvec, sparsevec) in primary-key order (every column's order without one);
-- NULL embeddings count as the empty string. A DO block, so it runs in a READ ONLY transaction: it leaves the
-- result, as JSON, in the transaction-local setting okai.fingerprint. The same text verifies a restore inside the
-- restore's own transaction, before its commit (okai_insight/ops/backup.py), so backup and restore agree.
-- Parameters: schemas (text[]; bound client-side, since a DO block takes no server-side parameters).
-- Shows: nothing; read current_setting('okai.fingerprint') after it.
DO $fingerprint$
DECLARE
    result jsonb := '{"row_counts": {}, "embedding_checksums": {}}';
    tab record;
    col record;
    order_by text;
    counted bigint;
    digest text;
BEGIN
    FOR tab IN
        SELECT c.oid, ns.nspname, c.relname
        FROM pg_catalog.pg_class AS c
        JOIN pg_catalog.pg_namespace AS ns ON ns.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
            AND NOT c.relispartition
            AND ns.nspname = ANY(%(schemas)s)
        ORDER BY ns.nspname, c.relname
    LOOP
        EXECUTE format('SELECT count(*) FROM %%I.%%I', tab.nspname, tab.relname) INTO counted;
        result := jsonb_set(result, ARRAY['row_counts', tab.nspname || '.' || tab.relname], to_jsonb(counted));
        SELECT coalesce(
            (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
            FROM pg_catalog.pg_index AS i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = tab.oid AND i.indisprimary),
            (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute AS a
            WHERE a.attrelid = tab.oid AND a.attnum > 0 AND NOT a.attisdropped)
        )
        INTO order_by;
        FOR col IN
            SELECT a.attname
            FROM pg_catalog.pg_attribute AS a
            JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
            WHERE a.attrelid = tab.oid
                AND a.attnum > 0
                AND NOT a.attisdropped
                AND t.typname IN ('vector', 'halfvec', 'sparsevec')
            ORDER BY a.attnum
        LOOP
            EXECUTE format(
                'SELECT md5(coalesce(string_agg(coalesce(md5(%%I::text), %%L), %%L ORDER BY %%s), %%L)) FROM %%I.%%I',
                col.attname, '', ',', order_by, '', tab.nspname, tab.relname
            ) INTO digest;
            result := jsonb_set(
                result,
                ARRAY['embedding_checksums', tab.nspname || '.' || tab.relname || '.' || col.attname],
                to_jsonb(digest)
            );
        END LOOP;
    END LOOP;
    PERFORM set_config('okai.fingerprint', result::text, true);
END
$fingerprint$
