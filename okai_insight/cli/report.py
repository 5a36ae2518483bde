"""``okai-insight report``: the diagnostic report as one HTML file (the report notebook, without its code).

Example:
    $ okai-insight report
    $ okai-insight report postgresql://me@localhost/agents -o agents.html
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from okai_insight.cli._args import add_command
from okai_insight.embeddings.recall import DEFAULT_QUERIES


def _report(args: argparse.Namespace) -> int:
    from okai_insight._postgres_only import require_postgres
    from okai_insight.report._build import build_report

    started = time.perf_counter()
    if args.url is not None:  # a SQLite or mysql:// URL is refused before the progress lines, in one line
        require_postgres(args.url, "report")
    if args.url is None:
        print("okai-insight report: the demo's own database (okai_demo) on the embedded PostgreSQL, loading it if needed ...",
              file=sys.stderr)  # fmt: skip
    print("executing the report notebook (health, statements, indexes, space, vectors, embeddings) ...",
          file=sys.stderr)  # fmt: skip
    out = build_report(
        args.url,
        args.output,
        sample=args.sample,
        queries=args.queries,
        keep_notebook=args.keep_notebook,
    )
    print(f"report written in {time.perf_counter() - started:.0f} s: {Path(out).resolve()}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``report`` to the CLI."""
    p = add_command(
        subparsers,
        "report",
        help="write the diagnostic report as one HTML file (no URL: the demo's own database, okai_demo)",
        description="Execute the report notebook with papermill on a database and export it to HTML without "
        "code cells: health summary, top findings with their fixes, statements, indexes, space, vector indexes "
        "and recall, embedding quality and a projection, threshold guidance. Read-only on the database. With no "
        "URL (and no OKAI_DATABASE_URL) it uses the demo's own database, okai_demo, on the embedded PostgreSQL (created "
        "and loaded if needed, as by okai-insight demo); the server's default database okai, yours, is never touched.",
        examples=[
            "okai-insight report",
            "okai-insight report -o /tmp/demo-report.html",
            "okai-insight report postgresql://me@localhost/agents -o agents.html --sample 5000",
            "okai-insight report --keep-notebook executed.ipynb   (the executed notebook too)",
        ],
        func=_report,
    )
    p.add_argument(
        "url",
        nargs="?",
        default=None,
        help="database URL (postgresql://...); default: OKAI_DATABASE_URL, else the embedded server's demo database "
        "okai_demo",
    )
    p.add_argument("-o", "--output", default="report.html", help="HTML file to write (default: report.html)")
    p.add_argument("--sample", type=int, default=2000, help="embeddings read for the projection (default 2000)")
    p.add_argument(
        "--queries",
        type=int,
        default=DEFAULT_QUERIES,
        help=f"sampled queries for the tuners (default {DEFAULT_QUERIES}, as tune-recall's)",
    )
    p.add_argument("--keep-notebook", default=None, metavar="PATH", help="also keep the executed notebook")
