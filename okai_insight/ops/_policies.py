"""Row level security for plain PostgreSQL: the Supabase profile's policies, keyed on ``okai_uid()``.

The spec's one policy, ``memories_isolation``, binds only ``memories``: an application role acting for a user
either cannot touch rooms, participants, goals, ... (no grant, so it cannot even create the room it will talk in)
or, granted them, sees every user's rooms. The Supabase profile already has one policy per table and command that
ties every row to the rooms its user takes part in (``okai_insight/schema/supabase/30_policies.sql``), proven by
the contract suite and the isolation verifier. Plain PostgreSQL gets the *same* policies, not a copy: they are read
from the Supabase steps and only the identity changes (Supabase's ``auth.uid()`` becomes ``okai_uid()``, which
reads ``okai.user_id``), so the two profiles cannot drift apart. What differs is stated here:

* "signed up" (``auth.users`` on Supabase) is "has claimed its account": the account row's ``createdBy`` is the
  account itself. Whoever pre-created an account for someone manages it until that person claims it
  (:meth:`~okai_insight.adapters.isolated.IsolatedPostgresAdapter.create_account` does, as on Supabase).
* every statement is idempotent (``IF NOT EXISTS``, ``OR REPLACE``, ``DROP POLICY IF EXISTS`` first), because
  ``okai-insight secure --isolation on`` runs on existing databases, possibly twice;
* statements on tables the database does not have (``knowledge`` or okai's bookkeeping tables on an ElizaOS
  database) are left out;
* co-participants' public profiles come from ``okai_private.get_actor_details`` (Supabase's RPC function of the
  same body), since ``accounts`` rows are readable only by their subject and creator.

Example:
    >>> any('CREATE POLICY "rooms_insert" ON rooms' in s for s in isolation_statements("public", {"rooms"}))
    True
"""

from __future__ import annotations

import re

from psycopg import sql

#: The Supabase steps whose statements plain PostgreSQL shares (50_functions are PostgREST's RPC functions).
_SHARED_STEPS = ("10_ownership.sql", "20_helpers.sql", "30_policies.sql")
#: Every table the policies name, and the commands the application role is granted on each (as ``authenticated``
#: is on Supabase, 40_grants.sql: relationships and logs are never changed, the bookkeeping only read).
GRANTS = {
    "accounts": "SELECT, INSERT, UPDATE, DELETE",
    "rooms": "SELECT, INSERT, UPDATE, DELETE",
    "memories": "SELECT, INSERT, UPDATE, DELETE",
    "goals": "SELECT, INSERT, UPDATE, DELETE",
    "participants": "SELECT, INSERT, UPDATE, DELETE",
    "cache": "SELECT, INSERT, UPDATE, DELETE",
    "knowledge": "SELECT, INSERT, UPDATE, DELETE",
    "relationships": "SELECT, INSERT, DELETE",
    "logs": "SELECT, INSERT, DELETE",
    "okai_schema_version": "SELECT",
    "okai_settings": "SELECT",
}
_TARGET = re.compile(r"(?:\bON|ALTER TABLE)\s+(\w+)")
_STATEMENT_END = re.compile(r";\s*$", re.MULTILINE)

#: Supabase's is_signed_up reads auth.users; here an account is its own once its subject has claimed it.
_CLAIMED = """
CREATE OR REPLACE FUNCTION okai_private.is_signed_up(account UUID)
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
          AND a."createdBy" = account
    )
$$
"""

#: Supabase's public.get_actor_details (50_functions.sql), in okai's private schema: the user's schema keeps
#: only the tables.
_ACTOR_DETAILS = """
CREATE OR REPLACE FUNCTION okai_private.get_actor_details(room UUID)
RETURNS TABLE ("id" UUID, "name" TEXT, "username" TEXT, "details" JSONB)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = ''
AS $$
    SELECT a."id", a."name", a."username", a."details"
    FROM public.participants AS p
    JOIN public.accounts AS a ON a."id" = p."userId"
    WHERE p."roomId" = room
      AND okai_private.can_access_room(room)
    ORDER BY a."name", a."id"
$$
"""


def _shared_text() -> str:
    from okai_insight.schema.supabase import supabase_steps

    steps = dict(supabase_steps())
    return "\n".join(steps[name] for name in _SHARED_STEPS)


def _split(text: str) -> list[str]:
    # The shared steps have no semicolon inside a function body (each body is one SQL expression), so a
    # semicolon at the end of a line ends a statement.
    text = re.sub(r"^\s*--.*$", "", text, flags=re.MULTILINE)
    return [p.strip() for p in _STATEMENT_END.split(text) if p.strip()]


def _idempotent(statement: str) -> list[str]:
    statement = statement.replace("ADD COLUMN ", "ADD COLUMN IF NOT EXISTS ")
    statement = statement.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ")
    statement = statement.replace("DROP CONSTRAINT ", "DROP CONSTRAINT IF EXISTS ")
    statement = statement.replace("CREATE FUNCTION ", "CREATE OR REPLACE FUNCTION ")
    policy = re.match(r'CREATE POLICY ("\w+" ON \w+)', statement)
    if policy:
        return [f"DROP POLICY IF EXISTS {policy.group(1)}", statement]
    return [statement]


def isolation_statements(schema: str, tables: set[str]) -> list[str]:
    """The statements that install the room-tied policies in ``schema`` (the tables' schema), leaving out those on
    tables not in ``tables``. Run them after ``okai_uid()`` exists, in one transaction.

    Example:
        >>> s = isolation_statements("public", {"memories", "rooms", "participants"})
        >>> any("okai_uid()" in x and "memories_select" in x for x in s), any("auth." in x for x in s)
        (True, False)
    """
    qualified = sql.Identifier(schema).as_string(None) + "."
    text = _shared_text().replace("(SELECT auth.uid())", "(SELECT public.okai_uid())")
    text = text.replace("auth.uid()", "public.okai_uid()")
    out = ["CREATE SCHEMA IF NOT EXISTS okai_private", "REVOKE ALL ON SCHEMA okai_private FROM PUBLIC"]
    for statement in _split(text):
        if "auth.users" in statement:
            statement = _CLAIMED.strip()
        target = _TARGET.search(statement)
        if target and target.group(1) in GRANTS and target.group(1) not in tables:
            continue
        if statement.startswith(("CREATE SCHEMA", "REVOKE ALL ON SCHEMA")):
            continue
        out += _idempotent(statement)
    out.append(_ACTOR_DETAILS.strip())
    out.append("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA okai_private FROM PUBLIC")
    # The shared text names the tables' schema "public"; policies are created in the caller's current schema.
    return [s.replace("public.", qualified) for s in out]


def policy_tables(tables: set[str]) -> list[str]:
    """The tables of ``tables`` the policies bind, in the order of :data:`GRANTS`.

    Example:
        >>> policy_tables({"rooms", "memories", "other"})
        ['rooms', 'memories']
    """
    return [t for t in GRANTS if t in tables]
