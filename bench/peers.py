"""Benchmark: okai-insight against its peers — the real ElizaOS PostgreSQL adapter, and in-memory references.

Same clustered data and exact ground truth as ``bench/adapter.py``, on one throwaway embedded server:

1. **ElizaOS** (``@elizaos/adapter-postgres@0.1.9`` from npm, in ``bench/peers/node``), driven by
   ``bench/peers/eliza_bench.mjs`` over the server's Unix socket: its own ``init()`` creates its schema in database
   ``bench_eliza``; the base rows are loaded by binary COPY (ElizaOS has no bulk API; not timed) and its HNSW index
   rebuilt with its own statement; then ``createMemory`` for new rows and ``searchMemoriesByEmbedding`` for the
   queries, timed call by call inside Node. okai-insight does the same in database ``bench_okai``
   (``create_memory(unique=True)``, ``search_memories_by_embedding``), in ABBA order (ElizaOS, okai, okai, ElizaOS).
2. **In-memory references** on the same vectors: numpy exact search, and faiss and hnswlib HNSW (M 16,
   ef_construction 64, as pgvector's defaults) at the smallest ef reaching okai-insight's recall@10.
3. **Wide vectors** (50k x 1536 by default): okai-insight against raw SQL, and the plan the planner picks at each
   ``hnsw.ef_search``.

4. **langchain-postgres** ``PGVector`` and ``PGVectorStore`` (``bench/peers_langchain.py``): ingest through their
   batch API, their HNSW index, search and room-filtered search with their own best settings, and the plan of the
   statement each runs.
5. **ElizaOS 1.x** (``@elizaos/plugin-sql`` + ``@elizaos/core`` 1.7.2, pinned in ``bench/peers/eliza1``), driven by
   ``bench/peers/eliza1/eliza1_bench.mjs``: its migrations create the schema (no vector index exists in 1.x), the
   base rows are COPied into ``memories`` and ``embeddings`` (not timed), then ``createMemory`` and
   ``searchMemories`` (unfiltered and with ``roomId``), timed call by call inside Node.

Room-filtered search here: every query restricted to one room (~1 % of rows), recall against the exact top 10 of
that room; okai-insight's ``search_memories_by_embedding(room_id=...)`` in the same run. Iterative scans and the
other filtered strategies are measured by ``bench/adapter.py``.

Example:
    $ python -m bench.peers                 # full sizes, rewriting the Peers section of docs/benchmarks.md
    $ python -m bench.peers --quick         # small sizes, prints the section
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from bench import _sections as sections
from bench._data import Dataset, exact_top_k, make_dataset
from bench._report import machine
from bench._server import bench_server, create_database, server_facts
from bench._stats import Latency, Timer, recall_at_k, summarise
from bench.adapter import INDEX_SQL, RAW_SEARCH, TYPE, _adapter, _memories, _raw_conn, _scans, _seed_rows
from bench.adapter import Config as AdapterConfig
from bench.adapter import head_to_head as adapter_head_to_head

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "peers" / "node"
SCRIPT = HERE / "peers" / "eliza_bench.mjs"
ELIZA1_DIR = HERE / "peers" / "eliza1"
ELIZA1_SCRIPT = ELIZA1_DIR / "eliza1_bench.mjs"
ELIZA1_VERSION = "1.7.2"
#: ElizaOS 1.x's search as Drizzle builds it (plugin-sql dist/node/index.node.js, MemoryStore.searchByEmbedding,
#: options {tableName: "messages", count: 10}); used here only for EXPLAIN.
ELIZA1_SEARCH_SQL = (
    "SELECT memories.*, 1 - (embeddings.dim_{dim} <=> $1::vector) AS similarity, embeddings.dim_{dim} "
    "FROM embeddings INNER JOIN memories ON memories.id = embeddings.memory_id "
    "WHERE memories.type = $2 AND memories.agent_id = $3::uuid{room} "
    "ORDER BY 1 - (embeddings.dim_{dim} <=> $1::vector) DESC LIMIT 10"
)
DOCS = HERE.parent / "docs" / "benchmarks.md"
SECTION = "bench.peers"
START, END = sections.markers(SECTION)
ELIZA_VERSION = "0.1.9"
#: ElizaOS 0.1.9's search, quoted from node_modules/@elizaos/adapter-postgres/dist/index.js (searchMemoriesByEmbedding)
#: with the options the benchmark passes ({tableName: "messages", count: 10}); used here only for EXPLAIN.
ELIZA_SEARCH_SQL = (
    "SELECT *, 1 - (embedding <-> $1::vector({dim})) as similarity FROM memories WHERE type = $2 "
    "ORDER BY embedding <-> $1::vector LIMIT $3"
)
#: ElizaOS 0.1.9's index, quoted from its schema.sql (cosine operator class; its search orders by L2 ``<->``).
ELIZA_INDEX_SQL = (
    'CREATE INDEX IF NOT EXISTS idx_memories_embedding ON memories USING hnsw ("embedding" vector_cosine_ops)'
)
_ELIZA_COPY = (
    'COPY memories ("id", "type", "content", "embedding", "userId", "roomId", "agentId", "unique", "createdAt") '
    "FROM STDIN (FORMAT BINARY)"
)
_ELIZA_COPY_TYPES = ["uuid", "text", "jsonb", "vector", "uuid", "uuid", "uuid", "bool", "timestamptz"]
#: ElizaOS 0.1.9 knows these embedding sizes (getEmbeddingConfig), and the environment that selects each.
_ELIZA_DIMS = {384: {}, 1536: {"USE_OPENAI_EMBEDDING": "true"}, 1024: {"USE_OLLAMA_EMBEDDING": "true"}}


@dataclass(frozen=True)
class Config:
    """Sizes of one run. ``Config()`` is the full run; ``Config.quick()`` a smoke test (about a minute)."""

    rows: int = 100_000
    dim: int = 384
    queries: int = 200
    create_rows: int = 300
    rooms: int = 100
    batch: int = 10_000
    okai_ef: int = 100
    ann_efs: tuple[int, ...] = (10, 16, 24, 32, 48, 64, 100)
    wide_rows: int = 50_000
    wide_dim: int = 1536
    wide_queries: int = 100
    wide_efs: tuple[int, ...] = (40, 80, 100, 150, 200)
    seed: int = 42
    #: Rows each langchain-postgres store ingests through its own API, timed; the rest go in by COPY (untimed).
    lc_ingest_rows: int = 10_000
    #: The room of the filtered searches (index into the dataset's rooms).
    filter_room: int = 0

    @classmethod
    def quick(cls) -> Config:
        """Small sizes for a smoke test (ElizaOS only knows a few dimensions, so 384 stays).

        Example:
            >>> Config.quick().rows
            3000
        """
        return cls(
            rows=3_000, queries=30, create_rows=40, batch=1_000, wide_rows=1_000, wide_queries=10, lc_ingest_rows=1_000
        )


@dataclass(frozen=True)
class Point:
    """One search method: recall@10 and latency, with a note (plan, ef, build time)."""

    label: str
    recall: float
    latency: Latency
    note: str = ""


@dataclass(frozen=True)
class Writes:
    """Per-row creates of one side: rows/s over the timed calls and the per-call latency."""

    label: str
    rows: int
    rows_s: float
    latency: Latency


@dataclass
class Results:
    """Everything one run measured."""

    config: Config
    facts: dict[str, str] = field(default_factory=dict)
    okai_bulk_rows_s: float = 0.0
    index_build_s: dict[str, float] = field(default_factory=dict)
    writes: list[Writes] = field(default_factory=list)
    search: dict[str, Point] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)
    memory: list[Point] = field(default_factory=list)
    matched: dict[str, Point] = field(default_factory=dict)
    wide: list[tuple[int, str, Point, Point]] = field(default_factory=list)
    wide_build_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    total_s: float = 0.0
    okai_filtered: Point | None = None
    langchain: list[Any] = field(default_factory=list)  #: bench.peers_langchain.StoreResult, one a store
    eliza1: dict[str, Any] = field(default_factory=dict)  #: writes, search, filtered, plans, filtered_rows


def _log(message: str) -> None:
    print(f"[peers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- ElizaOS through Node ----------------------------------------------------------------------------------------


def ensure_node_modules() -> None:
    """Install the pinned ElizaOS adapter into ``bench/peers/node`` (``npm ci``) unless it is there already.

    Example:
        >>> ensure_node_modules()                        # doctest: +SKIP
    """
    if (NODE_DIR / "node_modules" / "@elizaos" / "adapter-postgres").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("the ElizaOS peer needs node and npm on PATH (node 20 or later)")
    # --ignore-scripts: no install script is needed (onnxruntime-node ships its binaries; sharp's come from npm)
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


def socket_dir(url: str) -> str:
    """The Unix socket directory of an embedded server's URL (``?host=...``).

    Example:
        >>> socket_dir("postgresql://postgres:@/db?host=/tmp/x")
        '/tmp/x'
    """
    return parse_qs(urlparse(url).query)["host"][0]


def ensure_eliza1_modules() -> None:
    """Install the pinned ElizaOS 1.x packages into ``bench/peers/eliza1`` (``npm ci``) unless they are there.

    Example:
        >>> ensure_eliza1_modules()                      # doctest: +SKIP
    """
    if (ELIZA1_DIR / "node_modules" / "@elizaos" / "plugin-sql").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("the ElizaOS 1.x peer needs node and npm on PATH (node 20 or later)")
    subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ELIZA1_DIR, check=True)


def run_node(job: dict[str, Any], work: Path, script: Path = SCRIPT) -> dict[str, Any]:
    """Run one phase of ``eliza_bench.mjs`` and return its JSON result.

    Example:
        >>> run_node({"phase": "init", "socketDir": "/tmp/s", "database": "bench_eliza"}, Path("/tmp"))  # doctest: +SKIP
        {'phase': 'init', 'times_ms': [], 'ids': [], 'total_s': 0.2}
    """
    out = work / f"eliza-{job['phase']}-{time.monotonic_ns()}.json"
    job_file = out.with_suffix(".job.json")
    job_file.write_text(json.dumps({"user": "postgres", **job, "output": str(out)}), encoding="utf-8")
    env = {**os.environ, "DEFAULT_LOG_LEVEL": "error", "LOG_LEVEL": "error", **_ELIZA_DIMS[int(job.get("dim", 384))]}
    done = subprocess.run(
        ["node", str(script), str(job_file)], env=env, capture_output=True, text=True, check=False, timeout=3600
    )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"{script.name} {job['phase']} failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def _write_vectors(path: Path, vectors: np.ndarray[Any, Any]) -> str:
    np.ascontiguousarray(vectors, dtype=np.float32).tofile(path)
    return str(path)


def _eliza_load(url: str, data: Dataset, rows: range) -> None:
    """Accounts, rooms and the base rows of ElizaOS's tables, by COPY (not timed: ElizaOS has no bulk API)."""
    now = dt.datetime.now(dt.UTC)
    with _raw_conn(url) as conn:
        for uid in [data.agent, *data.users]:
            conn.execute("INSERT INTO accounts (id, name, email) VALUES (%s, %s, %s)", (uid, str(uid), f"{uid}@b.x"))
        for rid in data.rooms:
            conn.execute("INSERT INTO rooms (id) VALUES (%s)", (rid,))
        conn.execute("DROP INDEX idx_memories_embedding")
        with conn.transaction(), conn.cursor().copy(_ELIZA_COPY) as cp:
            cp.set_types(_ELIZA_COPY_TYPES)
            for i in rows:
                content = Jsonb({"text": data.texts[i], "source": "bench"})
                room, user = data.rooms[data.room_of_row[i]], data.users[data.user_of_row[i]]
                cp.write_row((data.ids[i], TYPE, content, data.embeddings[i], user, room, data.agent, True, now))
        conn.execute("VACUUM ANALYZE memories")


