-- window_centroids: the mean vector (pgvector's avg aggregate) and row count of each group's rows per time
-- window (date_trunc), for drift: how far each window's centroid moved from a baseline window's.
-- Placeholders: {table}, {column}, {group}, {created_at}.
-- Parameters: window (a date_trunc unit: hour, day, week, month, quarter, year), dims (only vectors of this
--             dimension; NULL: any), since, until (created_at range; NULL: open).
-- Shows: group, window_start, rows, centroid.
SELECT
    {group} AS "group",
    date_trunc(%(window)s, {created_at}) AS window_start,
    count(*) AS rows,
    avg({column}::vector) AS centroid
FROM {table}
WHERE {column} IS NOT NULL
    AND {created_at} IS NOT NULL
    AND vector_norm({column}::vector) > 0
    AND (%(dims)s::int IS NULL OR vector_dims({column}) = %(dims)s::int)
    AND (%(since)s::timestamptz IS NULL OR {created_at} >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR {created_at} < %(until)s::timestamptz)
GROUP BY 1, 2
ORDER BY 1, 2
