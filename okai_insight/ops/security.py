"""Security on plain PostgreSQL: the spec's roles, row level security keyed on a per-session user id, a verifier
that proves isolation, an audit trail of writes in ``logs``, and a TLS (``sslmode``) check.

* :func:`create_roles`: the login roles ``app_user`` (reads, writes and deletes ``memories``, as row level security
  allows, and ``USAGE`` on the schema; the spec's ``SELECT, INSERT`` left the isolated adapter unable to delete) and
  a read-only analyst (``pg_monitor``, ``SELECT`` on the tables, read-only transactions, also for its members).
* :func:`enable_isolation`: row level security on every memory table with the Supabase profile's room-tied
  policies (the spec's ``memories_isolation`` bound only ``memories``, so the application role could not create a
  room), with Supabase's ``auth.uid()`` replaced by ``okai_uid()``, which reads the session setting
  ``okai.user_id`` (``okai_insight/ops/_policies.py``). :class:`IsolatedPostgresAdapter` sets it (and the role) at
  the start of every transaction, so one pool can serve many users; it is an adapter, so it lives in
  ``okai_insight/adapters/isolated.py`` and is re-exported here.
* :func:`verify_isolation` (``okai_insight/ops/_isolation.py``) reads the policies themselves (``pg_policies``:
  permissive policies beyond the expected set, literal ids, ``true`` expressions, RLS off or not forced, grants to
  ``anon``/``PUBLIC``) and acts as two users on every table and command (``SET LOCAL ROLE`` plus ``okai.user_id``,
  or the JWT claims on Supabase), in a transaction that is rolled back; any leak is a problem.
* :func:`enable_audit`: a trigger records every insert, update and delete on ``memories`` in ``logs``
  (who: the session's ``okai.user_id``, else the row's user or agent; what: operation, table, id; when: the log
  row's ``createdAt``).
* :func:`check_tls`: what the URL's ``sslmode`` protects against, and whether this connection is encrypted.

Example:
    >>> from okai_insight.ops.security import create_roles, enable_isolation, verify_isolation
    >>> create_roles(url); enable_isolation(url)                    # doctest: +SKIP
    >>> verify_isolation(url).ok                                     # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import conninfo, sql

from okai_insight._postgres_only import require_postgres
from okai_insight.adapters.isolated import APP_ROLE, IsolatedPostgresAdapter, check_role_name
from okai_insight.errors import ConfigurationError
from okai_insight.ops._connection import connect as open_connection
from okai_insight.ops._isolation import IsolationReport, expected_supabase_policies, verify_isolation
from okai_insight.ops._policies import GRANTS, isolation_statements, policy_tables

#: The isolation verifier and the isolated adapter live in their own modules; these names stay importable from here.
__all__ = [
    "ANALYST_ROLE",
    "APP_ROLE",
    "NO_TLS_SERVER",
    "IsolatedPostgresAdapter",
    "IsolationReport",
    "TlsReport",
    "check_tls",
    "create_roles",
    "disable_audit",
    "disable_isolation",
    "enable_audit",
    "enable_isolation",
    "isolation_enabled",
    "verify_isolation",
]

ANALYST_ROLE = "okai_analyst"

#: The user a session acts for: ``okai.user_id``, but only when the session acts as the application role (or a
#: member of it). Anyone may set a custom setting, so without the test a role granted SELECT for other reasons
#: (the analyst) could name any user and read their rows through the policies; for it ``okai_uid()`` is NULL and
#: no row matches. The acting role is the ``role`` setting (SET ROLE, which checks membership) or the login role,
#: not current_user: the policies' helper functions are SECURITY DEFINER and run as their owner.
_UID_FUNCTION = """
CREATE OR REPLACE FUNCTION okai_uid() RETURNS uuid
LANGUAGE sql STABLE
AS $$ SELECT CASE WHEN to_regrole({role}) IS NOT NULL
    AND pg_has_role(coalesce(nullif(current_setting('role'), 'none'), session_user::text)::name, {role}, 'MEMBER')
    THEN nullif(current_setting('okai.user_id', true), '')::uuid END $$
