"""The command line's argument parser class and the arguments many commands share (URL, output format).

Example:
    >>> p = ArgumentParser(prog="x"); add_url_argument(p); add_format_argument(p)
    >>> vars(p.parse_args([]))
    {'url': None, 'format': 'text'}
"""

from __future__ import annotations

import argparse
import sys
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
