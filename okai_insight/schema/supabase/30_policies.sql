-- okai-insight on Supabase, step 3: row level security on every table. The policies have no TO clause, so they
-- bind every role without BYPASSRLS (authenticated, anon, app_user); service_role bypasses them, as on Supabase.
-- auth.uid() is written (SELECT auth.uid()) so PostgreSQL evaluates it once per statement, not once per row
-- (Supabase's RLS performance guide); the meaning is the spec's.
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE rooms ENABLE ROW LEVEL SECURITY;
ALTER TABLE memories ENABLE ROW LEVEL SECURITY;
ALTER TABLE goals ENABLE ROW LEVEL SECURITY;
ALTER TABLE participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE relationships ENABLE ROW LEVEL SECURITY;
ALTER TABLE logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE cache ENABLE ROW LEVEL SECURITY;
ALTER TABLE knowledge ENABLE ROW LEVEL SECURITY;
ALTER TABLE okai_schema_version ENABLE ROW LEVEL SECURITY;
ALTER TABLE okai_settings ENABLE ROW LEVEL SECURITY;

-- The spec's policy (infrastructure guide, "Row Level Security"): a memory belongs to its user and its agent.
-- Without WITH CHECK the USING expression also checks new and updated rows: nobody writes a memory as another.
CREATE POLICY "memories_isolation" ON memories
    USING ((SELECT auth.uid()) = "userId" OR (SELECT auth.uid()) = "agentId");

-- Accounts: your own, those you created, and those you share a room or a relationship with.
CREATE POLICY "accounts_read" ON accounts FOR SELECT
    USING ("id" = (SELECT auth.uid()) OR "createdBy" = (SELECT auth.uid()) OR okai_private.can_see_account("id"));
CREATE POLICY "accounts_insert" ON accounts FOR INSERT
    WITH CHECK ("createdBy" = (SELECT auth.uid()));
CREATE POLICY "accounts_update" ON accounts FOR UPDATE
    USING ("id" = (SELECT auth.uid()) OR "createdBy" = (SELECT auth.uid()))
    WITH CHECK ("id" = (SELECT auth.uid()) OR "createdBy" = (SELECT auth.uid()));
CREATE POLICY "accounts_delete" ON accounts FOR DELETE
    USING ("id" = (SELECT auth.uid()) OR "createdBy" = (SELECT auth.uid()));

-- Rooms, through participants: rooms you take part in, and rooms you created (checked on the row itself too: a
-- STABLE helper does not see the row its own statement inserts, and INSERT ... RETURNING must see it).
CREATE POLICY "rooms_read" ON rooms FOR SELECT
    USING ("createdBy" = (SELECT auth.uid()) OR okai_private.can_access_room("id"));
CREATE POLICY "rooms_insert" ON rooms FOR INSERT
    WITH CHECK ("createdBy" = (SELECT auth.uid()));
CREATE POLICY "rooms_delete" ON rooms FOR DELETE
    USING ("createdBy" = (SELECT auth.uid()));

-- Participants: the memberships of rooms you can access; you add people to such rooms, change only your own
-- state, leave a room yourself, and remove anyone from a room you created.
CREATE POLICY "participants_read" ON participants FOR SELECT
    USING ("userId" = (SELECT auth.uid()) OR okai_private.can_access_room("roomId"));
CREATE POLICY "participants_insert" ON participants FOR INSERT
    WITH CHECK (okai_private.can_access_room("roomId"));
CREATE POLICY "participants_update" ON participants FOR UPDATE
    USING ("userId" = (SELECT auth.uid()))
    WITH CHECK ("userId" = (SELECT auth.uid()));
CREATE POLICY "participants_delete" ON participants FOR DELETE
    USING ("userId" = (SELECT auth.uid()) OR okai_private.owns_room("roomId"));

-- Goals: yours, and those of rooms you can access (an agent keeps goals for the users it talks to).
CREATE POLICY "goals_isolation" ON goals
    USING ("userId" = (SELECT auth.uid()) OR okai_private.can_access_room("roomId"))
    WITH CHECK (okai_private.can_access_room("roomId"));

-- Relationships: those you are part of; you create only relationships you are part of.
CREATE POLICY "relationships_isolation" ON relationships
    USING ((SELECT auth.uid()) IN ("userA", "userB", "userId"))
    WITH CHECK ((SELECT auth.uid()) IN ("userA", "userB"));

-- Logs (an audit trail): you read your own entries and those of rooms you created, write entries in rooms you
-- can access, never change one, and delete them only with a room you created.
CREATE POLICY "logs_read" ON logs FOR SELECT
    USING ("userId" = (SELECT auth.uid()) OR okai_private.owns_room("roomId"));
CREATE POLICY "logs_insert" ON logs FOR INSERT
    WITH CHECK (okai_private.can_access_room("roomId"));
CREATE POLICY "logs_delete" ON logs FOR DELETE
    USING (okai_private.owns_room("roomId"));

-- Knowledge: an agent's own items and the shared ones; only service_role writes shared items.
CREATE POLICY "knowledge_read" ON knowledge FOR SELECT
    USING ("agentId" = (SELECT auth.uid()) OR "isShared");
CREATE POLICY "knowledge_insert" ON knowledge FOR INSERT
    WITH CHECK ("agentId" = (SELECT auth.uid()));
CREATE POLICY "knowledge_update" ON knowledge FOR UPDATE
    USING ("agentId" = (SELECT auth.uid()))
    WITH CHECK ("agentId" = (SELECT auth.uid()));
CREATE POLICY "knowledge_delete" ON knowledge FOR DELETE
    USING ("agentId" = (SELECT auth.uid()));

-- Cache: an agent's own entries ("agentId" is text in ElizaOS's schema).
CREATE POLICY "cache_isolation" ON cache
    USING ("agentId" = (SELECT auth.uid())::text);

-- okai-insight's bookkeeping: readable, written only by migrations.
CREATE POLICY "okai_schema_version_read" ON okai_schema_version FOR SELECT
    USING (TRUE);
CREATE POLICY "okai_settings_read" ON okai_settings FOR SELECT
    USING (TRUE);
