-- fetch_packed: the rows of fetch_rows (same filter, same keyed order), their fixed-width parts packed into ONE bytea
-- a row for a fast columnar read: the id (when a uuid), agent, room, user, world (NULL read as the nil uuid), a mask
-- of the NULLs (1 agent, 2 room, 4 user, 8 world, 16 created_at), createdAt (timestamptz_send: microseconds since
-- 2000-01-01) and the vector (vector_send / halfvec_send: dims, unused, big-endian floats). Keep the WHERE, ORDER BY
-- and LIMIT equal to fetch_rows.sql (tests/embeddings/test_stream.py checks it).
-- Placeholders: {sampled}, {column}, {group}, {agent}, {room}, {user}, {world}, {type}, {created_at}, {text},
--               {id_send} (uuid_send(id), or an empty bytea for a text id), {id_text} (NULL, or id::text),
--               {vector_send} (vector_send or halfvec_send).
-- Parameters: percent, seed, limit (NULL: all), preview_chars, agent_id, room_id, user_id, world_id, type, since, until,
--             dims (only vectors of this dimension; NULL: any), nonzero (leave zero vectors out).
-- Shows: packed, id (a text id only), type, text_preview, group.
SELECT
    {id_send}
        || uuid_send(coalesce({agent}, '00000000-0000-0000-0000-000000000000'::uuid))
        || uuid_send(coalesce({room}, '00000000-0000-0000-0000-000000000000'::uuid))
        || uuid_send(coalesce({user}, '00000000-0000-0000-0000-000000000000'::uuid))
        || uuid_send(coalesce({world}, '00000000-0000-0000-0000-000000000000'::uuid))
        || int4send(
            ({agent} IS NULL)::int + 2 * ({room} IS NULL)::int + 4 * ({user} IS NULL)::int
            + 8 * ({world} IS NULL)::int + 16 * ({created_at} IS NULL)::int
        )
        || timestamptz_send(coalesce({created_at}, '2000-01-01 00:00:00+00'::timestamptz))
        || {vector_send}({column}) AS packed,
    {id_text} AS id,
    {type} AS type,
    left({text}, %(preview_chars)s) AS text_preview,
    {group} AS "group"
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
