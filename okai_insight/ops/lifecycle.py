"""Data lifecycle: retention policies on memories, a dry run of each, batched deletes, Parquet archives.

A :class:`RetentionPolicy` selects memories by age (months and/or days, computed by the server:
``now() - make_interval(...)``), and optionally by type, agent and room. The spec's cleanup job
("delete memories older than six months") is ``RetentionPolicy(months=6)``.

* :func:`preview` is the dry run: how many rows and how many bytes (``pg_column_size`` of the rows) the policy
  would remove, per type, and the oldest and newest affected row.
* :func:`apply` deletes in batches of ``batch_size`` rows, each in its own short transaction
  (``DELETE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` under a ``lock_timeout``), so no lock is
  held long and concurrent writers are never blocked for more than one batch. With ``archive_dir`` every batch is
  written to a Parquet file (polars) *before* its delete commits: a failed write rolls the batch back.
* :func:`restore_archive` puts archived rows back (``ON CONFLICT DO NOTHING``: running it twice is harmless).

Example:
    >>> from okai_insight.ops.lifecycle import RetentionPolicy, apply, preview
    >>> policy = RetentionPolicy(months=6)
    >>> preview(url, policy).rows                                       # doctest: +SKIP
    1200
    >>> apply(url, policy, archive_dir="archive/").deleted_rows         # doctest: +SKIP
    1200
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.errors import InvalidInput
from okai_insight.ops._connection import connect
from okai_insight.validation import check_optional_id, check_table_name

#: pgvector and JSON/uuid columns are archived as portable Parquet types (float arrays, text).
_AS_ARRAY = ("vector", "halfvec")
_AS_TEXT = ("jsonb", "json", "uuid")


@dataclass(frozen=True)
class RetentionPolicy:
    """Which memories to remove: older than ``months`` + ``days``, optionally of some types, one agent, one room.

    Example:
        >>> RetentionPolicy(months=6).describe()
        'memories older than 6 months'
        >>> RetentionPolicy(days=30, types=("messages",), agent_id="6f1b0a52-9d7e-4a38-9d4e-6a7d1f0e2c11").describe()
        'memories older than 30 days of type messages of agent 6f1b0a52-9d7e-4a38-9d4e-6a7d1f0e2c11'
    """

    months: int = 0
    days: int = 0
    types: tuple[str, ...] | None = None
    agent_id: uuid.UUID | str | None = None
    room_id: uuid.UUID | str | None = None

    def __post_init__(self) -> None:
        for name in ("months", "days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{name} must be a non-negative integer, got {value!r}")
        if self.months == 0 and self.days == 0:
            raise InvalidInput("a retention policy needs an age: months or days above 0")
        if self.types is not None:
            if isinstance(self.types, str) or not self.types:
                raise InvalidInput("types must be a non-empty tuple of memory types")
            object.__setattr__(self, "types", tuple(check_table_name(t) for t in self.types))
        object.__setattr__(self, "agent_id", check_optional_id(self.agent_id, "agent_id"))
        object.__setattr__(self, "room_id", check_optional_id(self.room_id, "room_id"))

    def describe(self) -> str:
        """The policy in words.

        Example:
            >>> RetentionPolicy(months=1, days=2).describe()
            'memories older than 1 months 2 days'
        """
        age = " ".join(f"{v} {n}" for v, n in ((self.months, "months"), (self.days, "days")) if v)
        text = f"memories older than {age}"
        if self.types:
            text += f" of type {', '.join(self.types)}"
        if self.agent_id:
            text += f" of agent {self.agent_id}"
        if self.room_id:
            text += f" in room {self.room_id}"
        return text

    def _where(self) -> tuple[sql.Composable, dict[str, Any]]:
        clause = sql.SQL(
            '"createdAt" < now() - make_interval(months => %(months)s, days => %(days)s) '
            'AND (%(types)s::text[] IS NULL OR "type" = ANY(%(types)s)) '
            'AND (%(agent_id)s::uuid IS NULL OR "agentId" = %(agent_id)s) '
            'AND (%(room_id)s::uuid IS NULL OR "roomId" = %(room_id)s)'
        )
        params = {
            "months": self.months,
            "days": self.days,
            "types": None if self.types is None else list(self.types),
            "agent_id": self.agent_id,
            "room_id": self.room_id,
        }
        return clause, params


@dataclass(frozen=True)
class RetentionPreview:
    """The dry run of a policy: rows and bytes it would remove, per type, and the affected time range."""

    policy: RetentionPolicy
    rows: int
    row_bytes: int
    by_type: dict[str, int] = field(default_factory=dict)
    oldest: dt.datetime | None = None
    newest: dt.datetime | None = None

    def summary(self) -> str:
        """One line for the terminal.

        Example:
            >>> RetentionPreview(RetentionPolicy(months=6), 3, 900).summary()
            'dry run: would delete 3 rows (900 bytes) - memories older than 6 months'
        """
        return f"dry run: would delete {self.rows} rows ({self.row_bytes} bytes) - {self.policy.describe()}"


def preview(url: str, policy: RetentionPolicy) -> RetentionPreview:
    """What ``policy`` would delete, without deleting anything (one READ ONLY transaction).

    Example:
        >>> preview(url, RetentionPolicy(months=6)).summary()                # doctest: +SKIP
        'dry run: would delete 1200 rows (412345 bytes) - memories older than 6 months'
    """
    where, params = policy._where()
    with connect(url) as conn:
        conn.read_only = True
        rows = conn.execute(
            sql.SQL(
                'SELECT "type", count(*), coalesce(sum(pg_column_size(m.*)), 0), min("createdAt"), max("createdAt") '
                'FROM memories AS m WHERE {} GROUP BY "type" ORDER BY "type"'
            ).format(where),
            params,
        ).fetchall()
    return RetentionPreview(
        policy,
        sum(int(r[1]) for r in rows),
        sum(int(r[2]) for r in rows),
        {str(r[0]): int(r[1]) for r in rows},
        min((r[3] for r in rows), default=None),
        max((r[4] for r in rows), default=None),
    )


@dataclass(frozen=True)
class RetentionResult:
    """What :func:`apply` did: rows deleted, batches, archive files, and the longest batch."""

    preview: RetentionPreview
    deleted_rows: int
    batches: int
    archive_files: list[Path]
    longest_batch_ms: float


def _select_list(conn: psycopg.Connection[Any], table: str) -> tuple[list[str], sql.Composable]:
    cols = conn.execute(
        "SELECT a.attname, t.typname FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid "
        "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (table,),
    ).fetchall()
    parts: list[sql.Composable] = []
    for name, typ in cols:
        ident = sql.Identifier(name)
        if typ in _AS_ARRAY:
            parts.append(sql.SQL("{}::real[] AS {}").format(ident, ident))
        elif typ in _AS_TEXT:
            parts.append(sql.SQL("{}::text AS {}").format(ident, ident))
        else:
            parts.append(ident)
    return [c[0] for c in cols], sql.SQL(", ").join(parts)


def apply(
    url: str,
    policy: RetentionPolicy,
    *,
    batch_size: int = 1000,
    archive_dir: str | Path | None = None,
    lock_timeout_ms: int = 1000,
    max_batches: int | None = None,
) -> RetentionResult:
    """Delete what ``policy`` selects, ``batch_size`` rows a transaction, archiving each batch first if asked.

    Example:
        >>> apply(url, RetentionPolicy(months=6), batch_size=500, archive_dir="archive").batches   # doctest: +SKIP
        3
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
    folder = Path(archive_dir) if archive_dir is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    before = preview(url, policy)
    where, params = policy._where()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    deleted, batches, longest = 0, 0, 0.0
    files: list[Path] = []
    with connect(url) as conn:
        columns, select_list = _select_list(conn, "memories")
        statement = sql.SQL(
            'DELETE FROM memories WHERE "id" IN (SELECT "id" FROM memories WHERE {} ORDER BY "createdAt", "id" '
            "LIMIT %(batch)s FOR UPDATE SKIP LOCKED) RETURNING {}"
        ).format(where, select_list)
        while max_batches is None or batches < max_batches:
            started = time.perf_counter()
            with conn.transaction():
                conn.execute("SELECT set_config('lock_timeout', %s, true)", (f"{lock_timeout_ms}ms",))
                rows = conn.execute(statement, {**params, "batch": batch_size}).fetchall()
                if rows and folder is not None:
                    path = folder / f"memories-{stamp}-{batches:05d}.parquet"
                    _write_parquet(path, columns, rows)  # before the delete commits: a failure rolls it back
                    files.append(path)
            longest = max(longest, (time.perf_counter() - started) * 1000)
            if not rows:
                break
            deleted += len(rows)
            batches += 1
    return RetentionResult(before, deleted, batches, files, longest)


