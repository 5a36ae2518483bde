"""Where history snapshots live: a SQLite file per database under the user data directory (default), or a schema
of the user's own database when they ask for one (``into_schema``). Neither ever holds a URL or a password: a
database is known by :func:`database_key`, a hash of its cluster's system identifier and its name.

Example:
    >>> from okai_insight.history._store import SQLiteStore, database_key
    >>> key = database_key("7350000000000000001", "okai")
    >>> with SQLiteStore.open_dir(tmp_dir, key) as store:             # doctest: +SKIP
    ...     store.snapshots()
    []
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from okai_insight.errors import InvalidInput

#: The tables of a store, with their columns in order (the snapshot id first in each but ``snapshots``).
COLUMNS: dict[str, tuple[str, ...]] = {
    "snapshots": ("id", "taken_at", "database", "server_version", "stats_reset"),
    "statements": ("snapshot_id", "queryid", "calls", "total_ms", "rows", "query"),
    "relations": ("snapshot_id", "schema", "name", "kind", "table", "bytes", "live_rows"),
    "vector_indexes": ("snapshot_id", "schema", "index", "table", "method", "idx_scan", "idx_tup_read", "bytes"),
}
_TYPES = {
    "id": "INTEGER PRIMARY KEY",
    "snapshot_id": "INTEGER NOT NULL",
    "taken_at": "TEXT NOT NULL",
    "calls": "BIGINT",
    "rows": "BIGINT",
    "bytes": "BIGINT",
    "live_rows": "BIGINT",
    "idx_scan": "BIGINT",
    "idx_tup_read": "BIGINT",
    "total_ms": "DOUBLE PRECISION",
}


def database_key(system_identifier: str, database: str) -> str:
    """The name history uses for one database: a hash of its cluster's system identifier and its name (no host,
    user or password, so the store file's name reveals nothing and survives a password change).

    Example:
        >>> database_key("7350000000000000001", "okai")
        'bde19f41419a4808'
        >>> database_key("7350000000000000001", "okai") != database_key("7350000000000000001", "other")
        True
    """
    return hashlib.sha256(f"{system_identifier}\x00{database}".encode()).hexdigest()[:16]


def default_dir() -> Path:
    """Where history files go: ``$OKAI_DATA_DIR/history`` or the platform's user data dir's ``history``.

    Example:
        >>> default_dir().name
        'history'
    """
    root = os.environ.get("OKAI_DATA_DIR")
    if root:
        return Path(root).expanduser().resolve() / "history"
    import platformdirs

    return Path(platformdirs.user_data_dir("okai-insight", appauthor=False)) / "history"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    """A history store over a DB-API connection (SQLite's or psycopg's); subclasses say where the tables are."""

    placeholder = "?"

    def __init__(self, conn: Any, prefix: str = "") -> None:
        self.conn = conn
        self.prefix = prefix  # "" (SQLite) or '"schema".' (PostgreSQL)

    def _table(self, name: str) -> str:
        return self.prefix + _q(name)

    def create(self) -> None:
        """Create the tables if missing."""
        for table, cols in COLUMNS.items():
            body = ", ".join(f"{_q(c)} {_TYPES.get(c, 'TEXT')}" for c in cols)
            self._exec(f"CREATE TABLE IF NOT EXISTS {self._table(table)} ({body})")

    def _exec(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(statement.replace("?", self.placeholder), tuple(params))

    def add(self, snapshot: Mapping[str, Any], parts: Mapping[str, Sequence[Mapping[str, Any]]]) -> int:
        """Store one snapshot (its row and its statements / relations / vector_indexes rows); its new id."""
        cols = COLUMNS["snapshots"][1:]
        marks = ", ".join("?" for _ in cols)
        names = ", ".join(_q(c) for c in cols)
        cur = self._exec(
            f"INSERT INTO {self._table('snapshots')} ({names}) VALUES ({marks}) RETURNING id",
            [snapshot.get(c) for c in cols],
        )
        snapshot_id = int(cur.fetchone()[0])
        for table, rows in parts.items():
            cols = COLUMNS[table]
            statement = (
                f"INSERT INTO {self._table(table)} ({', '.join(_q(c) for c in cols)}) "
                f"VALUES ({', '.join('?' for _ in cols)})"
            )
            for r in rows:
                self._exec(statement, [snapshot_id if c == "snapshot_id" else r.get(c) for c in cols])
        self.conn.commit()
        return snapshot_id

    def rows(self, table: str) -> list[dict[str, Any]]:
        """Every row of one table, oldest snapshot first.

        Example:
            >>> store.rows("snapshots")[-1]["taken_at"]              # doctest: +SKIP
            '2025-06-01T10:00:00+00:00'
        """
        if table not in COLUMNS:
            raise InvalidInput(f"no history table {table!r}; one of {sorted(COLUMNS)}")
        cols = COLUMNS[table]
        order = "id" if table == "snapshots" else "snapshot_id"
        cur = self._exec(f"SELECT {', '.join(_q(c) for c in cols)} FROM {self._table(table)} ORDER BY {_q(order)}")
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def close(self) -> None:
        self.conn.close()


class SQLiteStore(Store):
    """The default store: ``<dir>/<database key>.sqlite3``, outside the user's database."""

    @classmethod
    @contextmanager
    def open_dir(cls, directory: str | Path, key: str) -> Iterator[SQLiteStore]:
        """Open (creating it if needed) the store of one database in ``directory``.

        Example:
            >>> with SQLiteStore.open_dir(tmp_dir, "bde19f41419a4808") as s:   # doctest: +SKIP
            ...     s.path.name
            'bde19f41419a4808.sqlite3'
        """
        path = Path(directory).expanduser()
        path.mkdir(parents=True, exist_ok=True)
        store = cls(sqlite3.connect(path / f"{key}.sqlite3", timeout=10))
        store.path = path / f"{key}.sqlite3"
        try:
            store.create()
            yield store
        finally:
            store.close()

    path: Path


class SchemaStore(Store):
    """The store in a schema of the user's own database, only on request (``into_schema``): the one place
    okai-insight's history writes to a user's database, in a schema it names and nothing else."""

    placeholder = "%s"

    @classmethod
    @contextmanager
    def open_schema(cls, url: str, schema: str, connect_timeout_s: float) -> Iterator[SchemaStore]:
        """Open the store in ``schema`` of the database at ``url`` (created if missing)."""
        import psycopg

        from okai_insight.errors import translate_pg_errors
        from okai_insight.runner import APPLICATION_NAME

        if not schema or len(schema) > 63 or schema.startswith("pg_") or "\x00" in schema:
            raise InvalidInput(f"not a schema name for history: {schema!r}")
        with translate_pg_errors():
            conn = psycopg.connect(
                url, connect_timeout=max(1, int(connect_timeout_s)), application_name=APPLICATION_NAME
            )
        store = cls(conn, _q(schema) + ".")
        try:
            with translate_pg_errors():
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
                for table, cols in COLUMNS.items():
                    body = ", ".join(
                        f"{_q(c)} {'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY' if c == 'id' else _TYPES.get(c, 'TEXT')}"
                        for c in cols
                    )
                    conn.execute(f"CREATE TABLE IF NOT EXISTS {store._table(table)} ({body})")  # type: ignore[call-overload]
                conn.commit()
            yield store
        finally:
            store.close()
