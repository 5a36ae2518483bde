-- okai-insight on Supabase, step 5: the RPC functions an agent calls over REST (/rest/v1/rpc/<name>), with
-- ElizaOS's parameter names. All are SECURITY INVOKER: they run as the caller, so the policies above apply.
-- Vector search orders by the cosine operator ascending with a LIMIT, the shape the HNSW index serves
-- (pgvector README, "Querying"); a filtered set of at most query_exact_max_rows rows is searched exactly.
CREATE FUNCTION public.search_memories(
    query_table_name TEXT,
    query_embedding vector,
    query_match_threshold DOUBLE PRECISION DEFAULT NULL,
    query_match_count INTEGER DEFAULT 10,
    "query_roomId" UUID DEFAULT NULL,
    query_unique BOOLEAN DEFAULT FALSE,
    "query_agentId" UUID DEFAULT NULL,
    query_exact_max_rows INTEGER DEFAULT 10000
)
RETURNS TABLE (
    "id" UUID,
    "type" TEXT,
    "createdAt" TIMESTAMPTZ,
    "content" JSONB,
    "embedding" {vector_type},
    "userId" UUID,
    "agentId" UUID,
    "roomId" UUID,
    "isUnique" BOOLEAN,
    "similarity" DOUBLE PRECISION
)
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
#variable_conflict use_column
DECLARE
    q {vector_type};
    filters TEXT := 'm."type" = $1 AND m."embedding" IS NOT NULL';
    columns TEXT := 'm."id", m."type", m."createdAt", m."content", m."embedding", m."userId", m."agentId", '
                    'm."roomId", m."isUnique"';
    filtered BIGINT;
BEGIN
    IF query_embedding IS NULL OR vector_dims(query_embedding) <> {dimension} THEN
        RAISE EXCEPTION 'embedding has % dimensions, the table expects {dimension}', vector_dims(query_embedding)
            USING ERRCODE = 'data_exception';
    END IF;
    IF vector_norm(query_embedding) = 0 THEN
        RAISE EXCEPTION 'a zero vector has no cosine similarity' USING ERRCODE = 'data_exception';
    END IF;
    IF query_match_count IS NULL OR query_match_count < 1 OR query_match_count > 10000 THEN
        RAISE EXCEPTION 'query_match_count must be from 1 to 10000, got %', query_match_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    q := query_embedding::{vector_type};
    -- pgvector 0.8: keep scanning the graph until enough rows pass the filters; one scan returns at most
    -- hnsw.ef_search rows, so raise it for a large k. Both last until the end of the transaction.
    PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', TRUE);
    IF query_match_count > COALESCE(current_setting('hnsw.ef_search', TRUE), '40')::INTEGER THEN
        PERFORM set_config('hnsw.ef_search', query_match_count::TEXT, TRUE);
    END IF;
    IF "query_roomId" IS NOT NULL THEN
        filters := filters || ' AND m."roomId" = $2';
    END IF;
    IF "query_agentId" IS NOT NULL THEN
        filters := filters || ' AND m."agentId" = $3';
    END IF;
    IF query_unique THEN
        filters := filters || ' AND m."isUnique"';
    END IF;
    IF "query_roomId" IS NOT NULL OR "query_agentId" IS NOT NULL OR query_unique THEN
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM public.memories AS m WHERE %s LIMIT $4) AS bounded',
                       filters)
            INTO filtered
            USING query_table_name, "query_roomId", "query_agentId", query_exact_max_rows + 1;
    END IF;
    IF filtered IS NOT NULL AND filtered <= query_exact_max_rows THEN
        RETURN QUERY EXECUTE format(
            'WITH candidates AS MATERIALIZED (SELECT %s FROM public.memories AS m WHERE %s) '
            'SELECT n."id", n."type", n."createdAt", n."content", n."embedding", n."userId", n."agentId", '
            'n."roomId", n."isUnique", 1 - n.distance '
            'FROM (SELECT c.*, c."embedding" <=> $4 AS distance FROM candidates AS c '
            'ORDER BY distance LIMIT $5) AS n '
            'WHERE $6::DOUBLE PRECISION IS NULL OR 1 - n.distance >= $6 '
            'ORDER BY n.distance', columns, filters)
            USING query_table_name, "query_roomId", "query_agentId", q, query_match_count, query_match_threshold;
    ELSE
        RETURN QUERY EXECUTE format(
            'SELECT n."id", n."type", n."createdAt", n."content", n."embedding", n."userId", n."agentId", '
            'n."roomId", n."isUnique", 1 - n.distance '
            'FROM (SELECT %s, m."embedding" <=> $4 AS distance FROM public.memories AS m WHERE %s '
            'ORDER BY m."embedding" <=> $4 LIMIT $5) AS n '
            'WHERE $6::DOUBLE PRECISION IS NULL OR 1 - n.distance >= $6 '
            'ORDER BY n.distance', columns, filters)
            USING query_table_name, "query_roomId", "query_agentId", q, query_match_count, query_match_threshold;
    END IF;
