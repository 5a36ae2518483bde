"""Benchmark of the SQLite (file) and in-memory adapters: ingest throughput, top-10 latency and recall@10.

Same clustered data as the PostgreSQL benchmark (:mod:`bench._data`). Everything goes through the public adapter
API: ``create_memories`` in batches, ``search_memories_by_embedding`` unfiltered and scoped to one room. Both
adapters search exactly (sqlite-vec's ``vec0`` is a flat index), so recall@10 should be 1.0; the figure is checked,
not assumed. Latency is wall-clock on a shared 2-core machine, so run it alone.

Example:
    $ python -m bench.adapters_lite                        # 100k x 384, prints the Markdown section
    $ python -m bench.adapters_lite --rows 5000 --dim 64   # a smoke test
    $ python -m bench.adapters_lite --record               # also replace its section in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import _sections as sections
from bench._data import Dataset, exact_top_k, make_dataset
from bench._stats import Latency, Timer, recall_at_k, summarise
from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.models import Account, Memory

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADING = "## SQLite and in-memory"
BATCH = 1000


@dataclass(frozen=True)
class LiteResult:
    """One adapter's figures."""

    adapter: str
    rows: int
    ingest_rows_per_s: float
    search: Latency
    search_cpu_p50_ms: float
    recall: float
    room_search: Latency
    room_recall: float


def _open(name: str, work_dir: str, dim: int) -> DatabaseAdapter:
    if name == "sqlite":
        from okai_insight.adapters.sqlite import SqliteAdapter

        path = Path(work_dir) / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return SqliteAdapter(f"sqlite:///{path}", dimension=dim)
    from okai_insight.adapters.memory import MemoryAdapter

    return MemoryAdapter("memory://", dimension=dim)


def _ingest(db: DatabaseAdapter, data: Dataset) -> float:
    for uid in [*data.users, data.agent]:
        db.create_account(Account(id=uid, name=str(uid)[:8], email=f"{uid}@example.org"))
    for room in data.rooms:
        db.create_room(room)
    memories = [
        Memory(
            id=data.ids[i],
            room_id=data.rooms[int(data.room_of_row[i])],
            user_id=data.users[int(data.user_of_row[i])],
            agent_id=data.agent,
            content={"text": data.texts[i]},
            embedding=data.embeddings[i],
        )
        for i in range(len(data.ids))
    ]
    with Timer() as t:
        for start in range(0, len(memories), BATCH):
            db.create_memories(memories[start : start + BATCH], "messages")
    return len(memories) / t.seconds


def _search(
    db: DatabaseAdapter, data: Dataset, *, by_room: bool
) -> tuple[Latency, float, list[list[object]], list[list[object]]]:
    """Time every query first (wall and this thread's CPU: SQLite runs in the calling thread), then compute the
    exact answers, so numpy's BLAS threads never run beside a timed search."""
    samples: list[float] = []
    cpu: list[float] = []
    found: list[list[object]] = []
    rooms = [j % len(data.rooms) if by_room else None for j in range(len(data.queries))]
    for q, room in zip(data.queries, rooms, strict=True):
        start, start_cpu = time.perf_counter(), time.thread_time()
        hits = db.search_memories_by_embedding(
            q, table_name="messages", count=10, room_id=None if room is None else data.rooms[room]
        )
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
        found.append([h.id for h in hits])
    truth: list[list[object]] = []
    for q, room in zip(data.queries, rooms, strict=True):
        if room is None:
            rows = exact_top_k(data.embeddings, q[None, :], k=10)[0]
        else:
            members = np.flatnonzero(data.room_of_row == room)
            rows = members[exact_top_k(data.embeddings[members], q[None, :], k=10)[0]]
        truth.append([data.ids[int(i)] for i in rows])
    return summarise(samples), float(np.median(cpu)), truth, found