def _build_index(url: str, statement: str) -> float:
    with _raw_conn(url) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET max_parallel_maintenance_workers = 0")
        with Timer() as t:
            conn.execute(statement)
        conn.execute("ANALYZE memories")
    return t.seconds


def build_indexes(jobs: dict[str, tuple[str, str]]) -> dict[str, float]:
    """Build HNSW indexes in parallel (one thread each; the server works in one backend per index).

    Example:
        >>> build_indexes({"okai": (url_a, INDEX_SQL)})   # doctest: +SKIP
        {'okai': 61.2}
    """
    seconds: dict[str, float] = {}
    errors: list[BaseException] = []

    def work(name: str, url: str, statement: str) -> None:
        try:
            seconds[name] = _build_index(url, statement)
        except BaseException as exc:  # re-raised below, in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n, u, s)) for n, (u, s) in jobs.items()]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return seconds


def explain(url: str, statement: str, params: list[Any], settings: dict[str, str] | None = None) -> str:
    """The scan nodes of the plan PostgreSQL picks for ``statement`` ($n placeholders) with ``params`` inlined.

    Example:
        >>> explain(url, "SELECT * FROM memories ORDER BY embedding <-> $1::vector LIMIT 10", [v])  # doctest: +SKIP
        'Seq Scan on memories'
    """
    text = statement
    for n in range(len(params), 0, -1):
        text = text.replace(f"${n}", f"{{{n - 1}}}")
    with _raw_conn(url) as conn, psycopg.ClientCursor(conn) as cur:
        for name, value in (settings or {}).items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        literals = [cur.mogrify("%s", (p,)) for p in params]
        lines = [r[0] for r in cur.execute("EXPLAIN " + text.format(*literals)).fetchall()]
    return _scans(lines)


# --- the ElizaOS comparison --------------------------------------------------------------------------------------


def _meta(data: Dataset, rows: range) -> dict[str, Any]:
    return {
        "ids": [str(data.ids[i]) for i in rows],
        "users": [str(data.users[data.user_of_row[i]]) for i in rows],
        "rooms": [str(data.rooms[data.room_of_row[i]]) for i in rows],
        "texts": [data.texts[i] for i in rows],
        "agent": str(data.agent),
    }


