"""The Supabase adapter's direct transport: PostgreSQL's protocol, Supabase's row level security.

Every transaction starts as PostgREST starts one: ``set_config('role', 'authenticated', true)`` and
``set_config('request.jwt.claims', '{"sub": <user>, "role": "authenticated"}', true)``, so ``auth.uid()`` is the
user and the migration's policies decide what each statement sees and writes. That per-transaction hook is
:class:`~okai_insight.adapters._scoped.ScopedPostgresAdapter`'s (shared with the isolated adapter on plain
PostgreSQL); everything else (pool, retries, HNSW search, keyset pages) is
:class:`~okai_insight.adapters.postgres.PostgresAdapter`'s. Batches go through a temp table, because PostgreSQL
refuses COPY FROM into a table with row level security.

Example:
    >>> db = SupabaseDirectAdapter("postgresql://postgres:pw@db.x.supabase.co:5432/postgres",
    ...                            user_id="8d0e...")      # doctest: +SKIP
    >>> db.init()                                          # doctest: +SKIP
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from okai_insight.adapters._scoped import ScopedPostgresAdapter
from okai_insight.adapters._supabase_base import SupabaseAdapter
from okai_insight.adapters.base import IdLike
from okai_insight.errors import ConfigurationError, ReadOnlySchema, SchemaError, translate_pg_errors
from okai_insight.models import Account, Actor
from okai_insight.schema import read_profile
from okai_insight.schema.supabase import SUPABASE_SETTING, apply
from okai_insight.settings import Settings
from okai_insight.validation import check_content, check_id, check_text

#: The roles a direct connection may act as (Supabase's API roles; anon reads nothing in this schema).
ROLES = ("authenticated", "service_role", "anon")


class SupabaseDirectAdapter(SupabaseAdapter, ScopedPostgresAdapter):
    """okai-insight's adapter over a direct connection to a Supabase database, acting as one user.

    ``user_id`` is the Supabase Auth user (the JWT's ``sub``) the statements run as; ``role`` is
    ``authenticated`` (default), or ``service_role`` (bypasses row level security; ``user_id`` optional).

    Example:
        >>> with SupabaseDirectAdapter(url, user_id=agent_id) as db:   # doctest: +SKIP
        ...     db.init()
        ...     db.count_memories(room_id, table_name="messages")
        0
    """

    transport = "direct"

    def __init__(
        self,
        url: str,
        *,
        user_id: IdLike | None = None,
        role: str = "authenticated",
        settings: Settings | None = None,
        dimension: int | None = None,
        claims: dict[str, Any] | None = None,
    ) -> None:
        if role not in ROLES:
            raise ConfigurationError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        if role == "authenticated" and user_id is None:
            raise ConfigurationError("an authenticated Supabase connection needs user_id (the auth user's uuid)")
        super().__init__(url, settings=settings, dimension=dimension)
        self.user_id: uuid.UUID | None = None if user_id is None else check_id(user_id, "user_id")
        self.role = role
        jwt: dict[str, Any] = {**(claims or {}), "role": role}
        if self.user_id is not None:
            jwt["sub"] = str(self.user_id)
        self._claims = json.dumps(jwt)

    def init(self) -> None:
        """Apply the Supabase migration to an empty database, check an existing one, then open the pool.

        Example:
            >>> db.init()                                      # doctest: +SKIP
        """
        with translate_pg_errors("creating or checking okai-insight's Supabase schema"):
            with psycopg.connect(
                self.url, autocommit=True, connect_timeout=max(1, int(self.settings.connect_timeout_s))
            ) as conn:
                profile = read_profile(conn)
                if profile.flavor == "empty":
                    apply(conn, dimension=self._requested_dimension)
                elif not profile.writable:  # ElizaOS 1.x: not a missing migration, a schema okai never writes
                    raise ReadOnlySchema(
                        profile.display_name,
                        "attaching the Supabase adapter (init)",
                        hint="read it with okai_insight.connect(url) or export it with okai-insight copy",
                    )
                elif not _has_supabase_migration(conn):
                    raise SchemaError(
                        "this database has memory tables without okai-insight's row level security: apply the "
                        "Supabase migration (docs/supabase.md) or connect with a postgresql:// URL"
                    )
        super().init()

    def _scope(self) -> dict[str, str]:
        return {"request.jwt.claims": self._claims}

    def get_actor_details(self, room_id: IdLike) -> list[Actor]:
        """The participants of a room with their public profiles; as a user, through ``public.get_actor_details``
        (accounts rows are readable only by their subject and creator; the function shows co-participants'
        names, never their email, and only for rooms the user can access).

        Example:
            >>> [a.name for a in db.get_actor_details(room)]   # doctest: +SKIP
            ['Eliza', 'Sam']
        """
        if self.role == "service_role":
            return super().get_actor_details(room_id)
        rid = check_id(room_id, "room_id")
        rows = self._run(
            lambda c, _: c.execute(
                'SELECT "id", "name", "username", "details" FROM public.get_actor_details(%s)', (rid,)
            ).fetchall()
        )
        return [Actor(r[0], r[1], r[2], r[3] or {}) for r in rows]

    def create_account(self, account: Account) -> bool:
        """Create an account; a user whose own account someone else pre-created claims it (its fields become the
        given ones and ``createdBy`` the user), so its creator keeps no rights over it.

        Example:
            >>> db.create_account(Account(id=db.user_id, name="Sam", email="sam@example.org"))   # doctest: +SKIP
            True
        """
        created = super().create_account(account)
        if created or self.user_id is None or check_id(account.id, "account.id") != self.user_id:
            return created
        details = check_content(account.details or {}, "account.details")
        check_text(account.email, "account.email")

        def claim(c: psycopg.Connection[Any], _: int) -> bool:
            return (
                c.execute(
                    'UPDATE accounts SET "name" = %s, "username" = %s, "email" = %s, "avatarUrl" = %s, '
                    '"details" = %s, "createdBy" = %s WHERE "id" = %s AND "createdBy" IS DISTINCT FROM %s',
                    (
                        account.name,
                        account.username,
                        account.email,
                        account.avatar_url,
                        Jsonb(details),
                        self.user_id,
                        self.user_id,
                        self.user_id,
                    ),
                ).rowcount
                > 0
            )

        return self._run(claim)


def _has_supabase_migration(conn: psycopg.Connection[Any]) -> bool:
    if conn.execute("SELECT to_regclass('okai_settings')").fetchone() == (None,):
        return False
    row = conn.execute("SELECT 1 FROM okai_settings WHERE key = %s", (SUPABASE_SETTING,)).fetchone()
    return row is not None
