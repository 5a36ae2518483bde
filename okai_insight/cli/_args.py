"""The command line's argument parser class and the arguments many commands share (URL, output format).

Example:
    >>> p = ArgumentParser(prog="x"); add_url_argument(p); add_format_argument(p)
    >>> vars(p.parse_args([]))
    {'url': None, 'format': 'text'}
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Collection, Sequence
from typing import Any, NoReturn

from okai_insight._redact import redact
from okai_insight.errors import InvalidInput

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


class DashedSubParsersAction(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The subcommands action of the CLI: every command is spelled with dashes (``unused-indexes``, as git, pip and
    the pg tools spell theirs), whatever name its module registers (the diagnostics registry keeps Python names).
    The underscore spelling still works: :func:`normalise_command` rewrites it before parsing, so help lists one
    spelling only.

    Example:
        >>> p = ArgumentParser(prog="x"); sub = p.add_subparsers(action=DashedSubParsersAction)
        >>> _ = sub.add_parser("unused_indexes"); sorted(sub.choices)
        ['unused-indexes']
    """

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        return super().add_parser(command_spelling(name), **kwargs)


def command_spelling(name: str) -> str:
    """The one CLI spelling of a command name: dashes, never underscores.

    Example:
        >>> command_spelling("unused_indexes")
        'unused-indexes'
    """
    return name.replace("_", "-")


def normalise_command(argv: Sequence[str], commands: Collection[str]) -> list[str]:
    """``argv`` with its command (the first word that is not an option) in the one spelling: the old underscore
    spellings (``unused_indexes``) stay working as hidden aliases. Anything after the command is left alone.

    Example:
        >>> normalise_command(["unused_indexes", "--min_x"], {"unused-indexes"})
        ['unused-indexes', '--min_x']
    """
    out = list(argv)
    for i, token in enumerate(out):
        if token.startswith("-"):
            continue
        if token not in commands and command_spelling(token) in commands:
            out[i] = command_spelling(token)
        break
    return out


def unknown_command(argv: Sequence[str], commands: Collection[str]) -> str | None:
    """The one-line message for a command that does not exist, with the closest names ("did you mean"), or
    ``None`` when ``argv``'s command exists (or none is given).

    Example:
        >>> unknown_command(["doctr"], {"doctor", "demo", "copy"})
        "unknown command 'doctr'; did you mean 'doctor'? (okai-insight --help lists every command)"
        >>> unknown_command(["doctor"], {"doctor"}) is None
        True
    """
    word = next((t for t in argv if not t.startswith("-")), None)
    if word is None or word in commands:
        return None
    close = difflib.get_close_matches(command_spelling(word), sorted(commands), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown command {word!r}{hint} (okai-insight --help lists every command)"


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


def comma_ints(text: str, what: str | None = None) -> list[int]:
    """The comma-separated integers of an option's value; ``what`` names the option in the error.

    Example:
        >>> comma_ints("40, 100,200")
        [40, 100, 200]
    """
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        if what is not None:
            raise InvalidInput(f"{what} takes comma-separated integers, got {text!r}") from exc
        raise InvalidInput(f"expected comma-separated integers, got {text!r}") from exc
