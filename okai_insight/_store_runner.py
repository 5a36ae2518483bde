"""A runner for a SQLite or in-memory store: what the embedding checks and the SQLite health check read through.

PostgreSQL checks read through :class:`~okai_insight.runner.Runner` and SQL files; a SQLite file or a ``memory://``
adapter has no PostgreSQL to send them to. :class:`StoreRunner` stands in its place for the checks that also work on
these stores (the embedding checks, :mod:`okai_insight.diagnostics.sqlite_health`): it reads the store through
:meth:`StoreRunner.read` (a read-only connection for a ``sqlite:///`` URL, opened ``mode=ro`` so nothing is ever
written, not even a migration; the adapter's own read transaction for an adapter), and refuses every PostgreSQL
step with :class:`~okai_insight.errors.UnsupportedDatabase`, so a step not ported says so in one line.

Example:
    >>> store_runner("postgresql://me@localhost/agents") is None
    True
    >>> with store_runner("sqlite:///agent.db") as run:                   # doctest: +SKIP
    ...     run.read(lambda c: c.query("SELECT count(*) FROM memories"))
    [(1200,)]
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

from okai_insight.errors import InvalidInput, UnsupportedDatabase
from okai_insight.runner import Runner

__all__ = ["StoreRunner", "is_store", "store_runner"]

T = TypeVar("T")


def _scheme(target: Any) -> str | None:
    if isinstance(target, str) and ":" in target:
        return target.split(":", 1)[0].lower()
    return None


def is_store(target: Any) -> bool:
    """Whether ``target`` is a SQLite / in-memory store (a ``sqlite:///`` or ``memory://`` URL, or their adapter).

    Example:
        >>> is_store("sqlite:///x.db"), is_store("memory://"), is_store("postgresql://h/db")
        (True, True, False)
    """
    if isinstance(target, StoreRunner):
        return True
    if isinstance(target, str):
        return _scheme(target) in ("sqlite", "memory")
    from okai_insight.adapters.sqlite import SqliteAdapter

    return isinstance(target, SqliteAdapter)


class StoreRunner(Runner):
    """A SQLite / in-memory store seen by a check; see the module docstring.

    Example:
        >>> StoreRunner.__mro__[1].__name__
        'Runner'
    """

    def __init__(self, target: Any) -> None:
        super().__init__(None, settings=getattr(target, "settings", None))
        self.target = target
        self.url = str(getattr(target, "url", target))
        self._ro: Any = None

    def __enter__(self) -> StoreRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """A store has no PostgreSQL connection: a PostgreSQL-only step of a check says so in one line."""
        raise UnsupportedDatabase(self.url, "this step of the check")

    def close(self) -> None:
        ro, self._ro = self._ro, None
        if ro is not None:
            ro.close()

    @property
    def kind(self) -> str:
        """``"SQLite"`` or ``"in-memory"`` (for messages)."""
        return "in-memory" if self.url.startswith("memory:") else "SQLite"

    def read(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(connection)`` in one read transaction of the store (never a write)."""
        if isinstance(self.target, str):
            if self._ro is None:
                self._ro = _open_read_only(self.target)
            conn = self._ro
            conn.run("BEGIN")
            try:
                return fn(conn)
            finally:
                conn.rollback()
        return self.target.pool.transaction(fn)  # type: ignore[no-any-return]


def _open_read_only(url: str) -> Any:
    """A ``mode=ro`` connection with sqlite-vec loaded: it cannot create, migrate or write the file."""
    from okai_insight.adapters._sqlite_driver import open_connection
    from okai_insight.adapters.sqlite import parse_sqlite_url

    if _scheme(url) == "memory":
        # A memory:// URL names a database inside another process (or a new, empty one): nothing to read.
        raise UnsupportedDatabase(url, "a check given a URL (pass the connected memory:// adapter instead)")
    path, _driver = parse_sqlite_url(url)
    if not os.path.isfile(path):
        raise InvalidInput(f"no SQLite file at {path} (the check opens it read-only and never creates it)")
    target = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    return open_connection(target)


def store_runner(target: Any) -> StoreRunner | None:
    """A :class:`StoreRunner` for a store target, None for anything else (PostgreSQL goes through the Runner).

    Example:
        >>> store_runner("postgresql://me@localhost/agents") is None
        True
    """
    if isinstance(target, StoreRunner):
        return target
    return StoreRunner(target) if is_store(target) else None