def bench_writes(
    okai_url: str, eliza_job: dict[str, Any], data: Dataset, rows: range, work: Path
) -> tuple[Writes, Writes]:
    """Per-row creates in ABBA order: ElizaOS createMemory (its duplicate check + INSERT) and okai-insight
    create_memory(unique=True) (its duplicate check + INSERT), on the same new rows into the loaded tables."""
    half = len(rows) // 2
    parts = [rows[:half], rows[half:]]
    times: dict[str, list[float]] = {"eliza": [], "okai": []}
    db = _adapter(okai_url, data.embeddings.shape[1])
    base = dt.datetime.now(dt.UTC)
    try:
        for step, (side, part) in enumerate((("eliza", 0), ("okai", 0), ("okai", 1), ("eliza", 1))):
            chunk = parts[part]
            if side == "eliza":
                job = {
                    **eliza_job,
                    "phase": "create",
                    "vectors": _write_vectors(work / f"create{step}.f32", data.embeddings[chunk.start : chunk.stop]),
                    "meta": str(work / f"create{step}.json"),
                }
                Path(job["meta"]).write_text(json.dumps(_meta(data, chunk)), encoding="utf-8")
                times["eliza"] += run_node(job, work)["times_ms"]
            else:
                for memory in _memories(data, chunk, base):
                    start = time.perf_counter()
                    db.create_memory(memory, TYPE, unique=True)
                    times["okai"].append((time.perf_counter() - start) * 1000)
    finally:
        db.close()

    def writes(label: str, ms: list[float]) -> Writes:
        return Writes(label, len(ms), 1000 * len(ms) / sum(ms), summarise(ms))

    return (
        writes("okai-insight create_memory(unique=True)", times["okai"]),
        writes(f"ElizaOS {ELIZA_VERSION} createMemory", times["eliza"]),
    )


def bench_search(
    okai_url: str, eliza_job: dict[str, Any], data: Dataset, truth: list[list[uuid.UUID]], ef: int, work: Path
) -> tuple[Point, Point]:
    """Top-10 search of every query, ABBA by halves: ElizaOS searchMemoriesByEmbedding against okai-insight's."""
    queries = data.queries
    half = len(queries) // 2
    found: dict[str, dict[int, list[uuid.UUID]]] = {"eliza": {}, "okai": {}}
    times: dict[str, list[float]] = {"eliza": [], "okai": []}
    db = _adapter(okai_url, queries.shape[1], ef)
    try:
        for q in queries[:10]:
            db.search_memories_by_embedding(q, table_name=TYPE, count=10)
        for step, (side, lo, hi) in enumerate(
            (("eliza", 0, half), ("okai", 0, half), ("okai", half, len(queries)), ("eliza", half, len(queries)))
        ):
            if side == "eliza":
                job = {
                    **eliza_job,
                    "phase": "search",
                    "warmup": 10,
                    "vectors": _write_vectors(work / f"queries{step}.f32", queries[lo:hi]),
                }
                out = run_node(job, work)
                times["eliza"] += out["times_ms"]
                for n, ids in enumerate(out["ids"]):
                    found["eliza"][lo + n] = [uuid.UUID(i) for i in ids]
            else:
                for n in range(lo, hi):
                    start = time.perf_counter()
                    got = db.search_memories_by_embedding(queries[n], table_name=TYPE, count=10)
                    times["okai"].append((time.perf_counter() - start) * 1000)
                    found["okai"][n] = [m.id for m in got if m.id]
    finally:
        db.close()

    def point(side: str, label: str) -> Point:
        ids = [found[side][n] for n in range(len(queries))]
        return Point(label, recall_at_k(truth, ids), summarise(times[side]))

    return (
        point("okai", f"okai-insight search_memories_by_embedding (ef_search {ef})"),
        point("eliza", f"ElizaOS {ELIZA_VERSION} searchMemoriesByEmbedding"),
    )


# --- room-filtered search, ElizaOS 1.x, langchain-postgres ---------------------------------------------------------


def room_truth(data: Dataset, room: int) -> list[list[uuid.UUID]]:
    """The exact top 10 of each query among the rows of one room.

    Example:
        >>> d = make_dataset(rows=500, dim=16, queries=3, seed=0); len(room_truth(d, 0))
        3
    """
    idx = np.flatnonzero(data.room_of_row == room)
    top = exact_top_k(data.embeddings[idx], data.queries, min(10, len(idx)))
    return [[data.ids[idx[j]] for j in row] for row in top]


def okai_filtered(url: str, data: Dataset, truth: list[list[uuid.UUID]], room: int, ef: int) -> Point:
    """okai-insight's room-filtered top-10 search of every query.

    Example:
        >>> okai_filtered(url, data, room_truth(data, 0), 0, 100).recall      # doctest: +SKIP
        1.0
    """
    db = _adapter(url, data.queries.shape[1], ef)
    rid = data.rooms[room]
    try:
        for q in data.queries[:10]:
            db.search_memories_by_embedding(q, table_name=TYPE, count=10, room_id=rid)
        found, times = [], []
        for q in data.queries:
            start = time.perf_counter()
            got = db.search_memories_by_embedding(q, table_name=TYPE, count=10, room_id=rid)
            times.append((time.perf_counter() - start) * 1000)
            found.append([m.id for m in got if m.id])
    finally:
        db.close()
    returned = sum(len(f) for f in found) / max(1, len(found))
    return Point(
        "okai-insight search_memories_by_embedding(room_id=...)",
        recall_at_k(truth, found),
        summarise(times),
        f"{returned:.1f} rows returned",
    )


