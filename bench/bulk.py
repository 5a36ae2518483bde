"""Bulk loads against COPY with the HNSW index in place (issue 17 item 1), end to end including the index build.

Four scenarios, each in the same run on fresh databases of one embedded server: ``rows`` x 384 into an empty
indexed table; ``rows`` appended to a table already holding ``rows``; ``okai-insight copy`` of an agent of
``rows`` memories PostgreSQL -> PostgreSQL and SQLite -> PostgreSQL. The baseline is a binary COPY straight into
the indexed table (what any writer gets); ours is ``PostgresAdapter.create_memories`` (which takes the bulk path)
and ``copy_database`` (verified, one transaction, index built once). ``--repeat`` runs the first two scenarios
that many times on fresh databases, alternating which side goes first, and reports medians.
``--crossover`` measures the rates behind ``okai_insight.adapters._bulk_load``'s thresholds instead.

Example:
    >>> main(["--rows", "2000"])                       # doctest: +SKIP
    0
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg

import okai_insight
import okai_insight.copy as copy_module
from bench import _sections as sections
from bench._data import mixture, topics
from bench._server import bench_server, create_database
from okai_insight.adapters._pg_vector import register_vector_types
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.copy import copy_database
from okai_insight.models import Memory

DIM = 384
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_COPY = 'COPY memories ("id", "type", "content", "embedding", "roomId") FROM STDIN (FORMAT BINARY)'


def _vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    out: np.ndarray = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


#: The vectors loaded. ``mixture``: bench/_data.py's topic mixture, the data of every other section, clustered
#: with a low intrinsic dimension as sentence embeddings are. ``noise``: isotropic Gaussian noise on the sphere, the
#: worst case for an HNSW build (no neighbourhood structure to follow): the same 100k x 384 build costs several
#: times the CPU (docs/benchmarks.md has both).
DATA_KINDS = ("mixture", "noise")


def datasets(rows: int, kind: str = "mixture", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint sets of ``rows`` unit vectors of one distribution (the load, then the rows appended to it).

    Example:
        >>> a, b = datasets(300, "mixture")
        >>> a.shape == b.shape == (300, DIM), bool(np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5))
        (True, True)
    """
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return _vectors(rng, rows), _vectors(rng, rows)
    if kind != "mixture":
        raise ValueError(f"data is one of {', '.join(DATA_KINDS)}, got {kind!r}")
    centres, bases, weights = topics(max(8, min(1000, rows // 100)), DIM, 24, rng)
    return mixture(rows, centres, bases, weights, rng), mixture(rows, centres, bases, weights, rng)


def _room(url: str) -> uuid.UUID:
    room = uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as c:
        c.execute('INSERT INTO rooms ("id") VALUES (%s)', (room,))
    return room


def raw_copy(url: str, vectors: np.ndarray, room: uuid.UUID) -> float:
    """Seconds for one binary COPY of ``vectors`` into ``memories`` as it is (with its index, if any).

    Example:
        >>> raw_copy(url, _vectors(np.random.default_rng(0), 10), room) > 0    # doctest: +SKIP
        True
    """
    with psycopg.connect(url, autocommit=True) as c:
        register_vector_types(c)
        t = time.perf_counter()
        with c.cursor().copy(_COPY) as cp:
            cp.set_types(["uuid", "text", "jsonb", "vector", "uuid"])
            for v in vectors:
                cp.write_row((uuid.uuid4(), "messages", '{"text": "x"}', v, room))
        return time.perf_counter() - t


def _memories(vectors: np.ndarray, room: uuid.UUID) -> Iterator[Memory]:
    for v in vectors:
        yield Memory(room_id=room, content={"text": "x"}, embedding=v)


def ours(db: PostgresAdapter, vectors: np.ndarray, room: uuid.UUID, *, progress: bool = False) -> float:
    """Seconds for ``create_memories`` of ``vectors`` (Memory objects built outside the timing).

    Example:
        >>> ours(db, _vectors(np.random.default_rng(0), 10), room) > 0       # doctest: +SKIP
        True
    """
    batch = list(_memories(vectors, room))
    t = time.perf_counter()
    db.create_memories(batch, "messages", progress=progress)
    return time.perf_counter() - t


def _adapter(url: str) -> PostgresAdapter:
    db = PostgresAdapter(url, dimension=DIM)
    db.init()
    return db


def _fill(url: str, db: PostgresAdapter, vectors: np.ndarray, room: uuid.UUID) -> None:
    """The table before an append that is measured alone: ``vectors`` loaded without the index, then indexed (the
    state an indexed COPY of them leaves, reached in a fraction of its time)."""
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP INDEX idx_memories_embedding")
    raw_copy(url, vectors, room)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("SET maintenance_work_mem = '512MB'")
        c.execute("CREATE INDEX idx_memories_embedding ON memories USING hnsw (embedding vector_cosine_ops)")
        c.execute("VACUUM ANALYZE memories")


def _pair(
    admin: str, data: np.ndarray, more: np.ndarray, *, ours_first: bool, measure_empty: bool = True
) -> dict[str, tuple[float, float]]:
    """One round of the empty and append scenarios on fresh databases; ``ours_first`` picks which side loads first.
    Without ``measure_empty`` both tables are filled by :func:`_fill` and only the append is timed."""
    base_url, our_url = create_database(admin, "bulk_base"), create_database(admin, "bulk_ours")
    base_db, our_db = _adapter(base_url), _adapter(our_url)
    base_room, our_room = _room(base_url), _room(our_url)
    out: dict[str, tuple[float, float]] = {}
    try:
        steps: tuple[tuple[str, np.ndarray], ...] = (("empty", data), ("append", more))
        if not measure_empty:
            _fill(base_url, base_db, data, base_room)
            _fill(our_url, our_db, data, our_room)
            steps = (("append", more),)
        for key, vectors in steps:
            # Both tables hold the previous step's rows with a valid index: load ``vectors`` into each.
            if ours_first:
                mine = ours(our_db, vectors, our_room)
                base = raw_copy(base_url, vectors, base_room)
            else:
                base = raw_copy(base_url, vectors, base_room)
                mine = ours(our_db, vectors, our_room)
            out[key] = (base, mine)
            print(f"{key}: COPY with index {base:.1f} s, okai {mine:.1f} s ({base / mine:.1f}x)", flush=True)
    finally:
        base_db.close()
        our_db.close()
    return out


def _tasks_cpu_ns(pid: int) -> int:
    """Nanoseconds the threads of ``pid`` have run on a CPU (/proc/PID/task/*/schedstat, first field)."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(stat.read_text().split()[0])
    return total


class CpuTime:
    """CPU seconds the benchmark process and the embedded server's processes (backends, parallel workers) used
    while the block ran, sampled twice a second (a process that exits loses at most its last half second).

    On a machine shared with other work wall time mostly measures the others; the CPU the work itself needed does
    not depend on them (much: caches and frequency do). On idle cores the same work would take between half of it
    (the client and the server always running at once on 2 cores) and all of it (strictly taking turns), plus I/O.

    Example:
        >>> with CpuTime(admin_url) as cpu:               # doctest: +SKIP
        ...     copy_database(a, b)
        >>> cpu.seconds                                    # doctest: +SKIP
        41.2
    """

    def __init__(self, admin_url: str) -> None:
        host = urllib.parse.parse_qs(urllib.parse.urlsplit(admin_url).query)["host"][0]
        self.postmaster = int((Path(host) / "postmaster.pid").read_text().split()[0])
        self.seen: dict[int, tuple[int, int]] = {}  # pid -> (first sample, last sample)
        self.seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _pids(self) -> list[int]:
        pids = [os.getpid(), self.postmaster]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == self.postmaster:
                    pids.append(int(stat.parent.name))
        return pids

    def _sample(self, first: bool) -> None:
        for pid in self._pids():
            ns = _tasks_cpu_ns(pid)
            start = self.seen.get(pid, (0 if not first else ns, 0))[0]
            self.seen[pid] = (start, max(ns, self.seen.get(pid, (0, 0))[1]))

    def _poll(self) -> None:
        while not self._stop.wait(0.5):
            self._sample(first=False)

    def __enter__(self) -> CpuTime:
        self._sample(first=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample(first=False)
        self.seconds = sum(last - first for first, last in self.seen.values()) / 1e9


class PhaseTimer(CpuTime):
    """:class:`CpuTime` that also splits the wall and CPU seconds by the copy's phases (``okai_insight.copy``'s
    ``PHASE_TIMER`` hook: read, write, verify counts, verify source/target checksum, index build).

    At a phase's ends only the processes already known are re-read (a handful of /proc files, ~0.5 ms: listing
    /proc costs ~10 ms, too much twice a batch); the background poll finds new ones (a parallel maintenance
    worker), whose CPU from their start is counted in the phase that sees them. What no phase covers (opening,
    schema creation, counting, dropping the index, the commit) is the difference to the total.

    Example:
        >>> with PhaseTimer(admin_url) as cpu:             # doctest: +SKIP
        ...     copy_database(a, b)
        >>> cpu.phases["index build"]                      # doctest: +SKIP
        (14.2, 27.9)
    """

    def __init__(self, admin_url: str) -> None:
        super().__init__(admin_url)
        self.phases: dict[str, tuple[float, float]] = {}  # name -> (wall seconds, CPU seconds)
        self._lock = threading.Lock()

    def _sample(self, first: bool) -> None:
        with self._lock:
            super()._sample(first)

    def _used_ns(self) -> int:
        with self._lock:
            for pid, (start, last) in list(self.seen.items()):
                self.seen[pid] = (start, max(last, _tasks_cpu_ns(pid)))
            return sum(last - start for start, last in self.seen.values())

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the block's wall and CPU seconds to ``phases[name]``."""
        cpu, wall = self._used_ns(), time.perf_counter()
        try:
            yield
        finally:
            w, c = self.phases.get(name, (0.0, 0.0))
            self.phases[name] = (w + time.perf_counter() - wall, c + (self._used_ns() - cpu) / 1e9)


Phases = dict[str, tuple[float, float]]


def _copy_once(source: str, admin: str) -> tuple[float, float, Phases]:
    """Seconds of one verified copy into a fresh database, the CPU seconds it used (client and server), and both
    by phase (``other``: what no phase covers)."""
    target = create_database(admin, "bulk_copy_target")
    cpu = PhaseTimer(admin)
    with cpu:
        copy_module.PHASE_TIMER = cpu.phase
        try:
            t = time.perf_counter()
            report = copy_database(source, target, progress=False)
            seconds = time.perf_counter() - t
        finally:
            copy_module.PHASE_TIMER = None
    assert report.rows["memories"] > 0  # verified by copy_database itself (counts and checksums)
    phases = dict(cpu.phases)
    phases["other"] = (
        seconds - sum(w for w, _ in phases.values()),
        cpu.seconds - sum(c for _, c in phases.values()),
    )
    detail = ", ".join(f"{k} {w:.1f} s / {c:.1f} CPU s" for k, (w, c) in phases.items())
    print(f"  copy {seconds:.1f} s wall, {cpu.seconds:.1f} CPU s (client + server): {detail}", flush=True)
    return seconds, cpu.seconds, phases


SCENARIOS = ("empty", "append", "copy")


def estimate_seconds(rows: int, scenarios: tuple[str, ...] = SCENARIOS) -> float:
    """Wall seconds a run should take on a quiet 2-core machine, from DESIGN.md's quiet rates: COPY into the
    indexed table ~240 rows/s (its lower end: the baselines dominate), COPY without the index 72k rows/s, one
    HNSW build ~29 s per 100k rows (x 2.2 for 200k: n log n); a copy ~ one build + ~15 s per 100k of reading,
    writing and checking; the copy's two sources are filled first (bulk path, SQLite ~5k rows/s).

    Example:
        >>> round(estimate_seconds(100_000) / 60)
        18
    """
    k = rows / 100_000
    build = 29.0 * k
    total = 0.0
    if "empty" in scenarios or "append" in scenarios:
        total += rows / 240 + rows / 72_000 + build  # empty: the baseline, then ours (append needs it filled)
    if "append" in scenarios:
        total += rows / 240 + rows / 72_000 + 2.2 * build
    if "copy" in scenarios:
        total += (rows / 72_000 + build) + rows / 5_000 + 2 * (build + 15 * k)
    return total


def run(
    rows: int,
    admin: str,
    *,
    repeat: int = 1,
    scenarios: tuple[str, ...] = SCENARIOS,
    phases: dict[str, Phases] | None = None,
    data_kind: str = "mixture",
) -> dict[str, tuple[float, float]]:
    """{scenario: (baseline seconds, ours seconds)}, medians over ``repeat`` rounds (copies: ``repeat`` each);
    ``phases`` receives each copy direction's phases (its last round); ``data_kind``: see :data:`DATA_KINDS`.

    Example:
        >>> run(1000, admin_url)["empty"][0] > 0                             # doctest: +SKIP
        True
    """
    data, more = datasets(rows, data_kind)
    out: dict[str, tuple[float, float]] = {}
    loads = [k for k in ("empty", "append") if k in scenarios]
    if loads:
        # "append" needs the table "empty" filled: both run (empty's figures are reported only when asked for).
        measure_empty = "empty" in scenarios
        rounds = [_pair(admin, data, more, ours_first=bool(i % 2), measure_empty=measure_empty) for i in range(repeat)]
        for key in loads:
            out[key] = (statistics.median(r[key][0] for r in rounds), statistics.median(r[key][1] for r in rounds))
    if "copy" not in scenarios:
        return out

    source = create_database(admin, "bulk_copy_source")
    src = _adapter(source)
    ours(src, data, _room(source))
    src.close()
    with tempfile.TemporaryDirectory(prefix="okai-bench-bulk-") as tmp:
        lite_url = f"sqlite:///{tmp}/agent.db"
        lite = okai_insight.connect(lite_url, dimension=DIM)
        lite.init()
        room = uuid.uuid4()
        lite.create_room(room)
        for lo in range(0, rows, 10_000):
            lite.create_memories(list(_memories(data[lo : lo + 10_000], room)), "messages")
        lite.close()
        for name, url in (("copy", source), ("copy_sqlite", lite_url)):
            runs = [_copy_once(url, admin) for _ in range(repeat)]
            out[name] = (float("nan"), statistics.median(t for t, _, _ in runs))
            # The CPU the copy used: what it needs of idle cores, whatever else the machine runs (see CpuTime).
            out[name + "_cpu"] = (float("nan"), statistics.median(c for _, c, _ in runs))
            if phases is not None:
                phases[name] = runs[-1][2]
            print(f"{name}: {', '.join(f'{t:.1f} s ({c:.1f} CPU s)' for t, c, _ in runs)}", flush=True)
    return out


def crossover(admin: str, table_rows: tuple[int, ...] = (0, 10_000, 40_000), batch: int = 2_000) -> list[str]:
    """Lines of rows/s with and without the index and of the build, at a few table sizes.

    Example:
        >>> crossover(admin_url, (0,), 100)[0].startswith("N=0")             # doctest: +SKIP
        True
    """
    rng = np.random.default_rng(1)
    lines = []
    for n in table_rows:
        url = create_database(admin, f"bulk_x{n}")
        _adapter(url).close()
        room = _room(url)
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("DROP INDEX idx_memories_embedding")
        if n:
            raw_copy(url, _vectors(rng, n), room)
        create = "CREATE INDEX idx_memories_embedding ON memories USING hnsw (embedding vector_cosine_ops)"
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(create)
        indexed = raw_copy(url, _vectors(rng, batch), room)
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("DROP INDEX idx_memories_embedding")
        plain = raw_copy(url, _vectors(rng, batch), room)
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("SET maintenance_work_mem = '512MB'")
            t = time.perf_counter()
            c.execute(create)
            build = time.perf_counter() - t
        total = n + 2 * batch
        r_i, r_p, r_b = batch / indexed, batch / plain, total / build
        ratio = (1 / r_b) / (1 / r_i - 1 / r_p - 1 / r_b)
        lines.append(
            f"N={n} batch={batch}: indexed COPY {r_i:.0f} rows/s, plain COPY {r_p:.0f} rows/s, build of {total} rows "
            f"{build:.1f} s ({r_b:.0f} rows/s): bulk wins above batch/table = {ratio:.2f}"
        )
        print(lines[-1], flush=True)
    return lines


def render(
    rows: int,
    out: dict[str, tuple[float, float]],
    *,
    command: str,
    note: str,
    phases: dict[str, Phases] | None = None,
) -> str:
    """The docs section: the scenarios, then each copy direction's time by phase.

    Example:
        >>> "x faster" in render(10, {"empty": (2.0, 1.0)}, command="c", note="n")
        True
    """
    lines = [
        "## Bulk loads (bench/bulk.py)",
        "",
        f"`{command}`, {dt.date.today().isoformat()}, {rows:,} x {DIM} vectors, 2 cores. {note}",
        "",
        "Issue 17 item 1's goals, end to end: okai's time includes checking every Memory, the COPY into a staging",
        "table, the insert and the one index build (maintenance_work_mem sized to the graph, 1 parallel worker on 2",
        "cores); the baseline is a binary COPY straight into the indexed table, same run. Goals at 100,000: empty",
        ">= 4x, append >= 2x, each copy direction < 60 s (verified: row counts and embedding checksums, one",
        "transaction, the index built once before the commit). CPU seconds (client and server processes,",
        "`/proc/*/schedstat`) do not depend on what else the machine runs; wall time does.",
        "",
        "| scenario | COPY with the index in place | okai (bulk path, index built once) | speed-up |",
        "|---|---|---|---|",
    ]
    names = {
        "empty": f"{rows:,} into an empty indexed table",
        "append": f"{rows:,} appended to a table holding {rows:,}",
        "copy": f"okai-insight copy of {rows:,} memories, PostgreSQL -> PostgreSQL",
        "copy_sqlite": f"okai-insight copy of {rows:,} memories, SQLite -> PostgreSQL",
        "copy_cpu": "the same, PostgreSQL -> PostgreSQL: CPU seconds used, client + server",
        "copy_sqlite_cpu": "the same, SQLite -> PostgreSQL: CPU seconds used, client + server",
    }
    for key, (base, mine) in out.items():
        if base == base:  # not NaN
            lines.append(
                f"| {names[key]} | {base:.1f} s ({rows / base:,.0f} rows/s) | {mine:.1f} s ({rows / mine:,.0f} rows/s) "
                f"| {base / mine:.1f}x faster |"
            )
        elif key.endswith("_cpu"):
            lines.append(f"| {names[key]} | - | {mine:.1f} CPU s | - |")
        else:
            lines.append(f"| {names[key]} | - | {mine:.1f} s (verified, one transaction) | - |")
    if phases:
        directions = [d for d in ("copy", "copy_sqlite") if d in phases]
        heads = {"copy": "PostgreSQL -> PostgreSQL", "copy_sqlite": "SQLite -> PostgreSQL"}
        lines += [
            "",
            "Where each copy's time goes (wall s / CPU s, client + server processes; `other`: opening, schema,",
            "counting, dropping the index, the commit):",
            "",
            "| phase | " + " | ".join(heads[d] for d in directions) + " |",
            "|---|" + "---|" * len(directions),
        ]
        names_seen = list(dict.fromkeys(n for d in directions for n in phases[d]))
        for n in names_seen:
            cells = [phases[d].get(n, (0.0, 0.0)) for d in directions]
            lines.append(f"| {n} | " + " | ".join(f"{w:.1f} / {c:.1f}" for w, c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the bulk benchmark and optionally write its docs section (``--record``).

    Example:
        >>> main(["--rows", "2000"])                   # doctest: +SKIP
        0
    """
    p = argparse.ArgumentParser(prog="python -m bench.bulk")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=1, help="rounds of each scenario; medians are reported")
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated subset of {','.join(SCENARIOS)}")
    p.add_argument("--crossover", action="store_true", help="measure the bulk-path thresholds instead")
    p.add_argument("--record", action="store_true", help=f"write the section of {DOCS.name}")
    p.add_argument("--note", default="", help="what to say about the machine (e.g. shared, loaded)")
    p.add_argument("--data", choices=DATA_KINDS, default="mixture", help="the vectors loaded (see DATA_KINDS)")
    a = p.parse_args(argv)
    with bench_server() as admin:
        if a.crossover:
            lines = crossover(admin)
            if a.record:  # a section of its own, so the scenario run never overwrites it
                body = (
                    "### Where the bulk path starts (bench/bulk.py --crossover)\n\n`python -m bench.bulk --crossover`"
                )
                body += f", {dt.date.today().isoformat()}. {a.note}\n\n" + "\n".join(f"- {x}" for x in lines) + "\n"
                sections.write_section(DOCS, "bench.bulk_crossover", body)
            return 0
        chosen = tuple(x.strip() for x in a.scenarios.split(",") if x.strip())
        unknown = set(chosen) - set(SCENARIOS)
        if unknown:
            p.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
        guess = estimate_seconds(a.rows, chosen) * a.repeat
        print(f"estimated duration on a quiet 2-core machine: ~{guess / 60:.0f} min (see estimate_seconds)", flush=True)
        started = time.perf_counter()
        phases: dict[str, Phases] = {}
        out = run(a.rows, admin, repeat=a.repeat, scenarios=chosen, phases=phases, data_kind=a.data)
        took = time.perf_counter() - started
    command = f"python -m bench.bulk --rows {a.rows} --repeat {a.repeat} --scenarios {','.join(chosen)} --data {a.data}"
    said = f"{a.note.rstrip('.')}. " if a.note else ""
    note = said + f"Medians of {a.repeat} round(s); the run took {took / 60:.1f} min."
    section = render(a.rows, out, command=command, note=note, phases=phases)
    print(section)
    if a.record:
        sections.write_section(DOCS, "bench.bulk", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
