-- okai-insight on Supabase, step 4: privileges. Supabase's default privileges give anon, authenticated and
-- service_role everything on new tables and functions in public; RLS is what protects rows. Agent memory is
-- never public, so anon and PUBLIC are left with nothing, authenticated gets the commands the policies define
-- (no UPDATE on relationships and logs), service_role all.
REVOKE ALL ON accounts, rooms, memories, goals, participants, relationships, logs, cache, knowledge,
    okai_schema_version, okai_settings FROM anon, PUBLIC;
REVOKE ALL ON accounts, rooms, memories, goals, participants, relationships, logs, cache, knowledge,
    okai_schema_version, okai_settings FROM authenticated;
GRANT USAGE ON SCHEMA public TO authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, rooms, memories, goals, participants, cache, knowledge
    TO authenticated;
GRANT SELECT, INSERT, DELETE ON relationships, logs TO authenticated;
GRANT SELECT ON okai_schema_version, okai_settings TO authenticated;
GRANT ALL ON accounts, rooms, memories, goals, participants, relationships, logs, cache, knowledge,
    okai_schema_version, okai_settings TO service_role;

GRANT USAGE ON SCHEMA okai_private TO authenticated, service_role;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA okai_private TO authenticated, service_role;

-- The spec's application role (infrastructure guide, "Role Management"), for a backend that connects as its
-- own role and sets request.jwt.claims itself; the policies above bind it too.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_user') THEN
        CREATE ROLE app_user;
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO app_user;
GRANT SELECT, INSERT ON memories TO app_user;
GRANT USAGE ON SCHEMA okai_private TO app_user;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA okai_private TO app_user;