def _eliza1_load(url: str, data: Dataset, rows: range, agent: uuid.UUID, world: uuid.UUID) -> None:
    """The base rows into ElizaOS 1.x's ``memories`` and ``embeddings`` by binary COPY (not timed)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # its created_at is timestamp without time zone
    dim = data.embeddings.shape[1]
    mem = (
        'COPY memories (id, type, created_at, content, entity_id, agent_id, room_id, world_id, "unique", metadata) '
        "FROM STDIN (FORMAT BINARY)"
    )
    emb = f"COPY embeddings (memory_id, created_at, dim_{dim}) FROM STDIN (FORMAT BINARY)"
    with _raw_conn(url) as conn, conn.transaction():
        with conn.cursor().copy(mem) as cp:
            cp.set_types(["uuid", "text", "timestamp", "jsonb", "uuid", "uuid", "uuid", "uuid", "bool", "jsonb"])
            for i in rows:
                content = Jsonb({"text": data.texts[i], "source": "bench"})
                user, room = data.users[data.user_of_row[i]], data.rooms[data.room_of_row[i]]
                cp.write_row((data.ids[i], TYPE, now, content, user, agent, room, world, True, Jsonb({})))
        with conn.cursor().copy(emb) as cp:
            cp.set_types(["uuid", "timestamp", "vector"])
            for i in rows:
                cp.write_row((data.ids[i], now, data.embeddings[i]))
    with _raw_conn(url) as conn:
        conn.execute("VACUUM ANALYZE memories")
        conn.execute("VACUUM ANALYZE embeddings")


def bench_eliza1(
    admin_url: str,
    data: Dataset,
    config: Config,
    truth: list[list[uuid.UUID]],
    rtruth: list[list[uuid.UUID]],
    work: Path,
) -> dict[str, Any]:
    """ElizaOS 1.x: schema by its migrations, base rows by COPY, then createMemory and searchMemories timed."""
    ensure_eliza1_modules()
    url = create_database(admin_url, "bench_eliza1")
    agent, world = uuid.uuid5(data.agent, "eliza1-agent"), uuid.uuid5(data.agent, "eliza1-world")
    job = {
        "url": url,
        "agent": str(agent),
        "world": str(world),
        "users": [str(u) for u in data.users],
        "rooms": [str(r) for r in data.rooms],
        "dim": config.dim,
    }
    run_node({**job, "phase": "init"}, work, ELIZA1_SCRIPT)
    _eliza1_load(url, data, range(config.rows), agent, world)
    total = config.rows + config.create_rows
    chunk = range(config.rows, total)
    meta = work / "eliza1-create.json"
    meta.write_text(json.dumps(_meta(data, chunk)), encoding="utf-8")
    vectors = _write_vectors(work / "eliza1-create.f32", data.embeddings[chunk.start : chunk.stop])
    times = run_node({**job, "phase": "create", "vectors": vectors, "meta": str(meta)}, work, ELIZA1_SCRIPT)["times_ms"]
    out: dict[str, Any] = {
        "writes": Writes(
            f"ElizaOS {ELIZA1_VERSION} createMemory", len(times), 1000 * len(times) / sum(times), summarise(times)
        )
    }
    queries = _write_vectors(work / "eliza1-queries.f32", data.queries)
    for key, room, want in (("search", None, truth), ("filtered", str(data.rooms[config.filter_room]), rtruth)):
        res = run_node({**job, "phase": "search", "vectors": queries, "warmup": 10, "room": room}, work, ELIZA1_SCRIPT)
        found = [[uuid.UUID(i) for i in ids] for ids in res["ids"]]
        returned = sum(len(f) for f in found) / max(1, len(found))
        label = f"ElizaOS {ELIZA1_VERSION} searchMemories" + (" (roomId)" if room else "")
        out[key] = Point(label, recall_at_k(want, found), summarise(res["times_ms"]), f"{returned:.1f} rows returned")
    q = data.queries[0]
    out["plan"] = explain(url, ELIZA1_SEARCH_SQL.format(dim=config.dim, room=""), [q, TYPE, agent])
    out["filtered_plan"] = explain(
        url,
        ELIZA1_SEARCH_SQL.format(dim=config.dim, room=" AND memories.room_id = $4::uuid"),
        [q, TYPE, agent, data.rooms[config.filter_room]],
    )
    return out


# --- in-memory references ----------------------------------------------------------------------------------------


def _per_query(
    search: Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]], queries: np.ndarray[Any, Any]
) -> tuple[list[np.ndarray[Any, Any]], list[float]]:
    for q in queries[:10]:
        search(q)
    found, times = [], []
    for q in queries:
        start = time.perf_counter()
        found.append(search(q))
        times.append((time.perf_counter() - start) * 1000)
    return found, times


def numpy_exact(x: np.ndarray[Any, Any], queries: np.ndarray[Any, Any], truth_idx: np.ndarray[Any, Any]) -> Point:
    """Exact top-10 one query at a time: a matrix-vector product and argpartition (the physical limit of a scan).

    Example:
        >>> x = np.eye(16, dtype=np.float32); numpy_exact(x, x[:2], exact_top_k(x, x[:2])).recall
        1.0
    """

    def search(q: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        sims = x @ q
        top = np.argpartition(-sims, 9)[:10]
        return top[np.argsort(-sims[top])]

    found, times = _per_query(search, queries)
    return Point(
        "numpy exact (x @ q, argpartition)",
        recall_at_k(truth_idx.tolist(), [f.tolist() for f in found]),
        summarise(times),
    )


def faiss_hnsw(
    x: np.ndarray[Any, Any], queries: np.ndarray[Any, Any], truth_idx: np.ndarray[Any, Any], efs: tuple[int, ...]
) -> list[Point]:
    """faiss ``IndexHNSWFlat`` (inner product on unit vectors = cosine), M 16, efConstruction 64; one query a call.

    Example (needs the ``bench`` extra, which ``make bench`` installs and the test suite does not):
        >>> d = make_dataset(rows=500, dim=16, queries=5, seed=0)  # doctest: +SKIP
        >>> faiss_hnsw(d.embeddings, d.queries, exact_top_k(d.embeddings, d.queries), (64,))[0].recall >= 0.9  # doctest: +SKIP
        True
    """
    import faiss  # the `bench` extra

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    index = faiss.IndexHNSWFlat(x.shape[1], 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 64
    with Timer() as t:
        index.add(x)
    faiss.omp_set_num_threads(1)
    points = []
    for ef in efs:
        index.hnsw.efSearch = ef
        found, times = _per_query(lambda q: index.search(q[None, :], 10)[1][0], queries)
        recall = recall_at_k(truth_idx.tolist(), [f.tolist() for f in found])
        points.append(Point(f"faiss HNSW ef {ef}", recall, summarise(times), f"built in {t.seconds:.1f} s"))
    return points


def hnswlib_hnsw(
    x: np.ndarray[Any, Any], queries: np.ndarray[Any, Any], truth_idx: np.ndarray[Any, Any], efs: tuple[int, ...]
) -> list[Point]:
    """hnswlib (inner product), M 16, ef_construction 64; one query a call on one thread.

    Example (needs the ``bench`` extra, which ``make bench`` installs and the test suite does not):
        >>> d = make_dataset(rows=500, dim=16, queries=5, seed=0)  # doctest: +SKIP
        >>> hnswlib_hnsw(d.embeddings, d.queries, exact_top_k(d.embeddings, d.queries), (64,))[0].recall >= 0.9  # doctest: +SKIP
        True
    """
    import hnswlib  # the `bench` extra

    index = hnswlib.Index(space="ip", dim=x.shape[1])
    index.init_index(max_elements=len(x), M=16, ef_construction=64, random_seed=42)
    with Timer() as t:
        index.add_items(x, np.arange(len(x)), num_threads=os.cpu_count() or 1)
    points = []
    for ef in efs:
        index.set_ef(max(ef, 10))
        found, times = _per_query(lambda q: index.knn_query(q, k=10, num_threads=1)[0][0], queries)
        recall = recall_at_k(truth_idx.tolist(), [f.tolist() for f in found])
        points.append(Point(f"hnswlib HNSW ef {max(ef, 10)}", recall, summarise(times), f"built in {t.seconds:.1f} s"))
    return points


def matched(points: list[Point], recall: float) -> Point | None:
    """The fastest setting reaching ``recall`` (the first, as ef grows), else the most accurate one.

    Example:
        >>> lat = summarise([1.0]); matched([Point("a", 0.9, lat), Point("b", 0.99, lat)], 0.95).label
        'b'
    """
    good = [p for p in points if p.recall >= recall - 1e-9]
    return good[0] if good else (max(points, key=lambda p: p.recall) if points else None)


# --- wide vectors: okai-insight against raw SQL --------------------------------------------------------------------


def bench_wide(admin_url: str, config: Config, results: Results) -> None:
    """okai-insight against raw SQL at ``wide_rows`` x ``wide_dim``, and the planner's choice at each ef_search."""
    data = make_dataset(rows=config.wide_rows, dim=config.wide_dim, queries=config.wide_queries, seed=config.seed)
    top = exact_top_k(data.embeddings, data.queries, 10)
    truth = [[data.ids[j] for j in row] for row in top]
    url = create_database(admin_url, "bench_wide")
    db = _adapter(url, config.wide_dim)
    try:
        _seed_rows(db, data)
        with _raw_conn(url) as conn:
            conn.execute("DROP INDEX idx_memories_embedding")
        base = dt.datetime.now(dt.UTC)
        for start in range(0, config.wide_rows, config.batch):
            db.create_memories(_memories(data, range(start, min(config.wide_rows, start + config.batch)), base), TYPE)
    finally:
        db.close()
    with _raw_conn(url) as conn:
        conn.execute("VACUUM ANALYZE memories")
    results.wide_build_s = _build_index(url, INDEX_SQL)
    _log(f"wide: {config.wide_rows} x {config.wide_dim} loaded, HNSW built in {results.wide_build_s:.1f} s")
    sql = RAW_SEARCH.replace("%(q)s", "$1").replace("%(k)s", "$2")
    adapter_config = AdapterConfig(rows=config.wide_rows, dim=config.wide_dim, queries=config.wide_queries)
    for ef in config.wide_efs:
        plan = explain(url, sql, [data.queries[0], 10], {"hnsw.ef_search": str(ef)})
        h = adapter_head_to_head(url, data, truth, ef, adapter_config)
        ours = Point("okai-insight", h.adapter.recall, h.adapter.latency)
        raw = Point("raw SQL", h.raw.recall, h.raw.latency)
        results.wide.append((ef, plan, ours, raw))
        _log(
            f"wide ef {ef}: {plan}; okai p50 {ours.latency.p50_ms:.2f} ms recall {ours.recall:.3f}; raw p50 "
            f"{raw.latency.p50_ms:.2f} ms"
        )


