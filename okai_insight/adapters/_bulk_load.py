"""Bulk loads into ``memories`` that build the vector index once, after the rows, instead of row by row.

Inserting into a table that holds its HNSW index runs at a few hundred to a thousand rows/s whoever writes
(every row walks the graph); COPY without the index runs at 10-70k rows/s and one build afterwards costs about
a third of a millisecond a row (docs/benchmarks.md, section bench.bulk). So a batch that is large against its
table is loaded like this (:func:`load_memories`), on one connection:

1. the rows are COPied into a temporary staging table: every row is checked as it is written, and a refused
   one aborts here, before the table is touched; ids already stored are refused here too (DuplicateId);
2. the vector index is dropped (``DROP INDEX CONCURRENTLY``: searches are not blocked; from here until the
   commit they are exact sequential scans, correct and slower);
3. one transaction inserts the staged rows and builds the index again under its own name
   (``maintenance_work_mem`` sized to the index, parallel maintenance workers), then commits: readers see the
   old rows without an index, then the new rows with it, never a half. Writers wait for the build.

Why not a staging table attached as a partition, or a new index built CONCURRENTLY next to the old one: while
the old index exists every inserted row still walks its graph, which is the cost to avoid; and attaching needs a
partitioned table that okai's schema is not. The transaction in step 3 is what keeps a failed load all or
nothing: a failure rolls the rows back and the index is rebuilt as it was (same definition) on the same
connection. If the connection itself dies (the process is killed, the backend terminated) the rows are rolled
back by the server and the table is left without its vector index: ``okai-insight doctor`` reports it
(``missing_vector_indexes``, and ``invalid_indexes`` for an invalid one left by someone's concurrent build), and
the next ``create_memories`` of any size on this table rebuilds it (:func:`index_state` is read first).

Example:
    >>> takes_bulk_path(50_000, 100_000, min_rows=5_000, min_fraction=0.3)
    True
    >>> takes_bulk_path(1_000, 0, min_rows=BULK_LOAD_MIN_ROWS, min_fraction=BULK_LOAD_MIN_FRACTION)
    False
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.errors import DuplicateId

Conn = psycopg.Connection[Any]
_log = logging.getLogger(__name__)
Query = sql.SQL | sql.Composed

#: The smallest batch worth the bulk path. Measured into an empty indexed table (bench/bulk.py --crossover, 384
#: dimensions, 2 cores shared with other jobs): 2,000 rows took 3.4 s through the index (587 rows/s) and 1.6 s
#: loaded without it then indexed (COPY 24k rows/s, build 4,000 rows in 3.0 s), so the bulk path already wins
#: there; smaller batches stay on the ordinary path, which keeps searches on the index and never makes writers
#: wait for a build.
BULK_LOAD_MIN_ROWS = 2_000

#: The batch must also hold at least this fraction of the rows already stored: the rebuild covers the whole
#: table, the ordinary path only the batch. Bulk wins when batch/table > (1/build) / (1/indexed - 1/copy -
#: 1/build) (rates in rows/s). Measured with bench/bulk.py --crossover (384 dimensions, batches of 2,000, 2
#: shared cores, loaded machine): 10k rows stored: indexed COPY 101 rows/s, plain COPY 14.7k rows/s, build 846
#: rows/s -> 0.14; 40k stored: 75, 23.3k, 608 -> 0.14. DESIGN.md's quieter figures (240-430 rows/s indexed,
#: 72k COPY, 100k built in 29 s) give 0.08-0.14; the issue's 900 rows/s indexed gives 0.36.
BULK_LOAD_MIN_FRACTION = 0.15

#: Budget for the build and the insert, per row, on top of the adapter's statement timeout: 5 ms a row is ten
#: times the slowest build rate measured here, so the timeout only stops a server that has stalled.
BUDGET_MS_PER_ROW = 5.0

#: The canonical index name okai's schema (and ElizaOS 0.1.9's) gives the memories vector index.
INDEX_NAME = "idx_memories_embedding"

_STATE = """
SELECT c.relkind::text,
       greatest(c.reltuples, 0)::bigint,
       i.indexrelid::regclass::text,
       i.indexrelid::bigint,
       i.indisvalid,
       pg_get_indexdef(i.indexrelid)