def run_one(name: str, data: Dataset, work_dir: str) -> LiteResult:
    """Ingest ``data`` into a fresh database behind adapter ``name`` (``sqlite`` or ``memory``) and search it.

    Example:
        >>> run_one("memory", make_dataset(rows=300, dim=16, queries=5, rooms=3), "/tmp").recall    # doctest: +SKIP
        1.0
    """
    db = _open(name, work_dir, int(data.embeddings.shape[1]))
    db.init()
    try:
        rate = _ingest(db, data)
        _search(db, data, by_room=False)  # warm the page cache once
        latency, cpu_ms, truth, found = _search(db, data, by_room=False)
        room_latency, _, room_truth, room_found = _search(db, data, by_room=True)
    finally:
        db.close()
    return LiteResult(
        adapter=name,
        rows=len(data.ids),
        ingest_rows_per_s=rate,
        search=latency,
        search_cpu_p50_ms=cpu_ms,
        recall=recall_at_k(truth, found),
        room_search=room_latency,
        room_recall=recall_at_k(room_truth, room_found),
    )


def render(results: Sequence[LiteResult], *, command: str, data: Dataset) -> str:
    """The Markdown section (starting with :data:`HEADING`).

    Example:
        >>> render([], command="python -m bench.adapters_lite", data=make_dataset(rows=10, dim=4, queries=1))[:23]
        '## SQLite and in-memory'
    """
    rows, dim = data.embeddings.shape
    lines = [
        HEADING,
        "",
        f"{rows:,} memories x {dim} dimensions (the clustered data above), {len(data.queries)} queries near the data,"
        f" {len(data.rooms)} rooms; ingest through `create_memories` in batches of {BATCH:,}; top-10 through"
        " `search_memories_by_embedding`. Both adapters search exactly (sqlite-vec `vec0`, a flat index, then a"
        " double-precision re-rank), so recall@10 is expected to be 1.0 and is measured against numpy brute force."
        " Latencies are wall-clock on the shared 2-core machine (other work running: wall time inflates), so the"
        " top-10 search's CPU time (the calling thread's) is shown too.",
        "",
        "| adapter | ingest rows/s | top-10 p50 ms | p95 ms | CPU p50 ms | recall@10 | one room: p50 ms | p95 ms |"
        " recall@10 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        label = "SQLite file (`sqlite:///`)" if r.adapter == "sqlite" else "in-memory (`memory://`)"
        lines.append(
            f"| {label} | {r.ingest_rows_per_s:,.0f} | {r.search.p50_ms:.1f} | {r.search.p95_ms:.1f}"
            f" | {r.search_cpu_p50_ms:.1f} | {r.recall:.3f}"
            f" | {r.room_search.p50_ms:.1f} | {r.room_search.p95_ms:.1f} | {r.room_recall:.3f} |"
        )
    lines += ["", f"Command: `{command}`", ""]
    return "\n".join(lines)


def record(section: str, path: Path = DOCS) -> None:
    """Replace this benchmark's section of ``path`` between its markers (or append it), leaving the rest alone."""
    sections.write_section(path, "bench.adapters_lite", section)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print (and with ``--record`` store) its section; returns the exit code.

    Example:
        >>> main(["--rows", "500", "--dim", "16", "--queries", "5"])    # doctest: +SKIP
        0
    """
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.adapters_lite", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="memories to store (default 100000)")
    parser.add_argument("--dim", type=int, default=384, help="embedding dimensions (default 384)")
    parser.add_argument("--queries", type=int, default=100, help="search queries (default 100)")
    parser.add_argument("--adapters", default="sqlite,memory", help="comma-separated: sqlite, memory")
    parser.add_argument("--record", action="store_true", help=f"replace the section in {DOCS}")
    parser.add_argument("--work-dir", help="where the SQLite file goes (default: a temporary directory)")
    args = parser.parse_args(args_list)
    data = make_dataset(rows=args.rows, dim=args.dim, queries=args.queries, rooms=100)
    results = []
    with tempfile.TemporaryDirectory(dir=args.work_dir) as work:
        for name in args.adapters.split(","):
            if name not in ("sqlite", "memory"):
                parser.error(f"unknown adapter {name!r}: use sqlite or memory")
            results.append(run_one(name, data, work))
            print(f"{name}: done", file=sys.stderr, flush=True)
    section = render(results, command=shlex.join(["python", "-m", "bench.adapters_lite", *args_list]), data=data)
    print(section)
    if args.record:
        record(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
