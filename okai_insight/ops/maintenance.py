"""Routine maintenance: what to VACUUM, ANALYZE or REINDEX and why, and running it with progress bars.

:func:`plan` reads the statistics and returns :class:`Action` objects, each with the statement and the reason:

* **dead rows**: a table whose dead tuples exceed PostgreSQL's own autovacuum trigger
  (``autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * reltuples``, read from ``pg_settings``) gets
  ``VACUUM (ANALYZE)``;
* **stale statistics**: rows changed since the last analyze beyond the autoanalyze trigger
  (``autovacuum_analyze_threshold + autovacuum_analyze_scale_factor * reltuples``), or a non-empty table never
  analysed, gets ``ANALYZE``;
* **bloated vector index**: an HNSW index larger than ``bloat_ratio`` times the size its live rows need
  (estimated as ``4 * dimensions + 14 * m`` bytes a row for ``vector``, ``2 * dimensions`` for ``halfvec``;
  measured on pgvector 0.8.6: a fresh index is within 10 % of it) gets ``REINDEX INDEX CONCURRENTLY``. pgvector
  marks deleted rows' graph elements for reuse but never shrinks the file.

:func:`run` executes a plan: VACUUM and REINDEX show progress from ``pg_stat_progress_vacuum`` and
``pg_stat_progress_create_index`` (polled from a second connection), and the reindex runs with
``maintenance_work_mem`` sized from the index so the HNSW graph is built in memory.

Example:
    >>> from okai_insight.ops.maintenance import plan, run
    >>> for action in plan(url):                                # doctest: +SKIP
    ...     print(action.sql, "--", action.reason)
    VACUUM (ANALYZE) "public"."memories" -- 5200 dead rows > autovacuum trigger 2050 (...)
    >>> run(url, plan(url))                                     # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.errors import InvalidInput, NoSuchTable
from okai_insight.ops._connection import connect

#: An HNSW index this many times larger than its live rows need is worth rebuilding.
DEFAULT_BLOAT_RATIO = 2.0
#: maintenance_work_mem for a reindex: the index's size times this, between the two bounds below.
WORK_MEM_FACTOR = 1.25
WORK_MEM_MIN_BYTES = 64 * 1024**2
WORK_MEM_MAX_BYTES = 4 * 1024**3


@dataclass(frozen=True)
class Action:
    """One maintenance statement, on what, and why."""

    kind: str  # "vacuum", "analyze" or "reindex"
    schema: str
    name: str  # the table (vacuum, analyze) or index (reindex)
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def statement(self) -> sql.Composed:
        """The statement :func:`run` executes, identifiers composed with ``psycopg.sql.Identifier``.

        Example:
            >>> Action("vacuum", "public", "memories", "").statement().as_string()
            'VACUUM (ANALYZE) "public"."memories"'
        """
        templates = {
            "vacuum": "VACUUM (ANALYZE) {}",
            "analyze": "ANALYZE {}",
            "reindex": "REINDEX INDEX CONCURRENTLY {}",
        }
        if self.kind not in templates:
            raise InvalidInput(f"unknown maintenance kind {self.kind!r}")
        return sql.SQL(templates[self.kind]).format(sql.Identifier(self.schema, self.name))  # type: ignore[arg-type]

    @property
    def sql(self) -> str:
        """The statement as text (what ``--dry-run`` prints).

        Example:
            >>> Action("analyze", "public", "memories", "").sql
            'ANALYZE "public"."memories"'
        """
        return self.statement().as_string()


_TABLES = """
SELECT s.schemaname, s.relname, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,
       coalesce(s.last_analyze, s.last_autoanalyze) IS NULL AS never_analyzed, greatest(c.reltuples, 0)::bigint,
       current_setting('autovacuum_vacuum_threshold')::bigint, current_setting('autovacuum_vacuum_scale_factor')::float8,
       current_setting('autovacuum_analyze_threshold')::bigint,
       current_setting('autovacuum_analyze_scale_factor')::float8
FROM pg_stat_user_tables AS s
JOIN pg_class AS c ON c.oid = s.relid
WHERE (%(table)s::text IS NULL OR s.relname = %(table)s)
ORDER BY s.schemaname, s.relname
"""

_HNSW = """
SELECT n.nspname, ic.relname, tc.relname, pg_relation_size(ic.oid), coalesce(st.n_live_tup, 0),
       a.atttypmod, t.typname, coalesce((SELECT option_value::int FROM pg_options_to_table(ic.reloptions)
                                         WHERE option_name = 'm'), 16)
