"""The default ``hnsw_ef_search``, chosen from measurements (issue 17 item 2): recall@10, latency and the plan
PostgreSQL picks at each ``hnsw.ef_search``, at 384 and at 1536 dimensions, on one embedded server.

For each shape the clustered data of the adapter benchmark is COPied without the index, the HNSW index is built
once (pgvector's defaults, m 16, ef_construction 64), then for each ef_search okai-insight's own
``search_memories_by_embedding`` (``Settings(hnsw_ef_search=ef)``: its prepared statement, the plan it really
runs) answers every query; the plan column is ``EXPLAIN`` of the same statement text with the query inlined.
The sweep runs twice, the second time in reverse order of ef, and reports medians of the two passes' p50s.

Example:
    $ python -m bench.ef_search --record                    # 100k x 384 and 50k x 1536, writes its section
    $ python -m bench.ef_search --rows 5000 --wide-rows 2000 --queries 20
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench import _sections as sections
from bench._data import Dataset, exact_top_k, make_dataset
from bench._server import bench_server, create_database, server_facts
from bench._stats import recall_at_k, summarise
from bench.adapter import INDEX_SQL, RAW_SEARCH, TYPE, _memories, _raw_conn, _raw_copy, _raw_rows, _seed_rows
from bench.peers import _build_index, explain
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTION = "bench.ef_search"
EFS = (20, 40, 60, 80, 100, 120, 150, 200)


@dataclass(frozen=True)
class Row:
    """One ef_search at one shape: recall@10, p50/p95 ms (median of the passes), and the plan's scan."""

    ef: int
    recall: float
    p50_ms: float
    p95_ms: float
    plan: str


def _load(admin: str, name: str, data: Dataset) -> tuple[str, float]:
    url = create_database(admin, name)
    db = PostgresAdapter(url, settings=Settings(embedding_dimension=data.embeddings.shape[1], bulk_load=False))
    db.init()
    _seed_rows(db, data)
    db.close()
    base = dt.datetime.now(dt.UTC)
    with _raw_conn(url) as conn:
        conn.execute("DROP INDEX idx_memories_embedding")
        for lo in range(0, len(data.ids), 10_000):
            _raw_copy(conn, _raw_rows(_memories(data, range(lo, min(len(data.ids), lo + 10_000)), base)))
        conn.execute("VACUUM ANALYZE memories")
    return url, _build_index(url, INDEX_SQL)


def sweep(url: str, data: Dataset, efs: tuple[int, ...] = EFS) -> list[Row]:
    """Every ef in ``efs`` through okai-insight's search, two passes (ascending, then descending).

    Example:
        >>> sweep(url, data, (40,))[0].ef                    # doctest: +SKIP
        40
    """
    top = exact_top_k(data.embeddings, data.queries, 10)
    truth = [[data.ids[j] for j in row] for row in top]
    passes: dict[int, list[tuple[float, float, float]]] = {ef: [] for ef in efs}
    plans: dict[int, str] = {}
    statement = RAW_SEARCH.replace("%(q)s", "$1").replace("%(k)s", "$2")
    for order in (efs, tuple(reversed(efs))):
        for ef in order:
            db = PostgresAdapter(
                url, settings=Settings(embedding_dimension=data.embeddings.shape[1], hnsw_ef_search=ef)
            )
            db.init()  # opens the pool; the schema is there already
            try:
                for q in data.queries[:10]:  # warm-up: also past PostgreSQL's five custom plans of a prepared query
                    db.search_memories_by_embedding(q, table_name=TYPE, count=10)
                found: list[list[uuid.UUID]] = []
                times: list[float] = []
                for q in data.queries:
                    t = time.perf_counter()
                    got = db.search_memories_by_embedding(q, table_name=TYPE, count=10)
                    times.append((time.perf_counter() - t) * 1000)
                    found.append([m.id for m in got if m.id])
            finally:
                db.close()
            lat = summarise(times)
            passes[ef].append((recall_at_k(truth, found), lat.p50_ms, lat.p95_ms))
            plans.setdefault(ef, explain(url, statement, [data.queries[0], 10], {"hnsw.ef_search": str(ef)}))
            print(f"  ef {ef}: recall {passes[ef][-1][0]:.3f} p50 {lat.p50_ms:.2f} ms; {plans[ef]}", flush=True)
    return [
        Row(
            ef,
            statistics.median(p[0] for p in passes[ef]),
            statistics.median(p[1] for p in passes[ef]),
            statistics.median(p[2] for p in passes[ef]),
            plans[ef],
        )
        for ef in efs
    ]


