"""History (PgHero's historical query stats and space stats): :func:`snapshot` records a database's statement
counters (pg_stat_statements), table and index sizes and vector-index usage into a local store, and
:func:`history` reads them back as trends: space growth, top statements over time and what changed since the
last snapshot, with a plot.

The store is a SQLite file under the user data directory (``$OKAI_DATA_DIR/history`` or the platform's), one per
database, named by a hash of the cluster's system identifier and the database's name: never the URL or a
password, and never inside the user's database unless asked (``into_schema="okai_history"``). Reading the
database goes through the read-only runner, so a snapshot changes nothing there (its statements are tagged and
left out of the statistics it records).

Example:
    >>> from okai_insight.history import history, snapshot
    >>> snapshot(url).statements                                      # doctest: +SKIP
    42
    >>> history(url).since_last()[:1]                                 # doctest: +SKIP
    [{'kind': 'statement', 'name': 'SELECT ...', 'calls': 120, 'total_ms': 35.2}]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from okai_insight._redact import redact
from okai_insight.history._store import COLUMNS, SchemaStore, SQLiteStore, Store, database_key, default_dir
from okai_insight.history._trends import History
from okai_insight.runner import CheckUnavailable, Runner, Target, using

__all__ = ["History", "Snapshot", "database_key", "default_dir", "history", "snapshot"]


@dataclass(frozen=True)
class Snapshot:
    """One recorded snapshot: its id in the store, when, for which database (by key), how much it holds.

    Example:
        >>> Snapshot(1, "2025-06-01T10:00:00+00:00", "bde19f41419a4808", "okai", 3, 5, 1).statements
        3
    """

    id: int
    taken_at: str
    key: str
    database: str
    statements: int
    relations: int
    vector_indexes: int
    where: str = field(default="", compare=False)


#: A password literal in a statement's text: pg_stat_statements keeps utility statements' constants, so
#: ``CREATE ROLE u PASSWORD 'secret'`` is recorded verbatim (also ENCRYPTED PASSWORD, and dollar quoting).
_SQL_PASSWORD = re.compile(r"(\bpassword\s+)('(?:[^']|'')*'|\$(\w*)\$.*?\$\3\$)", re.IGNORECASE | re.DOTALL)


def _without_secrets(query: str) -> str:
    """A statement's text with password literals and connection-string secrets masked before it is stored.

    Example:
        >>> _without_secrets("CREATE ROLE app LOGIN PASSWORD 'it''s s3cret'")
        "CREATE ROLE app LOGIN PASSWORD '***'"
        >>> _without_secrets("SELECT dblink('host=db password=pw', 'SELECT 1')")
        "SELECT dblink('host=db password=***', 'SELECT 1')"
    """
    return redact(_SQL_PASSWORD.sub(lambda m: m.group(1) + "'***'", query))


def _identity(run: Runner) -> tuple[str, str, str]:
    """(key, database name, server version). The system identifier needs pg_control_system(); a role that may
    not call it gets a key from the server's address and the database's oid instead."""
    try:
        row = run.query("history", "database_identity").rows[0]
    except CheckUnavailable:
        row = None
    if row is not None and row["system_identifier"]:
        return database_key(str(row["system_identifier"]), row["database"]), row["database"], row["server_version"]
    info = run.connection.info
    where = f"{info.host}:{info.port}/{run.features.database}"
    return database_key(where, run.features.database), run.features.database, run.features.server_version


@contextmanager
def _store(run: Runner, key: str, store_dir: str | Path | None, into_schema: str | None) -> Iterator[Store]:
    if into_schema:
        with SchemaStore.open_schema(run._conninfo(), into_schema, run.settings.connect_timeout_s) as s:
            yield s
    else:
        with SQLiteStore.open_dir(store_dir or default_dir(), key) as s:
            yield s


def snapshot(
    db: Target = None, *, store_dir: str | Path | None = None, into_schema: str | None = None, limit: int = 500
) -> Snapshot:
    """Record one snapshot of the database's statement counters (the ``limit`` statements with most time),
    table and index sizes and vector-index usage; ``store_dir`` overrides the default directory, ``into_schema``
    stores it in that schema of the database itself instead (created if missing: the one write, on request).

    Example:
        >>> snapshot(url, store_dir=tmp_dir).relations                  # doctest: +SKIP
        12
    """
    from okai_insight.errors import InvalidInput

    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive integer, got {limit!r}")
    with using(db) as run:
        key, database, version = _identity(run)
        statements: list[dict[str, Any]] = []
        stats_reset = None
        try:
            run.require_extension("pg_stat_statements", why="statement history", preload=True)
            statements = [
                {**r, "query": _without_secrets(str(r["query"]))}
                for r in run.query("history", "statement_totals", {"limit": limit}).rows
            ]
            stats_reset = run.query("statements", "statements_info").rows[0]["stats_reset"]
        except CheckUnavailable:
            pass  # sizes and vector-index usage are still worth keeping
        relations = run.query("history", "relation_sizes").rows
        vector = run.query("history", "vector_index_usage").rows if run.features.has_extension("vector") else []
        taken_at = datetime.now(UTC).isoformat(timespec="seconds")
        row = {
            "taken_at": taken_at,
            "database": database,
            "server_version": version,
            "stats_reset": str(stats_reset) if stats_reset is not None else None,
        }
        with _store(run, key, store_dir, into_schema) as store:
            sid = store.add(row, {"statements": statements, "relations": relations, "vector_indexes": vector})
            where = str(getattr(store, "path", into_schema))
    return Snapshot(sid, taken_at, key, database, len(statements), len(relations), len(vector), where)


def history(db: Target = None, *, store_dir: str | Path | None = None, into_schema: str | None = None) -> History:
    """The snapshots recorded for this database, as trends (:class:`History`: ``space()``, ``top_statements()``,
    ``since_last()``, ``plot(ax=)``). Reads the store only, plus the database's identity; with no store yet it
    returns an empty :class:`History` and creates nothing.

    Example:
        >>> history(url, store_dir=tmp_dir).since_last()               # doctest: +SKIP
        []
    """
    with using(db) as run:
        key, database, _ = _identity(run)
        if not into_schema and not (Path(store_dir or default_dir()).expanduser() / f"{key}.sqlite3").exists():
            return History(key, database, {})  # reading never creates a store: no snapshot taken yet
        with _store(run, key, store_dir, into_schema) as store:
            tables = {t: store.rows(t) for t in COLUMNS}
    return History(key, database, tables)