# --- the run -------------------------------------------------------------------------------------------------------


def run(config: Config, *, work_dir: str | None = None, wide: bool = True) -> Results:
    """Run every peer comparison on a throwaway embedded server; return the figures.

    Example:
        >>> run(Config.quick(), wide=False).search["eliza"].recall > 0.9    # doctest: +SKIP
        True
    """
    if config.dim not in _ELIZA_DIMS:
        raise ValueError(f"ElizaOS {ELIZA_VERSION} supports embedding sizes {sorted(_ELIZA_DIMS)}, not {config.dim}")
    ensure_node_modules()
    ensure_eliza1_modules()
    from bench.peers_langchain import ensure_langchain

    ensure_langchain()  # before anything is measured: a missing peer fails the run at once
    results = Results(config)
    started = time.perf_counter()
    total = config.rows + config.create_rows
    data = make_dataset(rows=total, dim=config.dim, queries=config.queries, rooms=config.rooms, seed=config.seed)
    top = exact_top_k(data.embeddings, data.queries, 10)
    truth = [[data.ids[j] for j in row] for row in top]
    _log(f"dataset {config.rows} (+{config.create_rows} per-row) x {config.dim}, {config.queries} queries")
    with bench_server(work_dir) as admin_url, tempfile.TemporaryDirectory(prefix="okai-peers-") as tmp:
        work = Path(tmp)
        okai_url = create_database(admin_url, "bench_okai")
        eliza_url = create_database(admin_url, "bench_eliza")
        eliza_job = {"socketDir": socket_dir(admin_url), "database": "bench_eliza", "dim": config.dim}
        run_node({**eliza_job, "phase": "init"}, work)  # ElizaOS's own schema.sql, through its init()
        _eliza_load(eliza_url, data, range(config.rows))
        db = _adapter(okai_url, config.dim)
        try:
            _seed_rows(db, data)
            with _raw_conn(okai_url) as conn:
                conn.execute("DROP INDEX idx_memories_embedding")
            base = dt.datetime.now(dt.UTC)
            with Timer() as t:
                for start in range(0, config.rows, config.batch):
                    db.create_memories(
                        _memories(data, range(start, min(config.rows, start + config.batch)), base), TYPE
                    )
            results.okai_bulk_rows_s = config.rows / t.seconds
        finally:
            db.close()
        results.facts = server_facts(okai_url)
        with _raw_conn(okai_url) as conn:
            conn.execute("VACUUM ANALYZE memories")
        results.index_build_s = build_indexes({"okai": (okai_url, INDEX_SQL), "eliza": (eliza_url, ELIZA_INDEX_SQL)})
        _log(f"loaded; HNSW indexes built in {results.index_build_s}")
        results.writes = list(bench_writes(okai_url, eliza_job, data, range(config.rows, total), work))
        _log("writes: " + ", ".join(f"{w.label} {w.rows_s:.0f} rows/s" for w in results.writes))
        okai, eliza = bench_search(okai_url, eliza_job, data, truth, config.okai_ef, work)
        results.search = {"okai": okai, "eliza": eliza}
        _log(
            f"search: okai p50 {okai.latency.p50_ms:.2f} ms recall {okai.recall:.3f}; ElizaOS p50 "
            f"{eliza.latency.p50_ms:.2f} ms recall {eliza.recall:.3f}"
        )
        q = data.queries[0]
        results.plans = {
            "eliza": explain(eliza_url, ELIZA_SEARCH_SQL.format(dim=config.dim), [q, TYPE, 10]),
            "eliza_duplicate": explain(
                eliza_url,
                ELIZA_SEARCH_SQL.format(dim=config.dim).replace(
                    "WHERE type = $2",
                    'WHERE type = $2 AND "roomId" = $4::uuid AND 1 - (embedding <-> $1::vector) >= $5',
                ),
                [q, TYPE, 1, data.rooms[0], 0.95],
            ),
            "eliza_cosine": explain(
                eliza_url,
                "SELECT id FROM memories WHERE type = $2 ORDER BY embedding <=> $1::vector LIMIT 10",
                [q, TYPE],
            ),
            "okai": explain(
                okai_url,
                RAW_SEARCH.replace("%(q)s", "$1").replace("%(k)s", "$2"),
                [q, 10],
                {"hnsw.ef_search": str(config.okai_ef)},
            ),
        }
        _log(f"plans: {results.plans}")
        rtruth = room_truth(data, config.filter_room)
        results.okai_filtered = okai_filtered(okai_url, data, rtruth, config.filter_room, config.okai_ef)
        _log(f"okai filtered: {results.okai_filtered}")
        results.eliza1 = bench_eliza1(admin_url, data, config, truth, rtruth, work)
        _log(f"ElizaOS {ELIZA1_VERSION}: {results.eliza1}")
        from bench.peers_langchain import run_pgvector, run_pgvectorstore

        for store in (run_pgvector, run_pgvectorstore):
            lc = store(
                admin_url,
                data,
                truth,
                rtruth,
                data.rooms[config.filter_room],
                rows=total,
                ingest_rows=config.lc_ingest_rows,
                ef=config.okai_ef,
            )
            results.langchain.append(lc)
            _log(f"{lc.label}: {lc}")
        x, queries = data.embeddings, data.queries
        results.memory.append(numpy_exact(x, queries, top))
        for name, fn in (("faiss", faiss_hnsw), ("hnswlib", hnswlib_hnsw)):
            points = fn(x, queries, top, config.ann_efs)
            results.memory += points
            best = matched(points, okai.recall)
            if best:
                results.matched[name] = best
            _log(f"{name}: " + ", ".join(f"{p.label} {p.recall:.3f} {p.latency.p50_ms:.3f} ms" for p in points))
        if wide and config.wide_rows:
            bench_wide(admin_url, config, results)
    results.total_s = time.perf_counter() - started
    return results


# --- the report ----------------------------------------------------------------------------------------------------


