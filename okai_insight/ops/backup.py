"""Backups with the bundled PostgreSQL programs, and a proof that every restore equals its source.

* :func:`backup` runs ``pg_dump -Fc`` inside the snapshot of a REPEATABLE READ transaction that also computes the
  database's :class:`Fingerprint` (row count of every table, an md5 over every embedding column in primary-key
  order), so the fingerprint describes exactly the rows in the dump. It is written next to the dump
  (``<dump>.fingerprint.json``) with the dump file's sha256 and size.
* :func:`restore` first proves the dump intact (its sha256 and size equal the recorded ones; ``pg_restore --list``
  reads its table of contents) and only then touches the target, in ONE transaction that also checks the restored
  rows against the fingerprint before it commits: a damaged dump, a damaged fingerprint or a restore that differs
  from its source raises :class:`~okai_insight.errors.BackupError` and leaves the target as it was, with or
  without ``clean``.
* :func:`basebackup` takes a physical copy of the whole cluster with ``pg_basebackup -Fp -Xs`` (the base for
  point-in-time recovery, :mod:`okai_insight.ops.pitr`), owned by the user the server will run as, so that
  :func:`okai_insight.embedded.EmbeddedServer` can start it as it is, also when taken by root.

No password ever reaches a child's command line (:mod:`okai_insight.ops._client_tools`).

Example:
    >>> from okai_insight.ops.backup import backup, restore
    >>> made = backup(url, "agents.dump")                        # doctest: +SKIP
    >>> restore("agents.dump", other_url).verified               # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from okai_insight._postgres_only import require_postgres
from okai_insight.errors import BackupError, InvalidInput
from okai_insight.ops import _client_tools as tools
from okai_insight.ops._connection import connect
from okai_insight.ops._dump_file import DumpDigest, check_dump, digest_of, read_sidecar, write_sidecar
from okai_insight.ops._ownership import give_to, server_owner
from okai_insight.ops._restore import restore_in_one_transaction

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
        return json.dumps(self.as_json_object(), sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> Fingerprint:
        """Read what :meth:`to_json` wrote; anything else (damaged JSON, missing keys, wrong types) is a
        :class:`BackupError`.

        Example:
            >>> Fingerprint.from_json('{"row_counts": {"t": 1}, "embedding_checksums": {}}').row_counts
            {'t': 1}
            >>> Fingerprint.from_json('{"row_counts": {"t": "x"}}')
            Traceback (most recent call last):
            okai_insight.errors.BackupError: not a fingerprint: row_counts must map table names to row counts
        """
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BackupError(f"not a fingerprint: damaged JSON ({exc})") from None
        if not isinstance(data, dict):
            raise BackupError("not a fingerprint: a JSON object is expected")
        counts, checksums = data.get("row_counts"), data.get("embedding_checksums", {})
        if not isinstance(counts, dict) or not all(
            isinstance(k, str) and type(v) is int and v >= 0 for k, v in counts.items()
        ):
            raise BackupError("not a fingerprint: row_counts must map table names to row counts")
        if not isinstance(checksums, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in checksums.items()
        ):
            raise BackupError("not a fingerprint: embedding_checksums must map column names to checksums")
        return cls(dict(counts), dict(checksums))

    def as_json_object(self) -> dict[str, Any]:
        """The plain JSON object (what a restore's own check compares with).

        Example:
            >>> Fingerprint({"t": 1}).as_json_object()
            {'row_counts': {'t': 1}, 'embedding_checksums': {}}
        """
        return asdict(self)


def _n(value: int | None) -> str:
    return "no table" if value is None else str(value)


def fingerprint(conn: psycopg.Connection[Any], *, schemas: tuple[str, ...] = ("public",)) -> Fingerprint:
    """Count the rows of every table in ``schemas`` and checksum every vector column, in the connection's current
    transaction (open one REPEATABLE READ to get one consistent picture).

    The checksum is ``md5(string_agg(md5(embedding::text), ',' ORDER BY <primary key>))``: deterministic, and NULL
    embeddings count (as the empty string). The work is ``queries/ops/fingerprint.sql``, which a restore also runs
    inside its own transaction to verify itself before committing.

    Example:
        >>> with psycopg.connect(url) as conn:                     # doctest: +SKIP
        ...     fingerprint(conn).row_counts["public.memories"]
        1000
    """
    conn.execute(fingerprint_statement(conn, schemas))
    row = conn.execute("SELECT current_setting('okai.fingerprint')").fetchone()
    assert row is not None
    return Fingerprint.from_json(str(row[0]))


def fingerprint_statement(conn: psycopg.Connection[Any], schemas: tuple[str, ...] = ("public",)) -> str:
    """The fingerprint's DO block with ``schemas`` bound (a DO block takes no server-side parameters).

    Example:
        >>> fingerprint_statement(conn).startswith("-- fingerprint:")   # doctest: +SKIP
        True
    """
    from okai_insight.query_files import load_sql

    return psycopg.ClientCursor(conn).mogrify(load_sql("ops", "fingerprint"), {"schemas": list(schemas)})


def database_fingerprint(url: str, *, timeout_s: float = tools.DEFAULT_TIMEOUT_S) -> Fingerprint:
    """:func:`fingerprint` of a database, in one REPEATABLE READ READ ONLY transaction.

    Example:
        >>> database_fingerprint(url).row_counts                   # doctest: +SKIP
        {'public.accounts': 2, ...}
    """
    with connect(url, autocommit=True, statement_timeout_s=timeout_s) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            return fingerprint(conn)
        finally:
            conn.execute("ROLLBACK")


@dataclass(frozen=True)
class BackupResult:
    """A finished dump: its file, the fingerprint of the rows in it, its size, sha256 and how long it took."""

    path: Path
    fingerprint: Fingerprint
    size_bytes: int
    duration_ms: float
    sha256: str = ""

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


def backup(
    url: str, path: str | Path, *, overwrite: bool = False, timeout_s: float = tools.DEFAULT_TIMEOUT_S
) -> BackupResult:
    """Dump ``url`` with ``pg_dump -Fc`` to ``path``; the fingerprint is taken in the dump's own snapshot and
    written beside the dump with the dump's sha256 and size.

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
    with connect(url, autocommit=True, statement_timeout_s=timeout_s) as conn, tools.client_connection(url) as child:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            assert row is not None
            found = fingerprint(conn)
            # pg_dump waits for its locks at most this long: a held lock fails the dump instead of hanging it.
            args = ["-Fc", "--snapshot", str(row[0]), "--lock-wait-timeout", f"{int(timeout_s * 1000)}"]
            tools.run(
                "pg_dump",
                [*args, "-f", str(target), "-d", child.dsn],
                env=child.env,
                secrets=child.secrets,
                timeout_s=timeout_s,
            )
        finally:
            conn.execute("ROLLBACK")
    digest = digest_of(target)
    write_sidecar(fingerprint_path(target), found.as_json_object(), digest)
    return BackupResult(target, found, digest.size_bytes, (time.perf_counter() - started) * 1000, digest.sha256)


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
    path: str | Path,
    url: str,
    *,
    clean: bool = False,
    expected: Fingerprint | None = None,
    timeout_s: float = tools.DEFAULT_TIMEOUT_S,
) -> RestoreResult:
    """Restore a ``pg_dump -Fc`` file into the (existing) database ``url``, all or nothing, and verify it.

    Before the target is touched: the fingerprint file is read (``expected`` replaces it), the dump's sha256 and
    size must equal the recorded ones, and ``pg_restore --list`` must read its table of contents (a dump without a
    recorded checksum is read through to its end). Then the whole restore runs in one transaction that commits
    only if the restored tables reproduce the fingerprint. ``clean`` drops the dump's objects first (``--clean
    --if-exists``), inside that transaction. Any failure raises :class:`BackupError` (or :class:`InvalidInput`)
    and leaves the target as it was.

    A restore is one transaction, so it is not parallel (``pg_restore -j`` cannot run in one transaction).

    Example:
        >>> restore("/backups/agents.dump", "postgresql://me@/agents_copy").verified       # doctest: +SKIP
        True
    """
    require_postgres(url, "restore")  # the URL first: no dump is worth checking for a SQLite or mysql:// target
    source = Path(path)
    if not source.is_file():
        raise InvalidInput(f"no dump at {source}")
    digest: DumpDigest | None = None
    if expected is None:
        sidecar = fingerprint_path(source)
        if not sidecar.is_file():
            raise InvalidInput(
                f"{sidecar} is missing: a restore first checks the dump against the fingerprint file that "
                "okai-insight backup writes beside it; put it next to the dump (nothing was restored)"
            )
        recorded, digest = read_sidecar(sidecar)
        expected = _recorded_fingerprint(recorded, sidecar)
    check_dump(source, digest, timeout_s=timeout_s)
    started = time.perf_counter()
    with connect(
        url, autocommit=True, statement_timeout_s=timeout_s
    ) as conn:  # the target is reachable, and binds the check's text
        check = fingerprint_statement(conn)
    failure = restore_in_one_transaction(
        source, url, expected=expected.as_json_object(), check=check, clean=clean, timeout_s=timeout_s
    )
    if failure is not None:
        if failure.found is not None:
            differs = "; ".join(expected.differences(Fingerprint.from_json(json.dumps(failure.found))))
            raise BackupError(
                f"restore of {source} does not match its source ({differs}); it was rolled back, the target is "
                "unchanged"
            )
        raise BackupError(f"restore of {source} failed and was rolled back, the target is unchanged: {failure.message}")
    found = database_fingerprint(url, timeout_s=timeout_s)
    return RestoreResult(source, expected, found, (time.perf_counter() - started) * 1000)


