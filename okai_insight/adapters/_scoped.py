"""The PostgreSQL adapter plus a per-transaction hook: every transaction first acts as one role with a few
transaction-local settings, so one pool serves many users and the server's row level security decides what each
statement sees.

Two adapters are this and nothing more: :class:`~okai_insight.adapters.isolated.IsolatedPostgresAdapter` (plain
PostgreSQL, the user in ``okai.user_id``) and the Supabase direct adapter (the user in ``request.jwt.claims``, as
PostgREST sets it). Everything else (pool, retries, HNSW search, keyset pages) is
:class:`~okai_insight.adapters.postgres.PostgresAdapter`'s, which calls :meth:`ScopedPostgresAdapter._begin` at
the start of every transaction it opens and, because the hook is overridden, opens one around every call.
"""

from __future__ import annotations

import functools
from typing import Any

import psycopg

from okai_insight.adapters.postgres import PostgresAdapter


@functools.cache
def _set_local(count: int) -> str:
    # set_config(name, value, is_local => true) is SET LOCAL with the name as a parameter: nothing is pasted.
    return "SELECT " + ", ".join(["set_config(%s, %s, true)"] * count)


class ScopedPostgresAdapter(PostgresAdapter):
    """A :class:`PostgresAdapter` whose every transaction starts with ``SET LOCAL ROLE <role>`` and the settings
    :meth:`_scope` returns (one round trip); they end with the transaction, so nothing leaks to the pool's next
    user. A subclass sets ``role`` and returns its settings.

    Example:
        >>> class AsAuditor(ScopedPostgresAdapter):
        ...     role = "auditor"
        ...     def _scope(self): return {"app.purpose": "audit"}
        >>> AsAuditor("postgresql://u@/agents")._transaction_settings()
        ['role', 'auditor', 'app.purpose', 'audit']
    """

    #: The role every transaction acts as.
    role: str
    #: PostgreSQL refuses COPY FROM into a table with row level security: batches go through a temporary table.
    _copy_into_table = False

    def _scope(self) -> dict[str, str]:
        """The transaction-local settings besides the role (a subclass's user, claims, ...)."""
        return {}

    def _transaction_settings(self) -> list[str]:
        settings = {"role": self.role, **self._scope()}
        return [part for pair in settings.items() for part in pair]

    def _begin(self, conn: psycopg.Connection[Any]) -> None:
        params = self._transaction_settings()
        conn.execute(_set_local(len(params) // 2), params)
