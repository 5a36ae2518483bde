"""Embedding subcommands, named like their functions: ``embedding_quality``, ``explore``, ``neighbours``,
``drift``, ``tune_threshold``, ``tune_recall``, ``convert_threshold``.

Example:
    $ okai-insight embedding_quality --by agent
    $ okai-insight tune_recall --k 10 --target 0.95
    $ okai-insight convert_threshold 0.8 --from cosine --to eliza
"""

from __future__ import annotations

import argparse
from typing import Any

from okai_insight.cli._args import add_command, add_format_argument, add_url_argument, comma_ints
from okai_insight.cli._output import format_rows, print_result
from okai_insight.errors import InvalidInput


def _quality(args: argparse.Namespace) -> int:
    from okai_insight.embeddings.quality import embedding_quality

    by = None if args.by == "none" else args.by
    result = embedding_quality(
        args.url,
        args.table,
        by,
        column=args.column,
        sample_rows=args.sample_rows,
        near_threshold=args.near_threshold,
        probes=args.probes,
    )
    return print_result(result, args.format)


def _explore(args: argparse.Namespace) -> int:
    from okai_insight.embeddings.explorer import explore

    p = explore(
        args.url,
        table=args.table,
        column=args.column,
        agent_id=args.agent_id,
        room_id=args.room_id,
        user_id=args.user_id,
        world_id=args.world_id,
        type=args.type,
        limit=args.limit,
        progress=not args.quiet,
    )
    if p.status != "ok":
        return print_result(p, args.format)
    clusters = p.clusters(min_cluster_size=args.min_cluster_size)
    if args.output:
        import matplotlib

        matplotlib.use("Agg")
        ax = p.plot(color=args.color)
        ax.figure.savefig(args.output, dpi=120, bbox_inches="tight")
        print(f"map of {len(p.frame)} memories written to {args.output}")
    return print_result(clusters, args.format)


def _neighbours(args: argparse.Namespace) -> int:
    from okai_insight.embeddings.explorer import neighbours

    result = neighbours(args.url, args.id, text=args.text, k=args.k, table=args.table, column=args.column)
    return print_result(result, args.format)


def _drift(args: argparse.Namespace) -> int:
    from okai_insight.embeddings.explorer import drift

    result = drift(
        args.url,
        table=args.table,
        column=args.column,
        by=None if args.by == "none" else args.by,
        window=args.window,
        alert_distance=args.alert_distance,
    )
    return print_result(result, args.format)


def _threshold(args: argparse.Namespace) -> int:
    from okai_insight.embeddings.threshold import tune_threshold

    pairs = None
    if args.pairs:
        import pandas as pd

        try:
            pairs = pd.read_csv(args.pairs)
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot read labelled pairs from {args.pairs}: {exc}") from exc
    result = tune_threshold(
        args.url,
        pairs,
        table=args.table,
        column=args.column,
        convention=args.convention,
        queries=args.queries,
        limit=args.limit,
        probes=args.probes,
        current=args.current,
        filters=_filters(args),
    )
    return print_result(result, args.format)


def _filters(args: argparse.Namespace) -> Any:
    """The tuners' query filters from --agent-id / --room-id / --world-id (None when none is given)."""
    from okai_insight.embeddings._fetch import Filters

    filters = Filters(agent_id=args.agent_id, room_id=args.room_id, world_id=args.world_id)
    return filters if filters.active() else None


def _filter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--agent-id", help="sample queries of this agent only (ElizaOS 1.x: and search its column)")
    p.add_argument("--room-id", help="sample queries of this room only")
    p.add_argument("--world-id", help="sample queries of this world only (ElizaOS 1.x)")


def _recall_queries() -> int:
    """tune_recall's own default sample, so the CLI measures what the report and the widget measure."""
    from okai_insight.embeddings.recall import DEFAULT_QUERIES

    return DEFAULT_QUERIES


def _threshold_default(name: str) -> int:
    """tune_threshold's own defaults, so the CLI's advice is the report's, the notebook's and the widget's."""
    from okai_insight.embeddings import threshold

    return int(getattr(threshold, name))


