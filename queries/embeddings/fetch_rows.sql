-- fetch_rows: embeddings with their metadata (agent, room, user, type, created_at, a text preview) for a filter,
-- as a keyed sample (ordered by md5(id || seed): stable and unbiased), optionally from a TABLESAMPLE of pages.
-- Placeholders: {sampled} (the table, TABLESAMPLE SYSTEM (percent) REPEATABLE (seed)), {column}, {group}, {agent}, {room}, {user}, {world}, {type}, {created_at}, {text}.
-- Parameters: percent, seed, limit (NULL: all), preview_chars, agent_id, room_id, user_id, world_id, type, since, until,
--             dims (only vectors of this dimension; NULL: any), nonzero (leave zero vectors out).
-- Shows: id, agent_id, room_id, user_id, world_id, type, created_at, text_preview, group, embedding.
SELECT
    id::text AS id,
    {agent} AS agent_id,
    {room} AS room_id,
    {user} AS user_id,
    {world} AS world_id,
    {type} AS type,
    {created_at} AS created_at,
    left({text}, %(preview_chars)s) AS text_preview,
    {group} AS "group",
    {column} AS embedding
FROM {sampled}
WHERE {column} IS NOT NULL
    AND (%(agent_id)s::uuid IS NULL OR {agent} = %(agent_id)s::uuid)
    AND (%(room_id)s::uuid IS NULL OR {room} = %(room_id)s::uuid)
    AND (%(user_id)s::uuid IS NULL OR {user} = %(user_id)s::uuid)
    AND (%(world_id)s::uuid IS NULL OR {world} = %(world_id)s::uuid)
    AND (%(type)s::text IS NULL OR {type} = %(type)s::text)
    AND (%(since)s::timestamptz IS NULL OR {created_at} >= %(since)s::timestamptz)
    AND (%(until)s::timestamptz IS NULL OR {created_at} < %(until)s::timestamptz)
    AND (%(dims)s::int IS NULL OR vector_dims({column}) = %(dims)s::int)
    AND (NOT %(nonzero)s::boolean OR vector_norm({column}::vector) > 0)
ORDER BY md5(id::text || %(seed)s::text)
LIMIT %(limit)s
