-- neighbours: the k nearest rows to one memory (by id) or to a query vector, through the column's vector index
-- (ORDER BY column <op> query LIMIT k), with cosine similarity and metadata. The memory itself is left out.
-- Placeholders: {table}, {column}, {op}, {vtype}, {agent}, {room}, {user}, {type}, {created_at}, {text}.
-- Parameters: id (uuid or NULL), q (a vector or NULL; used when id is NULL), k, preview_chars.
-- Shows: id, cosine_similarity, distance, agent_id, room_id, user_id, type, created_at, text_preview.
WITH query AS MATERIALIZED (
    SELECT coalesce(
        (
            SELECT {column}
            FROM {table}
            WHERE id = %(id)s::uuid
        ),
        %(q)s::{vtype}
    ) AS v
)
SELECT
    id::text AS id,
    1 - ({column} <=> (SELECT v FROM query)) AS cosine_similarity,
    {column} {op} (SELECT v FROM query) AS distance,
    {agent} AS agent_id,
    {room} AS room_id,
    {user} AS user_id,
    {type} AS type,
    {created_at} AS created_at,
    left({text}, %(preview_chars)s) AS text_preview
FROM {table}
WHERE %(id)s::uuid IS NULL
    OR id <> %(id)s::uuid
ORDER BY {column} {op} (SELECT v FROM query)
LIMIT %(k)s
