"""``okai-insight activity``: the statements running now, once or refreshed like pg_activity (``--watch``).

Example:
    $ okai-insight activity
    $ okai-insight activity postgresql://me@localhost/agents --watch 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from typing import Any

from okai_insight.cli._args import add_command, add_format_argument, add_url_argument
from okai_insight.cli._output import format_rows

#: Clear the screen and put the cursor home (what watch(1) and pg_activity do between frames).
CLEAR = "\033[H\033[2J"
#: The refresh interval of ``--watch`` without a number, in seconds.
DEFAULT_WATCH_SECONDS = 2.0


def _frame(args: argparse.Namespace) -> str:
    from okai_insight.diagnostics.activity import running_queries

    result = running_queries(args.url)
    if args.format == "json":
        return json.dumps(result.to_dict(), indent=2, default=str)
    if args.format == "csv":
        return format_rows(result.to_dict()["rows"], "csv").rstrip("\n")
    return result.to_text(max_rows=200)


def _activity(args: argparse.Namespace) -> int:
    from okai_insight.errors import InvalidInput

    if args.watch is None:
        print(_frame(args))
        return 0
    if not args.watch > 0:
        raise InvalidInput(f"--watch takes a number of seconds > 0, got {args.watch}")
    clear = sys.stdout.isatty()  # into a pipe or a file: frames one after the other, no escape codes
    try:
        while True:
            frame = _frame(args)
            stamp = dt.datetime.now().strftime("%H:%M:%S")
            header = f"okai-insight activity: every {args.watch:g} s, {stamp} (Ctrl-C to stop)"
            print(f"{CLEAR if clear else ''}{header}\n\n{frame}", flush=True)
            time.sleep(args.watch)
    except KeyboardInterrupt:  # the way out of a watch: not an error
        return 0


def add_commands(subparsers: Any) -> None:
    """Add ``activity`` to the CLI."""
    p = add_command(
        subparsers,
        "activity",
        help="the statements running now; --watch refreshes them like pg_activity",
        description="Show the statements running in the database now (not idle), longest first: pid, user, "
        "state, wait event, duration and query text (the running_queries diagnostic). With --watch the screen "
        "is redrawn every few seconds until Ctrl-C (exit status 0).",
        examples=[
            "okai-insight activity",
            "okai-insight activity postgresql://me@localhost/agents --watch",
            "okai-insight activity --watch 0.5 --format json",
        ],
        func=_activity,
    )
    add_url_argument(p)
    p.add_argument(
        "--watch",
        nargs="?",
        type=float,
        const=DEFAULT_WATCH_SECONDS,
        default=None,
        metavar="SECONDS",
        help=f"refresh every SECONDS (default {DEFAULT_WATCH_SECONDS:g}) until Ctrl-C",
    )
    add_format_argument(p)