"""


def _uid_function(app_role: str) -> sql.Composed:
    return sql.SQL(_UID_FUNCTION).format(role=sql.Literal(check_role_name(app_role)))


_AUDIT_FUNCTION = """
CREATE OR REPLACE FUNCTION okai_audit_memories() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
    r record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    who uuid := okai_uid();
BEGIN
    IF who IS NULL OR NOT EXISTS (SELECT 1 FROM accounts WHERE "id" = who) THEN
        who := coalesce(r."userId", r."agentId");
    END IF;
    IF who IS NOT NULL AND r."roomId" IS NOT NULL THEN
        INSERT INTO logs ("userId", "roomId", "type", "body")
        VALUES (who, r."roomId", 'audit', jsonb_build_object(
            'op', TG_OP, 'table', TG_TABLE_NAME, 'id', r."id", 'memory_type', r."type",
            'db_role', coalesce(nullif(current_setting('role'), 'none'), session_user::text),
            'session_user', session_user, 'okai_user_id', okai_uid()));
    END IF;
    RETURN NULL;
END
$$
"""


def create_roles(url: str, *, app_role: str = APP_ROLE, analyst_role: str = ANALYST_ROLE) -> list[str]:
    """Create (if missing) and grant the application and analyst roles in the database at ``url``.

    Both are LOGIN roles (no password: set one with ``ALTER ROLE ... PASSWORD`` or psql's ``\\password``, never
    on a command line), because a role's settings apply only to the role one logs in as, not to the members of a
    group role. ``app_role`` may read, write and delete ``memories`` (row level security, :func:`enable_isolation`,
    decides which rows) and use the schema. ``analyst_role`` gets ``pg_monitor``, ``SELECT`` on the schema's tables
    (on a Supabase profile only those without row level security: ``auth.uid()`` believes claims any session may
    set) and ``default_transaction_read_only = on``, and so does every login role that is already a member of it (the
    setting would not reach them through the membership). Roles are cluster-wide; the grants are on this
    database's objects. Returns the statements run.

    Example:
        >>> create_roles(url)[:2]                                         # doctest: +SKIP
        ['CREATE ROLE "app_user" LOGIN', 'CREATE ROLE "okai_analyst" LOGIN']
    """
    app, analyst = sql.Identifier(check_role_name(app_role)), sql.Identifier(check_role_name(analyst_role))
    run: list[str] = []
    with open_connection(url, autocommit=True) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()
        public = sql.Identifier(str(schema[0]) if schema else "public")
        existing = {
            r[0]
            for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname IN (%s, %s)", (app_role, analyst_role))
        }
        statements: list[sql.Composed] = []
        for name, ident in ((app_role, app), (analyst_role, analyst)):
            verb = "ALTER" if name in existing else "CREATE"
            statements.append(sql.SQL(verb + " ROLE {} LOGIN").format(ident))
        statements += [
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(sql.Identifier("memories"), app),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(public, app),
            sql.SQL("GRANT pg_monitor TO {}").format(analyst),
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(public, analyst),
        ]
        if _is_supabase(conn):
            # auth.uid() believes request.jwt.claims from any session, and any role may set it: an analyst allowed
            # to SELECT a table under the migration's policies could name a user and read their rows. It reads only
            # the tables without row level security there (and the statistics, through pg_monitor).
            statements += [
                sql.SQL("GRANT SELECT ON {} TO {}").format(sql.Identifier(t), analyst)
                for t in _tables_without_rls(conn)
            ]
            statements += [
                sql.SQL("REVOKE SELECT ON {} FROM {}").format(sql.Identifier(t), analyst)
                for t in _tables_with_rls(conn)
            ]  # an earlier version granted them all
        else:  # okai_uid() believes okai.user_id only from the application role: the policies show the analyst none
            statements.append(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(public, analyst))
        readers = [analyst_role, *_login_members(conn, analyst_role)]
        statements += [
            sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(sql.Identifier(r)) for r in readers
        ]
        for statement in statements:
            try:
                conn.execute(statement)
            except psycopg.errors.DuplicateObject:
                pass  # another process created the role between our check and our CREATE
            run.append(statement.as_string(conn))
        if isolation_enabled(conn):  # the policies decide over every table: the application role needs them all
            granted = _grant_isolated(conn, app_role, _tables(conn)[1]) + _grant_helpers(conn, analyst_role)
            run += [s.as_string(conn) for s in granted]
    return run


def _tables_without_rls(conn: psycopg.Connection[Any], rls: bool = False) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = current_schema()::regnamespace "
        "AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relrowsecurity = %s ORDER BY c.relname",
        (rls,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def _tables_with_rls(conn: psycopg.Connection[Any]) -> list[str]:
    return _tables_without_rls(conn, rls=True)


def _login_members(conn: psycopg.Connection[Any], group: str) -> list[str]:
    """Login roles that are (directly) members of ``group``, superusers left alone."""
    rows = conn.execute(
        "SELECT m.rolname FROM pg_auth_members AS a JOIN pg_roles AS g ON g.oid = a.roleid "
        "JOIN pg_roles AS m ON m.oid = a.member WHERE g.rolname = %s AND m.rolcanlogin AND NOT m.rolsuper "
        "ORDER BY m.rolname",
        (group,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def enable_isolation(url: str, *, app_role: str = APP_ROLE) -> None:
    """Turn on row level security on every memory table, with one policy per table and command that ties each row
    to the rooms its user takes part in (idempotent). The policies are the Supabase profile's
    (``okai_insight/schema/supabase/30_policies.sql``) with ``okai_uid()``, the session's ``okai.user_id``, as the
    user; see ``okai_insight/ops/_policies.py`` for the few differences. They replace the spec's single
    ``memories_isolation`` policy, which bound only ``memories``: the application role could not create the room it
    talks in, and granting it rooms without policies would have shown it every room.

    If ``app_role`` exists it is granted what the policies then decide over (``authenticated``'s grants on
    Supabase); :func:`create_roles` grants them too when it runs after this. Table owners and superusers bypass
    the policies (PostgreSQL's rule); applications act as ``app_role`` (:class:`IsolatedPostgresAdapter`).

    Example:
        >>> enable_isolation(url)                                          # doctest: +SKIP
    """
    check_role_name(app_role)
    with open_connection(url, autocommit=True) as conn, conn.transaction():
        _refuse_supabase(conn)
        conn.execute(_uid_function(app_role))
        schema, tables = _tables(conn)
        for statement in isolation_statements(schema, tables):
            conn.execute(statement.encode())
        conn.execute('DROP POLICY IF EXISTS "memories_isolation" ON memories')
        if _role_exists(conn, app_role):
            _grant_isolated(conn, app_role, tables)
        if _role_exists(conn, ANALYST_ROLE):
            _grant_helpers(conn, ANALYST_ROLE)


def _tables(conn: psycopg.Connection[Any]) -> tuple[str, set[str]]:
    """The current schema and which of the policies' tables it holds."""
    row = conn.execute("SELECT current_schema()").fetchone()
    schema = str(row[0]) if row else "public"
    names = {r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = current_schema()::regnamespace "
        "AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)", (list(GRANTS),))}  # fmt: skip
    return schema, names


