"""Single node against a Citus coordinator + 2 workers, all on this one machine (issue 18 item 5).

What one machine can show, and what it cannot: the three Citus nodes share the same 2 cores, memory and disk as
the single server, so this measures Citus's *overhead* and *shape* (routing, fan-out, per-shard indexes), never its
capacity. Each side gets the same okai schema (``migrate``: on the coordinator memories is distributed by
``"agentId"``, 4 shards), the same clustered rows spread over ``--agents`` agents, and:

- ingest: binary-free text ``COPY`` of every row into memories without its vector index (Citus: the distributed
  COPY, rows sent to the shard of their agent), then the HNSW index build (Citus: one build a shard, on the
  workers), timed separately;
- search: top-10 by cosine distance, filtered by agent (Citus routes it to one shard) and unfiltered (Citus asks
  every shard for its top 10 and merges), pgvector's defaults (ef_search 40, no iterative scan), sequential
  queries after one warm-up pass; recall against numpy's exact top 10 (within the agent for the filtered search);
- routing: the ``Task Count`` of Citus's EXPLAIN for each search; per-shard index sizes from
  ``okai_insight.diagnostics.citus.citus_vector_indexes`` against the single node's one index.

Example:
    $ python -m bench.citus                                  # 20,000 x 128, 20 agents, 200 queries (~3 min)
    $ python -m bench.citus --rows 5000 --queries 50         # a smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from bench._data import Dataset, make_dataset
from bench._server import bench_server, create_database
from bench._stats import recall_at_k, summarise
from okai_insight.citus import CitusCluster
from okai_insight.diagnostics.citus import citus_vector_indexes
from okai_insight.schema import migrate

K = 10
SEARCH_AGENT = 'SELECT id FROM memories WHERE "agentId" = %s ORDER BY embedding <=> %s::vector LIMIT 10'
SEARCH_ALL = "SELECT id FROM memories ORDER BY embedding <=> %s::vector LIMIT 10"
INDEX = "CREATE INDEX idx_memories_embedding ON memories USING hnsw (embedding vector_cosine_ops)"


@dataclass
class Side:
    """One side's measurements."""

    name: str
    copy_s: float = 0.0
    index_s: float = 0.0
    agent_ms: list[float] = field(default_factory=list)
    all_ms: list[float] = field(default_factory=list)
    agent_recall: float = 0.0
    all_recall: float = 0.0
    index_bytes: list[int] = field(default_factory=list)
    tasks: dict[str, Any] = field(default_factory=dict)


def _vec(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in v) + "]"


@contextmanager
def citus_cluster(work_dir: str | None) -> Iterator[str]:
    """A throwaway local Citus cluster (coordinator + 2 workers, 4 shards), yielding its coordinator URL."""
    with tempfile.TemporaryDirectory(prefix="okai-bench-citus-", dir=work_dir) as root:
        cluster = CitusCluster(Path(root) / "cluster", workers=2, shard_count=4)
        try:
            cluster.start()
            yield cluster.create_database("bench_citus")
        finally:
            cluster.stop(mode="fast")


def _load(url: str, data: Dataset, agents: list[uuid.UUID], agent_of: np.ndarray, side: Side) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn, dimension=data.embeddings.shape[1])
        conn.execute("DROP INDEX IF EXISTS idx_memories_embedding")  # loaded first, built once after
        for a in agents:
            conn.execute('INSERT INTO accounts ("id", "name", "email") VALUES (%s, %s, %s)', (a, "agent", f"{a}@x"))
        for r in data.rooms:
            conn.execute('INSERT INTO rooms ("id") VALUES (%s)', (r,))
        buf = io.StringIO()
        for i, mid in enumerate(data.ids):
            a, room = agents[int(agent_of[i])], data.rooms[int(data.room_of_row[i])]
            buf.write(f'{mid}\tmessages\t{{"text": "m{i}"}}\t{_vec(data.embeddings[i])}\t{a}\t{a}\t{room}\n')
        start = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                'COPY memories ("id", "type", "content", "embedding", "userId", "agentId", "roomId") FROM STDIN'
            ) as copy,
        ):
            copy.write(buf.getvalue())
        side.copy_s = time.perf_counter() - start
        start = time.perf_counter()
        conn.execute(INDEX)
        side.index_s = time.perf_counter() - start
        conn.execute("ANALYZE memories")


