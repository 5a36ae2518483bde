"""The in-memory adapter (``memory://`` and ``memory://name``): the spec's SQL.js role, for tests, notebooks and
quick starts. Nothing touches the disk.

It *is* the SQLite adapter (:class:`~okai_insight.adapters.sqlite.SqliteAdapter`) on SQLite's ``memdb`` VFS, so
the contract, the semantics and the sqlite-vec search are the same code. ``memdb`` (unlike ``:memory:``) lets
every thread have its own connection to one database with ordinary locking, so the adapter is thread-safe in the
same way. The journal is kept in memory (WAL needs shared memory files, which ``memdb`` has none of).

* ``memory://`` gives a new, private database on every ``connect()``.
* ``memory://name`` is shared by every adapter of this process that opens the same name (with the same driver),
  and lives as long as at least one of them is open, like SQLite's own named in-memory databases.

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect("memory://", dimension=3)      # doctest: +SKIP
    >>> db.create_room()                                           # doctest: +SKIP
    UUID('...')
"""

from __future__ import annotations

import re
import urllib.parse
import uuid

from okai_insight.adapters._sqlite_driver import Connection
from okai_insight.adapters.sqlite import SqliteAdapter
from okai_insight.errors import ConfigurationError
from okai_insight.settings import Settings

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")


def parse_memory_url(url: str) -> tuple[str | None, str | None]:
    """The database name (None: a private one) and the optional driver of a ``memory://`` URL.

    Example:
        >>> parse_memory_url("memory://"), parse_memory_url("memory://notebook?driver=apsw")
        ((None, None), ('notebook', 'apsw'))
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "memory" or not url.startswith("memory://"):
        raise ConfigurationError(f"an in-memory URL looks like memory:// or memory://name, got {url!r}")
    name = (parsed.netloc + parsed.path).strip("/") or None
    if name is not None and not _NAME.match(name):
        raise ConfigurationError(f"an in-memory database name uses letters, digits, '_', '.' and '-', got {name!r}")
    query = urllib.parse.parse_qs(parsed.query)
    unknown = set(query) - {"driver"}
    if unknown:
        raise ConfigurationError(f"unknown memory URL parameter(s): {', '.join(sorted(unknown))} (only driver=)")
    return name, query.get("driver", [None])[-1]


class MemoryAdapter(SqliteAdapter):
    """The SQLite adapter on an in-memory database; see the module docstring.

    Example:
        >>> with MemoryAdapter("memory://", dimension=3) as db:   # doctest: +SKIP
        ...     db.init()
        ...     db.create_room()
    """

    def __init__(
        self, url: str = "memory://", *, settings: Settings | None = None, dimension: int | None = None
    ) -> None:
        super().__init__(url, settings=settings, dimension=dimension)
        name, self._driver_choice = parse_memory_url(url)
        self.name = name
        # A private database gets a name nobody else can guess; a named one is shared inside the process.
        self._db_name = f"okai-memory-{name}" if name else f"okai-private-{uuid.uuid4().hex}"
        self._keeper: Connection | None = None

    def _target(self) -> tuple[str, str, str | None]:
        target = f"file:/{urllib.parse.quote(self._db_name)}?vfs=memdb"
        return target, f"memdb:{self._db_name}", self._driver_choice

    def _journal_mode(self) -> str:
        return "MEMORY"

    def init(self) -> None:
        if self._pool is not None:
            return
        super().init()
        # memdb frees a database when its last connection closes: hold one for the adapter's lifetime, whatever
        # happens to the threads that opened the others.
        self._keeper = self.pool.open()

    def close(self) -> None:
        super().close()
        if self._keeper is not None:
            self._keeper.close()
            self._keeper = None


__all__ = ["MemoryAdapter", "parse_memory_url"]