def _recall(args: argparse.Namespace) -> int:
    from okai_insight.embeddings.recall import tune_recall

    result = tune_recall(
        args.url,
        table=args.table,
        column=args.column,
        k=args.k,
        ef_search=comma_ints(args.ef_search),
        queries=args.queries,
        target_recall=args.target,
        scopes=args.scopes.split(","),
        filters=_filters(args),
    )
    code = print_result(result, args.format)
    if result.nothing_to_tune:  # a SQLite / in-memory store searches exactly: an answer, not a failure
        return 0
    if args.format == "text" and result.status == "ok":
        statements = result.summary.get("set_statements") or []
        print("\nto apply:\n  " + ("\n  ".join(statements) if statements else "(no setting reached the target)"))
    return code


def _convert(args: argparse.Namespace) -> int:
    from okai_insight.embeddings.conventions import convert_threshold

    value = convert_threshold(args.value, args.source, args.target, norm_a=args.norm_a, norm_b=args.norm_b)
    row = {
        "value": args.value,
        "from": args.source,
        "to": args.target,
        "converted": value,
        "norm_a": args.norm_a,
        "norm_b": args.norm_b,
    }
    print(format_rows([row], args.format) if args.format != "text" else f"{value:.6g}")
    return 0


def _table_args(p: argparse.ArgumentParser) -> None:
    add_url_argument(p)
    p.add_argument("--table", default="memories", help="table holding the vectors (default: memories)")
    p.add_argument(
        "--column",
        default="embedding",
        help="vector column (default: embedding; on ElizaOS 1.x every active dim_N column, or one: dim_768)",
    )
    add_format_argument(p)