def _search(url: str, data: Dataset, agents: list[uuid.UUID], agent_of: np.ndarray, side: Side) -> None:
    q_agent = [agents[i % len(agents)] for i in range(len(data.queries))]
    truth_all = _exact(data.embeddings, data.queries)
    truth_agent = []
    for qi, a in enumerate(q_agent):
        rows = np.flatnonzero(agent_of == agents.index(a))
        truth_agent.append(
            [str(data.ids[rows[j]]) for j in _exact(data.embeddings[rows], data.queries[qi : qi + 1])[0]]
        )
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(2):  # a warm-up pass, then the measured one
            found_agent, found_all, side.agent_ms, side.all_ms = [], [], [], []
            for qi, q in enumerate(data.queries):
                v = _vec(q)
                t = time.perf_counter()
                found_agent.append([str(r[0]) for r in conn.execute(SEARCH_AGENT, (q_agent[qi], v))])
                side.agent_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                found_all.append([str(r[0]) for r in conn.execute(SEARCH_ALL, (v,))])
                side.all_ms.append((time.perf_counter() - t) * 1000)
        side.agent_recall = recall_at_k(truth_agent, found_agent)
        side.all_recall = recall_at_k([[str(data.ids[j]) for j in row] for row in truth_all], found_all)
        v = _vec(data.queries[0])
        for label, statement, params in (("agent", SEARCH_AGENT, (q_agent[0], v)), ("all", SEARCH_ALL, (v,))):
            # literal values: with bound parameters Citus answers "Could not get remote plan" for the shard's part
            text = psycopg.ClientCursor(conn).mogrify("EXPLAIN (FORMAT JSON) " + statement, params)
            plan = json.dumps(conn.execute(text.encode()).fetchone())
            side.tasks[label] = _task_count(plan)
            side.tasks[label + "_index"] = "idx_memories_embedding" in plan
        if side.name == "single node":
            row = conn.execute("SELECT pg_relation_size('idx_memories_embedding')").fetchone()
            side.index_bytes = [int(row[0])] if row else []
    if side.name != "single node":
        side.index_bytes = [int(r["size_bytes"]) for r in citus_vector_indexes(url).rows]


def _task_count(plan: str) -> int | None:
    at = plan.find('"Task Count": ')
    if at < 0:
        return None
    return int(plan[at + len('"Task Count": ') :].split(",", 1)[0].split("}", 1)[0])


def _exact(data: np.ndarray, queries: np.ndarray) -> np.ndarray:
    sims = queries @ data.T
    k = min(K, data.shape[0])
    part = np.argpartition(-sims, kth=k - 1, axis=1)[:, :k]
    order = np.take_along_axis(sims, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


def report(sides: list[Side], *, rows: int, dim: int, agents: int, queries: int, command: str) -> str:
    """The Markdown table of both sides.

    Example:
        >>> print(report([Side("a", 1.0, 2.0, [1.0], [2.0], 1.0, 1.0, [8192])], rows=1, dim=2, agents=1,
        ...     queries=1, command="x").splitlines()[0])
        ### Single node vs Citus on one machine
    """
    lines = [
        "### Single node vs Citus on one machine",
        "",
        f"`{command}` ({dt.date.today().isoformat()}, {os.cpu_count()} cores shared by every node): {rows:,} rows x "
        f"{dim} dims, {agents} agents, {queries} queries, top-{K} by cosine, pgvector defaults (ef_search 40), "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| | COPY rows/s (no index) | HNSW build s | agent-filtered p50 / p95 ms | recall | unfiltered p50 / p95 ms "
        "| recall | tasks (agent / all) | HNSW in plan (agent / all) | vector index size |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in sides:
        a, u = summarise(s.agent_ms), summarise(s.all_ms)
        sizes = s.index_bytes
        size = (
            f"{sizes[0] / 1e6:.1f} MB"
            if len(sizes) == 1
            else f"{len(sizes)} shards, {min(sizes) / 1e6:.1f}-{max(sizes) / 1e6:.1f} MB (sum {sum(sizes) / 1e6:.1f})"
        )
        tasks = f"{s.tasks.get('agent') or '-'} / {s.tasks.get('all') or '-'}"
        hnsw = " / ".join("yes" if s.tasks.get(f"{k}_index") else "no" for k in ("agent", "all"))
        lines.append(
            f"| {s.name} | {rows / s.copy_s:,.0f} | {s.index_s:.1f} | {a.p50_ms:.2f} / {a.p95_ms:.2f} | "
            f"{s.agent_recall:.3f} | {u.p50_ms:.2f} / {u.p95_ms:.2f} | {s.all_recall:.3f} | {tasks} | {hnsw} | {size} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run both sides and print the Markdown table.

    Example:
        $ python -m bench.citus --rows 5000 --queries 50
    """
    p = argparse.ArgumentParser(prog="python -m bench.citus", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--agents", type=int, default=20)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--work-dir", default=None, help="where the temporary servers live (default: the system's)")
    args = p.parse_args(argv)
    data = make_dataset(rows=args.rows, dim=args.dim, queries=args.queries, seed=42)
    rng = np.random.default_rng(7)
    agents = [uuid.UUID(int=0xA0000 + i) for i in range(args.agents)]
    agent_of = rng.integers(0, args.agents, size=args.rows)
    sides = [Side("single node"), Side("Citus, coordinator + 2 workers")]
    with bench_server(args.work_dir) as admin:
        url = create_database(admin, "bench_single")
        _load(url, data, agents, agent_of, sides[0])
        _search(url, data, agents, agent_of, sides[0])
    with citus_cluster(args.work_dir) as url:
        _load(url, data, agents, agent_of, sides[1])
        _search(url, data, agents, agent_of, sides[1])
    command = "python -m bench.citus " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None and k != "work_dir"
    )
    print(report(sides, rows=args.rows, dim=args.dim, agents=args.agents, queries=args.queries, command=command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
