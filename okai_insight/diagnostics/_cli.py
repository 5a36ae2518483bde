"""Diagnostics subcommands: ``doctor`` (every check, exit status 1 on critical findings) and one subcommand per
diagnostic, named like its function (``okai-insight duplicate_indexes URL``).

Example:
    $ okai-insight doctor
    $ okai-insight doctor postgresql://me@localhost/agents --format json
    $ okai-insight vector_queries --format csv
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from okai_insight.cli import Formatter, add_format_argument, add_url_argument, format_rows
from okai_insight.diagnostics._result import Result


def _doctor(args: argparse.Namespace) -> int:
    from okai_insight.diagnostics.health import health

    report = health(args.url, checks=args.check or None)
    if args.format == "json":
        print(report.to_json())
    else:
        print(report.to_text(verbose=args.verbose))
    return report.exit_code


def _single(check: Callable[..., Result]) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        result = check(args.url)
        if args.format == "json":
            print(json.dumps(result.to_dict(), indent=2, default=str))
        elif args.format == "csv":
            print(format_rows(result.to_dict()["rows"], "csv"), end="")
        else:
            print(result.to_text(max_rows=200))
        return 1 if result.worst_severity == "critical" else 0

    return handler


def register(subparsers: Any) -> None:
    """Add ``doctor`` and one subcommand per diagnostic to the CLI."""
    from okai_insight.diagnostics.health import CHECKS, check_names

    p = subparsers.add_parser(
        "doctor",
        help="run every diagnostic and print the findings (exit 1 on critical ones)",
        description="Check a memory database the way a PostgreSQL expert would: activity, connections, "
        "statements, indexes, space, maintenance, replication, settings and pgvector. Read-only: every query "
        "runs in a READ ONLY transaction with a statement timeout and is rolled back.",
        epilog="examples:\n  okai-insight doctor\n  okai-insight doctor postgresql://me@localhost/agents\n"
        "  okai-insight doctor --format json > report.json\n  okai-insight doctor --check vector_queries "
        "--check duplicate_indexes",
        formatter_class=Formatter,
    )
    add_url_argument(p)
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.add_argument("--verbose", action="store_true", help="also print every check's rows")
    p.add_argument("--check", action="append", choices=check_names(), help="run only this check (repeatable)")
    p.set_defaults(func=_doctor)

    from okai_insight.diagnostics import activity, indexes, space, statements

    extra = (
        activity.running_queries,
        activity.wait_events,
        statements.query_stats,
        indexes.index_usage,
        space.table_sizes,
    )
    for check in (*CHECKS, *extra):
        title = getattr(check, "title", check.__name__)
        doc = (check.__doc__ or title).strip().split("\n\n")[0]
        sp = subparsers.add_parser(
            check.__name__,
            help=f"diagnostic: {title.lower()}",
            description=" ".join(doc.split()),
            epilog=f"example:\n  okai-insight {check.__name__} --format json",
            formatter_class=Formatter,
        )
        add_url_argument(sp)
        add_format_argument(sp)
        sp.set_defaults(func=_single(check))
