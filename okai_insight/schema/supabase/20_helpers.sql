-- okai-insight on Supabase, step 2: membership checks used by the policies. SECURITY DEFINER (owned by the
-- migrating role, which bypasses RLS) so a policy on participants can look at participants without recursing.
-- Each answers a yes/no question about the caller, auth.uid(), and never about rooms the caller cannot access:
-- a function callable by every authenticated user must not become an oracle of other tenants' memberships.
-- The schema is not exposed over REST.
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

-- The account is the caller, or takes part in a room the caller can access (asked only about such rooms).
-- A row naming someone other than the caller may name only the other people in the same room.
CREATE FUNCTION okai_private.in_room(account UUID, room UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT account = (SELECT auth.uid())
        OR (
            okai_private.can_access_room(room)
            AND EXISTS (
                SELECT 1
                FROM public.participants AS p
                WHERE p."roomId" = room
                  AND p."userId" = account
            )
        )
$$;

-- The account's id is a signed-up Supabase Auth user. Whoever created an account for someone else (an agent
-- for the people it talks to) manages it only until that person signs up: from then on it is theirs alone, so an
-- account pre-created with a future user's id gives its creator nothing over that user.
CREATE FUNCTION okai_private.is_signed_up(account UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT EXISTS (
        SELECT 1
        FROM auth.users AS u
        WHERE u."id" = account
    )
$$;

-- The caller manages the account: their own, or one they created for someone who has not signed up (or has
-- not claimed it: claiming sets createdBy to its subject).
CREATE FUNCTION okai_private.created_account(account UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT EXISTS (
        SELECT 1
        FROM public.accounts AS a
        WHERE a."id" = account
          AND a."createdBy" = (SELECT auth.uid())
          AND (account = (SELECT auth.uid()) OR NOT okai_private.is_signed_up(account))
    )
$$;

-- A row the caller writes in a room may name (as its user or agent) the caller, another participant of the
-- room, or an account the caller manages; never a stranger, so nobody attributes rows to someone else.
CREATE FUNCTION okai_private.may_name(account UUID, room UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT okai_private.in_room(account, room) OR okai_private.created_account(account)
$$;

-- The account shares a room with the caller (takes part in a room the caller can access), or is related to them.
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

-- The caller may name the account in a relationship: themselves, an account they created, or someone they
-- share a room with. Nobody relates themselves to a stranger to get a look at the stranger's profile.
CREATE FUNCTION okai_private.knows_account(account UUID)
RETURNS BOOLEAN
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT account = (SELECT auth.uid())
        OR okai_private.created_account(account)
        OR EXISTS (
            SELECT 1
            FROM public.participants AS theirs
            WHERE theirs."userId" = account
              AND okai_private.can_access_room(theirs."roomId")
        )
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA okai_private FROM PUBLIC;