def _write_parquet(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    import polars as pl

    data = {name: [r[i] for r in rows] for i, name in enumerate(columns)}
    frame = pl.DataFrame(data, strict=False)
    tmp = path.with_suffix(".parquet.tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)


def restore_archive(url: str, paths: Sequence[str | Path] | str | Path) -> int:
    """Insert archived memories back (rows whose id exists are skipped); returns the rows inserted.

    Example:
        >>> restore_archive(url, sorted(Path("archive").glob("*.parquet")))     # doctest: +SKIP
        1200
    """
    import polars as pl

    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not files:
        raise InvalidInput("no archive files given")
    for f in files:
        if not f.is_file():
            raise InvalidInput(f"no archive at {f}")
    inserted = 0
    with connect(url) as conn:
        types = dict(
            conn.execute(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'memories'::regclass AND attnum > 0 AND NOT attisdropped"
            ).fetchall()
        )
        for f in files:
            frame = pl.read_parquet(f)
            unknown = [c for c in frame.columns if c not in types]
            if unknown:
                raise InvalidInput(f"{f}: columns {unknown} are not in this database's memories table")
            statement = sql.SQL("INSERT INTO memories ({}) VALUES ({}) ON CONFLICT DO NOTHING").format(
                sql.SQL(", ").join(map(sql.Identifier, frame.columns)),
                sql.SQL(", ").join(sql.SQL("%s::" + types[c]) for c in frame.columns),  # type: ignore[arg-type]
            )
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(statement, frame.rows(), returning=False)
                inserted += max(cur.rowcount, 0)
    return inserted
