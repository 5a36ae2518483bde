"""The one check that a database URL is PostgreSQL, for what only PostgreSQL can answer (diagnostics, ops).

A URL with a scheme other than ``postgresql://`` / ``postgres://`` raises
:class:`~okai_insight.errors.UnsupportedDatabase` naming the scheme and who needed PostgreSQL, before libpq sees
it (libpq would read ``sqlite:///x.db`` as a malformed keyword string: ``missing "=" after ...``). A keyword
connection string (``host=/tmp dbname=agents``) has no scheme and passes.

Example:
    >>> require_postgres("postgresql://me@localhost/agents")
    >>> require_postgres("host=/tmp dbname=agents")
    >>> require_postgres("mysql://u@h/db", "doctor")
    Traceback (most recent call last):
    okai_insight.errors.UnsupportedDatabase: doctor needs PostgreSQL; mysql://u@h/db: okai-insight does not speak mysql:// ...
"""

from __future__ import annotations

import re
from typing import Any

from okai_insight.errors import UnsupportedDatabase

__all__ = ["require_postgres", "require_postgres_target"]

#: A URL's scheme: letters first, then letters, digits, ``+ - .``, then a colon (RFC 3986). A keyword DSN's
#: ``=`` comes before any colon, so it never matches.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_POSTGRES = frozenset({"postgresql", "postgres"})


def require_postgres(url: str, what: str = "this") -> None:
    """Raise :class:`~okai_insight.errors.UnsupportedDatabase` unless ``url`` is a PostgreSQL URL or keyword DSN."""
    match = _SCHEME.match(url.strip())
    if match is not None and match.group(1).lower() not in _POSTGRES:
        raise UnsupportedDatabase(url.strip(), what)


def require_postgres_target(target: Any, what: str = "this") -> None:
    """The same check for a URL or an adapter: a PostgreSQL adapter (Supabase's direct transport, isolated,
    replica-routed: any :class:`~okai_insight.adapters.postgres.PostgresAdapter`) passes, another adapter is
    refused by its ``url``; anything else (a psycopg connection) passes.

    Example:
        >>> from okai_insight.adapters.memory import MemoryAdapter
        >>> require_postgres_target(MemoryAdapter("memory://notes"), "metrics")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        okai_insight.errors.UnsupportedDatabase: metrics needs PostgreSQL; memory://notes is an in-memory store, ...
    """
    if isinstance(target, str):
        require_postgres(target, what)
        return
    from okai_insight.adapters.base import DatabaseAdapter
    from okai_insight.adapters.postgres import PostgresAdapter

    if isinstance(target, DatabaseAdapter) and not isinstance(target, PostgresAdapter):
        url = getattr(target, "url", None)
        raise UnsupportedDatabase(url if isinstance(url, str) else f"{type(target).__name__}:", what)
