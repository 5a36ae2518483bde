-- count_rows_capped: how many rows a table holds, counting at most cap (for tables never analysed, whose
-- planner estimate is unknown): decides whether a check reads the whole table or a sample.
-- Placeholders: {table} (schema-qualified, composed with psycopg.sql.Identifier).
-- Parameters: cap (stop counting there).
-- Shows: rows.
SELECT count(*) AS rows
FROM (
    SELECT 1
    FROM {table}
    LIMIT %(cap)s
) AS capped
