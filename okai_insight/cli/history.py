"""``okai-insight snapshot`` and ``okai-insight history``: record a database's statement counters, sizes and
vector-index usage into the local history store, and show the trends (PgHero's historical stats).

Example:
    $ okai-insight snapshot
    $ okai-insight history --format json
"""

from __future__ import annotations

import argparse
from typing import Any

from okai_insight.cli._args import add_command, add_format_argument, add_url_argument


def _store_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store-dir",
        default=None,
        metavar="DIR",
        help="directory of the history files (default: $OKAI_DATA_DIR/history, else the user data directory's)",
    )
    p.add_argument(
        "--into-schema",
        default=None,
        metavar="NAME",
        help="keep the history in this schema of the database itself (created if missing) instead of a local file",
    )


def _snapshot(args: argparse.Namespace) -> int:
    from okai_insight._postgres_only import require_postgres
    from okai_insight.history import snapshot

    if args.url is not None:
        require_postgres(args.url, "snapshot")
    s = snapshot(args.url, store_dir=args.store_dir, into_schema=args.into_schema)
    print(
        f"snapshot {s.id} of {s.database} at {s.taken_at}: {s.statements} statements, {s.relations} tables and "
        f"indexes, {s.vector_indexes} vector indexes -> {s.where}"
    )
    return 0


def _history(args: argparse.Namespace) -> int:
    from okai_insight._postgres_only import require_postgres
    from okai_insight.cli._output import format_rows
    from okai_insight.history import history

    if args.url is not None:
        require_postgres(args.url, "history")
    h = history(args.url, store_dir=args.store_dir, into_schema=args.into_schema)
    if args.format == "text":
        print(h.to_text())
    else:
        print(format_rows(h.since_last(), args.format))
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``snapshot`` and ``history`` to the CLI."""
    p = add_command(
        subparsers,
        "snapshot",
        help="record statement counters, table and index sizes and vector-index usage in the history store",
        description="Read the database (read-only, as every diagnostic) and record one snapshot: "
        "pg_stat_statements' counters per statement (okai-insight's own left out), every table's and index's size, "
        "and the scan counters of the vector indexes. The store is a SQLite file per database under the user data "
        "directory, named by a hash of the cluster's system identifier and the database's name; it holds no URL "
        "and no password. Run it from cron to build a history.",
        examples=[
            "okai-insight snapshot",
            "okai-insight snapshot postgresql://me@localhost/agents",
            "okai-insight snapshot --into-schema okai_history   (in the database itself, on request)",
        ],
        func=_snapshot,
    )
    add_url_argument(p)
    _store_options(p)
    p = add_command(
        subparsers,
        "history",
        help="show the trends of the recorded snapshots: space growth and what changed since the last snapshot",
        description="Read the history store of a database (see snapshot) and print its snapshots, the tables' "
        "total size at each with its growth, and what changed between the last two snapshots: statements that ran "
        "(calls and time in between), tables and indexes that grew, vector indexes that were scanned. "
        "--format json|csv prints the 'since last snapshot' rows.",
        examples=[
            "okai-insight history",
            "okai-insight history postgresql://me@localhost/agents --format json",
        ],
        func=_history,
    )
    add_url_argument(p)
    add_format_argument(p)
    _store_options(p)
