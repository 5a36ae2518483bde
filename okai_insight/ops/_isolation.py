"""The isolation verifier: read the policies themselves, then act as real users on every table and command.

Two halves, both needed. **Inspection** of the catalogue (``pg_policies``, ``pg_class``, grants) finds what no
test user trips over: a permissive policy beyond the expected set (permissive policies OR together, so one extra
widens its command for everyone), a policy whose expression names a literal id (a backdoor for one user), a
``true`` expression, a table whose row level security is off, or not forced while the application role owns it,
and privileges held by ``anon`` or ``PUBLIC``. **Exercise**: inside one transaction that is always rolled back,
the verifier writes a small world for each of two synthetic users (accounts, a room each, participants,
memories, goals, logs, relationships, knowledge, cache), then acts as each user exactly as the application does
(``SET LOCAL ROLE`` plus the JWT claims on Supabase, or ``okai.user_id`` on plain PostgreSQL) and tries every
command against the other's rows: SELECT them, UPDATE and DELETE *without* a WHERE clause (PostgreSQL applies the
SELECT policy to rows a WHERE clause reads, so only an unconditional statement shows a leaky UPDATE or DELETE
policy), and INSERT rows that would plant something in the other's room or name the other. Whether the other's
rows changed is read back as the owner (a row's ``ctid`` moves when it is updated). Ids named literally in a
policy are impersonated too. Every statement runs under a statement and lock timeout.

Example:
    >>> verify_isolation(url).ok                                     # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from okai_insight.errors import InvalidInput, PermissionDenied, QueryTimeout
from okai_insight.ops._connection import connect
from okai_insight.settings import Settings

#: Supabase's migration step with the policies; the expected set is read from it, never restated.
_POLICY_STEP = "30_policies.sql"
_CREATE_POLICY = re.compile(r'CREATE POLICY "(\w+)" ON (\w+)(?: FOR (SELECT|INSERT|UPDATE|DELETE))?')
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LITERAL_ID = re.compile(r"'[^']*'::(?:uuid|text|character varying)")
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
#: Tables the exercise writes to, in an order that respects the foreign keys; their primary key expression.
_KEYS = {
    "accounts": '"id"',
    "rooms": '"id"',
    "participants": '"id"',
    "memories": '"id"',
    "goals": '"id"',
    "logs": '"id"',
    "relationships": '"id"',
    "knowledge": '"id"',
    "cache": '"key" || \'/\' || "agentId"',
}
_TOUCH = {
    "accounts": "\"name\" = 'okai-verify'",
    "rooms": '"createdAt" = now()',
    "participants": '"userState" = NULL',
    "memories": "\"content\" = '{}'",
    "goals": "\"status\" = 'okai-verify'",
    "logs": "\"body\" = '{}'",
    "relationships": "\"status\" = 'okai-verify'",
    "knowledge": "\"content\" = '{}'",
    "cache": "\"value\" = '{}'",
}
_TIMEOUTS = "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)"


@dataclass(frozen=True)
class IsolationReport:
    """What :func:`verify_isolation` checked: ``checks`` (one row a table: each command's outcome), the
    impersonated ``users``, and the ``problems`` it found (empty when isolation holds)."""

    users: list[str]
    checks: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    mode: str = ""

    @property
    def ok(self) -> bool:
        """True when every check passed.

        Example:
            >>> IsolationReport([], [], []).ok
            True
        """
        return not self.problems


@dataclass(frozen=True)
class _Mode:
    """How the application acts as a user on this database, and which policies it should have."""

    name: str
    role: str
    expected: frozenset[tuple[str, str, str]]  # (policy, table, command)
    tables: tuple[str, ...]
    rooms_tied: bool  # the policies tie rows to rooms (Supabase profile), not only to the user (the spec's)

    def act_as(self, conn: psycopg.Connection[Any], uid: uuid.UUID | None) -> None:
        if self.name == "supabase":
            claims: dict[str, Any] = {"role": self.role}
            if uid is not None:
                claims["sub"] = str(uid)
            conn.execute(
                "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                (self.role, json.dumps(claims)),
            )
        else:
            conn.execute(
                "SELECT set_config('role', %s, true), set_config('okai.user_id', %s, true)",
                (self.role, "" if uid is None else str(uid)),
            )


def expected_supabase_policies() -> frozenset[tuple[str, str, str]]:
    """(policy, table, command) for every policy the Supabase migration creates.

    Example:
        >>> ("memories_insert", "memories", "INSERT") in expected_supabase_policies()
        True
    """
    from okai_insight.schema.supabase import supabase_steps

    text = dict(supabase_steps())[_POLICY_STEP]
    return frozenset((n, t, c or "ALL") for n, t, c in _CREATE_POLICY.findall(text))


def _mode(conn: psycopg.Connection[Any], role: str | None) -> _Mode:
    from okai_insight.schema.supabase import SUPABASE_SETTING

    tables = tuple(t for t in _KEYS if _exists(conn, t))
    supabase = conn.execute("SELECT to_regclass('okai_settings') IS NOT NULL").fetchone() == (True,) and bool(
        conn.execute("SELECT 1 FROM okai_settings WHERE key = %s", (SUPABASE_SETTING,)).fetchone()
    )
    if supabase:
        return _Mode("supabase", role or "authenticated", expected_supabase_policies(), tables, True)
    room_tied = conn.execute(
        "SELECT 1 FROM pg_policies WHERE schemaname = current_schema() AND tablename = 'memories' "
        "AND policyname = 'memories_select'"
    ).fetchone()
    if room_tied:  # okai-insight secure --isolation on: the Supabase profile's policies keyed on okai_uid()
        return _Mode("okai.user_id", role or "app_user", expected_supabase_policies(), tables, True)
    spec = frozenset({("memories_isolation", "memories", "ALL")})  # the spec's one policy, created by hand
    return _Mode("okai.user_id", role or "app_user", spec, tables, False)


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone() == (True,)


# -- inspection -------------------------------------------------------------------------------------------------
def inspect_policies(conn: psycopg.Connection[Any], mode: _Mode) -> tuple[list[str], set[uuid.UUID]]:
    """Problems visible in the catalogue, and the ids policies name literally (impersonated later)."""
    problems: list[str] = []
    named: set[uuid.UUID] = set()
    rows = conn.execute(
        "SELECT tablename, policyname, permissive, cmd, coalesce(qual, ''), coalesce(with_check, '') "
        "FROM pg_policies WHERE schemaname = current_schema() ORDER BY tablename, policyname"
    ).fetchall()
    for table, name, permissive, cmd, qual, check in rows:
        where = f'policy "{name}" on {table} ({permissive.lower()}, {cmd})'
        if permissive == "PERMISSIVE" and (name, table, cmd) not in mode.expected:
            problems.append(
                f"{where} is not one of the expected policies: permissive policies OR together, so it widens "
                f"{cmd} for every user (drop it, or make it AS RESTRICTIVE)"
            )
        for text in (qual, check):
            literals = _UUID.findall(text) + _LITERAL_ID.findall(text)
            if literals:
                named.update(uuid.UUID(u) for u in _UUID.findall(text))
                problems.append(f"{where} names a literal id ({', '.join(sorted(set(literals)))}): a backdoor")
            if permissive == "PERMISSIVE" and text.strip().lower() in ("true", "(true)"):
                problems.append(f"{where} has the expression true: every row, for every user")
    problems += _table_problems(conn, mode)
    return problems, named


def _table_problems(conn: psycopg.Connection[Any], mode: _Mode) -> list[str]:
    problems: list[str] = []
    has_anon = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'anon'").fetchone() is not None
    app_exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (mode.role,)).fetchone() is not None
    tables = conn.execute(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) "
        "FROM pg_class AS c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
        "ORDER BY c.relname"
    ).fetchall()
    for table, rls, forced, owner in tables:
        granted = app_exists and _any_privilege(conn, mode.role, table)
        in_scope = table in mode.tables or granted
        if not in_scope:
            continue
        if not rls and (mode.name == "supabase" or granted):
            problems.append(f"row level security is off on {table}: every row is visible to {mode.role}")
        if rls and not forced and app_exists and _bypasses(conn, mode.role, owner):
            problems.append(
                f"{table} is owned by (or bypasses RLS for) {mode.role} and its row level security is not forced "
                f"(ALTER TABLE {table} FORCE ROW LEVEL SECURITY)"
            )
        public = conn.execute(
            "SELECT count(*) FROM pg_class AS c, aclexplode(c.relacl) AS a "
            "WHERE c.oid = to_regclass(%s) AND a.grantee = 0",
            (table,),
        ).fetchone()
        if public and public[0]:
            problems.append(f"PUBLIC holds privileges on {table} (REVOKE ALL ON {table} FROM PUBLIC)")
        if has_anon and mode.name == "supabase" and _any_privilege(conn, "anon", table):
            problems.append(f"anon holds privileges on {table}: agent memory is never public (REVOKE ... FROM anon)")
    return problems


def _any_privilege(conn: psycopg.Connection[Any], role: str, table: str) -> bool:
    row = conn.execute(
        "SELECT has_table_privilege(%s, to_regclass(%s), 'SELECT, INSERT, UPDATE, DELETE')", (role, table)
    ).fetchone()
    return bool(row and row[0])


def _bypasses(conn: psycopg.Connection[Any], role: str, owner: str) -> bool:
    row = conn.execute(
        "SELECT r.rolsuper OR r.rolbypassrls OR pg_has_role(r.oid, %s, 'MEMBER') FROM pg_roles AS r "
        "WHERE r.rolname = %s",
        (owner, role),
    ).fetchone()
    return bool(row and row[0])


# -- exercise ---------------------------------------------------------------------------------------------------
@dataclass
class _World:
    """One synthetic user's rows: ``rows[table]`` are primary keys (text)."""

    user: uuid.UUID
    human: uuid.UUID
    room: uuid.UUID
    rows: dict[str, list[str]] = field(default_factory=dict)


def _build(conn: psycopg.Connection[Any], mode: _Mode, tag: int) -> _World:
    """Write one user's world as the connecting role (the owner, which row level security does not bind)."""
    w = _World(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
    has = set(mode.tables)
    created_by = _has_column(conn, "accounts", "createdBy")

    def put(table: str, statement: str, params: tuple[Any, ...]) -> None:
        if table in has:
            key = conn.execute(statement.encode(), params).fetchone()
            w.rows.setdefault(table, []).append(str(key[0]) if key else "")

    for who, creator in ((w.user, w.user), (w.human, w.user)):
        email = f"okai-verify-{who}@example.invalid"
        if created_by:
            put("accounts", 'INSERT INTO accounts ("id", "email", "createdBy") VALUES (%s, %s, %s) RETURNING "id"',
                (who, email, creator))  # fmt: skip
        else:
            put("accounts", 'INSERT INTO accounts ("id", "email") VALUES (%s, %s) RETURNING "id"', (who, email))
    if _has_column(conn, "rooms", "createdBy"):
        put("rooms", 'INSERT INTO rooms ("id", "createdBy") VALUES (%s, %s) RETURNING "id"', (w.room, w.user))
    else:
        put("rooms", 'INSERT INTO rooms ("id") VALUES (%s) RETURNING "id"', (w.room,))
    for who in (w.user, w.human):
        put("participants", 'INSERT INTO participants ("userId", "roomId") VALUES (%s, %s) RETURNING "id"',
            (who, w.room))  # fmt: skip
    put("memories", 'INSERT INTO memories ("type", "content", "userId", "agentId", "roomId") '
        "VALUES ('messages', '{}', %s, %s, %s) RETURNING \"id\"", (w.human, w.user, w.room))  # fmt: skip
    put("goals", 'INSERT INTO goals ("name", "userId", "roomId") VALUES (%s, %s, %s) RETURNING "id"',
        (f"verify {tag}", w.human, w.room))  # fmt: skip
    put("logs", 'INSERT INTO logs ("body", "type", "userId", "roomId") VALUES (\'{}\', \'verify\', %s, %s) '
        'RETURNING "id"', (w.human, w.room))  # fmt: skip
    put("relationships", 'INSERT INTO relationships ("userA", "userB", "userId") VALUES (%s, %s, %s) '
        'RETURNING "id"', (w.user, w.human, w.user))  # fmt: skip
    put("knowledge", 'INSERT INTO knowledge ("id", "agentId", "content") VALUES (%s, %s, \'{}\') RETURNING "id"',
        (uuid.uuid4(), w.user))  # fmt: skip
    put("cache", 'INSERT INTO cache ("key", "agentId", "value") VALUES (\'okai-verify\', %s, \'1\') '
        "RETURNING \"key\" || '/' || \"agentId\"", (str(w.user),))  # fmt: skip
    return w


def _has_column(conn: psycopg.Connection[Any], table: str, column: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
        (table, column),
    ).fetchone()
    return row is not None


def _forged(me: _World, them: _World, mode: _Mode) -> list[tuple[str, str, str, tuple[Any, ...]]]:
    """(table, what, INSERT, parameters): rows that would plant something in ``them``'s world or name them."""
    mem = ('INSERT INTO memories ("type", "content", "userId", "agentId", "roomId") '
           "VALUES ('messages', '{}', %s, %s, %s)")  # fmt: skip
    rows = [
        ("memories", "a memory as them", mem, (them.human, them.user, them.room)),
        ("memories", "a memory as them in my room", mem, (them.human, them.user, me.room)),
    ]
    if not mode.rooms_tied:
        return rows
    goal = 'INSERT INTO goals ("name", "userId", "roomId") VALUES (\'forged\', %s, %s)'
    log = 'INSERT INTO logs ("body", "type", "userId", "roomId") VALUES (\'{}\', \'forged\', %s, %s)'
    part = 'INSERT INTO participants ("userId", "roomId") VALUES (%s, %s)'
    rel = 'INSERT INTO relationships ("userA", "userB", "userId") VALUES (%s, %s, %s)'
    return [
        *rows,
        ("memories", "my memory in their room", mem, (me.user, me.user, them.room)),
        ("memories", "a memory for their agent in their room", mem, (me.user, them.user, them.room)),
        ("memories", "a memory for their agent in my room", mem, (me.user, them.user, me.room)),
        ("goals", "a goal in their room", goal, (me.user, them.room)),
        ("goals", "a goal for them in my room", goal, (them.user, me.room)),
        ("logs", "a log entry in their room", log, (me.user, them.room)),
        ("logs", "a log entry as them in my room", log, (them.user, me.room)),
        ("participants", "joining their room", part, (me.user, them.room)),
        ("participants", "adding them to my room", part, (them.user, me.room)),
        ("relationships", "a relationship with them", rel, (me.user, them.user, me.user)),
        ("relationships", "a relationship between them", rel, (them.user, them.human, them.user)),
        ("knowledge", "knowledge as them", 'INSERT INTO knowledge ("id", "agentId", "content") '
         "VALUES (gen_random_uuid(), %s, '{}')", (them.user,)),
        ("cache", "a cache entry as them", 'INSERT INTO cache ("key", "agentId") VALUES (\'forged\', %s)',
         (str(them.user),)),
        ("rooms", "a room in their name", 'INSERT INTO rooms ("createdBy") VALUES (%s)', (them.user,)),
        ("accounts", "an account in their name", 'INSERT INTO accounts ("email", "createdBy") '
         "VALUES ('forged@example.invalid', %s)", (them.user,)),
    ]  # fmt: skip


class _Probe:
    """Runs statements as a user inside savepoints that are always rolled back."""

    def __init__(self, conn: psycopg.Connection[Any], mode: _Mode) -> None:
        self.conn, self.mode = conn, mode

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        with self.conn.transaction(force_rollback=True):
            yield

    def as_user(self, uid: uuid.UUID | None, statement: str, params: tuple[Any, ...] = ()) -> bool:
        """Run ``statement`` as ``uid`` in its own rolled-back savepoint; False when the database refused it."""
        try:
            with self.savepoint():
                self.mode.act_as(self.conn, uid)
                self.conn.execute(statement.encode(), params)
            return True
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.IntegrityError):
            return False

    def visible(self, uid: uuid.UUID | None, table: str, keys: list[str]) -> list[str]:
        pk = _KEYS[table]
        try:
            with self.savepoint():
                self.mode.act_as(self.conn, uid)
                rows = self.conn.execute(
                    f"SELECT ({pk})::text FROM {table} WHERE ({pk})::text = ANY(%s)".encode(), (keys,)
                ).fetchall()
            return [r[0] for r in rows]
        except psycopg.errors.InsufficientPrivilege:
            return []

    def changed(self, uid: uuid.UUID | None, table: str, keys: list[str], verb: str, worlds: list[_World]) -> list[str]:
        """Which of ``keys`` an unconditional UPDATE (new ctid) or DELETE (row gone) by ``uid`` reached."""
        pk = _KEYS[table]
        before_sql = f"SELECT ({pk})::text, ctid::text FROM {table} WHERE ({pk})::text = ANY(%s)".encode()
        statement = f"UPDATE {table} SET {_TOUCH[table]}" if verb == "UPDATE" else f"DELETE FROM {table}"
        try:
            with self.savepoint():
                before = dict(self.conn.execute(before_sql, (keys,)).fetchall())
                if verb == "DELETE":
                    self._clear_references(table, worlds)
                with self.conn.transaction():
                    self.mode.act_as(self.conn, uid)
                    self.conn.execute(statement.encode())
                    self.conn.execute("SELECT set_config('role', 'none', true)")
                after = dict(self.conn.execute(before_sql, (keys,)).fetchall())
        except psycopg.errors.InsufficientPrivilege:
            return []
        except psycopg.errors.ForeignKeyViolation:
            # The synthetic users' own rows were cleared of references: a row still referenced is someone else's.
            return ["(a referenced row of another user)"]
        return [k for k, ctid in before.items() if after.get(k) != ctid]

    def _clear_references(self, table: str, worlds: list[_World]) -> None:
        # An unconditional DELETE of accounts or rooms fails on the first referenced row (foreign keys are checked
        # as the owner, whatever the policies say): the synthetic rows that reference them go first, as the owner,
        # inside the same rolled-back savepoint, so only a row the user does not own can still block it.
        if table not in ("accounts", "rooms"):
            return
        for child in ("memories", "participants", "goals", "logs", "relationships", "knowledge"):
            keys = [k for w in worlds for k in w.rows.get(child, [])]
            if child in self.mode.tables and child != table and keys:
                pk = _KEYS[child]
                self.conn.execute(f"DELETE FROM {child} WHERE ({pk})::text = ANY(%s)".encode(), (keys,))
        if "logs" in self.mode.tables:
            # An audit trigger (okai-insight secure --audit on) logged the deletes above: those rows reference the
            # synthetic rooms and accounts too, and would otherwise read as another user's row blocking the DELETE.
            rooms = [w.room for w in worlds]
            people = [u for w in worlds for u in (w.user, w.human)]
            self.conn.execute('DELETE FROM logs WHERE "roomId" = ANY(%s) OR "userId" = ANY(%s)', (rooms, people))


def _exercise(
    conn: psycopg.Connection[Any], mode: _Mode, extra_users: set[uuid.UUID]
) -> tuple[list[str], list[dict[str, Any]], list[str]]:
    problems: list[str] = []
    outcome: dict[str, dict[str, str]] = {t: dict.fromkeys(COMMANDS, "isolated") for t in mode.tables}

    def leak(table: str, command: str, message: str) -> None:
        outcome[table][command] = "LEAK"
        problems.append(message)

    probe = _Probe(conn, mode)
    worlds = [_build(conn, mode, i) for i in range(2)]
    users: list[str] = [str(w.user) for w in worlds]
    pairs: list[tuple[uuid.UUID | None, _World]] = [(worlds[0].user, worlds[1]), (worlds[1].user, worlds[0])]
    outsiders: list[uuid.UUID | None] = [*sorted(extra_users), uuid.uuid4(), None]
    users += ["no user id" if u is None else str(u) for u in outsiders]
    for u in outsiders:
        pairs += [(u, worlds[0]), (u, worlds[1])]
    for uid, them in pairs:
        who = "a session without a user id" if uid is None else f"user {uid}"
        for table in mode.tables:
            keys = them.rows.get(table, [])
            if not keys:
                continue
            seen = probe.visible(uid, table, keys)
            if seen:
                leak(table, "SELECT", f"{who} sees {len(seen)} {table} row(s) of user {them.user}")
            for verb in ("UPDATE", "DELETE"):
                reached = probe.changed(uid, table, keys, verb, worlds)
                if reached:
                    leak(table, verb, f"{who} can {verb} {len(reached)} {table} row(s) of user {them.user}")
    for me, them in ((worlds[0], worlds[1]), (worlds[1], worlds[0])):
        for table, what, statement, params in _forged(me, them, mode):
            if table in mode.tables and probe.as_user(me.user, statement, params):
                leak(table, "INSERT", f"user {me.user} could insert {what} (user {them.user}): {table}")
    checks = [{"table": t, **{c.lower(): v for c, v in outcome[t].items()}} for t in mode.tables]
    return users, checks, problems


def verify_isolation(
    url: str, *, role: str | None = None, statement_timeout_ms: int = 10_000, connect_timeout_s: int = 5
) -> IsolationReport:
    """Inspect the policies and exercise every command on every table as two users (plus any id a policy names,
    a stranger and a session without a user id); any leak is a problem. Nothing is kept: all runs in one
    transaction that is rolled back. Connect as the tables' owner (``postgres`` on Supabase), which must be
    allowed to ``SET ROLE`` to the application role.

    ``role`` is the role the application acts as: ``authenticated`` on a Supabase profile (JWT claims in
    ``request.jwt.claims``), ``app_user`` on plain PostgreSQL with ``okai-insight secure --isolation on``
    (``okai.user_id``); the default is chosen from the database.

    Example:
        >>> verify_isolation(url).problems                                 # doctest: +SKIP
        []
    """
    if role is not None and (not isinstance(role, str) or not role.isidentifier() or len(role) > 63):
        raise InvalidInput(f"role name must be a plain identifier, got {role!r}")
    if isinstance(statement_timeout_ms, bool) or not isinstance(statement_timeout_ms, int) or statement_timeout_ms < 1:
        raise InvalidInput(f"statement_timeout_ms must be a positive integer, got {statement_timeout_ms!r}")
    settings = dataclasses.replace(Settings.from_env(), connect_timeout_s=connect_timeout_s)
    conn = connect(url, autocommit=True, settings=settings)  # ConnectionFailed, password masked
    with conn:
        mode = _mode(conn, role)
        if "memories" not in mode.tables:
            return IsolationReport([], [], ["this database has no memories table"], mode.name)
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (mode.role,)).fetchone() is None:
            return IsolationReport(
                [], [], [f"role {mode.role} does not exist (okai-insight secure --roles)"], mode.name
            )
        problems, named = inspect_policies(conn, mode)
        try:
            with conn.transaction(force_rollback=True):
                timeout = f"{statement_timeout_ms}ms"
                conn.execute(_TIMEOUTS, (timeout, timeout))
                users, checks, leaks = _exercise(conn, mode, named)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionDenied(
                f"verify-isolation must connect as the tables' owner, allowed to SET ROLE {mode.role}: {exc}"
            ) from exc
        except psycopg.errors.QueryCanceled as exc:
            raise QueryTimeout(f"verify-isolation: a statement ran past {statement_timeout_ms} ms: {exc}") from exc
    return IsolationReport(users, checks, problems + leaks, mode.name)