def _is_supabase(conn: psycopg.Connection[Any]) -> bool:
    """Whether the Supabase migration (its policies keyed on ``auth.uid()``) is applied here."""
    from okai_insight.schema.supabase import SUPABASE_SETTING

    return bool(
        conn.execute("SELECT to_regclass('okai_settings') IS NOT NULL").fetchone() == (True,)
        and conn.execute("SELECT 1 FROM okai_settings WHERE key = %s", (SUPABASE_SETTING,)).fetchone()
    )


def _refuse_supabase(conn: psycopg.Connection[Any]) -> None:
    if _is_supabase(conn):
        raise ConfigurationError(
            "this database has the Supabase migration's row level security (keyed on auth.uid()); "
            "okai-insight secure --isolation is for plain PostgreSQL (docs/supabase.md)"
        )


def _role_exists(conn: psycopg.Connection[Any], role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def isolation_enabled(conn: psycopg.Connection[Any]) -> bool:
    """Whether :func:`enable_isolation`'s room-tied policies are installed in the current schema.

    Example:
        >>> isolation_enabled(conn)                                        # doctest: +SKIP
        True
    """
    row = conn.execute(
        "SELECT 1 FROM pg_policies WHERE schemaname = current_schema() AND tablename = 'memories' "
        "AND policyname = 'memories_select'"
    ).fetchone()
    return row is not None and not _is_supabase(conn)  # the Supabase migration has the same policy names


def _grant_isolated(conn: psycopg.Connection[Any], app_role: str, tables: set[str]) -> list[sql.Composed]:
    role = sql.Identifier(app_role)
    statements = [
        sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(GRANTS[t]), sql.Identifier(t), role)
        for t in policy_tables(tables)
    ]
    for statement in statements:
        conn.execute(statement)
    return statements + _grant_helpers(conn, app_role)


