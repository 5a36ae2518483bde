"""Copy a whole agent database between adapters: PostgreSQL (okai-insight or ElizaOS schema), Supabase (direct
connection, as its role and user: row level security decides what is read and written), SQLite, in-memory.

Every table is copied (accounts, rooms, memories with their embeddings, goals, participants, relationships,
logs, cache, knowledge) with ids, timestamps and flags kept, in batches (keyset pagination on the source; one
transaction for the whole target, see below) behind a tqdm progress bar. The copy

* refuses a target whose embedding dimension differs from the source's
  (:class:`~okai_insight.errors.DimensionMismatch`) and a target that already holds rows, before writing anything;
* verifies at the end that every table has the same row count on both sides and that an order-independent
  SHA-256 checksum over (id, embedding values) of memories and knowledge matches, raising
  :class:`~okai_insight.errors.SchemaError` if not. The checksum hashes float32 values with negative zero made
  positive, the same on both sides: SQLite stores ``-0.0`` as ``0.0`` (so that zero vectors look zero), and the
  values are equal;
* publishes the target only once it is verified, and leaves nothing behind otherwise:

  - a **new SQLite file** is written as a staging file beside it (``.<name>.okai-copy-<random>``, same directory,
    so same file system) and renamed into place after verification; the name is taken with a hard link, which
    fails if a file of that name appeared meanwhile. A failed or interrupted copy leaves no file of the target's
    name (an interrupted one may leave the dot-file staging copy, never mistaken for the target);
  - an **existing (empty) SQLite file**, a ``memory://`` database and a **PostgreSQL** (or Supabase direct)
    target are written and verified in **one transaction** on one connection, committed only once verified: on
    any failure, or if the process dies, the server (or SQLite's journal) rolls it back and the target is as
    empty as before, so a rerun is accepted. While the copy runs, readers of the target see it empty; on SQLite
    other writers wait for the busy timeout and fail (one writer at a time), on PostgreSQL only a write to a row
    the copy holds waits.

  Source rows are read in batches of their own transactions: a source written to during the copy may fail
  verification (the checksum re-reads it), which leaves the target untouched, as above.

Typical uses: graduating an agent from SQLite to PostgreSQL, or importing an ElizaOS database.

Example:
    >>> from okai_insight.copy import copy_database
    >>> report = copy_database("sqlite:///agent.db", "postgresql://localhost/agents")   # doctest: +SKIP
    >>> report.rows["memories"], report.checksums["memories"][:8]                        # doctest: +SKIP
    (1200, '3f9a0c1e')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from okai_insight._redact import redact
from okai_insight.errors import ConfigurationError, DimensionMismatch, FeatureNotAvailable, InvalidInput, SchemaError

#: Where the copy's time goes: each phase ("read", "write", "verify counts", "verify source checksum", "verify
#: target checksum", "index build") runs inside
#: ``_phase(name)``, which enters ``PHASE_TIMER(name)`` when one is set: bench/bulk.py sets a timer of wall and
#: CPU seconds (client and server) there. None (nothing timed) otherwise.
PHASE_TIMER: Callable[[str], contextlib.AbstractContextManager[None]] | None = None


def _phase(name: str) -> contextlib.AbstractContextManager[None]:
    return contextlib.nullcontext() if PHASE_TIMER is None else PHASE_TIMER(name)


#: Column kinds: how a value travels between PostgreSQL and SQLite.
UUID, TS, TS_NAIVE, TEXT, JSON, VEC, BOOL, INT = "uuid", "ts", "ts_naive", "text", "json", "vec", "bool", "int"


@dataclass(frozen=True)
class Table:
    """One table to copy: its columns (okai-insight names) with their kinds, and its key for keyset paging."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...] = ("id",)

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]


