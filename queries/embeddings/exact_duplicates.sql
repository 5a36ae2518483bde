-- exact_duplicates: groups of rows whose vectors are identical (same text form), largest first, with the total
-- number of such groups and rows. Zero vectors are left out (group_stats counts them).
-- Placeholders: {sampled} (the table, TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)), {column}, {group}, {created_at}.
-- Parameters: percent, seed (TABLESAMPLE; duplicates are found within the sample), max_groups.
-- Shows: vector_md5, rows, ids, groups, duplicate_groups, duplicate_rows.
SELECT
    md5({column}::text) AS vector_md5,
    count(*) AS rows,
    array_agg(id::text ORDER BY {created_at}, id) AS ids,
    array_agg(DISTINCT {group}) AS groups,
    count(*) OVER () AS duplicate_groups,
    sum(count(*)) OVER () AS duplicate_rows
FROM {sampled}
WHERE {column} IS NOT NULL
    AND vector_norm({column}::vector) > 0
GROUP BY md5({column}::text)
HAVING count(*) > 1
ORDER BY count(*) DESC, min(id::text)
LIMIT %(max_groups)s