def _table(rows: list[Row]) -> list[str]:
    out = ["| ef_search | recall@10 | p50 ms | p95 ms | plan (EXPLAIN) |", "|---:|---:|---:|---:|---|"]
    out += [f"| {r.ef} | {r.recall:.3f} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.plan} |" for r in rows]
    return out


def render(shapes: list[tuple[str, float, list[Row]]], *, command: str, facts: dict[str, str], note: str) -> str:
    """The section: one table a shape.

    Example:
        >>> "ef_search" in render([("10 x 8", 1.0, [Row(40, 1.0, 1.0, 2.0, "Index Scan")])], command="c", facts={}, note="")
        True
    """
    lines = [
        "## Choosing the default hnsw_ef_search (bench/ef_search.py)",
        "",
        f"`{command}`, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, PostgreSQL {facts.get('postgresql', '?')} + "
        f"pgvector {facts.get('pgvector', '?')}, 2 cores (1-minute load average {os.getloadavg()[0]:.1f} at the end). "
        f"{note}",
        "",
        "okai-insight's `search_memories_by_embedding` (top 10, its prepared statement) at each `hnsw.ef_search`;",
        "HNSW m 16, ef_construction 64; medians of two passes (ascending, then descending ef).",
        "",
    ]
    for name, build_s, rows in shapes:
        lines += [f"### {name} (index built in {build_s:.0f} s)", "", *_table(rows), ""]
    seq = {name: [r.ef for r in rows if "Seq Scan" in r.plan] for name, _, rows in shapes}
    lines += [
        "The plan column is the plan PostgreSQL makes with the query's values (EXPLAIN): every new connection's",
        "first searches run under it (psycopg prepares a statement after 5 executions, PostgreSQL plans the next 5",
        "with their values too) and only then switch to the prepared generic plan the timings above measure. Where",
        "it says Seq Scan those first searches scan the whole table: "
        + "; ".join(f"{n}: ef_search {', '.join(map(str, e)) or 'none'}" for n, e in seq.items())
        + ". The default (`Settings.hnsw_ef_search`) is the largest ef_search below every such range that keeps the",
        "index at both shapes, for the most recall it can give there.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run both shapes and print (or with ``--record`` write) the section.

    Example:
        >>> main(["--rows", "2000", "--wide-rows", "1000", "--queries", "10"])   # doctest: +SKIP
        0
    """
    p = argparse.ArgumentParser(prog="python -m bench.ef_search")
    p.add_argument("--rows", type=int, default=100_000, help="rows at 384 dimensions")
    p.add_argument("--wide-rows", type=int, default=50_000, help="rows at 1536 dimensions (0 skips)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--record", action="store_true", help=f"write the section of {DOCS.name}")
    p.add_argument("--note", default="", help="what the machine was doing")
    a = p.parse_args(argv)
    shapes: list[tuple[str, float, list[Row]]] = []
    with bench_server() as admin:
        for rows, dim in ((a.rows, 384), (a.wide_rows, 1536)):
            if not rows:
                continue
            data = make_dataset(rows=rows, dim=dim, queries=a.queries, seed=42)
            url, build_s = _load(admin, f"ef_{dim}", data)
            print(f"{rows} x {dim}: index built in {build_s:.1f} s", flush=True)
            shapes.append((f"{rows:,} x {dim}, {a.queries} queries", build_s, sweep(url, data)))
            facts = server_facts(url)
    command = f"python -m bench.ef_search --rows {a.rows} --wide-rows {a.wide_rows} --queries {a.queries}"
    text = render(shapes, command=command, facts=facts, note=a.note)
    print(text)
    if a.record:
        sections.write_section(DOCS, SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
