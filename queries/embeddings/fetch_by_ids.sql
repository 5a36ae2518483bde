-- fetch_by_ids: the vectors (and text) of given rows, for scoring labelled pairs.
-- Placeholders: {table}, {column}, {text}, {room}.
-- Parameters: ids (uuid[]).
-- Shows: id, room_id, text, embedding.
SELECT
    id::text AS id,
    {room} AS room_id,
    {text} AS text,
    {column} AS embedding
FROM {table}
WHERE id = ANY(%(ids)s::uuid[])
ORDER BY id