def _ms(lat: Latency) -> str:
    return f"{lat.p50_ms:.2f} / {lat.p95_ms:.2f}"


def _rows(points: list[Point]) -> list[str]:
    out = ["| Method | recall@10 | p50 ms | p95 ms | note |", "|---|---:|---:|---:|---|"]
    out += [
        f"| {p.label} | {p.recall:.3f} | {p.latency.p50_ms:.3f} | {p.latency.p95_ms:.3f} | {p.note} |" for p in points
    ]
    return out


def render(r: Results, *, command: str, when: dt.datetime | None = None) -> str:
    """The Peers section of ``docs/benchmarks.md``, between its markers.

    Example:
        >>> render(results, command="python -m bench.peers").startswith(START)   # doctest: +SKIP
        True
    """
    c, m, f = r.config, machine(), r.facts
    when = when or dt.datetime.now(dt.UTC)
    okai, eliza = r.search["okai"], r.search["eliza"]
    w_okai, w_eliza = r.writes
    lines = [
        START,
        "## Peers: ElizaOS's PostgreSQL adapter, and in-memory references",
        "",
        "Generated by `bench/peers.py` — do not edit by hand; rerun the command below to refresh.",
        "",
        f"- **Command:** `{command}` (total {r.total_s / 60:.1f} min)",
        f"- **Date:** {when:%Y-%m-%d %H:%M} UTC",
        f"- **Machine:** {m['cores']} cores ({m['cpu']}), {m['memory']} RAM, {m['os']}",
        f"- **Server:** embedded PostgreSQL {f.get('postgresql', '?')} + pgvector {f.get('pgvector', '?')}, a fresh",
        "  temporary cluster; both adapters over its Unix socket (node-postgres with `host` = the socket directory)",
        f"- **Peer:** `@elizaos/adapter-postgres@{ELIZA_VERSION}` from npm (`bench/peers/node`, lockfile committed),",
        "  driven by `bench/peers/eliza_bench.mjs` under Node " + _node_version(),
        f"- **Data:** the clustered data of the adapter section, {c.rows:,} memories x {c.dim} dims (+{c.create_rows}",
        f"  written row by row), {c.queries} queries, seed {c.seed}; exact top-10 by cosine as ground truth",
        "",
        f"The machine's cores may be shared with other work (1-minute load average {os.getloadavg()[0]:.1f} when this",
        "section was written), so absolute figures are noisy; each ratio compares two sides measured in the same",
        "run, in ABBA order.",
        "",
        "### Ratios first (okai-insight / peer)",
        "",
        "| Comparison | okai-insight | peer | ratio (okai / peer) |",
        "|---|---:|---:|---:|",
        f"| Per-row create into the {c.rows:,}-row table, with duplicate check (rows/s) | {w_okai.rows_s:,.0f} | "
        f"{w_eliza.rows_s:,.0f} (ElizaOS) | {w_okai.rows_s / w_eliza.rows_s:.2f}x |",
        f"| Search top-10, p50 / p95 ms | {_ms(okai.latency)} | {_ms(eliza.latency)} (ElizaOS) | "
        f"{okai.latency.p50_ms / eliza.latency.p50_ms:.3f}x / {okai.latency.p95_ms / eliza.latency.p95_ms:.3f}x |",
        f"| Search recall@10 | {okai.recall:.3f} | {eliza.recall:.3f} (ElizaOS) | — |",
    ]
    exact = r.memory[0] if r.memory else None
    if exact:
        lines.append(
            f"| Search p50 ms against numpy exact search in memory (recall {exact.recall:.3f}) | "
            f"{okai.latency.p50_ms:.2f} | {exact.latency.p50_ms:.2f} | {okai.latency.p50_ms / exact.latency.p50_ms:.1f}x |"
        )
    for name, p in r.matched.items():
        lines.append(
            f"| Search p50 ms against {name} HNSW in memory at matched recall ({p.label}, recall {p.recall:.3f}) | "
            f"{okai.latency.p50_ms:.2f} | {p.latency.p50_ms:.3f} | {okai.latency.p50_ms / p.latency.p50_ms:.0f}x |"
        )
    for ef, plan, ours, raw in r.wide:
        lines.append(
            f"| {c.wide_rows:,} x {c.wide_dim}, ef_search {ef}: p50 ms (recall {ours.recall:.3f} / {raw.recall:.3f}; "
            f"{plan}) | {ours.latency.p50_ms:.2f} | {raw.latency.p50_ms:.2f} (raw SQL) | "
            f"{ours.latency.p50_ms / raw.latency.p50_ms:.2f}x |"
        )
    lines += ["", "### Findings", "", *_findings(r), ""]
    lines += [
        "### ElizaOS: what runs",
        "",
        f"ElizaOS's own `init()` applies its `schema.sql` (tables, `{ELIZA_INDEX_SQL}`, a btree on",
        '`("type", "roomId")`). The base rows are loaded by binary COPY — ElizaOS has no bulk API, and',
        f"{c.rows:,} calls of `createMemory` would take far longer than the budget — then its HNSW index is rebuilt with",
        "its own statement. okai-insight loads its rows with `create_memories` "
        f"({r.okai_bulk_rows_s:,.0f} rows/s, no peer to compare with), and builds its index",
        f"with the same parameters (HNSW build, in parallel: {', '.join(f'{k} {v:.0f} s' for k, v in r.index_build_s.items())}).",
        "",
        "Installing it: `npm ci --ignore-scripts` in `bench/peers/node` (done by the benchmark when `node_modules` is",
        "missing). `@elizaos/core@0.1.9`, which the adapter imports, bundles transformers.js and imports `sharp`",
        "without declaring it as a dependency, so the import fails out of the box; `package.json` adds",
        "`sharp@0.33.5` (never called here) to make the published adapter importable. Nothing else is changed.",
        "",
        "Its search statement, quoted from `dist/index.js` (`searchMemoriesByEmbedding({tableName, count})`):",
        "",
        f"    {ELIZA_SEARCH_SQL.format(dim=c.dim)}",
        "",
        f"Plan of that statement: **{r.plans.get('eliza', '?')}**. The same query ordered by `<=>` (cosine, which the",
        f"index serves): {r.plans.get('eliza_cosine', '?')}. okai-insight's search: {r.plans.get('okai', '?')}.",
        "",
        "`createMemory` first runs that search with `{roomId, match_threshold: 0.95, count: 1}` (adding",
        '`AND "roomId" = $3 AND 1 - (embedding <-> $1::vector) >= $4`; plan: '
        f"{r.plans.get('eliza_duplicate', 'not recorded')}), then an `INSERT` with the vector as text.",
        "",
        "| Writes (per call) | rows | rows/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {w.label} | {w.rows} | {w.rows_s:,.0f} | {w.latency.p50_ms:.2f} | {w.latency.p95_ms:.2f} |"
            for w in r.writes
        ],
        "",
        "### Search: ElizaOS, okai-insight and the in-memory references",
        "",
        "Every method answers one query per call, on the same vectors. The in-memory HNSW libraries are built with",
        "pgvector's defaults (M 16, ef_construction 64) over inner product (cosine on unit vectors); a search runs",
        "on one thread. Latencies inside a process, without a round trip to a server, are the physical limit.",
        "",
        *_rows([okai, eliza, *r.memory]),
        "",
    ]
    if r.wide:
        lines += [
            f"### Wide vectors: {c.wide_rows:,} x {c.wide_dim}, okai-insight against raw SQL",
            "",
            f"Same clustered data at {c.wide_dim} dims, {c.wide_queries} queries, the HNSW index built after the load in",
            f"{r.wide_build_s:.0f} s. Plan = the scan PostgreSQL picks for the raw statement at that `hnsw.ef_search`.",
            "",
            "| ef_search | plan | okai recall@10 | okai p50 / p95 ms | raw recall@10 | raw p50 / p95 ms | ratio p50 |",
            "|---:|---|---:|---:|---:|---:|---:|",
            *[
                f"| {ef} | {plan} | {o.recall:.3f} | {_ms(o.latency)} | {w.recall:.3f} | {_ms(w.latency)} | "
                f"{o.latency.p50_ms / w.latency.p50_ms:.2f}x |"
                for ef, plan, o, w in r.wide
            ],
            "",
        ]
    lines += [
        "Filtered search (one room holding ~1 % of rows, with and without iterative scans) is measured in the",
        "adapter section above (`bench/adapter.py`).",
        END,
    ]
    return "\n".join(lines) + "\n"