def _grant_helpers(conn: psycopg.Connection[Any], role_name: str) -> list[sql.Composed]:
    # The policies call okai_private's functions as the querying role: a role that may SELECT the tables (the
    # analyst) needs them too, or its reads fail instead of finding no row. They answer only about okai_uid(),
    # which is NULL for any role but the application's.
    role = sql.Identifier(role_name)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA okai_private TO {}").format(role),
        sql.SQL("GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA okai_private TO {}").format(role),
    ]
    for statement in statements:
        conn.execute(statement)
    return statements


def disable_isolation(url: str, *, app_role: str = APP_ROLE) -> None:
    """Remove the policies, turn row level security off and take back from ``app_role`` every grant but the
    spec's on ``memories`` (:func:`create_roles`'s). The ``createdBy`` columns and their values stay.

    Example:
        >>> disable_isolation(url)                                         # doctest: +SKIP
    """
    check_role_name(app_role)
    with open_connection(url, autocommit=True) as conn, conn.transaction():
        _schema, tables = _tables(conn)
        _refuse_supabase(conn)
        ours = {(t, n) for n, t, _ in expected_supabase_policies()} | {("memories", "memories_isolation")}
        policies = conn.execute(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema() ORDER BY 1, 2"
        ).fetchall()
        for table, name in policies:
            if (table, name) not in ours:
                continue  # a policy of the database's own: not ours to drop
            conn.execute(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(name), sql.Identifier(table)))
        for table in policy_tables(tables):
            conn.execute(sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(sql.Identifier(table)))
            if table != "memories" and _role_exists(conn, app_role):
                conn.execute(
                    sql.SQL("REVOKE ALL ON {} FROM {}").format(sql.Identifier(table), sql.Identifier(app_role))
                )
        conn.execute("DROP SCHEMA IF EXISTS okai_private CASCADE")


def enable_audit(url: str) -> None:
    """Record every write on ``memories`` in ``logs`` (type ``audit``) with a trigger (idempotent).

    Example:
        >>> enable_audit(url)                                              # doctest: +SKIP
    """
    with open_connection(url, autocommit=True) as conn, conn.transaction():
        if conn.execute("SELECT to_regprocedure('okai_uid()') IS NULL").fetchone() == (True,):
            conn.execute(_uid_function(APP_ROLE))  # enable_isolation's, for its role, is kept when it exists
        conn.execute(_AUDIT_FUNCTION)
        conn.execute("DROP TRIGGER IF EXISTS okai_audit ON memories")
        conn.execute(
            "CREATE TRIGGER okai_audit AFTER INSERT OR UPDATE OR DELETE ON memories "
            "FOR EACH ROW EXECUTE FUNCTION okai_audit_memories()"
        )


def disable_audit(url: str) -> None:
    """Remove the audit trigger (the audit rows stay in ``logs``).

    Example:
        >>> disable_audit(url)                                             # doctest: +SKIP
    """
    with open_connection(url, autocommit=True) as conn:
        conn.execute("DROP TRIGGER IF EXISTS okai_audit ON memories")


