"""``okai-insight pglite``: read a PGlite directory (ElizaOS 1.x's default store) with any okai-insight command.

Example:
    $ okai-insight pglite ~/.eliza/.elizadb doctor
    $ okai-insight pglite ~/.eliza/.elizadb          # serve it and print the URL until Ctrl-C
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from okai_insight.cli._args import add_command


def _pglite(args: argparse.Namespace, run: Callable[[Sequence[str]], int]) -> int:
    from okai_insight.pglite import serve

    with serve(args.directory, in_place=args.in_place) as url:
        if not args.inner:
            print(url, flush=True)
            print("serving a snapshot of the directory" if not args.in_place else "serving the directory itself",
                  "(one connection at a time); Ctrl-C stops it", file=sys.stderr)  # fmt: skip
            stop = threading.Event()
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
            stop.wait()
            return 0
        # The command finds the database the way every command does when given no URL: OKAI_DATABASE_URL.
        previous = os.environ.get("OKAI_DATABASE_URL")
        os.environ["OKAI_DATABASE_URL"] = url
        try:
            return run(args.inner)
        finally:
            if previous is None:
                os.environ.pop("OKAI_DATABASE_URL", None)
            else:
                os.environ["OKAI_DATABASE_URL"] = previous


def add_commands(subparsers: Any, run: Callable[[Sequence[str]], int]) -> None:
    """Add ``pglite`` to the CLI; ``run`` runs another okai-insight command line (``main`` without its output
    wrapping) inside the served block."""
    p = add_command(
        subparsers,
        "pglite",
        help="serve a PGlite directory (ElizaOS 1.x's default store) and run an okai-insight command on it",
        description="Serve a PGlite data directory over the PostgreSQL protocol with @electric-sql/pglite-socket "
        "(Node.js; installed once from a pinned lockfile) and run one okai-insight command against it, or, "
        "without a command, print its URL and serve until Ctrl-C. A snapshot of the directory is served, so "
        "the agent's files are never written (--in-place serves the directory itself). PGlite takes one "
        "connection at a time. Stop the agent first.",
        examples=[
            "okai-insight pglite ~/.eliza/.elizadb doctor",
            "okai-insight pglite ~/.eliza/.elizadb embedding_quality --format json",
            "okai-insight pglite ~/.eliza/.elizadb report -o agent.html",
            "okai-insight pglite ~/.eliza/.elizadb      (prints the URL, serves until Ctrl-C)",
        ],
        func=lambda args: _pglite(args, run),
    )
    p.add_argument("directory", help="the PGlite data directory (it holds PG_VERSION)")
    p.add_argument(
        "--in-place", action="store_true", help="serve the directory itself instead of a snapshot (PGlite writes)"
    )
    p.add_argument(
        "inner",
        nargs=argparse.REMAINDER,
        metavar="command",
        help="an okai-insight command and its arguments, without a URL",
    )
