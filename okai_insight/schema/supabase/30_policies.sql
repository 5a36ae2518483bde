-- okai-insight on Supabase, step 3: row level security on every table, one permissive policy per table and
-- command (SELECT, INSERT, UPDATE, DELETE), so `okai-insight verify-isolation` can hold pg_policies to exactly
-- this set: permissive policies OR together, and one extra would widen every command it names. A command
-- without a policy is refused. The policies have no TO clause, so they bind every role without BYPASSRLS
-- (authenticated, anon, app_user); service_role bypasses them, as on Supabase. auth.uid() is written
-- (SELECT auth.uid()) so PostgreSQL evaluates it once per statement, not once per row (Supabase's RLS
-- performance guide). A row that names the caller AND sits in a room the caller takes part in is the rule;
-- writes check both on the new row (WITH CHECK), reads and changes on the old one (USING).
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

-- Accounts. The row (with its email) is readable only by its subject and by whoever created it for someone who
-- has not signed up yet (an agent creates the accounts of the people it talks to, and supplied the email
-- itself). Co-participants' names come from public.get_actor_details, without email. Nobody creates an account
-- with a signed-up user's id but that user; an account pre-created with a future user's id stops being its
-- creator's the moment that user signs up (okai_private.is_signed_up), and its subject may claim it (UPDATE
-- setting "createdBy" to themselves). Emails are not unique here: Supabase Auth (auth.users) owns unique
-- emails, and a unique index would tell anyone whether an email is taken (a failed INSERT).
CREATE POLICY "accounts_select" ON accounts FOR SELECT
    USING (
        "id" = (SELECT auth.uid())
        OR ("createdBy" = (SELECT auth.uid()) AND NOT okai_private.is_signed_up("id"))
    );
CREATE POLICY "accounts_insert" ON accounts FOR INSERT
    WITH CHECK (
        "createdBy" = (SELECT auth.uid())
        AND ("id" = (SELECT auth.uid()) OR NOT okai_private.is_signed_up("id"))
    );
CREATE POLICY "accounts_update" ON accounts FOR UPDATE
    USING (
        "id" = (SELECT auth.uid())
        OR ("createdBy" = (SELECT auth.uid()) AND NOT okai_private.is_signed_up("id"))
    )
    WITH CHECK (
        "createdBy" = (SELECT auth.uid())
        AND ("id" = (SELECT auth.uid()) OR NOT okai_private.is_signed_up("id"))
    );
CREATE POLICY "accounts_delete" ON accounts FOR DELETE
    USING (
        "id" = (SELECT auth.uid())
        OR ("createdBy" = (SELECT auth.uid()) AND NOT okai_private.is_signed_up("id"))
    );

-- Rooms: those you take part in and those you created (checked on the row itself too: a STABLE helper does not
-- see the row its own statement inserts, and INSERT ... RETURNING must see it). Only the creator updates a room
-- (remove_room locks it with SELECT ... FOR UPDATE, which PostgreSQL checks against the UPDATE policy) and it
-- stays theirs.
CREATE POLICY "rooms_select" ON rooms FOR SELECT
    USING ("createdBy" = (SELECT auth.uid()) OR okai_private.can_access_room("id"));
CREATE POLICY "rooms_insert" ON rooms FOR INSERT
    WITH CHECK ("createdBy" = (SELECT auth.uid()));
CREATE POLICY "rooms_update" ON rooms FOR UPDATE
    USING ("createdBy" = (SELECT auth.uid()))
    WITH CHECK ("createdBy" = (SELECT auth.uid()));
CREATE POLICY "rooms_delete" ON rooms FOR DELETE
    USING ("createdBy" = (SELECT auth.uid()));

-- Participants: the memberships of rooms you can access. Only a room's creator adds participants: itself, or
-- accounts it created (the people its agent talks to). Nobody joins a room uninvited or adds a stranger's
-- account to their own room; a room shared between two Supabase users is set up by a backend (service_role).
-- You change only your own state, and never move your membership to another room; you leave a room yourself,
-- and a room's creator removes anyone from it.
CREATE POLICY "participants_select" ON participants FOR SELECT
    USING ("userId" = (SELECT auth.uid()) OR okai_private.can_access_room("roomId"));
CREATE POLICY "participants_insert" ON participants FOR INSERT
    WITH CHECK (
        okai_private.owns_room("roomId")
        AND ("userId" = (SELECT auth.uid()) OR okai_private.created_account("userId"))
    );
CREATE POLICY "participants_update" ON participants FOR UPDATE
    USING ("userId" = (SELECT auth.uid()))
    WITH CHECK ("userId" = (SELECT auth.uid()) AND okai_private.can_access_room("roomId"));
CREATE POLICY "participants_delete" ON participants FOR DELETE
    USING ("userId" = (SELECT auth.uid()) OR okai_private.owns_room("roomId"));