FROM pg_index AS i
JOIN pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_am AS am ON am.oid = ic.relam AND am.amname = 'hnsw'
JOIN pg_class AS tc ON tc.oid = i.indrelid
JOIN pg_namespace AS n ON n.oid = ic.relnamespace
JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
JOIN pg_type AS t ON t.oid = a.atttypid
LEFT JOIN pg_stat_user_tables AS st ON st.relid = i.indrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND (%(table)s::text IS NULL OR tc.relname = %(table)s)
ORDER BY n.nspname, ic.relname
"""


# What plan() can look at: the user tables pg_stat_user_tables lists (any schema).
_TABLE_EXISTS = "SELECT count(*) FROM pg_stat_user_tables WHERE relname = %(table)s"


def expected_hnsw_bytes(rows: int, dimensions: int, *, m: int = 16, type_name: str = "vector") -> int:
    """The size an HNSW index on ``rows`` live rows needs (pgvector 0.8.6; measured, within 10 % when fresh).

    Example:
        >>> expected_hnsw_bytes(1000, 384)
        1760000
    """
    per_value = 2 * dimensions if type_name == "halfvec" else 4 * dimensions
    return max(rows, 0) * (per_value + 14 * m)


def plan(url: str, *, table: str | None = None, bloat_ratio: float = DEFAULT_BLOAT_RATIO) -> list[Action]:
    """What maintenance the database needs now, and why (see the module docstring for the rules).

    ``table`` limits the plan to one table (by name, in any schema) and its indexes; a name no user table has
    raises :class:`~okai_insight.errors.NoSuchTable`, so a typo is not mistaken for "nothing to do".

    Example:
        >>> [a.kind for a in plan(url)]                          # doctest: +SKIP
        ['vacuum', 'reindex']
    """
    if bloat_ratio <= 1:
        raise InvalidInput(f"bloat_ratio must be above 1, got {bloat_ratio}")
    actions: list[Action] = []
    with connect(url, autocommit=True) as conn:
        if table is not None:
            found = conn.execute(_TABLE_EXISTS, {"table": table}).fetchone()
            if not found or not found[0]:
                raise NoSuchTable(f"no such table: {table!r} (no user table of this database has that name)")
        for r in conn.execute(_TABLES, {"table": table}).fetchall():
            schema, name, live, dead, modified, never, reltuples, vt, vs, at, as_ = r
            vacuum_trigger = vt + vs * reltuples
            analyze_trigger = at + as_ * reltuples
            source = "autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * reltuples"
            if dead > vacuum_trigger:
                actions.append(
                    Action(
                        "vacuum",
                        schema,
                        name,
                        f"{dead} dead rows > autovacuum trigger {vacuum_trigger:.0f} ({source})",
                        {"dead_rows": dead, "live_rows": live, "threshold_rows": vacuum_trigger},
                    )
                )
            elif (never and live > 0) or modified > analyze_trigger:
                why = (
                    "never analysed"
                    if never and live > 0
                    else f"{modified} rows changed since the last analyze > autoanalyze trigger {analyze_trigger:.0f} "
                    "(autovacuum_analyze_threshold + autovacuum_analyze_scale_factor * reltuples)"
                )
                actions.append(
                    Action(
                        "analyze",
                        schema,
                        name,
                        f"stale statistics: {why}",
                        {"modified_rows": modified, "threshold_rows": analyze_trigger},
                    )
                )
        for r in conn.execute(_HNSW, {"table": table}).fetchall():
            schema, index, tname, size, live, typmod, typname, m = r
            needed = expected_hnsw_bytes(live, max(typmod, 1), m=m, type_name=typname)
            ratio = size / needed if needed else float("inf")
            if size > 8192 * 4 and ratio > bloat_ratio:
                actions.append(
                    Action(
                        "reindex",
                        schema,
                        index,
                        f"bloated vector index: {size} bytes for {live} live rows of {tname}, {ratio:.1f}x the "
                        f"{needed} bytes they need (threshold {bloat_ratio}x)",
                        {"size_bytes": size, "expected_bytes": needed, "ratio": ratio, "table": tname},
                    )
                )
    return actions


@dataclass(frozen=True)
class ActionResult:
    """What :func:`run` did for one action."""

    action: Action
    duration_ms: float
    progress_samples: int
    maintenance_work_mem_bytes: int | None = None
    size_before_bytes: int | None = None
    size_after_bytes: int | None = None


def reindex_work_mem_bytes(index_bytes: int) -> int:
    """``maintenance_work_mem`` for rebuilding an index of this size: 1.25x it, within 64 MB .. 4 GB.

    Example:
        >>> reindex_work_mem_bytes(10 * 1024**2) // 1024**2, reindex_work_mem_bytes(1024**3) // 1024**2
        (64, 1280)
    """
    return int(min(WORK_MEM_MAX_BYTES, max(WORK_MEM_MIN_BYTES, index_bytes * WORK_MEM_FACTOR)))


_VACUUM_PROGRESS = "SELECT phase, heap_blks_scanned, heap_blks_total FROM pg_stat_progress_vacuum WHERE pid = %s"
_INDEX_PROGRESS = (
    "SELECT phase, coalesce(nullif(blocks_done, 0), tuples_done), coalesce(nullif(blocks_total, 0), tuples_total) "
    "FROM pg_stat_progress_create_index WHERE pid = %s"
)


class _Watcher(threading.Thread):
    """Polls a progress view for one backend from a second connection and feeds a tqdm bar."""

    def __init__(self, url: str, pid: int, query: str, label: str, show: bool) -> None:
        super().__init__(daemon=True)
        self.url, self.pid, self.query, self.label, self.show = url, pid, query, label, show
        self.done = threading.Event()
        self.samples: list[tuple[str, int, int]] = []

    def run(self) -> None:
        from tqdm.auto import tqdm

        with (
            connect(self.url, autocommit=True) as conn,
            tqdm(desc=self.label, unit="blk", disable=not self.show, leave=False) as bar,
        ):
            while not self.done.is_set():
                row = conn.execute(self.query, (self.pid,)).fetchone()
                if row is not None:
                    phase, done, total = str(row[0]), int(row[1] or 0), int(row[2] or 0)
                    self.samples.append((phase, done, total))
                    bar.total = total or None
                    bar.n = done
                    bar.set_postfix_str(phase, refresh=True)
                self.done.wait(0.05)


def run(
    url: str,
    actions: Sequence[Action],
    *,
    progress: bool = True,
    on_done: Callable[[ActionResult], None] | None = None,
) -> list[ActionResult]:
    """Execute ``actions`` one by one (each outside a transaction, as VACUUM and REINDEX CONCURRENTLY require).

    Example:
        >>> [r.duration_ms > 0 for r in run(url, plan(url), progress=False)]     # doctest: +SKIP
        [True]
    """
    results = []
    with connect(url, autocommit=True) as conn:
        pid = conn.info.backend_pid
        for action in actions:
            query = action.statement()
            work_mem = before = after = None
            watch_sql = _INDEX_PROGRESS if action.kind == "reindex" else _VACUUM_PROGRESS
            if action.kind == "reindex":
                before = _relation_size(conn, action.schema, action.name)
                work_mem = reindex_work_mem_bytes(before)
                conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", (f"{work_mem // 1024}kB",))
            watcher = _Watcher(url, pid, watch_sql, f"{action.kind} {action.name}", progress)
            watcher.start()
            started = time.perf_counter()
            try:
                conn.execute(query)
            finally:
                watcher.done.set()
                watcher.join(10)
                if action.kind == "reindex":
                    conn.execute("RESET maintenance_work_mem")
            if action.kind == "reindex":
                after = _relation_size(conn, action.schema, action.name)
            result = ActionResult(
                action, (time.perf_counter() - started) * 1000, len(watcher.samples), work_mem, before, after
            )
            results.append(result)
            if on_done is not None:
                on_done(result)
    return results


def _relation_size(conn: psycopg.Connection[Any], schema: str, name: str) -> int:
    row = conn.execute(
        "SELECT pg_relation_size((quote_ident(%s) || '.' || quote_ident(%s))::regclass)", (schema, name)
    ).fetchone()
    return int(row[0]) if row else 0