FROM pg_class AS c
LEFT JOIN pg_index AS i
       ON i.indrelid = c.oid
      AND EXISTS (SELECT 1 FROM pg_class AS ic JOIN pg_am AS am ON am.oid = ic.relam
                  WHERE ic.oid = i.indexrelid AND am.amname IN ('hnsw', 'ivfflat'))
WHERE c.oid = to_regclass(%s)
ORDER BY i.indexrelid
"""


@dataclass(frozen=True)
class VectorIndex:
    """One HNSW or IVFFlat index on the table: its name, OID, whether it is valid, its CREATE INDEX text."""

    name: str
    oid: int
    valid: bool
    definition: str


@dataclass(frozen=True)
class IndexState:
    """What the bulk path needs to know about the table before a load.

    Example:
        >>> IndexState("r", 10, ()).needs_repair
        True
    """

    relkind: str
    table_rows: int
    indexes: tuple[VectorIndex, ...]

    @property
    def needs_repair(self) -> bool:
        """No valid vector index, or an invalid one: left by an interrupted load or a failed concurrent build."""
        return not any(i.valid for i in self.indexes) or any(not i.valid for i in self.indexes)


def index_state(conn: Conn, table: str = "memories") -> IndexState:
    """The table's kind, estimated rows (``reltuples``, kept by every index build and ANALYZE) and vector indexes.

    Example:
        >>> index_state(conn).indexes[0].name               # doctest: +SKIP
        'idx_memories_embedding'
    """
    rows = conn.execute(_STATE, (table,)).fetchall()
    if not rows:
        return IndexState("", 0, ())
    indexes = tuple(VectorIndex(r[2], int(r[3]), bool(r[4]), str(r[5])) for r in rows if r[2] is not None)
    return IndexState(str(rows[0][0]), int(rows[0][1]), indexes)


def takes_bulk_path(batch_rows: int, table_rows: int, *, min_rows: int, min_fraction: float) -> bool:
    """Whether a batch is large enough, alone and against the table, for the bulk path (see the constants).

    Example:
        >>> takes_bulk_path(10_000, 100_000, min_rows=5_000, min_fraction=0.5)
        False
    """
    return batch_rows >= min_rows and batch_rows >= min_fraction * table_rows


#: What an HNSW build holds besides its elements (memory contexts, the first blocks): measured with 3,000 x 384
#: (tests/adapters/test_bulk_build_memory.py) the graph stopped fitting after 2,791 elements in 6.5 MB, ~0.5 MB
#: more than 2,251 bytes an element (the 32 MB figure) explains; budgeted here as 1 MB.
HNSW_BUILD_FIXED_BYTES = 2**20


def hnsw_element_bytes(dimension: int, *, half: bool = False) -> int:
    """Memory one element of an HNSW graph (m = 16) takes while pgvector builds it: the vector (8-byte header and
    values) and ~720 bytes of neighbour lists and element header (see :func:`maintenance_work_mem_mb`).

    Example:
        >>> hnsw_element_bytes(384)
        2264
    """
    return dimension * (2 if half else 4) + 8 + 720


def maintenance_work_mem_mb(rows: int, dimension: int, *, half: bool = False) -> int:
    """``maintenance_work_mem`` for building an HNSW index over ``rows`` vectors: the graph must fit in it or
    the build slows down several times (pgvector's README). Measured with pgvector 0.8 (bench/bulk.py's
    vectors, m = 16): a 32 MB build of 384 dimensions noticed "hnsw graph no longer fits into
    maintenance_work_mem after 14907 tuples", 2,251 bytes an element: its vector (8-byte header + values) and
    ~707 bytes of neighbour lists and element header, budgeted here as 720; 30 % slack on top; at least 64 MB, at
    most a quarter of the machine's memory. (The previous estimate, 384 bytes of neighbours, left 100k x 384 a
    16 % margin; spilling turned a 30k build from 30 CPU s into 96 on this machine.)

    Example:
        >>> maintenance_work_mem_mb(100_000, 384)
        320
    """
    per_row = hnsw_element_bytes(dimension, half=half)
    want = int((rows * per_row * 1.3 + HNSW_BUILD_FIXED_BYTES) / 2**20) + 1
    try:
        ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        ram_mb = 4096
    return max(64, min(-(-want // 64) * 64, max(64, ram_mb // 4)))


def canonical_index_sql(vector_type: str, table: str = "memories") -> sql.Composed:
    """The CREATE INDEX okai's schema builds (migration 0002), for a table left without any vector index.

    Example:
        >>> "hnsw" in canonical_index_sql("vector").as_string(None)  # doctest: +SKIP
        True
    """
    return sql.SQL("CREATE INDEX {} ON {} USING hnsw ({} {})").format(
        sql.Identifier(INDEX_NAME),
        sql.Identifier(table),
        sql.Identifier("embedding"),
        sql.SQL(f"{vector_type}_cosine_ops"),
    )


@dataclass
class BuildSettings:
    """How to build: memory for the graph, parallel workers, and the statement timeout for the build."""

    maintenance_work_mem_mb: int
    parallel_workers: int
    statement_timeout_ms: int


def build_settings(rows: int, dimension: int, *, half: bool, base_timeout_ms: int) -> BuildSettings:
    """Build settings for an index over ``rows`` rows; one parallel worker per spare core (at most 4).

    Example:
        >>> build_settings(1000, 8, half=False, base_timeout_ms=30_000).statement_timeout_ms
        35000
    """
    workers = max(0, min(4, (os.cpu_count() or 1) - 1))
    timeout = 0 if base_timeout_ms <= 0 else int(base_timeout_ms + rows * BUDGET_MS_PER_ROW)
    return BuildSettings(maintenance_work_mem_mb(rows, dimension, half=half), workers, timeout)


def apply_build_settings(conn: Conn, s: BuildSettings) -> None:
    """Set the build's settings for the current transaction only (SET LOCAL)."""
    conn.execute(
        "SELECT set_config('maintenance_work_mem', %s, true), set_config('max_parallel_maintenance_workers', %s, true),"
        " set_config('statement_timeout', %s, true)",
        (f"{s.maintenance_work_mem_mb}MB", str(s.parallel_workers), f"{s.statement_timeout_ms}ms"),
    )


