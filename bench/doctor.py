"""How long ``okai-insight doctor`` (``doctor()``) takes on a large memory database; goal: under 10 s at 1M memories.

Two databases on one throwaway embedded server:

1. **big**: ``--rows`` memories (default 1,000,000) x 384 dims in 100 rooms, loaded by binary COPY into the
   table without its HNSW index (building an HNSW index over 1M rows takes many minutes on 2 cores; the doctor's
   vector checks read the catalog and a sample of the table, not the index), then ``VACUUM ANALYZE``.
2. **indexed**: ``--hnsw-rows`` memories (default 100,000) with the HNSW index built after the load, so the
   index checks (size against shared_buffers and maintenance_work_mem, queries against the index) have one.

Both get pg_stat_statements and a few hundred searches (the adapter's own and ElizaOS-style ``<->`` ones), so
``vector_queries`` and ``slow_queries`` have statements to read. ``doctor()`` then runs ``--repeat`` times on
each; the report gives the median and the slowest checks.

Run: ``python -m bench.doctor`` (``--write`` updates the Doctor section of docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb

from bench import _sections as sections
from bench._server import bench_server, create_database, server_facts
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.diagnostics import doctor

DIM = 384
ROOMS = 100
CHUNK = 50_000
GOAL_S = 10.0
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
SECTION = "bench.doctor"
START, END = sections.markers(SECTION)
COPY_SQL = 'COPY memories ("id", "type", "content", "embedding", "roomId", "agentId") FROM STDIN (FORMAT BINARY)'


def _load(url: str, rows: int, *, index: bool, seed: int = 7) -> dict[str, float]:
    """Schema, rooms, ``rows`` memories by binary COPY without the HNSW index, then (``index``) the index."""
    timings: dict[str, float] = {}
    PostgresAdapter(url).init()
    rng = np.random.default_rng(seed)
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("DROP INDEX IF EXISTS idx_memories_embedding")
        agent = uuid.uuid4()
        conn.execute("INSERT INTO accounts (id, name, email) VALUES (%s, 'agent', 'agent@example.com')", (agent,))
        rooms = [uuid.uuid4() for _ in range(ROOMS)]
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO rooms (id) VALUES (%s)", [(r,) for r in rooms])
        start = time.perf_counter()
        for first in range(0, rows, CHUNK):
            n = min(CHUNK, rows - first)
            vectors = rng.standard_normal((n, DIM)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            room_of = rng.integers(0, ROOMS, n)
            with conn.transaction(), conn.cursor().copy(COPY_SQL) as cp:
                cp.set_types(["uuid", "text", "jsonb", "vector", "uuid", "uuid"])
                for i in range(n):
                    cp.write_row(
                        (
                            uuid.uuid4(),
                            "messages",
                            Jsonb({"text": f"m{first + i}"}),
                            vectors[i],
                            rooms[room_of[i]],
                            agent,
                        )
                    )
        timings["copy_s"] = time.perf_counter() - start
        start = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum_analyze_s"] = time.perf_counter() - start
        if index:
            start = time.perf_counter()
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("CREATE INDEX idx_memories_embedding ON memories USING hnsw (embedding vector_cosine_ops)")
            timings["hnsw_build_s"] = time.perf_counter() - start
        # searches for pg_stat_statements: the adapter's own (<=>) and ElizaOS 0.1.9's (<-> against a cosine index)
        q = rng.standard_normal(DIM).astype(np.float32)
        for i in range(20 if not index else 200):
            room = rooms[i % ROOMS]
            conn.execute(
                'SELECT id FROM memories WHERE "roomId" = %s ORDER BY embedding <=> %s LIMIT 10', (room, q)
            ).fetchall()
        for _ in range(3):
            conn.execute("SELECT id FROM memories ORDER BY embedding <-> %s LIMIT 5", (q,)).fetchall()
    return timings


def _doctor(url: str, repeat: int) -> dict[str, Any]:
    runs, slowest = [], {}
    report = None
    for _ in range(repeat):
        start = time.perf_counter()
        report = doctor(url)
        runs.append(time.perf_counter() - start)
        for r in report.results:
            slowest[r.name] = max(slowest.get(r.name, 0.0), r.duration_ms)
    assert report is not None
    return {
        "median_s": statistics.median(runs),
        "runs_s": runs,
        "checks": len(report.results),
        "slowest": sorted(slowest.items(), key=lambda kv: -kv[1])[:5],
        "degraded": [f"{r.name} ({r.status}: {r.note})" for r in report.results if r.status != "ok"],
        "counts": report.counts(),
        "findings": [f"{f.severity} {f.check}: {f.message[:110]}" for f in report.findings[:8]],
    }


def run(rows: int, hnsw_rows: int, repeat: int) -> dict[str, Any]:
    """Load both databases, time the doctor on each; returns the figures for the report."""
    out: dict[str, Any] = {"rows": rows, "hnsw_rows": hnsw_rows, "repeat": repeat}
    started = time.perf_counter()
    with bench_server() as admin:
        big = create_database(admin, "bench_doctor_big")
        out["big_load"] = _load(big, rows, index=False)
        out["big"] = _doctor(big, repeat)
        print(f"big: {out['big']['median_s']:.2f} s median", file=sys.stderr)
        small = create_database(admin, "bench_doctor_indexed")
        out["indexed_load"] = _load(small, hnsw_rows, index=True)
        out["indexed"] = _doctor(small, repeat)
        print(f"indexed: {out['indexed']['median_s']:.2f} s median", file=sys.stderr)
        out["server"] = server_facts(big)
        with psycopg.connect(big) as conn:
            out["big_size"] = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    out["total_s"] = time.perf_counter() - started
    return out


def render(r: dict[str, Any], command: str) -> str:
    """The Doctor section of docs/benchmarks.md."""

    def block(name: str, label: str) -> list[str]:
        d = r[name]
        met = "yes" if d["median_s"] < GOAL_S else "**no**"
        lines = [
            f"| {label} | {d['median_s']:.2f} | {', '.join(f'{x:.2f}' for x in d['runs_s'])} | {d['checks']} | {met} |"
        ]
        return lines

    facts = r.get("server", {})
    lines = [
        START,
        "## Doctor",
        "",
        "Generated by `bench/doctor.py` — rerun the command below to refresh.",
        "",
        f"- **Command:** `{command}` (total {r['total_s'] / 60:.1f} min)",
        f"- **Date:** {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- **Machine:** {os.cpu_count()} cores, {platform.platform()}",
        f"- **Server:** embedded PostgreSQL {facts.get('postgresql', '?')} + pgvector {facts.get('pgvector', '?')} "
        f"(shared_buffers {facts.get('shared_buffers', '?')}), a fresh temporary cluster; the 2 cores are shared "
        "with other work, so absolute figures are noisy",
        f"- **Data:** big: {r['rows']:,} memories x {DIM} dims ({r['big_size']}), loaded by binary COPY in "
        f"{r['big_load']['copy_s']:.0f} s without the HNSW index (building it over {r['rows']:,} rows would "
        f"take many minutes here), VACUUM ANALYZE {r['big_load']['vacuum_analyze_s']:.0f} s; indexed: "
        f"{r['hnsw_rows']:,} memories with the HNSW index built after the load "
        f"({r['indexed_load'].get('hnsw_build_s', 0):.0f} s). Both with pg_stat_statements and searches in it.",
        "",
        f"| Database | doctor median (s) | runs (s) | checks | under {GOAL_S:g} s |",
        "|---|---:|---|---:|---|",
        *block("big", f"{r['rows']:,} memories, no HNSW index"),
        *block("indexed", f"{r['hnsw_rows']:,} memories, HNSW index"),
        "",
        "Slowest checks (worst run, ms): "
        + "; ".join(
            f"{label}: " + ", ".join(f"{n} {ms:.0f}" for n, ms in r[name]["slowest"])
            for name, label in (("big", "big"), ("indexed", "indexed"))
        ),
        "",
    ]
    for name in ("big", "indexed"):
        d = r[name]
        lines.append(f"Findings on {name} ({d['counts']}):")
        lines.append("")
        lines += [f"- {f}" for f in d["findings"]]
        if d["degraded"]:
            lines.append(f"- not checked: {'; '.join(d['degraded'])}")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_section(text: str, path: Path = DOCS) -> None:
    """Replace this benchmark's section of ``path`` between its markers (or append it), leaving the rest alone."""
    sections.write_section(path, SECTION, text)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.doctor [--rows N] [--hnsw-rows N] [--repeat N] [--write]``."""
    p = argparse.ArgumentParser(prog="python -m bench.doctor", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--hnsw-rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--write", action="store_true", help="update the Doctor section of docs/benchmarks.md")
    args = p.parse_args(argv)
    result = run(args.rows, args.hnsw_rows, args.repeat)
    command = "python -m bench.doctor" + "".join(
        f" --{k.replace('_', '-')} {v}"
        for k, v in (("rows", args.rows), ("hnsw_rows", args.hnsw_rows), ("repeat", args.repeat))
        if v != p.get_default(k)
    )
    text = render(result, command)
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