END
$$;

-- How many memories of one type a room holds (only unique ones when query_unique).
CREATE FUNCTION public.count_memories(
    query_table_name TEXT,
    "query_roomId" UUID,
    query_unique BOOLEAN DEFAULT TRUE
)
RETURNS BIGINT
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
    SELECT count(*)
    FROM public.memories AS m
    WHERE m."type" = query_table_name
      AND m."roomId" = "query_roomId"
      AND (NOT query_unique OR m."isUnique")
$$;

-- Delete a room's memories of one type (those the caller may delete); returns how many.
CREATE FUNCTION public.remove_memories(
    query_table_name TEXT,
    "query_roomId" UUID
)
RETURNS INTEGER
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
    WITH deleted AS (
        DELETE FROM public.memories AS m
        WHERE m."type" = query_table_name
          AND m."roomId" = "query_roomId"
        RETURNING 1
    )
    SELECT count(*)::INTEGER
    FROM deleted
$$;

-- Create a room owned by the caller (a new id unless one is given); returns its id.
CREATE FUNCTION public.create_room(
    "roomId" UUID DEFAULT NULL
)
RETURNS TABLE ("id" UUID)
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
    INSERT INTO public.rooms ("id")
    VALUES (COALESCE("roomId", gen_random_uuid()))
    RETURNING rooms."id"
$$;

-- Embeddings of memories whose content text is within query_threshold Levenshtein edits of query_input,
-- closest first (fuzzystrmatch compares at most 255 characters).
CREATE FUNCTION public.get_embedding_list(
    query_table_name TEXT,
    query_threshold INTEGER,
    query_input TEXT,
    query_field_name TEXT,
    query_field_sub_name TEXT,
    query_match_count INTEGER
)
RETURNS TABLE ("embedding" {vector_type}, "levenshtein_score" INTEGER)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
    SELECT texts.embedding, levenshtein(left(query_input, 255), texts.content_text) AS score
    FROM (
        SELECT m."embedding" AS embedding,
               left(COALESCE(m."content" -> query_field_name ->> query_field_sub_name,
                             m."content" ->> query_field_sub_name), 255) AS content_text
        FROM public.memories AS m
        WHERE m."type" = query_table_name
          AND m."embedding" IS NOT NULL
    ) AS texts
    WHERE texts.content_text IS NOT NULL
      AND levenshtein(left(query_input, 255), texts.content_text) <= query_threshold
    ORDER BY score
    LIMIT query_match_count
$$;

-- ElizaOS's insert with a near-duplicate check: the memory is stored either way, marked not unique when one
-- at similarity_threshold or closer already exists in its room (searched through search_memories).
CREATE FUNCTION public.check_similarity_and_insert(
    query_table_name TEXT,
    "query_userId" UUID,
    query_content JSONB,
    "query_roomId" UUID,
    query_embedding vector,
    "query_createdAt" TIMESTAMPTZ DEFAULT NULL,
    similarity_threshold DOUBLE PRECISION DEFAULT 0.95,
    "query_agentId" UUID DEFAULT NULL,
    query_id UUID DEFAULT NULL
)
RETURNS TABLE ("id" UUID, "isUnique" BOOLEAN)
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
#variable_conflict use_column
DECLARE
    new_id UUID := COALESCE(query_id, gen_random_uuid());
    is_unique BOOLEAN := TRUE;
BEGIN
    IF query_embedding IS NOT NULL AND vector_norm(query_embedding) > 0 THEN
        is_unique := NOT EXISTS (
            SELECT 1
            FROM public.search_memories(query_table_name, query_embedding, similarity_threshold, 1,
                                        "query_roomId")
        );
    END IF;
    INSERT INTO public.memories ("id", "type", "createdAt", "content", "embedding", "userId", "agentId",
                                 "roomId", "isUnique")
    VALUES (new_id, query_table_name, COALESCE("query_createdAt", CURRENT_TIMESTAMP), query_content,
            query_embedding::{embedding_type}, "query_userId", "query_agentId", "query_roomId", is_unique);
    RETURN QUERY SELECT new_id, is_unique;
END
$$;