def drop_vector_indexes(conn: Conn, indexes: tuple[VectorIndex, ...]) -> None:
    """Drop the indexes without blocking readers (autocommit: ``DROP INDEX CONCURRENTLY`` refuses a transaction)."""
    for i in indexes:
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.SQL(i.name)))


def definitions_to_build(state: IndexState, vector_type: str) -> list[Query]:
    """The indexes to build after the load: the valid ones as they were, or okai's own when none is valid."""
    valid: list[Query] = [sql.SQL(i.definition) for i in state.indexes if i.valid]  # pg_get_indexdef quotes
    return valid or [canonical_index_sql(vector_type)]


@contextlib.contextmanager
def build_progress(url: str, pid: int, *, enabled: bool, connect_timeout_s: float) -> Iterator[None]:
    """A progress bar fed by ``pg_stat_progress_create_index`` for backend ``pid``, polled from a second
    connection in a thread while the block runs (nothing when not ``enabled``).

    Example:
        >>> with build_progress(url, conn.info.backend_pid, enabled=True, connect_timeout_s=2):  # doctest: +SKIP
        ...     conn.execute("CREATE INDEX ...")
    """
    if not enabled:
        yield
        return
    from tqdm.auto import tqdm

    stop = threading.Event()

    def poll() -> None:
        query = (
            "SELECT phase, tuples_total, tuples_done, blocks_total, blocks_done "
            "FROM pg_stat_progress_create_index WHERE pid = %s"
        )
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(url, autocommit=True, connect_timeout=max(2, int(connect_timeout_s))) as c,
            tqdm(desc="index build", unit="row", leave=True) as bar,
        ):
            while not stop.wait(0.5):
                row = c.execute(query, (pid,)).fetchone()
                if row is None:
                    continue
                phase, tt, td, bt, bd = row
                total, done = (tt, td) if tt else (bt, bd)
                bar.unit = "row" if tt else "block"
                if total and bar.total != total:
                    bar.reset(total=total)
                bar.n = done or 0
                bar.set_postfix_str(str(phase))
                bar.refresh()

    t = threading.Thread(target=poll, name="okai-index-progress", daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(timeout=5)


_LOCK = "SELECT pg_advisory_lock(hashtextextended('okai-bulk-load:memories', 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('okai-bulk-load:memories', 0))"


@dataclass
class BulkLoad:
    """One bulk load of memories on one autocommit connection; see the module docstring for the steps.

    :meth:`run` does a whole ``create_memories`` batch; ``okai-insight copy`` uses the three steps around its own
    transaction: :meth:`drop_indexes` before it, :meth:`build_indexes` inside it just before the commit, and
    :meth:`restore_indexes` after a rollback.

    Example:
        >>> load = BulkLoad(conn, url, "vector", 384, 30_000, 2.0)     # doctest: +SKIP
        >>> load.drop_indexes()                                         # doctest: +SKIP
    """

    conn: Conn
    url: str
    vector_type: str
    dimension: int
    base_timeout_ms: int
    connect_timeout_s: float
    progress: bool = False
    definitions: list[Query] = field(default_factory=list)
    table_rows: int = 0
    #: pgvector's notices that the graph outgrew ``maintenance_work_mem`` during this loader's builds (each one
    #: also logged as a warning): empty when the sizing held.
    spilled: list[str] = field(default_factory=list)
    _settings: BuildSettings | None = None

    def drop_indexes(self) -> None:
        """Record the vector indexes' definitions (or okai's own when none is valid) and drop them all."""
        state = index_state(self.conn)
        self.definitions = definitions_to_build(state, self.vector_type)
        self.table_rows = state.table_rows
        drop_vector_indexes(self.conn, state.indexes)

    def build_indexes(self, added_rows: int) -> None:
        """Build the recorded indexes once, in the connection's current transaction, showing progress if asked."""
        c = self.conn
        self._settings = build_settings(
            self.table_rows + added_rows,
            self.dimension,
            half=self.vector_type == "halfvec",
            base_timeout_ms=self.base_timeout_ms,
        )
        apply_build_settings(c, self._settings)

        def spill(d: psycopg.errors.Diagnostic) -> None:
            # A spilled graph is finished on disk, several times slower: the sizing is wrong, say so.
            if "no longer fits into maintenance_work_mem" in (d.message_primary or ""):
                self.spilled.append(str(d.message_primary))
                _log.warning("%s (bulk load: %s)", d.message_primary, self._settings)

        c.add_notice_handler(spill)
        try:
            with build_progress(
                self.url, c.info.backend_pid, enabled=self.progress, connect_timeout_s=self.connect_timeout_s
            ):
                for d in self.definitions:
                    c.execute(d)
        finally:
            c.remove_notice_handler(spill)

    def restore_indexes(self) -> None:
        """After a rolled-back load: the indexes as they were, on the same connection (a dead one cannot: then
        the doctor reports the missing index and the next load builds it)."""
        c = self.conn
        if c.closed or c.broken or not self.definitions:
            return
        with contextlib.suppress(psycopg.Error), c.transaction():
            self.build_indexes(0)

    def run(self, batch_rows: int, copy_sql: Callable[[str], Query], write_rows: Callable[[Any], None]) -> None:
        """Stage, check, drop the index, insert and build in one transaction; restore the index on failure."""
        c = self.conn
        staging = f"okai_bulk_{uuid.uuid4().hex[:12]}"
        ident = sql.Identifier(staging)
        c.execute(_LOCK)  # one bulk load at a time: two would drop and build the same index
        try:
            c.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE memories INCLUDING DEFAULTS)").format(ident))
            with c.cursor().copy(copy_sql(staging)) as cp:
                write_rows(cp)
            dup = c.execute(
                sql.SQL('SELECT s."id" FROM {} AS s JOIN memories AS m USING ("id") LIMIT 1').format(ident)
            ).fetchone()
            if dup is not None:
                raise DuplicateId(f"a memory in the batch already exists: id {dup[0]}")
            self.drop_indexes()  # read under the lock: another loader may have just rebuilt it
            try:
                with c.transaction():
                    c.execute(sql.SQL("INSERT INTO memories SELECT * FROM {}").format(ident))
                    self.build_indexes(batch_rows)
            except BaseException:
                self.restore_indexes()
                raise
        finally:
            with contextlib.suppress(psycopg.Error):
                if not c.closed and c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    c.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
                    c.execute(_UNLOCK)