def add_commands(subparsers: Any) -> None:
    """Add the embedding subcommands to the CLI."""
    from okai_insight.embeddings.conventions import CONVENTIONS

    p = add_command(
        subparsers,
        "embedding_quality",
        help="dimensions, NULL/zero/non-unit vectors, duplicates, mixed models",
        description="Check a table's embeddings per agent, room or type: the dimension histogram, NULL / zero / NaN / "
        "non-unit vectors, norms, exact and near duplicates (through the vector index) and signs of two "
        "embedding models. Big tables are sampled (it says so). Read-only.",
        examples=[
            "okai-insight embedding_quality",
            "okai-insight embedding_quality postgresql://me@host/agents --by room",
            "okai-insight embedding_quality --table knowledge --by none --format json",
        ],
        func=_quality,
    )
    _table_args(p)
    p.add_argument(
        "--by",
        choices=("agent", "room", "type", "user", "world", "entity", "none"),
        default="agent",
        help="group by (world and entity: ElizaOS 1.x; entity is user)",
    )
    p.add_argument("--sample-rows", type=int, default=50_000, help="sample tables larger than this")
    p.add_argument("--near-threshold", type=float, default=None, help="cosine similarity of near duplicates")
    p.add_argument("--probes", type=int, default=1_000, help="rows probed for near duplicates")

    p = add_command(
        subparsers,
        "explore",
        help="2-D map of memory embeddings (PCA + UMAP) and HDBSCAN clusters",
        description="Project memories' embeddings to 2-D (PCA, then UMAP), print the clusters (size, rooms, agents, "
        "frequent words) and optionally save the map as an image.",
        examples=[
            "okai-insight explore --output map.png",
            "okai-insight explore --agent-id 6f1c... --color type --output agent.png",
            "okai-insight explore --limit 5000 --format csv",
        ],
        func=_explore,
    )
    _table_args(p)
    p.add_argument("--agent-id")
    p.add_argument("--room-id")
    p.add_argument("--user-id", help="memories of this user (ElizaOS 1.x: entity) only")
    p.add_argument("--world-id", help="memories of this world only (ElizaOS 1.x)")
    p.add_argument("--type", help="memory type (messages, facts, ...)")
    p.add_argument("--limit", type=int, default=20_000, help="keyed sample size")
    p.add_argument("--color", default="room_id", help="column to colour the map by")
    p.add_argument("--min-cluster-size", type=int, default=None)
    p.add_argument("--output", help="write the map to this image file (png, svg, pdf)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = add_command(
        subparsers,
        "neighbours",
        help="nearest memories of a memory or a text, through the vector index",
        description="List the nearest memories of a memory (by id) or of a text (needs the optional embedding model), "
        "with cosine similarity.",
        examples=["okai-insight neighbours --id 2b0e...", "okai-insight neighbours --text 'where did we park?' --k 5"],
        func=_neighbours,
    )
    _table_args(p)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", help="memory id")
    who.add_argument("--text", help="a text to embed (pip install 'okai-insight[embeddings]')")
    p.add_argument("--k", type=int, default=10)

    p = add_command(
        subparsers,
        "drift",
        help="how far each time window's centroid moved from the first, per agent",
        description="Cosine distance of each time window's mean embedding from a baseline window (each group's first), "
        "per agent, room or type; centroids are computed in the database.",
        examples=["okai-insight drift", "okai-insight drift --window day --by room"],
        func=_drift,
    )
    _table_args(p)
    p.add_argument(
        "--by",
        choices=("agent", "room", "type", "user", "world", "entity", "none"),
        default="agent",
        help="group by (world and entity: ElizaOS 1.x; entity is user)",
    )
    p.add_argument("--window", choices=("hour", "day", "week", "month", "quarter", "year"), default="week")
    p.add_argument("--alert-distance", type=float, default=0.25)

    p = add_command(
        subparsers,
        "tune_threshold",
        help="precision / recall / F1 against the similarity threshold",
        description="Find the best-F1 match_threshold on labelled pairs (a CSV with columns query,memory,relevant) or on "
        "pseudo-labelled ones (same or overlapping text vs random pairs), and how many memories queries get "
        "at each threshold.",
        examples=[
            "okai-insight tune_threshold",
            "okai-insight tune_threshold --pairs labelled.csv --convention eliza --current 0.8",
        ],
        func=_threshold,
    )
    _table_args(p)
    p.add_argument("--pairs", help="CSV of labelled pairs: query,memory,relevant")
    p.add_argument("--convention", choices=CONVENTIONS, default="cosine")
    p.add_argument(
        "--queries", type=int, default=_threshold_default("DEFAULT_QUERIES"), help="sampled searches (practice columns)"
    )
    p.add_argument(
        "--probes",
        type=int,
        default=_threshold_default("DEFAULT_PROBES"),
        help="rows whose neighbours are pseudo-labelled (the label sample)",
    )
    p.add_argument("--limit", type=int, default=10, help="results a search returns (match_count)")
    p.add_argument("--current", type=float, default=None, help="the threshold in use, to compare")
    _filter_args(p)

    p = add_command(
        subparsers,
        "tune_recall",
        help="HNSW recall@k and latency against hnsw.ef_search (and filters)",
        description="Compare exact top-k (index scans off) with HNSW top-k at each hnsw.ef_search, unfiltered and "
        "filtered by room / agent with and without hnsw.iterative_scan; print the SET statements to apply. "
        "Every search runs in a rolled-back READ ONLY transaction.",
        examples=[
            "okai-insight tune_recall",
            "okai-insight tune_recall --k 5 --target 0.99 --ef-search 20,40,100,200",
            "okai-insight tune_recall --scopes all --format json",
        ],
        func=_recall,
    )
    _table_args(p)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--ef-search", default="10,20,40,80,100,200,400")
    p.add_argument("--queries", type=int, default=_recall_queries())
    p.add_argument("--target", type=float, default=0.95, help="target recall@k")
    p.add_argument("--scopes", default="all,room,agent")
    _filter_args(p)

    p = add_command(
        subparsers,
        "convert_threshold",
        help="port a threshold between cosine, ElizaOS 1-L2 and inner product",
        description="Convert a similarity threshold between conventions (cosine, cosine_distance, l2_distance, eliza = "
        "1 - L2, inner_product, negative_inner_product); exact for unit vectors, for other norms pass them.",
        examples=[
            "okai-insight convert_threshold 0.8 --from cosine --to eliza",
            "okai-insight convert_threshold 0.35 --from eliza --to cosine",
            "okai-insight convert_threshold 0.8 --from cosine --to inner_product --norm-a 7 --norm-b 7",
        ],
        func=_convert,
    )
    p.add_argument("value", type=float)
    p.add_argument("--from", dest="source", choices=CONVENTIONS, required=True)
    p.add_argument("--to", dest="target", choices=CONVENTIONS, required=True)
    p.add_argument("--norm-a", type=float, default=1.0, help="query vector norm (default 1)")
    p.add_argument("--norm-b", type=float, default=1.0, help="memory vector norm (default 1)")
    add_format_argument(p)
