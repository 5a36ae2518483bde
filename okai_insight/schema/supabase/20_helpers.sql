-- okai-insight on Supabase, step 2: membership checks used by the policies. SECURITY DEFINER (owned by the
-- migrating role, which bypasses RLS) so a policy on participants can look at participants without recursing;
-- each only answers a yes/no question about the caller, auth.uid(). The schema is not exposed over REST.
CREATE SCHEMA IF NOT EXISTS okai_private;
REVOKE ALL ON SCHEMA okai_private FROM PUBLIC;

-- The caller created the room.
CREATE FUNCTION okai_private.owns_room(room UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT EXISTS (
        SELECT 1
        FROM public.rooms AS r
        WHERE r."id" = room
          AND r."createdBy" = (SELECT auth.uid())
    )
$$;

-- The caller created the room or takes part in it.
CREATE FUNCTION okai_private.can_access_room(room UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT okai_private.owns_room(room)
        OR EXISTS (
            SELECT 1
            FROM public.participants AS p
            WHERE p."roomId" = room
              AND p."userId" = (SELECT auth.uid())
        )
$$;

-- The account shares a room with the caller (or takes part in one the caller created), or is related to them.
CREATE FUNCTION okai_private.can_see_account(account UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT EXISTS (
            SELECT 1
            FROM public.participants AS theirs
            WHERE theirs."userId" = account
              AND okai_private.can_access_room(theirs."roomId")
        )
        OR EXISTS (
            SELECT 1
            FROM public.relationships AS r
            WHERE (r."userA" = account AND r."userB" = (SELECT auth.uid()))
               OR (r."userB" = account AND r."userA" = (SELECT auth.uid()))
        )
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA okai_private FROM PUBLIC;