def _x(num: float | None, den: float | None) -> str:
    if not num or not den:
        return "—"
    ratio = num / den
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3f}x"


#: Names the vector indexes of the peers carry: okai's and ElizaOS 0.1.9's, PGVector's (a CREATE INDEX without a
#: name on langchain_pg_embedding), PGVectorStore's (apply_vector_index's default suffix).
_VECTOR_INDEXES = ("idx_memories_embedding", "langchain_pg_embedding_embedding_idx", "langchainvectorindex")


def _plan_word(plan: str) -> str:
    """'yes' when the plan's scans include a vector index, with the scans.

    Example:
        >>> _plan_word("Index Scan using idx_memories_embedding on memories m")[:3]
        'yes'
    """
    if any(f"using {name}" in plan or (name == "langchainvectorindex" and name in plan) for name in _VECTOR_INDEXES):
        return f"yes (`{plan}`)"
    return f"no (`{plan}`)" if plan else "—"


def summary(r: Results, *, command: str) -> str:
    """The one table that opens docs/benchmarks.md: every peer against okai-insight, ratios first.

    A ratio above 1 means okai-insight is ahead (faster, or more rows/s); below 1, the peer is.

    Example:
        >>> summary(results, command="python -m bench.peers").startswith("## Every peer")  # doctest: +SKIP
        True
    """
    c = r.config
    okai, w_okai = r.search["okai"], r.writes[0]
    of = r.okai_filtered
    head = [
        "## Every peer in one table (bench/peers.py)",
        "",
        f"`{command}`, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {c.rows:,} memories x {c.dim} dims, {c.queries}"
        f" queries, top 10, one room of ~{100 / c.rooms:.0f} % of rows for the filtered search, every side in the same"
        f" run on one embedded PostgreSQL {r.facts.get('postgresql', '?')} + pgvector {r.facts.get('pgvector', '?')}"
        f" (HNSW m 16, ef_construction 64; ef_search {c.okai_ef} for every PostgreSQL peer that has an index). "
        f"2 shared cores: other engineers' tests, a Jupyter kernel and a headless browser ran meanwhile (1-minute load"
        f" average {os.getloadavg()[0]:.1f} at the end); absolute figures are noisy, the ratios compare sides of one"
        " run. Ratio = okai-insight's advantage: above 1 okai-insight is ahead, below 1 the peer is.",
        "",
        "| Peer | ingest ratio | search p50 ratio | filtered p50 ratio | recall@10 peer / okai | filtered recall@10 "
        "peer / okai | peer ingest rows/s | peer search p50 ms | peer filtered p50 ms | its search uses a vector "
        "index |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows = [
        f"| **okai-insight** (reference) | 1 | 1 | 1 | {okai.recall:.3f} | {of.recall if of else 0:.3f} | "
        f"{r.okai_bulk_rows_s:,.0f} bulk, {w_okai.rows_s:,.0f} per row | {okai.latency.p50_ms:.2f} | "
        f"{of.latency.p50_ms if of else 0:.2f} | {_plan_word(r.plans.get('okai', ''))} |"
    ]
    for lc in r.langchain:
        fl = lc.filtered
        rows.append(
            f"| {lc.label} | {_x(r.okai_bulk_rows_s, lc.ingest_rows_s)} | "
            f"{_x(lc.search.p50_ms, okai.latency.p50_ms)} | {_x(fl.p50_ms if fl else None, of.latency.p50_ms if of else None)} | "
            f"{lc.search_recall:.3f} / {okai.recall:.3f} | {lc.filtered_recall:.3f} / {of.recall if of else 0:.3f} "
            f"({lc.filtered_rows:.1f} rows) | {lc.ingest_rows_s:,.0f} (its batch API) | {lc.search.p50_ms:.2f} | "
            f"{fl.p50_ms if fl else 0:.2f} | {_plan_word(lc.plans.get('search', ''))} |"
        )
    w_eliza = r.writes[1]
    eliza = r.search["eliza"]
    rows.append(
        f"| ElizaOS {ELIZA_VERSION} (`@elizaos/adapter-postgres`) | {_x(w_okai.rows_s, w_eliza.rows_s)} (per row) | "
        f"{_x(eliza.latency.p50_ms, okai.latency.p50_ms)} | — | {eliza.recall:.3f} / {okai.recall:.3f} | — | "
        f"{w_eliza.rows_s:,.0f} (createMemory, no bulk API) | {eliza.latency.p50_ms:.2f} | — | "
        f"{_plan_word(r.plans.get('eliza', ''))} |"
    )
    e1 = r.eliza1
    if e1:
        s1, f1, w1 = e1["search"], e1["filtered"], e1["writes"]
        rows.append(
            f"| ElizaOS {ELIZA1_VERSION} (`@elizaos/plugin-sql`) | {_x(w_okai.rows_s, w1.rows_s)} (per row) | "
            f"{_x(s1.latency.p50_ms, okai.latency.p50_ms)} | "
            f"{_x(f1.latency.p50_ms, of.latency.p50_ms if of else None)} | {s1.recall:.3f} / {okai.recall:.3f} | "
            f"{f1.recall:.3f} / {of.recall if of else 0:.3f} | {w1.rows_s:,.0f} (createMemory, no bulk API) | "
            f"{s1.latency.p50_ms:.2f} | {f1.latency.p50_ms:.2f} | {_plan_word(e1.get('plan', ''))} |"
        )
    if r.memory:
        ex = r.memory[0]
        rows.append(
            f"| numpy exact, in process | — | {_x(ex.latency.p50_ms, okai.latency.p50_ms)} | — | "
            f"{ex.recall:.3f} / {okai.recall:.3f} | — | — | {ex.latency.p50_ms:.3f} | — | no (a scan) |"
        )
    for name, p in r.matched.items():
        rows.append(
            f"| {name} HNSW, in process ({p.label}, {p.note}) | — | {_x(p.latency.p50_ms, okai.latency.p50_ms)} | — | "
            f"{p.recall:.3f} / {okai.recall:.3f} | — | — | {p.latency.p50_ms:.3f} | — | yes (in memory) |"
        )
    tail = [
        "",
        "Ingest: okai-insight's `create_memories` and langchain-postgres's `add_embeddings` into tables without their"
        f" vector index (langchain timed over its first {c.lc_ingest_rows:,} rows); ElizaOS has no bulk API, so its"
        " `createMemory` is compared with okai-insight's per-row `create_memory(unique=True)` (both run a"
        " near-duplicate check). In-process libraries answer without a server round trip: the physical limit."
        " Details, plans and the statements each peer runs: the Peers section below.",
    ]
    for lc in r.langchain:
        tail += [
            "",
            f"- **{lc.label}**: its filtered search runs `{lc.plans.get('filtered', '?')}`: the HNSW scan hands "
            f"ef_search candidates to the room filter, so {lc.filtered_rows:.1f} of 10 rows come back on average "
            f"(recall {lc.filtered_recall:.3f}); okai-insight searches a small room exactly. Index build "
            f"{lc.build_s:.0f} s.",
        ]
    if e1:
        tail += [
            "",
            f"- **ElizaOS {ELIZA1_VERSION}** has no vector index: `{e1.get('plan', '?')}` for every search and "
            f"`{e1.get('filtered_plan', '?')}` with a room; its createMemory first runs that search (threshold 0.95)"
            " over the agent's rows, so writes slow down as the table grows.",
        ]
    return "\n".join(head + rows + tail) + "\n"


