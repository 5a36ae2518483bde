"""Embedding-insight benchmark: projection time (10k and 100k x 384) and tuner times at 100k rows.

``python -m bench.embeddings`` measures, on the benchmark's Gaussian-mixture embeddings (``bench/_data.py``):

- ``project`` (PCA to 50, UMAP on a 10k subsample, the rest placed by 5-NN) at 10k and 100k rows: cold, in a
  fresh interpreter (imports and numba's JIT compilation of UMAP included: what a user's first call costs) and
  warm (a second call in the same process, different data so the cache does not answer);
- ``tune_recall`` with 200 queries x 6 ``hnsw.ef_search`` values on a 100k x 384 table with an HNSW index
  (unfiltered; then with room-filtered searches and iterative scans too);
- ``embedding_quality`` and ``tune_threshold`` (labelled pairs: each row's nearest neighbour vs a random row) on
  the same table (its texts are random words: no duplicates or paraphrases to pseudo-label),

then replaces the "Embedding insight" section of ``docs/benchmarks.md`` (between its markers; the rest of the
file is left as it is). ``--quick`` runs small sizes and prints the section instead.

``--scale N`` (issue 17 item 4) instead measures, on an N x 384 table kept in ``--data-dir`` (built once, reused):
``explore`` over every row cold in a fresh interpreter, twice with a new numba cache directory (``explore``: a
user's first run, UMAP's compilation included; ``explore_second_start``: the next session's, which loads what the
first kept on disk; fetch, placement, projection and CPU seconds apart), ``embedding_quality(by='room')`` and, with
``--index``, ``tune_recall`` with 200 queries at ef_search 40/100/200 (unfiltered: its exact lists come from one
streamed read of the table), and prints them as JSON. ``--before DIR`` first measures ``explore`` of another
checkout (``git archive <commit> okai_insight queries | tar -x -C DIR``) in the same run; ``--explore-only``
skips the other two.

Example:
    $ python -m bench.embeddings              # ~5-10 minutes on 2 cores
    $ python -m bench.embeddings --quick      # a smoke test
    $ python -m bench.embeddings --scale 1000000 --data-dir /tmp/okai-bench-scale-trust --index
    $ python -m bench.embeddings --scale 200000 --data-dir /tmp/b200k --before /tmp/old --explore-only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from bench import _sections as sections
from bench._data import make_dataset
from bench._server import bench_server, create_database, server_facts

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTION = "embeddings"
START, END = sections.markers(SECTION)
EF_SEARCH = (10, 20, 40, 80, 200, 400)

_COLD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
from okai_insight.embeddings._project import project
X = np.load(sys.argv[1])
t1 = time.perf_counter()
Y = project(X, progress=False, cache=False)
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "project_s": t2 - t1, "total_s": t2 - t0, "shape": list(Y.shape)}))
"""


