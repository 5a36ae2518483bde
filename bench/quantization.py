"""The quantization trade-off (issue 17 item 3): ``tune_index`` on a table of ``rows`` x ``dim`` clustered vectors.

Loads ``bench/_data.py``'s synthetic memories (clustered, low intrinsic dimension, unit length: see its docstring)
into a ``memories(id uuid, embedding vector(dim))`` table of a throwaway embedded server, then runs
``okai_insight.tuning.tune_index`` on it with ``--sample-rows`` equal to ``rows`` (every row copied into the scratch
server), so each candidate is built and searched at the full size. Prints the rows (candidate, ef_search,
over-fetch, recall@k, latency, index size, build time) as a Markdown table for docs/diagnostics.md, and the advice.

Example:
    $ .venv/bin/python -m bench.quantization --rows 100000 --dim 384
    $ .venv/bin/python -m bench.quantization --rows 50000 --dim 1536 --queries 200 --target 0.95
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psycopg

from bench._data import make_dataset
from bench._server import bench_server, create_database, server_facts


def load(url: str, embeddings: np.ndarray) -> None:
    """Create ``memories`` and binary-COPY the vectors into it (no index: tune_index builds its own copies)."""
    from pgvector.psycopg import register_vector

    dim = embeddings.shape[1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute(f"CREATE TABLE memories (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), embedding vector({dim}))")
        with conn.cursor().copy("COPY memories (embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["vector"])
            for v in embeddings:
                copy.write_row([v])
        conn.execute("ANALYZE memories")


def markdown(rows: list[dict[str, object]]) -> str:
    """The measured rows as a Markdown table, numbers formatted for people."""
    from okai_insight.presentation import format_cell

    cols = [
        "candidate",
        "ef_search",
        "overfetch",
        "recall_at_k",
        "mean_ms",
        "p95_ms",
        "size_bytes",
        "build_ms",
        "uses_index",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(format_cell(c, r.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--ef-search", default="40,100")
    p.add_argument("--overfetch", default="2,4,8")
    p.add_argument("--json", help="also write the result (rows, summary, findings) to this JSON file")
    args = p.parse_args(argv)

    from okai_insight.tuning import tune_index

    data = make_dataset(rows=args.rows, dim=args.dim, queries=1, seed=42)
    with bench_server() as admin:
        url = create_database(admin, "bench_quantization")
        started = time.perf_counter()
        load(url, data.embeddings)
        print(f"loaded {args.rows:,} x {args.dim} in {time.perf_counter() - started:.1f} s; {server_facts(url)}")
        started = time.perf_counter()
        result = tune_index(
            url,
            sample_rows=args.rows,
            queries=args.queries,
            k=args.k,
            target_recall=args.target,
            ef_search=[int(x) for x in args.ef_search.split(",")],
            overfetch=[int(x) for x in args.overfetch.split(",")],
            progress=False,
        )
        total = time.perf_counter() - started
    print(result.to_text(max_rows=100))
    print(f"\ntune_index took {total:.0f} s end to end\n")
    print(markdown(result.rows))
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict() | {"summary": result.summary}, indent=1, default=str))
    return 0 if result.status == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