def _findings(r: Results) -> list[str]:
    okai, eliza = r.search["okai"], r.search["eliza"]
    out = []
    plan = r.plans.get("eliza", "")
    scan = "a sequential scan" if "Seq Scan" in plan else f"`{plan}`"
    out.append(
        f"- **ElizaOS searches with `<->` (L2) while its index is cosine (`vector_cosine_ops`)**, so the index never "
        f"serves its search: PostgreSQL runs {scan} over every row and sorts ({eliza.latency.p50_ms:.1f} ms p50, "
        f"{eliza.latency.p50_ms / okai.latency.p50_ms:.1f}x okai-insight's {okai.latency.p50_ms:.2f} ms), a cost that "
        "grows linearly with the table. Its recall is exact "
        f"({eliza.recall:.3f}; the rounding of each component to 6 decimals costs nothing measurable) because on unit "
        "vectors L2 order equals cosine order — but its `similarity` = 1 - L2 distance is not cosine similarity, "
        "so its `match_threshold` 0.95 means L2 <= 0.05, i.e. cosine >= 0.99875: its duplicate check in "
        "`createMemory` almost never fires on near-duplicates."
    )
    w_okai, w_eliza = r.writes
    out.append(
        f"- **Per-row creates:** okai-insight {w_okai.rows_s:,.0f} rows/s against ElizaOS {w_eliza.rows_s:,.0f} "
        f"({w_okai.rows_s / w_eliza.rows_s:.2f}x). Both search the row's room for a near-duplicate and insert one "
        "row into a table with its HNSW index (okai-insight in 1 round trip, the check inside the INSERT; ElizaOS in 2, "
        "sending the vector as text in both); on 2 shared cores incremental HNSW insertion dominates either way."
    )
    if r.matched:
        best = min(r.matched.values(), key=lambda p: p.latency.p50_ms)
        out.append(
            f"- **The physical limit:** in-process HNSW at the same recall ({best.label}, {best.recall:.3f}) answers in "
            f"{best.latency.p50_ms:.3f} ms; okai-insight's {okai.latency.p50_ms:.2f} ms is "
            f"{okai.latency.p50_ms / best.latency.p50_ms:.0f}x that: a server round trip, the SQL executor, reading the "
            "index through shared buffers and returning full rows (content JSON and the embedding) instead of ids."
        )
    seq = [
        ef for ef, plan, _, _ in r.wide if "Seq Scan" in plan or "Index Scan using idx_memories_embedding" not in plan
    ]
    if r.wide:
        if seq:
            by_ef = {ef: ours for ef, _, ours, _ in r.wide}
            kept = [ef for ef, *_ in r.wide if ef not in seq]
            fast = f" (ef_search {kept[-1]}: {by_ef[kept[-1]].latency.p50_ms:.2f} ms p50)" if kept else ""
            out.append(
                f"- **Wide vectors: the planner abandons HNSW.** At {r.config.wide_rows:,} x {r.config.wide_dim} "
                f"PostgreSQL picks a sequential scan at ef_search {', '.join(map(str, seq))} and the index at "
                f"{', '.join(map(str, kept)) or 'none'}: the choice flips with ef_search in pgvector's cost estimate "
                "(not monotonic here; the cause inside pgvector is not examined). Recall becomes exact and "
                f"okai-insight's p50 jumps to {by_ef[seq[0]].latency.p50_ms:.0f} ms at ef_search {seq[0]}{fast}. "
                "okai-insight's default `Settings.hnsw_ef_search` is 100, inside that range: at this size and "
                "dimension the default is a sequential scan (raw SQL alike, same plan)."
            )
        else:
            out.append(
                f"- **Wide vectors:** at {r.config.wide_rows:,} x {r.config.wide_dim} the planner keeps the HNSW index "
                f"at every ef_search tried ({', '.join(str(ef) for ef, *_ in r.wide)}): the design notes' worry that it "
                "abandons HNSW at ef 80-150 does not show on this server (pgvector "
                f"{r.facts.get('pgvector', '?')})."
            )
    return out


def _node_version() -> str:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def write_section(text: str, path: Path = DOCS) -> None:
    """Replace this benchmark's section of ``path`` between its markers (or append it), leaving the rest alone."""
    sections.write_section(path, SECTION, text)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, write (or with ``--quick`` print) the Peers section; returns the exit code.

    Example:
        >>> main(["--quick", "--no-wide"])               # doctest: +SKIP
        0
    """
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; print the section instead of writing")
    parser.add_argument("--rows", type=int, help="memories to store (default 100000; quick 3000)")
    parser.add_argument("--queries", type=int, help="search queries (default 200; quick 30)")
    parser.add_argument("--create-rows", type=int, help="rows written one by one by each side (default 300)")
    parser.add_argument("--wide-rows", type=int, help="rows of the 1536-dim comparison, 0 to skip (default 50000)")
    parser.add_argument("--no-wide", action="store_true", help="skip the 1536-dim comparison")
    parser.add_argument("--output", type=Path, help=f"file whose section to replace (default {DOCS}; quick: stdout)")
    parser.add_argument("--work-dir", help="where the temporary PostgreSQL cluster goes (default: the temp dir)")
    args = parser.parse_args(args_list)
    config = Config.quick() if args.quick else Config()
    pairs = (("rows", args.rows), ("queries", args.queries), ("create_rows", args.create_rows))
    overrides: dict[str, Any] = {k: v for k, v in pairs if v}
    if args.wide_rows is not None:
        overrides["wide_rows"] = args.wide_rows
    config = dataclasses.replace(config, **overrides)
    results = run(config, work_dir=args.work_dir, wide=not args.no_wide)
    text = render(results, command=shlex.join(["python", "-m", "bench.peers", *args_list]))
    table = summary(results, command=shlex.join(["python", "-m", "bench.peers", *args_list]))
    output = args.output or (None if args.quick else DOCS)
    if output is None:
        print(table)
        print(text)
    else:
        sections.write_section(output, "bench.summary", table, first=True)
        write_section(text, output)
        print(f"[peers] wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
