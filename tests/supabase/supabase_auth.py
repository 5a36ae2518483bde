"""A Supabase-compatible ``auth`` schema and API roles in a plain PostgreSQL database, as Supabase defines them.

Supabase's ``auth.users`` holds the signed-up users (``sign_up`` adds one); ``auth.uid()`` and ``auth.jwt()`` read the JWT claims PostgREST puts in ``request.jwt.claims`` (and the
older per-claim ``request.jwt.claim.sub``); ``anon``, ``authenticated`` and ``service_role`` are NOLOGIN roles,
``service_role`` with BYPASSRLS, and the connecting superuser is granted all three so it can switch to them
(supabase/postgres migrations/db/init-scripts, auth schema functions). Roles are cluster-wide: creating them is
idempotent.
"""

from __future__ import annotations

from typing import Any

import psycopg

ROLES_SQL = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        CREATE ROLE anon NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        CREATE ROLE authenticated NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
    END IF;
END
$$;
GRANT anon, authenticated, service_role TO CURRENT_USER;
"""

AUTH_SQL = """
CREATE SCHEMA IF NOT EXISTS auth;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;

-- Supabase Auth's users (only the columns okai-insight reads); not readable by the API roles, as on Supabase.
CREATE TABLE IF NOT EXISTS auth.users (
    "id" UUID PRIMARY KEY,
    "email" TEXT
);

CREATE OR REPLACE FUNCTION auth.uid() RETURNS UUID
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(
        NULLIF(current_setting('request.jwt.claim.sub', TRUE), ''),
        (NULLIF(current_setting('request.jwt.claims', TRUE), '')::JSONB ->> 'sub')
    )::UUID
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS TEXT
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(
        NULLIF(current_setting('request.jwt.claim.role', TRUE), ''),
        (NULLIF(current_setting('request.jwt.claims', TRUE), '')::JSONB ->> 'role')
    )::TEXT
$$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS JSONB
LANGUAGE sql STABLE
AS $$
    SELECT COALESCE(
        NULLIF(current_setting('request.jwt.claim', TRUE), ''),
        NULLIF(current_setting('request.jwt.claims', TRUE), '')
    )::JSONB
$$;

GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.jwt() TO anon, authenticated, service_role;
"""


def create_supabase_auth(conn: psycopg.Connection[Any]) -> None:
    """Create the roles (once per cluster) and the auth schema (once per database); ``conn`` in autocommit."""
    try:
        conn.execute(ROLES_SQL)
    except psycopg.errors.UniqueViolation:
        pass  # another test created the roles at the same moment
    conn.execute(AUTH_SQL)


def prepare_supabase_database(url: str) -> None:
    """Make the database at ``url`` look like a fresh Supabase project (no okai-insight schema yet)."""
    with psycopg.connect(url, autocommit=True) as conn:
        create_supabase_auth(conn)


def sign_up(url: str, *user_ids: Any) -> None:
    """Record ``user_ids`` as signed-up Supabase Auth users (rows in ``auth.users``), as Supabase Auth would."""
    with psycopg.connect(url, autocommit=True) as conn:
        for uid in user_ids:
            conn.execute('INSERT INTO auth.users ("id") VALUES (%s) ON CONFLICT DO NOTHING', (uid,))