#: In dependency order: a row's parents are copied before it.
TABLES = (
    Table(
        "accounts",
        (
            ("id", UUID),
            ("createdAt", TS),
            ("name", TEXT),
            ("username", TEXT),
            ("email", TEXT),
            ("avatarUrl", TEXT),
            ("details", JSON),
        ),
    ),
    Table("rooms", (("id", UUID), ("createdAt", TS))),
    Table(
        "memories",
        (
            ("id", UUID),
            ("type", TEXT),
            ("createdAt", TS),
            ("content", JSON),
            ("embedding", VEC),
            ("userId", UUID),
            ("agentId", UUID),
            ("roomId", UUID),
            ("isUnique", BOOL),
        ),
    ),
    Table(
        "goals",
        (
            ("id", UUID),
            ("createdAt", TS),
            ("userId", UUID),
            ("name", TEXT),
            ("status", TEXT),
            ("description", TEXT),
            ("roomId", UUID),
            ("objectives", JSON),
        ),
    ),
    Table(
        "participants",
        (
            ("id", UUID),
            ("userId", UUID),
            ("roomId", UUID),
            ("joinedAt", TS),
            ("userState", TEXT),
            ("last_message_read", TEXT),
        ),
    ),
    Table(
        "relationships",
        (("id", UUID), ("createdAt", TS), ("userA", UUID), ("userB", UUID), ("status", TEXT), ("userId", UUID)),
    ),
    Table(
        "logs", (("id", UUID), ("createdAt", TS), ("userId", UUID), ("body", JSON), ("type", TEXT), ("roomId", UUID))
    ),
    Table(
        "cache",
        (("key", TEXT), ("agentId", TEXT), ("value", JSON), ("createdAt", TS_NAIVE), ("expiresAt", TS_NAIVE)),
        key=("key", "agentId"),
    ),
    Table(
        "knowledge",
        (
            ("id", UUID),
            ("agentId", UUID),
            ("content", JSON),
            ("embedding", VEC),
            ("createdAt", TS),
            ("isMain", BOOL),
            ("originalId", UUID),
            ("chunkIndex", INT),
            ("isShared", BOOL),
        ),
    ),
)
TABLES_BY_NAME = {t.name: t for t in TABLES}


@dataclass
class CopyReport:
    """What was copied: rows per table and the embedding checksums that matched on both sides."""

    source: str
    target: str
    dimension: int
    rows: dict[str, int] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    #: ElizaOS 1.x sources: rows of the tables okai-insight's schema has no place for, and what else was dropped.
    not_copied: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_rows(self) -> list[dict[str, Any]]:
        """One dict a table, for the CLI's formatter.

        Example:
            >>> CopyReport("a", "b", 3, {"rooms": 2}).as_rows()
            [{'table': 'rooms', 'rows': 2, 'embedding_checksum': ''}]
        """
        return [{"table": t, "rows": n, "embedding_checksum": self.checksums.get(t, "")} for t, n in self.rows.items()]


