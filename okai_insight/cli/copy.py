"""``okai-insight copy --from URL --to URL``: move a whole agent database between adapters."""

from __future__ import annotations

import argparse
import os
from typing import Any

from okai_insight.cli._args import add_command, add_format_argument
from okai_insight.cli._output import format_rows
from okai_insight.errors import InvalidInput


def _copy(args: argparse.Namespace) -> int:
    from okai_insight.copy import copy_database

    # Without --from, the source is OKAI_DATABASE_URL, as for every command given no URL (so `okai-insight pglite
    # DIR copy --to ...` copies the served directory); never the embedded server: a copy's source is named.
    source = args.source or os.environ.get("OKAI_DATABASE_URL")
    if not source:
        raise InvalidInput("copy needs the database to copy: --from URL, or OKAI_DATABASE_URL; nothing was copied")
    report = copy_database(
        source, args.target, batch_size=args.batch_size, progress=not args.no_progress, agent_id=args.agent
    )
    print(format_rows(report.as_rows(), args.format))
    if args.format == "text":
        print(f"copied and verified: {report.source} -> {report.target} (dimension {report.dimension})")
        if report.not_copied:  # an ElizaOS 1.x source: say what had no home in okai-insight's schema
            tables = ", ".join(f"{name} {n}" for name, n in report.not_copied.items())
            print(f"not copied (no table for them in okai-insight's schema), rows: {tables}")
        for note in report.notes:
            print(note)
    return 0


def add_commands(subparsers: Any) -> None:
    """Add the ``copy`` subcommand to the CLI.

    Example:
        >>> import argparse; p = argparse.ArgumentParser(); add_commands(p.add_subparsers())
    """
    p = add_command(
        subparsers,
        "copy",
        help="copy every table (embeddings included) from one database to another, and verify it",
        description="Copy accounts, rooms, memories with their embeddings, goals, participants, relationships, "
        "logs, cache and knowledge from one database to an empty one, in batches with a progress bar. "
        "Refuses to mix embedding dimensions; verifies row counts and an embedding checksum (values: -0.0 equals "
        "0.0) before it publishes anything: a new SQLite file appears only once verified, any other target is "
        "written in one transaction, rolled back if verification fails, so a rerun starts from an empty target. "
        "An ElizaOS 1.x database (@elizaos/plugin-sql) is read, never written, and mapped into okai-insight's "
        "schema; what has no place there is listed. "
        "URLs: postgresql://..., sqlite:///relative.db or sqlite:////absolute.db, memory://name.",
        examples=[
            "okai-insight copy --from sqlite:///agent.db --to postgresql://me@localhost/agents",
            "okai-insight copy --from postgresql://me@localhost/eliza --to sqlite:///eliza-backup.db",
            "okai-insight copy --from sqlite:///a.db --to sqlite:///b.db --batch-size 5000 --format json",
            "okai-insight copy --from postgresql://me@localhost/eliza1 --to sqlite:///agent.db",
            "okai-insight copy --from postgresql://me@localhost/eliza1 --to sqlite:///ada.db --agent AGENT_UUID",
            "okai-insight pglite ~/.eliza/.elizadb copy --to sqlite:///agent.db   (--from is the served directory)",
        ],
        func=_copy,
    )
    p.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="the database to copy (default: OKAI_DATABASE_URL; required without it)",
    )
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="the empty database to fill")
    p.add_argument("--batch-size", type=int, default=1000, help="rows read and written at a time (default 1000)")
    p.add_argument(
        "--agent",
        metavar="AGENT_ID",
        help="ElizaOS 1.x source only: copy this agent's rows (needed when agents use different dimensions)",
    )
    p.add_argument("--no-progress", action="store_true", help="do not draw the progress bar")
    add_format_argument(p)
