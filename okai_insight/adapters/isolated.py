"""The PostgreSQL adapter acting for one user under row level security keyed on ``okai.user_id``.

``okai_insight.ops.security.enable_isolation`` installs the policy (``okai_uid()`` reads ``okai.user_id``) and
``create_roles`` the role; this adapter is the data-layer half: every transaction it opens sets the role and the
user, so one pool can serve many users. It is re-exported from ``okai_insight.ops.security`` (its documented home).

Example:
    >>> from okai_insight.adapters.isolated import IsolatedPostgresAdapter
    >>> db = IsolatedPostgresAdapter(url, user_id=alice)              # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from okai_insight.adapters._scoped import ScopedPostgresAdapter
from okai_insight.errors import InvalidInput
from okai_insight.models import Account, Actor
from okai_insight.settings import Settings
from okai_insight.validation import check_id

#: The spec's application role (``okai_insight.ops.security.create_roles`` creates it).
APP_ROLE = "app_user"


def check_role_name(name: Any) -> str:
    """``name`` if it is a plain identifier PostgreSQL accepts as a role name, else :class:`InvalidInput`.

    Example:
        >>> check_role_name("app_user")
        'app_user'
        >>> check_role_name("app; DROP TABLE memories")
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: role name must be a plain identifier, got 'app; DROP TABLE memories'
    """
    if not isinstance(name, str) or not name.isidentifier() or len(name) > 63:
        raise InvalidInput(f"role name must be a plain identifier, got {name!r}")
    return name


class IsolatedPostgresAdapter(ScopedPostgresAdapter):
    """The PostgreSQL adapter acting for one user under row level security: every transaction starts with
    ``SET LOCAL ROLE <role>`` and ``okai.user_id = <user>``.

    Example:
        >>> db = IsolatedPostgresAdapter(url, user_id=alice)              # doctest: +SKIP
        >>> db.init(); db.get_memory_by_id(bobs_memory) is None            # doctest: +SKIP
        True
    """

    def __init__(
        self, url: str, *, user_id: Any, role: str = APP_ROLE, settings: Settings | None = None, **kwargs: Any
    ) -> None:
        super().__init__(url, settings=settings, **kwargs)
        self.user_id = check_id(user_id, "user_id")
        self.role = check_role_name(role)

    def _scope(self) -> dict[str, str]:
        return {"okai.user_id": str(self.user_id)}

    def _room_tied(self, c: psycopg.Connection[Any]) -> bool:
        """Whether ``okai-insight secure --isolation on``'s room-tied policies are installed (cached): only then do
        accounts have owners and co-participants' profiles come from ``okai_private.get_actor_details``."""
        if self._policies is None:
            row = c.execute("SELECT to_regprocedure('okai_private.get_actor_details(uuid)') IS NOT NULL").fetchone()
            self._policies = bool(row and row[0])
        return self._policies

    _policies: bool | None = None

    def _do_get_actor_details(self, room_id: uuid.UUID) -> list[Actor]:
        # accounts rows are readable only by their subject and creator: the other participants' public profile
        # (never the email) comes from a SECURITY DEFINER function that answers only for rooms the user can access.
        def read(c: psycopg.Connection[Any], _: int) -> list[Actor] | None:
            if not self._room_tied(c):
                return None
            rows = c.execute(
                'SELECT "id", "name", "username", "details" FROM okai_private.get_actor_details(%s)', (room_id,)
            ).fetchall()
            return [Actor(r[0], r[1], r[2], r[3] or {}) for r in rows]

        actors = self._run(read)
        return super()._do_get_actor_details(room_id) if actors is None else actors

    def _do_create_account(self, account: Account) -> bool:
        # A user whose account someone else created first (an agent for the people it talks to) claims it: its
        # fields become the given ones and createdBy the user, so the creator keeps no rights over it.
        created = super()._do_create_account(account)
        if created or account.id != self.user_id:
            return created

        def claim(c: psycopg.Connection[Any], _: int) -> bool:
            if not self._room_tied(c):
                return False
            return (
                c.execute(
                    'UPDATE accounts SET "name" = %s, "username" = %s, "email" = %s, "avatarUrl" = %s, '
                    '"details" = %s, "createdBy" = %s WHERE "id" = %s AND "createdBy" IS DISTINCT FROM %s',
                    (account.name, account.username, account.email, account.avatar_url,
                     Jsonb(account.details or {}), self.user_id, self.user_id, self.user_id),
                ).rowcount
                > 0
            )  # fmt: skip

        return self._run(claim)
