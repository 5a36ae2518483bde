"""``okai-insight tune-index``: which vector index (full-precision HNSW, halfvec, binary quantization), measured on a
copy of a sample of the table in a scratch server.

Example:
    $ okai-insight tune-index
    $ okai-insight tune-index postgresql://me@host/agents --target 0.98 --sample-rows 50000
"""

from __future__ import annotations

import argparse
from typing import Any

from okai_insight.cli._args import add_command, add_format_argument, add_url_argument, comma_ints
from okai_insight.cli._output import print_result
from okai_insight.errors import InvalidInput


def _hnsw(text: str) -> list[tuple[int, int]]:
    out = []
    for item in text.split(","):
        m, sep, c = item.strip().partition(":")
        if not sep:
            raise InvalidInput(f"--hnsw takes m:ef_construction pairs, comma-separated (16:64,32:128), got {text!r}")
        out.append((comma_ints(m, "--hnsw")[0], comma_ints(c, "--hnsw")[0]))
    return out


def _tune_index(args: argparse.Namespace) -> int:
    from okai_insight.tuning import tune_index

    result = tune_index(
        args.url,
        table=args.table,
        column=args.column,
        k=args.k,
        target_recall=args.target,
        sample_rows=args.sample_rows,
        queries=args.queries,
        kinds=args.kinds.split(","),
        hnsw=_hnsw(args.hnsw),
        ef_search=comma_ints(args.ef_search, "--ef-search"),
        overfetch=comma_ints(args.overfetch, "--overfetch"),
        progress=not args.quiet,
    )
    return print_result(result, args.format)  # the embedding tuners' printing and exit codes, not a copy of them


def add_commands(subparsers: Any) -> None:
    """Add ``tune-index`` to the CLI."""
    from okai_insight.embeddings.recall import DEFAULT_QUERIES
    from okai_insight.tuning.index import (
        DEFAULT_EF_SEARCH,
        DEFAULT_HNSW,
        DEFAULT_OVERFETCH,
        DEFAULT_SAMPLE_ROWS,
        KINDS,
    )

    # tune_index's own defaults, spelled as the options take them: stated once, in the library
    kinds, pairs = ",".join(KINDS), ",".join(f"{m}:{c}" for m, c in DEFAULT_HNSW)
    efs, factors = ",".join(map(str, DEFAULT_EF_SEARCH)), ",".join(map(str, DEFAULT_OVERFETCH))

    p = add_command(
        subparsers,
        "tune_index",
        help="which vector index: full-precision HNSW, halfvec or binary quantization, measured on your data",
        description="Copy a keyed sample of the table's vectors (binary COPY out of a READ ONLY transaction) into a "
        "throwaway embedded PostgreSQL, build each candidate index there (full-precision HNSW at a few m / "
        "ef_construction, halfvec HNSW, bit HNSW with exact re-ranking at a few over-fetch factors), and report "
        "index size, build time, recall@k against exact search and latency; then the candidate reaching the target "
        "recall with the smallest index, with its DDL and query shape (verified by EXPLAIN on the copy). Your "
        "database is only read; the scratch server is removed afterwards.",
        examples=[
            "okai-insight tune-index",
            "okai-insight tune-index postgresql://me@host/agents --target 0.98 --sample-rows 50000",
            "okai-insight tune-index --kinds vector,halfvec --hnsw 16:64,24:100 --ef-search 40,80,200",
            "okai-insight tune-index --format json > tune-index.json",
        ],
        func=_tune_index,
    )
    add_url_argument(p)
    p.add_argument("--table", default="memories", help="table holding the vectors (default: memories)")
    p.add_argument(
        "--column",
        default="embedding",
        help="vector column (default: embedding; on ElizaOS 1.x the fullest dim_N column, or the one named: dim_768)",
    )
    add_format_argument(p)
    p.add_argument("--k", type=int, default=10, help="recall@k: how many results a search returns (default 10)")
    p.add_argument("--target", type=float, default=0.95, help="target recall@k (default 0.95)")
    p.add_argument(
        "--sample-rows", type=int, default=DEFAULT_SAMPLE_ROWS, help=f"rows copied (default {DEFAULT_SAMPLE_ROWS})"
    )
    p.add_argument(
        "--queries", type=int, default=DEFAULT_QUERIES, help=f"sampled query rows (default {DEFAULT_QUERIES})"
    )
    p.add_argument("--kinds", default=kinds, help=f"candidates, comma-separated (default {kinds})")
    p.add_argument("--hnsw", default=pairs, help=f"full-precision m:ef_construction pairs (default {pairs})")
    p.add_argument("--ef-search", default=efs, help=f"hnsw.ef_search values to try (default {efs})")
    p.add_argument("--overfetch", default=factors, help=f"bit: rows fetched per row returned (default {factors})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