def _cold(X: np.ndarray) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.npy"
        np.save(path, X)
        out = subprocess.run([sys.executable, "-c", _COLD, str(path)], check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _warm(X: np.ndarray) -> float:
    from okai_insight.embeddings._project import project

    t = time.perf_counter()
    project(X, progress=False, cache=False)
    return time.perf_counter() - t


def _load_table(url: str, data: Any, *, index: bool = True) -> float:
    """COPY the rows into ``items`` (no index), then build the HNSW index (``index``); returns its build seconds."""
    from pgvector.psycopg import register_vector

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        dim = data.embeddings.shape[1]
        conn.execute(
            f'CREATE TABLE items (id uuid PRIMARY KEY, "roomId" uuid, "agentId" uuid, "type" text, '
            f'"createdAt" timestamptz, content jsonb, embedding vector({dim}))'
        )
        t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        with (
            conn.cursor() as cur,
            cur.copy(
                'COPY items (id, "roomId", "agentId", "type", "createdAt", content, embedding) FROM STDIN WITH (FORMAT BINARY)'
            ) as copy,
        ):
            copy.set_types(["uuid", "uuid", "uuid", "text", "timestamptz", "jsonb", "vector"])
            for i, mid in enumerate(data.ids):
                copy.write_row(
                    (
                        mid,
                        data.rooms[data.room_of_row[i]],
                        data.agent,
                        "messages",
                        t0 + dt.timedelta(minutes=i),
                        psycopg.types.json.Jsonb({"text": data.texts[i]}),
                        data.embeddings[i],
                    )
                )
        conn.execute('CREATE INDEX ON items ("roomId")')
        if not index:
            conn.execute("VACUUM ANALYZE items")
            return 0.0
        start = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("CREATE INDEX items_embedding ON items USING hnsw (embedding vector_cosine_ops)")
        built = time.perf_counter() - start
        conn.execute("VACUUM ANALYZE items")
    return built


def _labelled(data: Any, n: int = 500) -> Any:
    """Each of ``n`` rows with its exact nearest neighbour (relevant) and a random row (irrelevant)."""
    import pandas as pd

    rng = np.random.default_rng(5)
    E = data.embeddings
    picks = rng.choice(len(E), size=n, replace=False)
    rows = []
    for i in picks:
        sims = E @ E[i]
        sims[i] = -2
        rows.append((str(data.ids[i]), str(data.ids[int(np.argmax(sims))]), True))
        rows.append((str(data.ids[i]), str(data.ids[int(rng.integers(len(E)))]), False))
    return pd.DataFrame(rows, columns=["query", "memory", "relevant"])


def run(quick: bool, work_dir: str | None) -> str:
    """Run every measurement and return the Markdown section."""
    from okai_insight.embeddings import embedding_quality, tune_recall, tune_threshold

    load_before = os.getloadavg()[0]
    sizes = (2_000, 6_000) if quick else (10_000, 100_000)
    dim = 64 if quick else 384
    rows = sizes[1]
    queries = 40 if quick else 200
    started = time.perf_counter()
    data = make_dataset(rows=rows, dim=dim, queries=10, seed=42)
    other = make_dataset(rows=rows, dim=dim, queries=10, seed=43).embeddings
    proj: list[dict[str, Any]] = [{"rows": 500, "cold": _cold(data.embeddings[:500]), "warm_s": float("nan")}]
    _warm(other[: min(2_000, rows)])  # compile UMAP's numba functions in this process first: warm means warm
    for n in sizes:
        cold = _cold(data.embeddings[:n])
        proj.append({"rows": n, "cold": cold, "warm_s": _warm(other[:n])})
        print(f"project {n}: cold {cold['total_s']:.1f} s, warm {proj[-1]['warm_s']:.1f} s", file=sys.stderr)
    os.environ.setdefault("OKAI_STATEMENT_TIMEOUT_MS", "60000")
    from okai_insight.settings import Settings

    settings = Settings.from_env(statement_timeout_ms=60_000)
    with bench_server(work_dir) as admin:
        url = create_database(admin, "bench_embeddings")
        index_s = _load_table(url, data)
        facts = server_facts(url)
        print(f"index built in {index_s:.1f} s", file=sys.stderr)
        from okai_insight.diagnostics._runner import Runner

        timings: dict[str, float] = {}
        results: dict[str, Any] = {}
        for label, kwargs in (
            ("recall_all", {"scopes": ("all",)}),
            ("recall_room", {"scopes": ("all", "room"), "iterative_scan": ("off", "relaxed_order")}),
        ):
            with Runner(url, settings=settings) as run_:
                t = time.perf_counter()
                results[label] = tune_recall(run_, table="items", ef_search=EF_SEARCH, queries=queries, **kwargs)
                timings[label] = time.perf_counter() - t
            print(f"{label}: {timings[label]:.1f} s ({results[label].status})", file=sys.stderr)
        with Runner(url, settings=settings) as run_:
            t = time.perf_counter()
            results["quality"] = embedding_quality(run_, "items", by="room")
            timings["quality"] = time.perf_counter() - t
            t = time.perf_counter()
            results["threshold"] = tune_threshold(run_, _labelled(data), table="items", queries=queries)
            timings["threshold"] = time.perf_counter() - t
        print(f"quality {timings['quality']:.1f} s, threshold {timings['threshold']:.1f} s", file=sys.stderr)
    total = time.perf_counter() - started
    facts["load"] = f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    return _render(quick, proj, timings, results, index_s, facts, rows, dim, queries, total)


def _render(
    quick: bool,
    proj: list[dict[str, Any]],
    timings: dict[str, float],
    results: dict[str, Any],
    index_s: float,
    facts: dict[str, str],
    rows: int,
    dim: int,
    queries: int,
    total: float,
) -> str:
    cmd = "python -m bench.embeddings" + (" --quick" if quick else "")
    lines = [
        START,
        "## Embedding insight (okai_insight.embeddings)",
        "",
        f"Generated by `{cmd}` (total {total / 60:.1f} min) on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"{os.cpu_count()} cores, {platform.machine()}, PostgreSQL {facts.get('postgresql', '?')} + pgvector "
        f"{facts.get('pgvector', '?')}. Data: the Gaussian mixture above, {rows:,} x {dim}. The cores are shared "
        f"with other work (1-minute load average {facts.get('load', '?')}): figures are noisy, the cold ones "
        "most of all.",
        "",
        "### Projection (explore): PCA to 50, UMAP on a 10,000-row subsample, the rest placed by 5-NN",
        "",
        "| rows | cold: fresh interpreter (imports + numba JIT + projection) | of which imports | warm: JIT done |",
        "|---:|---:|---:|---:|",
    ]
    for p in proj:
        c = p["cold"]
        warm = "—" if np.isnan(p["warm_s"]) else f"{p['warm_s']:.1f} s"
        lines.append(f"| {p['rows']:,} | {c['total_s']:.1f} s | {c['import_s']:.1f} s | {warm} |")
    goal = next((p for p in proj if p["rows"] == 100_000), None)
    if goal is not None:
        met = "met" if goal["cold"]["total_s"] < 60 else "not met"
        lines += [
            "",
            f"Goal 100k x 384 in < 60 s on 2 cores: cold {goal['cold']['total_s']:.1f} s ({met}), "
            f"warm {goal['warm_s']:.1f} s. UMAP's numba functions are compiled on the first call in a "
            "process (umap-learn does not cache most of them on disk): the 500-row cold figure is about that "
            "constant; later calls pay only the projection.",
        ]
    lines += [
        "",
        f"### Tuners and checks on {rows:,} rows (HNSW m 16, ef_construction 64, built in {index_s:.0f} s)",
        "",
        "| call | time |",
        "|---|---:|",
    ]
    lines.append(
        f"| `tune_recall`: {queries} queries x {len(EF_SEARCH)} ef_search values, unfiltered (exact "
        f"baseline included) | {timings['recall_all']:.1f} s |"
    )
    lines.append(
        f"| `tune_recall`: the same plus room-filtered searches, iterative scan off and relaxed_order | "
        f"{timings['recall_room']:.1f} s |"
    )
    lines.append(f"| `embedding_quality(by='room')`: 50k-row sample, 1,000 index probes | {timings['quality']:.1f} s |")
    lines.append(
        f"| `tune_threshold()` on 1,000 labelled pairs (nearest neighbour vs random), {queries} queries | "
        f"{timings['threshold']:.1f} s |"
    )
    rec = results["recall_room"]
    if rec.status == "ok":
        lines += [
            "",
            "Recall@10 and mean latency measured by `tune_recall` (room = each query filtered by its own "
            "row's room, ~1 % of the rows):",
            "",
            "| scope | iterative_scan | ef_search | recall@10 | mean ms | p95 ms | rows returned | plans on HNSW |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rec.rows:
            ef = "exact" if r["ef_search"] is None else str(r["ef_search"])
            share = "" if r["index_share"] is None else f"{r['index_share']:.0%}"
            lines.append(
                f"| {r['scope']} | {r['iterative_scan']} | {ef} | {r['recall_at_k']:.3f} | "
                f"{r['mean_ms']:.2f} | {r['p95_ms']:.2f} | {r['mean_returned']:.1f} | {share} |"
            )
        stmts = rec.summary.get("set_statements") or []
        lines += ["", f"Suggested: `{' '.join(stmts) or 'no setting reached the target'}`"]
    lines += [END, ""]
    return "\n".join(lines)


_SCALE_EXPLORE = """
import json, os, resource, sys, time
t0 = time.perf_counter()
from okai_insight.embeddings import explore
t1 = time.perf_counter()
phases = {}
import okai_insight.embeddings.explorer as ex
import okai_insight.embeddings._project as pj
def timed(module, attr, name):
    real = getattr(module, attr)
    def wrapper(*a, **k):
        t = time.perf_counter()
        out = real(*a, **k)
        phases[name] = time.perf_counter() - t
        return out
    setattr(module, attr, wrapper)
timed(ex, "fetch", "fetch_s")
timed(ex, "project", "project_s")
timed(pj, "place", "place_s")
p = explore(sys.argv[1], table="items", limit=None, progress=False)
t2 = time.perf_counter()
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"import_s": t1 - t0, "total_s": t2 - t0, "explore_s": t2 - t1, "points": len(p.frame), **phases,
                  "cpu_s": u.ru_utime + u.ru_stime, "peak_rss_mb": u.ru_maxrss / 1024, "load_end": os.getloadavg()[0]}))
"""
#: Imports umap-learn once, so pynndescent's own on-disk numba cache (compiled at import) is in the fresh cache
#: directory before the first measured run, as it is in an installed environment after any first import.
_PRIME_NUMBA = "import warnings; warnings.simplefilter('ignore'); import umap"


def _explore_cold(url: str, python: str = sys.executable, pythonpath: str | None = None) -> dict[str, Any]:
    """``explore`` over every row in a fresh interpreter, twice, with numba's cache in a new directory
    (``NUMBA_CACHE_DIR``): ``first`` is a user's first run (UMAP's functions compiled, then kept on disk by
    ``_project._cache_jit``), ``second`` the next session's cold start, which loads them. ``pythonpath`` runs
    another checkout (e.g. the previous commit's, for before/after in one run)."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="okai-numba-") as cache:
        env = {**os.environ, "OKAI_STATEMENT_TIMEOUT_MS": "600000", "NUMBA_CACHE_DIR": cache}
        if pythonpath:
            env["PYTHONPATH"] = pythonpath
        subprocess.run([python, "-c", _PRIME_NUMBA], check=True, capture_output=True, env=env)
        for label in ("first", "second"):
            res = subprocess.run(  # run from the checkout measured: `python -c` puts the cwd first on sys.path
                [python, "-c", _SCALE_EXPLORE, url],
                check=True,
                capture_output=True,
                text=True,
                env=env,
                cwd=pythonpath or os.getcwd(),
            )
            out[label] = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"explore ({label} cold start): {out[label]}", file=sys.stderr)
    return out


def _scale_database(data_dir: Path, rows: int, dim: int, index: bool) -> tuple[Any, str]:
    """A persistent embedded server in ``data_dir`` holding ``bench_scale_<rows>`` (built once, then reused: a
    million-row load is minutes on the shared machine). Returns the running server and the database's URL."""
    from okai_insight.embedded import EmbeddedServer

    server = EmbeddedServer(data_dir / "pgdata")
    admin = server.start().replace(f"/{server.database}?", "/postgres?")
    name = f"bench_scale_{rows}_{dim}"
    url = admin.replace("/postgres?", f"/{name}?")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    loaded = False
    if exists:
        with psycopg.connect(url, autocommit=True) as conn:
            got = conn.execute("SELECT to_regclass('items') IS NOT NULL").fetchone()
            loaded = bool(got and got[0]) and conn.execute("SELECT count(*) FROM items").fetchone() == (rows,)
    if not loaded:
        url = create_database(admin, name)
        t = time.perf_counter()
        data = make_dataset(rows=rows, dim=dim, queries=10, seed=42)
        _load_table(url, data, index=False)
        print(f"loaded {rows} x {dim} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    if index:
        with psycopg.connect(url, autocommit=True) as conn:
            if conn.execute("SELECT to_regclass('items_embedding')").fetchone() == (None,):
                t = time.perf_counter()
                conn.execute("SET maintenance_work_mem = '3GB'")  # the 1M x 384 graph fits: one pass, no spill
                conn.execute("SET max_parallel_maintenance_workers = 1")
                conn.execute("CREATE INDEX items_embedding ON items USING hnsw (embedding vector_cosine_ops)")
                print(f"HNSW index built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return server, url


def run_scale(
    rows: int, dim: int, data_dir: Path, index: bool, *, before: Path | None = None, explore_only: bool = False
) -> dict[str, Any]:
    """Issue 17 item 4's goals at ``rows``: explore cold (a fresh interpreter, every row; the first run and the
    second cold start, see :func:`_explore_cold`), embedding_quality, and tune_recall with 200 queries when the
    table has its HNSW index. ``before``: a checkout of the previous code, measured first in the same run.
    Returns the figures (printed as JSON)."""
    from okai_insight.embeddings import embedding_quality, tune_recall
    from okai_insight.settings import Settings

    out: dict[str, Any] = {"rows": rows, "dim": dim, "load_before": os.getloadavg()[0]}
    server, url = _scale_database(data_dir, rows, dim, index)
    try:
        if before:
            out["explore_before"] = _explore_cold(url, pythonpath=str(before))
        cold = _explore_cold(url)
        out["explore"], out["explore_second_start"] = cold["first"], cold["second"]
        if not explore_only:
            settings = Settings.from_env(statement_timeout_ms=600_000)
            from okai_insight.diagnostics._runner import Runner

            with Runner(url, settings=settings) as run_:
                t = time.perf_counter()
                q = embedding_quality(run_, "items", by="room")
                out["quality_s"] = time.perf_counter() - t
                out["quality_sampled"] = q.summary.get("sampled")
                out["quality_probes"] = q.summary.get("probes")
            print(f"embedding_quality: {out['quality_s']:.1f} s", file=sys.stderr)
            if index:
                with Runner(url, settings=settings) as run_:
                    t = time.perf_counter()
                    r = tune_recall(run_, table="items", ef_search=(40, 100, 200), queries=200, scopes=("all",))
                    out["recall_s"] = time.perf_counter() - t
                    out["recall_status"] = r.status
                    out["recall_exact_from_stream"] = r.summary.get("exact_from_stream")
                    out["recall_at_10"] = {str(x["ef_search"]): round(x["recall_at_k"], 4) for x in r.rows}
                print(f"tune_recall: {out['recall_s']:.1f} s", file=sys.stderr)
    finally:
        server.stop(mode="fast")
    out["load_after"] = os.getloadavg()[0]
    return out


def write_section(text: str, path: Path = DOCS) -> None:
    """Replace this benchmark's section of ``path`` between its markers (or append it), leaving the rest alone."""
    sections.write_section(path, SECTION, text)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, write the section; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m bench.embeddings", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; print the section instead of writing")
    parser.add_argument("--output", type=Path, help=f"file whose section to replace (default {DOCS})")
    parser.add_argument("--work-dir", help="where the temporary PostgreSQL cluster goes")
    parser.add_argument(
        "--scale", type=int, help="issue 17 item 4: measure explore / quality / recall at this many rows"
    )
    parser.add_argument("--dim", type=int, default=384, help="dimensions of the --scale table (default 384)")
    parser.add_argument("--data-dir", type=Path, help="--scale: a persistent cluster, the table built once and reused")
    parser.add_argument("--index", action="store_true", help="--scale: build the HNSW index and time tune_recall")
    parser.add_argument(
        "--before", type=Path, help="--scale: a checkout of older code (PYTHONPATH) whose explore is measured first"
    )
    parser.add_argument("--explore-only", action="store_true", help="--scale: measure explore only")
    args = parser.parse_args(argv)
    if args.scale:
        data_dir = args.data_dir or Path(tempfile.gettempdir()) / "okai-bench-scale"
        figures = run_scale(
            args.scale, args.dim, data_dir, args.index, before=args.before, explore_only=args.explore_only
        )
        print(json.dumps(figures, indent=2))
        return 0
    text = run(args.quick, args.work_dir)
    if args.quick and args.output is None:
        print(text)
    else:
        write_section(text, args.output or DOCS)
        print(f"wrote the embedding section of {args.output or DOCS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