# -- endpoints: the same row API over PostgreSQL and SQLite -------------------------------------------------------
class _Endpoint:
    """Raw table access beneath an adapter. Rows are tuples in :class:`Table` column order, with neutral values:
    UUID, aware datetime (naive UTC for ``TS_NAIVE``), parsed JSON, float32 array, bool, int, str or None."""

    half_precision = False

    def staged(self) -> contextlib.AbstractContextManager[None]:
        """Within this block, every write and read of this endpoint runs in one transaction on one connection,
        committed when the block ends normally and rolled back when it raises."""
        raise NotImplementedError

    def has_table(self, table: Table) -> bool:
        raise NotImplementedError

    def count(self, table: Table) -> int:
        raise NotImplementedError

    def batches(self, table: Table, size: int, where: str = "") -> Iterator[list[tuple[Any, ...]]]:
        raise NotImplementedError

    def write(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def embeddings(self, table: Table, size: int) -> Iterator[tuple[uuid.UUID, np.ndarray | None]]:
        id_i, emb_i = table.names.index("id"), table.names.index("embedding")
        for batch in self.batches(table, size):
            for row in batch:
                yield row[id_i], row[emb_i]


def _id_and_embedding(table: Table) -> Table:
    """The table read for its checksum only: decoding every row's content JSON again cost a third of the
    verification's time (cProfile of a 10k-memory copy)."""
    return Table(table.name, (("id", UUID), ("embedding", VEC)), table.key)


class _SqliteEndpoint(_Endpoint):
    def __init__(self, adapter: Any) -> None:
        from okai_insight.adapters import _sqlite_functions as f

        self.db, self.f = adapter, f
        self._conn: Any = None  # the staging transaction's connection, inside staged()

    @contextlib.contextmanager
    def staged(self) -> Iterator[None]:
        from okai_insight.adapters._sqlite_pool import translate

        pool = self.db.pool
        driver = pool.driver
        # A connection of its own, outside the adapter's per-thread set and its process write lock: other writers
        # of this file wait for the busy timeout and get a typed error instead of queueing behind the whole copy.
        conn = pool.open()
        try:
            conn.run("BEGIN IMMEDIATE")
            self._conn = conn
            try:
                yield
                conn.run("COMMIT")  # deferred foreign keys are checked here; a failure rolls back below
            except BaseException as exc:
                conn.rollback()
                if isinstance(exc, driver.constraint_error):
                    raise InvalidInput(f"the target refused a row: {exc}") from exc
                if isinstance(exc, driver.error):
                    raise translate(driver, exc) from exc
                raise
        finally:
            self._conn = None
            conn.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._conn is not None:
            return list(self._conn.query(sql, params))
        return list(self.db.pool.transaction(lambda c: c.query(sql, params)))

    def has_table(self, table: Table) -> bool:
        return True

    def count(self, table: Table) -> int:
        return int(self._query(f'SELECT count(*) FROM "{table.name}"')[0][0])

    def _decode(self, kind: str, v: Any) -> Any:
        if v is None:
            return None
        if kind == UUID:
            return uuid.UUID(str(v))
        if kind in (TS, TS_NAIVE):
            t = self.f.to_datetime(v)
            return t.replace(tzinfo=None) if kind == TS_NAIVE and t is not None else t
        if kind == JSON:
            return json.loads(v)
        if kind == VEC:
            return self.f.from_blob(v)
        if kind == BOOL:
            return bool(v)
        return v

    def _encode(self, kind: str, v: Any) -> Any:
        if v is None:
            return None
        if kind == UUID:
            return str(v)
        if kind in (TS, TS_NAIVE):
            return self.f.ts_text(v)
        if kind == JSON:
            return json.dumps(v)
        if kind == VEC:
            return self.f.blob(np.asarray(v, dtype=np.float32))
        if kind == BOOL:
            return int(bool(v))
        return v

    def embeddings(self, table: Table, size: int) -> Iterator[tuple[uuid.UUID, np.ndarray | None]]:
        return super().embeddings(_id_and_embedding(table), size)

    def batches(self, table: Table, size: int, where: str = "") -> Iterator[list[tuple[Any, ...]]]:
        cols = ", ".join(f'"{c}"' for c in table.names)
        key = ", ".join(f'"{k}"' for k in table.key)
        marks = ", ".join("?" for _ in table.key)
        last: tuple[Any, ...] | None = None
        while True:
            cond = [where] if where else []
            if last is not None:
                cond.append(f"({key}) > ({marks})")
            sql = f'SELECT {cols} FROM "{table.name}"' + (f" WHERE {' AND '.join(cond)}" if cond else "")
            sql += f" ORDER BY {key} LIMIT {int(size)}"
            raw = self._query(sql, () if last is None else last)
            if not raw:
                return
            last = tuple(raw[-1][table.names.index(k)] for k in table.key)
            yield [tuple(self._decode(k, v) for (_, k), v in zip(table.columns, r, strict=True)) for r in raw]
            if len(raw) < size:
                return

    def write(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        cols = ", ".join(f'"{c}"' for c in table.names)
        sql = f'INSERT INTO "{table.name}" ({cols}) VALUES ({", ".join("?" for _ in table.names)})'
        encoded = [tuple(self._encode(k, v) for (_, k), v in zip(table.columns, r, strict=True)) for r in rows]
        if self._conn is not None:
            self._conn.run_many(sql, encoded)
        else:
            self.db.pool.transaction(lambda c: c.run_many(sql, encoded), write=True)


class _PostgresEndpoint(_Endpoint):
    def __init__(self, adapter: Any, *, progress: bool = False) -> None:
        self.db = adapter
        self.progress = progress
        self.profile = adapter.profile
        self.half_precision = self.profile.vector_type == "halfvec"
        self._conn: Any = None  # the staging transaction's connection, inside staged()
        self._types: dict[str, list[str] | None] = {}  # per table: its binary COPY's types, None for text

    @contextlib.contextmanager
    def staged(self) -> Iterator[None]:
        with self.db.pool.connection() as conn:
            # The target is empty (checked before): its memories vector index is dropped first and built once in
            # the copy's transaction, after the rows, instead of row by row (okai_insight.adapters._bulk_load).
            # A rolled-back copy rebuilds it as it was; a dead connection leaves it to the doctor and next load.
            loader = self.db.bulk_loader(conn, progress=self.progress) if self.db.bulk_load_possible else None
            if loader is not None:
                loader.drop_indexes()
            try:
                with conn.transaction():
                    self.db._begin(conn)  # e.g. Supabase: SET LOCAL role and claims, for the whole transaction
                    self._conn = conn
                    try:
                        yield
                        if loader is not None:
                            with _phase("index build"):
                                loader.build_indexes(self.count(TABLES_BY_NAME["memories"]))
                    finally:
                        self._conn = None
            except BaseException:
                if loader is not None:
                    loader.restore_indexes()
                raise

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """The staging transaction's connection, or a short transaction of its own."""
        if self._conn is not None:
            yield self._conn
            return
        with self.db.pool.connection() as conn, conn.transaction():
            self.db._begin(conn)  # e.g. Supabase: act as the adapter's role and user, under its policies
            yield conn

    def has_table(self, table: Table) -> bool:
        p = self.profile
        return bool({"logs": p.has_logs, "cache": p.has_cache, "knowledge": p.has_knowledge}.get(table.name, True))

    def _column(self, table: Table, name: str) -> str | None:
        """The real column for an okai-insight column name on this schema (None: this schema lacks it)."""
        p = self.profile
        if table.name == "memories" and name == "isUnique":
            return str(p.unique_column)
        if table.name == "participants":
            if name == "joinedAt":
                return p.participant_time_column  # type: ignore[no-any-return]
            if (name == "userState" and not p.has_user_state) or (
                name == "last_message_read" and not p.has_last_message_read
            ):
                return None
        return name

    def count(self, table: Table) -> int:
        from psycopg import sql

        with self._transaction() as conn:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table.name))).fetchone()
        return int(row[0]) if row else 0

    def embeddings(self, table: Table, size: int) -> Iterator[tuple[uuid.UUID, np.ndarray | None]]:
        return super().embeddings(_id_and_embedding(table), size)

    def _binary_types(self, conn: Any, table: Table, columns: list[tuple[str, str]]) -> list[str] | None:
        """The target's type names for a binary COPY of ``columns`` ((real name, kind) pairs), or None when one of
        them is not a type whose binary form the values are known to match (then the text COPY is used).

        Binary because the text form of an embedding is what the copy spent its time on: formatting 100k x 384
        floats as text took ten seconds a 10k-row table (cProfile), the binary form a fraction of a second.
        """
        if table.name in self._types:
            return self._types[table.name]
        rows = conn.execute(
            "SELECT a.attname, t.typname FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass(quote_ident(%s)) AND a.attnum > 0 AND NOT a.attisdropped",
            (table.name,),
        ).fetchall()
        found = {str(n): str(t) for n, t in rows}
        types = [found.get(real, "") for real, _ in columns]
        ok = all(t in _BINARY_TYPES.get(kind, ()) for t, (_, kind) in zip(types, columns, strict=True))
        self._types[table.name] = types if ok else None
        return self._types[table.name]

    def batches(self, table: Table, size: int, where: str = "") -> Iterator[list[tuple[Any, ...]]]:
        from psycopg import sql

        exprs = []
        for name in table.names:
            real = self._column(table, name)
            exprs.append(sql.Identifier(real) if real else sql.SQL("NULL"))
        key = sql.SQL(", ").join(sql.Identifier(k) for k in table.key)
        marks = sql.SQL(", ").join(sql.Placeholder() for _ in table.key)
        last: tuple[Any, ...] | None = None
        while True:
            cond: list[sql.Composable] = [sql.SQL(where)] if where else []  # type: ignore[arg-type]
            if last is not None:
                cond.append(sql.SQL("({}) > ({})").format(key, marks))
            query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(exprs), sql.Identifier(table.name))
            if cond:
                query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(cond)
            query += sql.SQL(" ORDER BY {} LIMIT {}").format(key, sql.Literal(int(size)))
            with self._transaction() as conn:
                raw = conn.execute(query, last or (), binary=True).fetchall()
            if not raw:
                return
            last = tuple(raw[-1][table.names.index(k)] for k in table.key)
            yield [tuple(_pg_decode(k, v) for (_, k), v in zip(table.columns, r, strict=True)) for r in raw]
            if len(raw) < size:
                return

    def write(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        from psycopg import sql
        from psycopg.types.json import Jsonb

        keep = [(i, self._column(table, n), k) for i, (n, k) in enumerate(table.columns)]
        keep = [(i, real, k) for i, real, k in keep if real is not None]
        half = self.half_precision

        def encode(kind: str, v: Any) -> Any:
            if v is None:
                return None
            if kind == JSON:
                return Jsonb(v)
            if kind == VEC:
                if half:
                    from pgvector import HalfVector

                    return HalfVector(np.asarray(v, dtype=np.float32))
                return np.asarray(v, dtype=np.float32)
            return v

        columns = sql.SQL(", ").join(sql.Identifier(str(real)) for _, real, _ in keep)
        values = [[encode(k, r[i]) for i, _, k in keep] for r in rows]
        with self._transaction() as conn:
            if self.db._copy_into_table:
                types = self._binary_types(conn, table, [(str(real), k) for _, real, k in keep])
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), columns)
                if types is not None:
                    statement += sql.SQL(" (FORMAT BINARY)")
                with conn.cursor().copy(statement) as cp:
                    if types is not None:
                        cp.set_types(types)
                    for v in values:
                        cp.write_row(v)
            else:  # PostgreSQL refuses COPY FROM into a table under row level security
                insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    sql.Identifier(table.name), columns, sql.SQL(", ").join(sql.Placeholder() for _ in keep)
                )
                conn.cursor().executemany(insert, values)


