"""The command line's argument parser class and the arguments many commands share (URL, output format).

Example:
    >>> p = ArgumentParser(prog="x"); add_url_argument(p); add_format_argument(p)
    >>> vars(p.parse_args([]))
    {'url': None, 'format': 'text'}
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from okai_insight._redact import redact

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


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,  # argparse's own name for it
    examples: Sequence[str],
    func: Callable[[argparse.Namespace], int],
    description: str | None = None,
    notes: str = "",
) -> argparse.ArgumentParser:
    """Add one subcommand the way every command is added: a one-line ``help`` for the command list, a
    ``description`` (default: the help as a sentence), an ``examples:`` epilog (one command line per entry, kept
    as written) with optional ``notes`` after it, and the handler ``func``.

    Example:
        >>> p = ArgumentParser(prog="okai-insight"); sub = p.add_subparsers()
        >>> cmd = add_command(sub, "hello", help="say hello", examples=["okai-insight hello"], func=lambda a: 0)
        >>> cmd.description, cmd.epilog
        ('Say hello.', 'examples:\\n  okai-insight hello')
    """
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description if description is not None else f"{help[0].upper()}{help[1:]}.",
        epilog=f"{epilog}\n\n{notes}" if notes else epilog,
        formatter_class=Formatter,
    )
    parser.set_defaults(func=func)
    return parser
