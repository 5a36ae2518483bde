"""``okai-insight``: a thin command line over the library (connect, call one function, format, translate errors).

Each concern registers its own subcommands from ``<package>/_cli.py`` (``register(subparsers)``), so this
module stays small. Errors become one line on stderr and a non-zero exit status.

Example:
    $ okai-insight server start
    $ okai-insight demo
    $ okai-insight --help
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, NoReturn

from okai_insight._redact import redact, redact_exception
from okai_insight._version import __version__
from okai_insight.errors import OkaiError

#: Modules that add subcommands; each has ``register(subparsers) -> None``. Missing ones are skipped.
COMMAND_MODULES = (
    "okai_insight._cli_core",
    "okai_insight._cli_copy",
    "okai_insight.diagnostics._cli",
    "okai_insight.embeddings._cli",
    "okai_insight.ops._cli",
    "okai_insight.report._cli",
)

EPILOG = """\
examples:
  okai-insight server start            start (or reuse) the embedded PostgreSQL
  okai-insight demo                    load the demo agent and run searches on it
  okai-insight init postgresql://u@h/db --dimension 1536
  okai-insight <command> --help        every command explains itself

The database URL comes from the command's URL argument, else OKAI_DATABASE_URL, else the embedded server.
"""

Formatter = argparse.RawDescriptionHelpFormatter


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors mask secrets: they quote the offending value, which may be a URL
    given in the wrong place (``--target postgresql://u:pw@h/db``). Subparsers inherit the class.

    Example:
        >>> p = ArgumentParser(prog="x"); _ = p.add_argument("--n", type=int)
        >>> p.parse_args(["--n", "postgresql://u:pw@h/db"])      # doctest: +SKIP
        usage: x [-h] [--n N]
        x: error: argument --n: invalid int value: 'postgresql://u:***@h/db'
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {redact(message)}\n")


class _RedactingStream:
    """Wraps stdout or stderr for the duration of a command: whole lines (ended by a newline or a carriage
    return, as progress bars write) are masked before they reach the terminal; the rest waits for a flush."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        cut = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
        if cut >= 0:
            self._stream.write(redact(self._pending[: cut + 1]))
            self._pending = self._pending[cut + 1 :]
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact(self._pending))
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding ... of the real stream
        return getattr(self._stream, name)


@contextmanager
def _redacted_output() -> Iterator[None]:
    """Everything a command prints, its progress bars and the warnings and log lines that reach the terminal,
    with secrets masked: a library message may quote a URL (libpq quotes a URI it cannot parse)."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _RedactingStream(saved[0]), _RedactingStream(saved[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        for wrapper in (sys.stdout, sys.stderr):
            wrapper.flush()
        sys.stdout, sys.stderr = saved


def add_url_argument(parser: argparse.ArgumentParser) -> None:
    """Add the optional positional URL every database command takes.

    Example:
        >>> p = argparse.ArgumentParser(); add_url_argument(p); p.parse_args([]).url is None
        True
    """
    parser.add_argument(
        "url",
        nargs="?",
        default=None,
        help="database URL (postgresql://...); default: OKAI_DATABASE_URL, else the embedded server",
    )


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--format text|json|csv`` to a command that returns rows.

    Example:
        >>> p = argparse.ArgumentParser(); add_format_argument(p); p.parse_args([]).format
        'text'
    """
    parser.add_argument("--format", choices=("text", "json", "csv"), default="text", help="output format")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def format_rows(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    """Render rows (dicts) as an aligned text table, JSON or CSV.

    Example:
        >>> print(format_rows([{"a": 1, "b": "x"}], "csv").strip())
        a,b
        1,x
    """
    plain = [_plain(r) for r in rows]
    if fmt == "json":
        return json.dumps(plain, indent=2, default=str)
    columns: list[str] = []
    for row in plain:
        columns.extend(k for k in row if k not in columns)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(plain)
        return out.getvalue()
    if not plain:
        return "(no rows)"
    cells = [[str(r.get(c, "")) for c in columns] for r in plain]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


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
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue  # that concern is not built (yet); its commands are absent
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 1 failure or critical findings, 2 bad usage or input).

    Example:
        >>> main(["--version"])                               # doctest: +SKIP
        okai-insight 0.1.0
    """
    with _redacted_output():
        return _run(build_parser(), argv)


def _run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OkaiError as exc:
        print(f"okai-insight: error: {type(exc).__name__}: {redact_exception(exc)}", file=sys.stderr)
        from okai_insight.errors import InvalidInput

        return 2 if isinstance(exc, InvalidInput) else 1
    except Exception as exc:  # the CLI's edge: one line, never a traceback (it could quote a password)
        import psycopg

        if isinstance(exc, psycopg.Error):
            print(f"okai-insight: database error: {redact_exception(exc)}", file=sys.stderr)
            return 1
        print(f"okai-insight: error: {type(exc).__name__}: {redact_exception(exc)}", file=sys.stderr)
        if os.environ.get("OKAI_DEBUG"):
            import traceback

            print(redact("".join(traceback.format_exception(exc))), file=sys.stderr)
        else:
            print("okai-insight: (OKAI_DEBUG=1 prints the traceback, secrets masked)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