#: For each column kind, the PostgreSQL types whose binary COPY form the encoded value has (a naive datetime is
#: not a timestamptz in binary, where text COPY would read it in the session's time zone: such a column goes text).
_BINARY_TYPES: dict[str, tuple[str, ...]] = {
    UUID: ("uuid",),
    TEXT: ("text", "varchar"),
    TS: ("timestamptz",),
    TS_NAIVE: ("timestamp",),
    JSON: ("jsonb", "json"),
    VEC: ("vector", "halfvec"),
    BOOL: ("bool",),
    INT: ("int2", "int4", "int8"),
}


def _pg_decode(kind: str, v: Any) -> Any:
    if v is None:
        return None
    if kind == VEC:
        return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)
    if kind == TS_NAIVE and isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.UTC).replace(tzinfo=None)
    return v  # psycopg has parsed json/jsonb already: a str here is a JSON string, not JSON text


class _ElizaOS1Endpoint(_Endpoint):
    """An ElizaOS 1.x source, read through the read-only handle as okai-insight's tables
    (:func:`okai_insight.adapters.elizaos1.okai_view`): vectors from the one ``dim_N`` column being copied."""

    def __init__(self, reader: Any, dimension: int) -> None:
        self.reader, self.dimension = reader, dimension

    def staged(self) -> contextlib.AbstractContextManager[None]:
        raise SchemaError("an ElizaOS 1.x database is only ever a copy's source")

    def has_table(self, table: Table) -> bool:
        p = self.reader.profile
        return bool({"goals": False, "logs": p.has_logs, "cache": p.has_cache}.get(table.name, True))

    def count(self, table: Table) -> int:
        return int(self.reader.fetch_view(table.name, self.dimension, count=True)[0]["n"])

    def batches(self, table: Table, size: int, where: str = "") -> Iterator[list[tuple[Any, ...]]]:
        last: tuple[Any, ...] | None = None
        while True:
            raw = self.reader.fetch_view(table.name, self.dimension, where=where, after=last, key=table.key, limit=size)
            if not raw:
                return
            last = tuple(raw[-1][k] for k in table.key)
            yield [tuple(_pg_decode(k, r[n]) for n, k in table.columns) for r in raw]
            if len(raw) < size:
                return

    def write(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        raise SchemaError("an ElizaOS 1.x database is only ever a copy's source")


def _endpoint(adapter: Any, dimension: int = 0, *, progress: bool = False) -> _Endpoint:
    from okai_insight.adapters.elizaos1 import ElizaOS1Reader
    from okai_insight.adapters.postgres import PostgresAdapter
    from okai_insight.adapters.sqlite import SqliteAdapter

    if isinstance(adapter, ElizaOS1Reader):
        return _ElizaOS1Endpoint(adapter, dimension)
    if isinstance(adapter, SqliteAdapter):
        return _SqliteEndpoint(adapter)
    if isinstance(adapter, PostgresAdapter):
        return _PostgresEndpoint(adapter, progress=progress)
    raise ConfigurationError(
        f"copy supports postgresql://, supabase+postgresql://, sqlite:// and memory:// databases, not "
        f"{type(adapter).__name__} (a Supabase project copies over its direct connection, not over REST)"
    )


# -- checksum and the copy itself -----------------------------------------------------------------------------
def embedding_checksum(pairs: Iterator[tuple[uuid.UUID, Any]], *, half: bool = False) -> str:
    """An order-independent SHA-256 checksum of (id, embedding) pairs: the sum of one digest a row, over the id's
    bytes and the embedding's float32 values (little-endian) with ``-0.0`` made ``0.0``.

    It compares values, not storage: SQLite stores negative zero as zero, and ``-0.0 == 0.0``. ``half`` rounds
    embeddings to float16 first, for comparing with a halfvec column.

    Example:
        >>> a = [(uuid.UUID(int=1), np.ones(2, np.float32)), (uuid.UUID(int=2), None)]
        >>> embedding_checksum(iter(a)) == embedding_checksum(iter(a[::-1]))
        True
        >>> one = uuid.UUID(int=1)
        >>> embedding_checksum(iter([(one, [-0.0, 1.0])])) == embedding_checksum(iter([(one, [0.0, 1.0])]))
        True
    """
    total = 0
    for rid, emb in pairs:
        h = hashlib.sha256(rid.bytes)
        if emb is not None:
            arr = np.asarray(emb, dtype=np.float32)
            if half:
                arr = arr.astype(np.float16).astype(np.float32)
            # -0.0 + 0.0 is 0.0 (IEEE 754, round to nearest); every other value, NaN included, is kept as it is.
            arr = arr + np.float32(0.0)
            h.update(arr.astype("<f4").tobytes())
        total = (total + int.from_bytes(h.digest(), "big")) % (1 << 256)
    return f"{total:064x}"


def _open(url: str, dimension: int | None) -> Any:
    import okai_insight

    return okai_insight.connect(url, dimension=dimension)


def copy_database(
    source_url: str,
    target_url: str,
    *,
    batch_size: int = 1000,
    progress: bool = True,
    agent_id: str | uuid.UUID | None = None,
) -> CopyReport:
    """Copy every table from ``source_url`` into the empty database at ``target_url`` and verify the result.

    The target's schema is created with the source's embedding dimension when it has none yet. Raises
    :class:`DimensionMismatch` when the target's dimension differs and :class:`InvalidInput` when it already
    holds rows, before writing anything; :class:`SchemaError` when verification fails, leaving the target as it
    was (a new SQLite file is not created; any other target is written in one transaction, rolled back).

    An ElizaOS 1.x source (read-only, never written) is mapped into okai-insight's schema (docs/elizaos1.md):
    its dimension comes from the data; a database whose agents use several dimensions is refused with
    :class:`~okai_insight.errors.MixedDimensions` before the target is opened, unless ``agent_id`` picks one
    agent (then only that agent's rows are copied). ``report.not_copied`` and ``report.notes`` say what had no home.

    Example:
        >>> copy_database("postgresql://localhost/agents", "sqlite:///agents.db", batch_size=500)  # doctest: +SKIP
        CopyReport(source='postgresql://localhost/agents', target='sqlite:///agents.db', dimension=384, ...)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 100_000:
        raise InvalidInput(f"batch_size must be an integer from 1 to 100000, got {batch_size!r}")
    if source_url == target_url:
        raise InvalidInput("the source and the target are the same database")
    staging = _NewSqliteFile.for_url(target_url)
    source = _open(source_url, None)
    try:
        # Everything about the source is checked before the target is opened (and so before anything is created).
        dimension, not_copied, notes = _check_source(source, agent_id)
        if staging is None:
            target = _open(target_url, dimension)
            try:
                report = _copy(source, target, source_url, target_url, dimension, batch_size, progress)
            finally:
                target.close()
            report.not_copied, report.notes = not_copied, notes
            return report
        try:
            target = _open(staging.url, dimension)
            try:
                report = _copy(source, target, source_url, target_url, dimension, batch_size, progress)
            finally:
                target.close()  # the last connection: SQLite checkpoints and removes the -wal and -shm files
            staging.publish()
            report.not_copied, report.notes = not_copied, notes
            return report
        finally:
            staging.discard()
    finally:
        source.close()


def _check_source(source: Any, agent_id: str | uuid.UUID | None) -> tuple[int, dict[str, int], list[str]]:
    """The dimension to copy and, for an ElizaOS 1.x source, what has no home in okai-insight's schema."""
    from okai_insight.adapters.elizaos1 import UNMAPPED_COLUMNS, UNMAPPED_TABLES, ElizaOS1Reader

    if not isinstance(source, ElizaOS1Reader):
        if agent_id is not None:
            raise InvalidInput("--agent/agent_id applies to an ElizaOS 1.x source only: other sources copy whole")
        return int(source.embedding_dimension), {}, []
    if agent_id is not None:
        source.select_agent(agent_id)
    if source.agent_id is None and len(source.dimensions) > 1:
        from okai_insight.errors import MixedDimensions

        raise MixedDimensions(
            source.dimensions,
            "copying an ElizaOS 1.x database into okai-insight's schema (one dimension a database)",
            "copy one agent at a time with --agent AGENT_ID (agent_id=), each into its own target; nothing was created",
        )
    dimension = source.dimension_for(None, "copying") if source.dimensions else 384
    not_copied = {name: source.count_table(name) for name in UNMAPPED_TABLES}
    notes = [f"not copied (no place in okai-insight's schema): {c}" for c in UNMAPPED_COLUMNS]
    if source.agent_id is not None:
        notes.append(f"only agent {source.agent_id}'s rows were copied (--agent)")
    if not source.dimensions:
        notes.append("the source holds no embeddings: the target gets okai-insight's default dimension 384")
    return dimension, not_copied, notes


class _NewSqliteFile:
    """A SQLite target that does not exist yet: filled as a staging file in the same directory, then given the
    target's name (a hard link: it fails rather than replace a file that appeared meanwhile)."""

    def __init__(self, url: str, path: str) -> None:
        self.final = path
        directory, name = os.path.split(path)
        self.path = os.path.join(directory, f".{name}.okai-copy-{uuid.uuid4().hex[:12]}")
        query = urllib.parse.urlsplit(url).query
        self.url = "sqlite:///" + urllib.parse.quote(self.path) + (f"?{query}" if query else "")

    @classmethod
    def for_url(cls, url: str) -> _NewSqliteFile | None:
        """The staging plan for ``url``, or None when it is not a SQLite file or the file exists already."""
        if not url.startswith("sqlite:"):
            return None
        from okai_insight.adapters.sqlite import parse_sqlite_url

        path = os.path.abspath(parse_sqlite_url(url)[0])
        return None if os.path.lexists(path) else cls(url, path)

    def publish(self) -> None:
        for suffix in ("-wal", "-shm", "-journal"):
            if os.path.exists(self.path + suffix):  # a connection still open somewhere: the file is not complete
                raise SchemaError(f"the copy's staging file {self.path} is still in use ({suffix} file present)")
        try:
            os.link(self.path, self.final)
        except FileExistsError:
            raise InvalidInput(f"{self.final} appeared while the copy ran: copy needs a new or empty target") from None
        except OSError:  # a file system without hard links: replace, after checking once more
            if os.path.lexists(self.final):
                raise InvalidInput(
                    f"{self.final} appeared while the copy ran: copy needs a new or empty target"
                ) from None
            os.replace(self.path, self.final)

    def discard(self) -> None:
        """Remove the staging file and its companions (after publish() only the staging name goes)."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path + suffix)


def _copy(
    source: Any, target: Any, source_url: str, target_url: str, dimension: int, batch_size: int, progress: bool
) -> CopyReport:
    if int(target.embedding_dimension) != dimension:
        raise DimensionMismatch(expected=int(target.embedding_dimension), got=dimension, where="the target database")
    src, dst = _endpoint(source, dimension), _endpoint(target, progress=progress)
    counts = {t.name: src.count(t) if src.has_table(t) else 0 for t in TABLES}
    for t in TABLES:
        if counts[t.name] and not dst.has_table(t):
            raise FeatureNotAvailable(f"the target has no {t.name} table for the source's {counts[t.name]} rows")
        held = dst.count(t) if dst.has_table(t) else 0
        if held:
            raise InvalidInput(f"the target already holds {held} rows in {t.name}: copy needs an empty target")
    report = CopyReport(source=redact(source_url), target=redact(target_url), dimension=dimension)
    # One transaction on the target for the writes and the verification: committed only once verified.
    with dst.staged(), tqdm(total=sum(counts.values()), unit="rows", desc="copy", disable=not progress) as bar:
        for t in TABLES:
            if not counts[t.name]:
                report.rows[t.name] = 0
                continue
            bar.set_postfix_str(t.name)
            # Knowledge chunks point at their main item: copy the items without a parent first.
            passes = ['"originalId" IS NULL', '"originalId" IS NOT NULL'] if t.name == "knowledge" else [""]
            for where in passes:
                for batch in _timed(src.batches(t, batch_size, where)):
                    with _phase("write"):
                        dst.write(t, batch)
                    bar.update(len(batch))
            report.rows[t.name] = counts[t.name]
        _verify(src, dst, report, batch_size)
    return report


def _timed(batches: Iterator[list[tuple[Any, ...]]]) -> Iterator[list[tuple[Any, ...]]]:
    """The source's batches, each read inside ``_phase("read")``."""
    while True:
        with _phase("read"):
            batch = next(batches, None)
        if batch is None:
            return
        yield batch


def _verify(src: _Endpoint, dst: _Endpoint, report: CopyReport, batch_size: int) -> None:
    """The target's row counts against the source's (taken before the copy), then the embedding checksums of both
    sides, each read again (the target in the copy's transaction): a source changed during the copy fails here."""
    with _phase("verify counts"):
        _verify_counts(dst, report)
    half = src.half_precision or dst.half_precision
    for name in ("memories", "knowledge"):
        if not report.rows.get(name):
            continue
        t = TABLES_BY_NAME[name]
        with _phase("verify source checksum"):
            a = embedding_checksum(src.embeddings(t, batch_size), half=half)
        with _phase("verify target checksum"):
            b = embedding_checksum(dst.embeddings(t, batch_size), half=half)
        if a != b:
            raise SchemaError(
                f"copy verification failed: the {name} embeddings' checksums differ ({a[:12]} != {b[:12]})"
            )
        report.checksums[name] = a


def _verify_counts(dst: _Endpoint, report: CopyReport) -> None:
    for t in TABLES:
        if not report.rows.get(t.name):
            continue
        got = dst.count(t)
        if got != report.rows[t.name]:
            raise SchemaError(
                f"copy verification failed: {t.name} has {report.rows[t.name]} rows in the source, {got} in the target"
            )


__all__ = ["TABLES", "CopyReport", "Table", "copy_database", "embedding_checksum"]
