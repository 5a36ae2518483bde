"""How a number or a cell reads to a person, in every HTML and text table: measured floats to 3 significant digits,
``*_bytes`` columns as kB/MB/GB, ``*_ms`` columns as ms/s/min, SQL text in a wide wrapped column, long tables
cut to the rows that matter with the rest behind "show all", and every container marked so MathJax never
typesets the ``$1 ... $2`` of a query.

The unit is read from the column name (the library's convention: ``size_bytes``, ``mean_ms``), so a value keeps
its raw number in ``Result.rows`` and only its rendering changes. This module imports nothing from the package:
:mod:`okai_insight.results` renders through it too.

Example:
    >>> format_cell("total_bytes", 1_572_864)
    '1.5 MB'
    >>> format_cell("mean_ms", 93_500.0)
    '1.56 min'
    >>> format_cell("dead_ratio", 0.123456789)
    '0.123'
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

#: Classes that tell MathJax 2 (classic Notebook, Voila) and MathJax 3 (JupyterLab) to leave a subtree alone;
#: pandas puts the same two on its own HTML tables.
NO_MATH = "tex2jax_ignore mathjax_ignore"

#: Columns that hold SQL or other long free text: wide and wrapped, never squeezed into a narrow column.
SQL_COLUMNS = frozenset({"query", "sql", "statement", "fix_sql", "definition", "indexdef", "message", "plan"})

_BYTE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB")


def human_bytes(n: float) -> str:
    """A byte count in binary steps of 1024, named kB/MB/GB as PostgreSQL's ``pg_size_pretty`` does.

    Example:
        >>> human_bytes(8192), human_bytes(512), human_bytes(3 * 1024**3)
        ('8 kB', '512 B', '3 GB')
    """
    value = float(n)
    unit = 0
    while abs(value) >= 1024 and unit < len(_BYTE_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{significant(value)} {_BYTE_UNITS[unit]}" if unit else f"{int(value)} B"


def human_duration(ms: float) -> str:
    """Milliseconds as ms, s, min or h, 3 significant digits.

    Example:
        >>> human_duration(0.04213), human_duration(1234.5), human_duration(7_200_000)
        ('0.0421 ms', '1.23 s', '2 h')
    """
    value = float(ms)
    for limit, div, unit in ((1000, 1, "ms"), (60_000, 1000, "s"), (3_600_000, 60_000, "min")):
        if abs(value) < limit:
            return f"{significant(value / div)} {unit}"
    return f"{significant(value / 3_600_000)} h"


def significant(value: float, digits: int = 3) -> str:
    """A measured float to ``digits`` significant digits, without scientific notation for everyday sizes.

    Example:
        >>> significant(0.987654), significant(12345.678), significant(2.0), significant(1e-7)
        ('0.988', '12,346', '2', '1e-07')
    """
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) >= 10**digits:  # the integer part already says more than `digits` digits: round to units
        return f"{value:,.0f}"
    if abs(value) < 1e-4:
        return f"{value:.{digits}g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"


def format_cell(column: str, value: Any) -> str:
    """One cell as text, its unit taken from the column name's suffix (``_bytes``, ``_ms``).

    Example:
        >>> format_cell("size_bytes", 8192), format_cell("calls", 12), format_cell("x", None)
        ('8 kB', '12', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, int | float):
        if column.endswith("_bytes"):
            return human_bytes(value)
        if column.endswith("_ms"):
            return human_duration(value)
        if isinstance(value, float):
            return significant(value)
        return str(value)
    return str(value)


def _cell_html(column: str, value: Any) -> str:
    text = html.escape(format_cell(column, value))
    if column in SQL_COLUMNS:
        return f"<td class='okai-sql'>{text}</td>"
    return f"<td>{text}</td>"


def _plain_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell_html(c, r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f"<table class='okai-table {NO_MATH}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def rows_html(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, *, max_rows: int = 20) -> str:
    """Rows as an HTML table: the first ``max_rows`` shown, the whole table behind a "show all" ``<details>``.

    Example:
        >>> view = rows_html([{"n": i} for i in range(30)], max_rows=5)
        >>> view.count("<tr>"), "show all 30 rows" in view
        (37, True)
    """
    if not rows:
        return "<p><i>(no rows)</i></p>"
    cols = list(columns) if columns else list(dict.fromkeys(k for r in rows for k in r))
    if len(rows) <= max_rows:
        return _plain_table(rows, cols)
    return (
        _plain_table(rows[:max_rows], cols)
        + f"<details class='okai-more'><summary>show all {len(rows)} rows</summary>{_plain_table(rows, cols)}"
        "</details>"
    )


def rows_text(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, max_width: int = 60) -> str:
    """An aligned plain-text table with the same cell formatting; long cells are cut to ``max_width``.

    Example:
        >>> print(rows_text([{"table": "t", "total_bytes": 16384}], ["table", "total_bytes"]))
        table  total_bytes
        -----  -----------
        t      16 kB
    """

    def cell(column: str, v: Any) -> str:
        s = " ".join(format_cell(column, v).split())
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cell(c, r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)