-- An agent's own and the shared knowledge nearest to query_embedding (cosine, through the HNSW index).
CREATE FUNCTION public.search_knowledge(
    query_embedding vector,
    query_agent_id UUID,
    match_threshold DOUBLE PRECISION DEFAULT NULL,
    match_count INTEGER DEFAULT 10,
    search_text TEXT DEFAULT NULL
)
RETURNS TABLE (
    "id" UUID,
    "agentId" UUID,
    "content" JSONB,
    "embedding" {vector_type},
    "createdAt" TIMESTAMPTZ,
    "isMain" BOOLEAN,
    "originalId" UUID,
    "chunkIndex" INTEGER,
    "isShared" BOOLEAN,
    "similarity" DOUBLE PRECISION
)
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
#variable_conflict use_column
DECLARE
    q {vector_type};
BEGIN
    IF query_embedding IS NULL OR vector_dims(query_embedding) <> {dimension} THEN
        RAISE EXCEPTION 'embedding has % dimensions, the table expects {dimension}', vector_dims(query_embedding)
            USING ERRCODE = 'data_exception';
    END IF;
    IF vector_norm(query_embedding) = 0 THEN
        RAISE EXCEPTION 'a zero vector has no cosine similarity' USING ERRCODE = 'data_exception';
    END IF;
    IF match_count IS NULL OR match_count < 1 OR match_count > 10000 THEN
        RAISE EXCEPTION 'match_count must be from 1 to 10000, got %', match_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    q := query_embedding::{vector_type};
    PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', TRUE);
    IF match_count > COALESCE(current_setting('hnsw.ef_search', TRUE), '40')::INTEGER THEN
        PERFORM set_config('hnsw.ef_search', match_count::TEXT, TRUE);
    END IF;
    RETURN QUERY
        SELECT n."id", n."agentId", n."content", n."embedding", n."createdAt", n."isMain", n."originalId",
               n."chunkIndex", n."isShared", 1 - n.distance
        FROM (
            SELECT k."id", k."agentId", k."content", k."embedding", k."createdAt", k."isMain", k."originalId",
                   k."chunkIndex", k."isShared", k."embedding" <=> q AS distance
            FROM public.knowledge AS k
            WHERE (k."agentId" = query_agent_id OR k."isShared")
              AND k."embedding" IS NOT NULL
            ORDER BY k."embedding" <=> q
            LIMIT match_count
        ) AS n
        WHERE match_threshold IS NULL OR 1 - n.distance >= match_threshold
        ORDER BY n.distance;
END
$$;

-- The participants of a room the caller can access, with their public profile (never the email): accounts
-- rows are readable only by their subject and creator, so the names of the other people in a room come from
-- here. SECURITY DEFINER, and it answers nothing about rooms the caller cannot access.
CREATE FUNCTION public.get_actor_details(
    "query_roomId" UUID
)
RETURNS TABLE ("id" UUID, "name" TEXT, "username" TEXT, "details" JSONB)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT a."id", a."name", a."username", a."details"
    FROM public.participants AS p
    JOIN public.accounts AS a ON a."id" = p."userId"
    WHERE p."roomId" = "query_roomId"
      AND okai_private.can_access_room("query_roomId")
    ORDER BY a."name", a."id"
$$;

-- Delete a room with its memories, participants, goals and logs in one transaction (what the caller may delete).
-- The room is locked first: an insert into it either committed before (and is deleted here) or waits and then
-- fails on its foreign key, instead of making the last DELETE fail. False: no such room, or not the caller's.
CREATE FUNCTION public.remove_room(
    "query_roomId" UUID
)
RETURNS TABLE ("removed" BOOLEAN)
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = public, extensions
AS $$
BEGIN
    PERFORM
    FROM public.rooms AS r
    WHERE r."id" = "query_roomId"
    FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false;
        RETURN;
    END IF;
    DELETE FROM public.memories AS m WHERE m."roomId" = "query_roomId";
    DELETE FROM public.participants AS p WHERE p."roomId" = "query_roomId";
    DELETE FROM public.goals AS g WHERE g."roomId" = "query_roomId";
    DELETE FROM public.logs AS l WHERE l."roomId" = "query_roomId";
    DELETE FROM public.rooms AS r WHERE r."id" = "query_roomId";
    RETURN QUERY SELECT FOUND;
END
$$;

REVOKE ALL ON FUNCTION public.search_memories, public.count_memories, public.remove_memories, public.create_room,
    public.get_embedding_list, public.check_similarity_and_insert, public.search_knowledge, public.get_actor_details,
    public.remove_room
    FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.search_memories, public.count_memories, public.remove_memories,
    public.create_room, public.get_embedding_list, public.check_similarity_and_insert, public.search_knowledge,
    public.get_actor_details, public.remove_room TO authenticated, service_role;