#: What each libpq sslmode protects against (PostgreSQL docs, "SSL Support", table "SSL Mode Descriptions").
_SSLMODES = {
    "disable": ("critical", "no encryption"),
    "allow": ("critical", "encryption only if the server insists; no protection against eavesdropping"),
    "prefer": ("critical", "encryption if available, silently plain otherwise (libpq's default)"),
    "require": ("warning", "encrypted, but the server's certificate is not verified (man in the middle possible)"),
    "verify-ca": ("warning", "encrypted, certificate verified, host name not checked"),
    "verify-full": ("ok", "encrypted, certificate and host name verified"),
}


#: What ``secure`` prints when the server cannot encrypt (the embedded server is built without OpenSSL).
NO_TLS_SERVER = (
    "this server cannot encrypt connections (ssl = off{library}): okai-insight's embedded server is built without "
    "OpenSSL. Keep it on its unix socket or on loopback (listen_addresses = 'localhost') and never expose its port. "
    "For TLS, use a PostgreSQL server built with OpenSSL and ssl = on (a packaged PostgreSQL, or a managed "
    "provider such as Supabase, RDS or Cloud SQL) and connect with sslmode=verify-full and sslrootcert=<its CA>."
)
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsReport:
    """The URL's sslmode, what it means, whether this connection is encrypted, and whether the server can
    encrypt at all (``server_tls``: its ``ssl`` setting; ``ssl_library`` is empty on a build without OpenSSL)."""

    sslmode: str
    status: str
    detail: str
    local_socket: bool
    encrypted: bool | None = None
    tls_version: str | None = None
    server_tls: bool | None = None
    ssl_library: str | None = None

    @property
    def server_note(self) -> str | None:
        """What to do when the server has no TLS (None when it has, or was not asked).

        Example:
            >>> "sslmode=verify-full" in TlsReport("prefer", "ok", "", True, server_tls=False).server_note
            True
        """
        if self.server_tls is not False:
            return None
        library = "; built without an SSL library" if self.ssl_library == "" else ""
        return NO_TLS_SERVER.format(library=library)


def check_tls(url: str, *, connect: bool = True) -> TlsReport:
    """Judge the URL's ``sslmode`` (unix sockets and loopback need no TLS) and, if ``connect``, read
    ``pg_stat_ssl`` and whether the server can encrypt at all (``ssl``, ``ssl_library``). A server without TLS
    reached over the network is critical whatever the sslmode says.

    Example:
        >>> check_tls("postgresql://u@db.example.com/agents?sslmode=verify-full", connect=False).status
        'ok'
        >>> check_tls("postgresql://u@db.example.com/agents", connect=False).status
        'critical'
        >>> check_tls("postgresql://u@localhost/agents", connect=False).local_socket
        True
    """
    require_postgres(url, "check_tls")  # a sqlite:/// or mysql:// URL is not a malformed PostgreSQL one
    try:
        info = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(f"not a valid database URL: {exc}") from exc
    mode = str(info.get("sslmode") or "prefer")
    if mode not in _SSLMODES:
        raise ConfigurationError(f"unknown sslmode {mode!r}: use one of {', '.join(_SSLMODES)}")
    hosts = [h for h in str(info.get("host") or "").split(",")]
    addrs = [a for a in str(info.get("hostaddr") or "").split(",") if a]
    sockets = all(h.startswith("/") or h == "" for h in hosts) and not addrs
    loopback = all(h in _LOOPBACK or h.startswith("/") for h in hosts if h) and all(a in _LOOPBACK for a in addrs)
    local = sockets or loopback
    if sockets:
        status, detail = "ok", "unix socket: traffic never leaves the machine"
    elif loopback:
        status, detail = "ok", "loopback: traffic never leaves the machine"
    else:
        status, detail = _SSLMODES[mode]
    encrypted = version = server_tls = library = None
    if connect:
        with open_connection(url, autocommit=True) as conn:
            row = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            if row is not None:
                encrypted, version = bool(row[0]), row[1]
            settings = conn.execute("SELECT current_setting('ssl'), current_setting('ssl_library', true)").fetchone()
            if settings is not None:
                server_tls, library = settings[0] == "on", settings[1]
        if server_tls is False and not local:
            status, detail = "critical", "the server has no TLS: everything, passwords included, crosses in clear"
    return TlsReport(mode, status, detail, local, encrypted, version, server_tls, library)
