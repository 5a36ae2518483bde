"""``okai-insight``: a thin command line over the library (connect, call one function, format, translate errors).

One module per concern adds its subcommands (``add_commands(subparsers)``): :mod:`.core` (server, init, demo),
:mod:`.copy`, :mod:`.diagnostics`, :mod:`.embeddings`, :mod:`.ops` and :mod:`.report`. They are imported
statically here; the library never imports this package. Errors become one line on stderr and a non-zero exit
status.

Example:
    $ okai-insight server start
    $ okai-insight demo
    $ okai-insight --help
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from okai_insight._redact import redact, redact_exception
from okai_insight._version import __version__
from okai_insight.cli import copy, core, diagnostics, embeddings, history, lab, ops, pglite, report
from okai_insight.cli._args import ArgumentParser, Formatter
from okai_insight.cli._output import format_rows, redacted_output
from okai_insight.errors import InvalidInput, OkaiError, UnsupportedDatabase, translate_pg_errors

__all__ = ["build_parser", "format_rows", "main"]

#: Exit status of a command that needs PostgreSQL given another kind of database (docs/cli.md, README).
EXIT_UNSUPPORTED = 4

#: The modules that add subcommands, in the order ``--help`` lists them.
COMMAND_MODULES = (core, copy, diagnostics, embeddings, history, ops, report, lab)

EPILOG = """\
examples:
  okai-insight server start            start (or reuse) the embedded PostgreSQL
  okai-insight demo                    load the demo agent and run searches on it
  okai-insight init postgresql://u@h/db --dimension 1536
  okai-insight <command> --help        every command explains itself

The database URL comes from the command's URL argument, else OKAI_DATABASE_URL, else the embedded server.
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand.

    Example:
        >>> "server" in build_parser().format_help()
        True
    """
    parser = ArgumentParser(
        prog="okai-insight",
        description="okai-insight: AI-agent memory databases (PostgreSQL + pgvector) and their diagnostics.",
        epilog=EPILOG,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"okai-insight {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>", title="commands")
    for module in COMMAND_MODULES:
        module.add_commands(subparsers)
    # pglite runs another command line inside the block that serves the directory
    pglite.add_commands(subparsers, lambda argv: _run(build_parser(), argv))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failure or critical findings, 2 bad usage or input, 4 the
    command needs PostgreSQL and was given SQLite, memory:// or an unknown scheme).

    Example:
        >>> main(["--version"])                               # doctest: +SKIP
        okai-insight 0.1.0
    """
    with redacted_output():
        return _run(build_parser(), argv)


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        with translate_pg_errors():  # the package's one error table, as everywhere else
            return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except UnsupportedDatabase as exc:  # a PostgreSQL-only command given SQLite, memory:// or mysql://: its own status
        print(f"okai-insight: error: {exc.for_command(args.command)}", file=sys.stderr)
        return EXIT_UNSUPPORTED
    except OkaiError as exc:  # driver errors too: translate_pg_errors made them okai errors
        print(f"okai-insight: error: {type(exc).__name__}: {redact_exception(exc)}", file=sys.stderr)
        return 2 if isinstance(exc, InvalidInput) else 1
    except Exception as exc:  # the CLI's edge: one line, never a traceback (it could quote a password)
        print(f"okai-insight: error: {type(exc).__name__}: {redact_exception(exc)}", file=sys.stderr)
        if os.environ.get("OKAI_DEBUG"):
            import traceback

            print(redact("".join(traceback.format_exception(exc))), file=sys.stderr)
        else:
            print("okai-insight: (OKAI_DEBUG=1 prints the traceback, secrets masked)", file=sys.stderr)
        return 1