-- Memories (the spec's memories_isolation, tied to the room): a memory you are the user or the agent of, in a
-- room you can access; the other identity it names must take part in that room or be an account you manage. A room's creator also reads and
-- deletes every memory in its room (remove_room must be able to empty it).
CREATE POLICY "memories_select" ON memories FOR SELECT
    USING (
        (((SELECT auth.uid()) = "userId" OR (SELECT auth.uid()) = "agentId")
         AND okai_private.can_access_room("roomId"))
        OR okai_private.owns_room("roomId")
    );
CREATE POLICY "memories_insert" ON memories FOR INSERT
    WITH CHECK (
        ((SELECT auth.uid()) = "userId" OR (SELECT auth.uid()) = "agentId")
        AND okai_private.can_access_room("roomId")
        AND ("userId" IS NULL OR okai_private.may_name("userId", "roomId"))
        AND ("agentId" IS NULL OR okai_private.may_name("agentId", "roomId"))
    );
CREATE POLICY "memories_update" ON memories FOR UPDATE
    USING (
        ((SELECT auth.uid()) = "userId" OR (SELECT auth.uid()) = "agentId")
        AND okai_private.can_access_room("roomId")
    )
    WITH CHECK (
        ((SELECT auth.uid()) = "userId" OR (SELECT auth.uid()) = "agentId")
        AND okai_private.can_access_room("roomId")
        AND ("userId" IS NULL OR okai_private.may_name("userId", "roomId"))
        AND ("agentId" IS NULL OR okai_private.may_name("agentId", "roomId"))
    );
CREATE POLICY "memories_delete" ON memories FOR DELETE
    USING (
        (((SELECT auth.uid()) = "userId" OR (SELECT auth.uid()) = "agentId")
         AND okai_private.can_access_room("roomId"))
        OR okai_private.owns_room("roomId")
    );

-- Goals: those of rooms you can access (an agent keeps goals for the users it talks to); a goal names you,
-- another participant of its room or an account you manage; you change and delete your own goals, a room's creator any in its room.
CREATE POLICY "goals_select" ON goals FOR SELECT
    USING (okai_private.can_access_room("roomId"));
CREATE POLICY "goals_insert" ON goals FOR INSERT
    WITH CHECK (
        okai_private.can_access_room("roomId")
        AND ("userId" IS NULL OR okai_private.may_name("userId", "roomId"))
    );
CREATE POLICY "goals_update" ON goals FOR UPDATE
    USING (
        ("userId" = (SELECT auth.uid()) AND okai_private.can_access_room("roomId"))
        OR okai_private.owns_room("roomId")
    )
    WITH CHECK (
        okai_private.can_access_room("roomId")
        AND ("userId" IS NULL OR okai_private.may_name("userId", "roomId"))
    );
CREATE POLICY "goals_delete" ON goals FOR DELETE
    USING (
        ("userId" = (SELECT auth.uid()) AND okai_private.can_access_room("roomId"))
        OR okai_private.owns_room("roomId")
    );

-- Relationships: those you are part of, with someone you know (an account you created or share a room with);
-- nobody relates themselves to a stranger. Relationships are not changed, only removed by either side.
CREATE POLICY "relationships_select" ON relationships FOR SELECT
    USING ((SELECT auth.uid()) IN ("userA", "userB"));
CREATE POLICY "relationships_insert" ON relationships FOR INSERT
    WITH CHECK (
        (SELECT auth.uid()) IN ("userA", "userB")
        AND "userId" IN ("userA", "userB")
        AND okai_private.knows_account("userA")
        AND okai_private.knows_account("userB")
    );
CREATE POLICY "relationships_delete" ON relationships FOR DELETE
    USING ((SELECT auth.uid()) IN ("userA", "userB"));

-- Logs (an audit trail): you read your own entries and those of rooms you created; you write entries in rooms
-- you can access naming yourself, another participant or an account you manage; nobody changes one; they go only with their room.
CREATE POLICY "logs_select" ON logs FOR SELECT
    USING (
        ("userId" = (SELECT auth.uid()) AND okai_private.can_access_room("roomId"))
        OR okai_private.owns_room("roomId")
    );
CREATE POLICY "logs_insert" ON logs FOR INSERT
    WITH CHECK (okai_private.can_access_room("roomId") AND okai_private.may_name("userId", "roomId"));
CREATE POLICY "logs_delete" ON logs FOR DELETE
    USING (okai_private.owns_room("roomId"));

-- Knowledge: an agent's own items and the shared ones; only service_role writes shared items (the table's
-- CHECK makes a shared item agentless, so agentId = auth.uid() excludes them).
CREATE POLICY "knowledge_select" ON knowledge FOR SELECT
    USING ("agentId" = (SELECT auth.uid()) OR "isShared");
CREATE POLICY "knowledge_insert" ON knowledge FOR INSERT
    WITH CHECK ("agentId" = (SELECT auth.uid()));
CREATE POLICY "knowledge_update" ON knowledge FOR UPDATE
    USING ("agentId" = (SELECT auth.uid()))
    WITH CHECK ("agentId" = (SELECT auth.uid()));
CREATE POLICY "knowledge_delete" ON knowledge FOR DELETE
    USING ("agentId" = (SELECT auth.uid()));

-- Cache: an agent's own entries ("agentId" is text in ElizaOS's schema).
CREATE POLICY "cache_select" ON cache FOR SELECT
    USING ("agentId" = (SELECT auth.uid())::text);
CREATE POLICY "cache_insert" ON cache FOR INSERT
    WITH CHECK ("agentId" = (SELECT auth.uid())::text);
CREATE POLICY "cache_update" ON cache FOR UPDATE
    USING ("agentId" = (SELECT auth.uid())::text)
    WITH CHECK ("agentId" = (SELECT auth.uid())::text);
CREATE POLICY "cache_delete" ON cache FOR DELETE
    USING ("agentId" = (SELECT auth.uid())::text);

-- okai-insight's bookkeeping: readable by signed-in users (the adapter reads the schema version and the
-- embedding dimension), written only by migrations.
CREATE POLICY "okai_schema_version_select" ON okai_schema_version FOR SELECT
    USING ((SELECT auth.uid()) IS NOT NULL);
CREATE POLICY "okai_settings_select" ON okai_settings FOR SELECT
    USING ((SELECT auth.uid()) IS NOT NULL);
