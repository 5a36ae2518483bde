"""What the command line prints: rows as a text table, JSON or CSV, and every line masked for secrets.

Example:
    >>> print(format_rows([{"a": 1, "b": "x"}], "text"))
    a  b
    -  -
    1  x
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from okai_insight._redact import redact


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
def redacted_output() -> Iterator[None]:
    """Everything a command prints, its progress bars and the warnings and log lines that reach the terminal,
    with secrets masked: a library message may quote a URL (libpq quotes a URI it cannot parse).

    Example:
        >>> with redacted_output():                          # doctest: +SKIP
        ...     print("postgresql://u:secret@h/db")
        postgresql://u:***@h/db
    """
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _RedactingStream(saved[0]), _RedactingStream(saved[1])  # type: ignore[assignment]
    try:
        yield
    finally:
        wrappers = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = saved  # restored even when a flush fails (a reader closed the pipe)
        try:
            wrappers[0].flush()
        finally:
            wrappers[1].flush()


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


#: ANSI colours of the severity words in findings (critical red, warning yellow), and the reset.
_SEVERITY_COLOURS = {"critical": "\033[31m", "warning": "\033[33m"}
_RESET = "\033[0m"
_SEVERITY_WORD = re.compile(r"\b(critical|warning)\b")


def colour_wanted(stream: IO[str], *, no_color: bool = False) -> bool:
    """Whether to colour what goes to ``stream``: only a terminal, never with ``--no-color`` or a non-empty
    ``NO_COLOR`` (https://no-color.org), never into a pipe or a file.

    Example:
        >>> import io; colour_wanted(io.StringIO())
        False
    """
    if no_color or os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colour_severities(text: str, *, colour: bool) -> str:
    """``text`` with the severity words coloured (critical red, warning yellow) when ``colour`` is true.

    Example:
        >>> colour_severities("critical: 1", colour=True)
        '\\x1b[31mcritical\\x1b[0m: 1'
        >>> colour_severities("critical: 1", colour=False)
        'critical: 1'
    """
    if not colour:
        return text
    return _SEVERITY_WORD.sub(lambda m: f"{_SEVERITY_COLOURS[m.group(1)]}{m.group(1)}{_RESET}", text)


def print_findings(text: str, *, no_color: bool = False) -> None:
    """Print a findings text (doctor, explain, a diagnostic) to stdout, coloured on a terminal.

    Example:
        >>> print_findings("warning: 2")
        warning: 2
    """
    print(colour_severities(text, colour=colour_wanted(sys.stdout, no_color=no_color)))


def print_result(result: Any, fmt: str) -> int:
    """Print a tuner's or embedding tool's result in ``fmt`` (json / csv / text) and return the exit code: 1 when
    it did not run or found something critical, else 0. Every tuner and embedding command prints through it.

    Example:
        >>> from okai_insight.diagnostics._result import Result
        >>> print_result(Result("c", "n", "T"), "csv")
        <BLANKLINE>
        0
    """
    if fmt == "json":
        print(json.dumps(result.to_dict() | {"summary": result.summary}, indent=2, default=str))
    elif fmt == "csv":
        print(format_rows(result.to_dict()["rows"], "csv"), end="")
    else:
        print(result.to_text(max_rows=200))
    if result.status != "ok":
        return 1
    return 1 if result.worst_severity == "critical" else 0