def _recorded_fingerprint(text: str, sidecar: Path) -> Fingerprint:
    try:
        return Fingerprint.from_json(text)
    except BackupError as exc:
        raise BackupError(f"the fingerprint file {sidecar} is damaged ({exc}); nothing was restored") from None


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
    owner: str | int | None = None,
    owner_like: str | Path | None = None,
    standby: bool = False,
    sync: bool = True,
    timeout_s: float = tools.DEFAULT_TIMEOUT_S,
) -> BaseBackupResult:
    """Copy the whole cluster behind ``url`` into the new directory ``dest`` (``pg_basebackup -Fp -Xs``).

    The copy belongs to the user a server started on it will run as: ``owner`` (a user name or uid), or the owner
    of the directory ``owner_like``; by default the caller, or, for root (whom PostgreSQL refuses to run as), the
    embedded server's user. So ``EmbeddedServer(dest).start()`` works as it is. ``standby`` writes
    ``standby.signal`` and ``primary_conninfo`` (``-R``): the copy starts as a streaming replica. Files that belong
    to the source's running server are removed from the copy.

    Example:
        >>> basebackup(url, "/backups/base-2025-01-01").size_bytes > 0               # doctest: +SKIP
        True
    """
    target = Path(dest).expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{target} exists and is not empty")
    ids = server_owner(owner, owner_like=owner_like)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = time.perf_counter()
    with tools.client_connection(_without_db(url)) as child:
        args = ["-D", str(target), "-Fp", "-Xs", "-c", "fast", "-d", child.dsn]
        if standby:
            args.append("-R")
        if not sync:
            args.append("--no-sync")
        tools.run("pg_basebackup", args, env=child.env, secrets=child.secrets, timeout_s=timeout_s)
    for name in RUNTIME_FILES:
        (target / name).unlink(missing_ok=True)
    give_to(target, ids)
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    return BaseBackupResult(target, size, (time.perf_counter() - started) * 1000)


def _without_db(url: str) -> str:
    """pg_basebackup connects for replication, so the database name does not matter; keep the rest."""
    try:
        info: Mapping[str, Any] = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return url  # split_password reports it without the password
    keep = {k: v for k, v in info.items() if k != "dbname" and v not in (None, "")}
    return psycopg.conninfo.make_conninfo(**keep)
