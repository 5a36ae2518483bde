"""Result objects every diagnostic returns: rows of raw numbers, findings, and their renderings.

A :class:`Result` carries ``rows`` (dicts whose numeric columns carry their unit: ``size_bytes``,
``duration_ms``), ``findings`` (what is wrong, how bad, which threshold fired and where it comes from, and the
SQL that fixes it), and renders itself as text, HTML, JSON-ready dicts, pandas or polars. Widgets, reports and
the CLI render these; they never compute numbers of their own.

Example:
    >>> r = Result("indexes", "invalid_indexes", "Invalid indexes", rows=[{"index": "i", "size_bytes": 8192}])
    >>> r.ok, len(r.rows), r.worst_severity
    (True, 1, None)
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]
#: Most severe first.
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
Status = Literal["ok", "unavailable", "error"]
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_COLOURS = {"critical": "#b00020", "warning": "#b26a00", "info": "#1565c0"}


@dataclass(frozen=True)
class Finding:
    """One thing a diagnostic found: severity, what and why, the threshold that fired and its source, the fix.

    Example:
        >>> f = Finding("warning", "index i is never used", threshold="idx_scan = 0",
        ...             source="PgHero lib/pghero/methods/indexes.rb", fix_sql="DROP INDEX CONCURRENTLY i;")
        >>> f.severity, f.fix_sql
        ('warning', 'DROP INDEX CONCURRENTLY i;')
    """

    severity: Severity
    message: str
    threshold: str | None = None
    source: str | None = None
    fix_sql: str | None = None
    #: The object concerned (``schema.table``, ``schema.index``, a pid, a query id), for grouping and widgets.
    subject: str | None = None
    #: The diagnostic that made it (filled in by the diagnostic decorator).
    check: str = ""

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict.

        Example:
            >>> Finding("info", "m").to_dict()["severity"]
            'info'
        """
        return asdict(self)

    def to_text(self) -> str:
        """One or more lines for a terminal.

        Example:
            >>> print(Finding("info", "pg_stat_statements is missing", fix_sql="CREATE EXTENSION x;").to_text())
            [info] pg_stat_statements is missing
                fix: CREATE EXTENSION x;
        """
        lines = [f"[{self.severity}] {self.message}"]
        if self.threshold:
            src = f" ({self.source})" if self.source else ""
            lines.append(f"    threshold: {self.threshold}{src}")
        if self.fix_sql:
            fix = self.fix_sql.strip().replace("\n", "\n         ")
            lines.append(f"    fix: {fix}")
        return "\n".join(lines)


@dataclass
class Result:
    """What one diagnostic returns. ``status`` is ``ok``, ``unavailable`` (a missing extension or privilege; the
    ``note`` says how to enable it) or ``error`` (the check failed; the rest of a report still runs).

    Example:
        >>> r = Result("space", "table_sizes", "Table sizes", rows=[{"table": "t", "size_bytes": 8192}])
        >>> r.to_pandas()["size_bytes"].sum()
        np.int64(8192)
    """

    concern: str
    name: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    status: Status = "ok"
    note: str | None = None
    duration_ms: float = 0.0

    def __post_init__(self) -> None:
        if not self.columns:
            cols: list[str] = []
            for row in self.rows:
                cols.extend(k for k in row if k not in cols)
            self.columns = tuple(cols)
        self.findings = sorted(self.findings, key=lambda f: _RANK[f.severity])

    # -- summaries ---------------------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """True when the check ran and found nothing of warning or critical severity."""
        return self.status == "ok" and all(f.severity == "info" for f in self.findings)

    @property
    def worst_severity(self) -> Severity | None:
        """The most severe finding's severity, or None.

        Example:
            >>> Result("a", "b", "c", findings=[Finding("info", "x"), Finding("critical", "y")]).worst_severity
            'critical'
        """
        return self.findings[0].severity if self.findings else None

    def counts(self) -> dict[str, int]:
        """Findings per severity (every severity present, zero when none).

        Example:
            >>> Result("a", "b", "c", findings=[Finding("info", "x")]).counts()
            {'critical': 0, 'warning': 0, 'info': 1}
        """
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    # -- conversions -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (rows' values made JSON-safe).

        Example:
            >>> Result("a", "b", "c").to_dict()["status"]
            'ok'
        """
        return {
            "concern": self.concern,
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "note": self.note,
            "duration_ms": round(self.duration_ms, 3),
            "columns": list(self.columns),
            "rows": [{k: _json_safe(v) for k, v in row.items()} for row in self.rows],
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (columns in query order, also when there are no rows).

        Example:
            >>> list(Result("a", "b", "c", columns=("x",)).to_pandas().columns)
            ['x']
        """
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(self.columns))

    def to_polars(self) -> Any:
        """The rows as a polars DataFrame.

        Example:
            >>> Result("a", "b", "c", rows=[{"x": 1}]).to_polars().shape
            (1, 1)
        """
        import polars as pl

        if not self.rows:
            return pl.DataFrame({c: [] for c in self.columns})
        data = [{c: _polars_safe(row.get(c)) for c in self.columns} for row in self.rows]
        return pl.from_dicts(data, infer_schema_length=None)

    def findings_frame(self) -> Any:
        """The findings as a pandas DataFrame (one row a finding).

        Example:
            >>> Result("a", "b", "c", findings=[Finding("info", "x")]).findings_frame()["severity"].tolist()
            ['info']
        """
        import pandas as pd

        cols = ["check", "severity", "message", "threshold", "source", "fix_sql", "subject"]
        return pd.DataFrame([f.to_dict() for f in self.findings], columns=cols)

    # -- renderings --------------------------------------------------------------------------------------------
    def to_text(self, *, max_rows: int = 20, max_width: int = 60) -> str:
        """The terminal rendering: a header line, the findings, then the rows as a table.

        Example:
            >>> print(Result("a", "b", "Title", rows=[{"x": 1}]).to_text())
            == Title (a.b): 1 row, no findings
            x
            -
            1
        """
        head = f"== {self.title} ({self.concern}.{self.name}): "
        if self.status != "ok":
            head += f"{self.status}: {self.note}"
        else:
            n = len(self.rows)
            c = {k: v for k, v in self.counts().items() if v}
            found = ", ".join(f"{v} {k}" for k, v in c.items()) or "no findings"
            head += f"{n} row{'s' if n != 1 else ''}, {found}"
            if self.note:  # what an ok check left out (okai-insight's own statements, ...)
                head += f" ({self.note})"
        parts = [head]
        parts += [f.to_text() for f in self.findings]
        if self.rows:
            parts.append(text_table(self.rows[:max_rows], self.columns, max_width=max_width))
            if len(self.rows) > max_rows:
                parts.append(f"... {len(self.rows) - max_rows} more rows")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        c = ", ".join(f"{k}={v}" for k, v in self.counts().items() if v)
        return f"<Result {self.concern}.{self.name} status={self.status} rows={len(self.rows)}{', ' + c if c else ''}>"

    def _repr_html_(self) -> str:
        return result_html(self)


def text_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *, max_width: int = 60) -> str:
    """An aligned plain-text table; long cells are cut to ``max_width`` characters, numbers read as
    :mod:`okai_insight.presentation._format` formats them (3 significant digits, ``*_bytes`` in kB/MB/GB,
    ``*_ms`` in ms/s/min).

    Example:
        >>> print(text_table([{"a": 1, "b": "xy"}], ["a", "b"]))
        a  b
        -  --
        1  xy
    """
    from okai_insight.presentation._format import rows_text  # the one formatting layer (imports nothing back)

    return rows_text(rows, columns, max_width=max_width)


def findings_html(findings: Iterable[Finding]) -> str:
    """Findings as an HTML list, each coloured by severity (used by results, reports and widgets).

    Example:
        >>> "critical" in findings_html([Finding("critical", "x")])
        True
    """
    items = []
    for f in findings:
        colour = _COLOURS[f.severity]
        extra = ""
        if f.threshold:
            src = f" — {html.escape(f.source)}" if f.source else ""
            extra += f"<br><small>threshold: {html.escape(f.threshold)}{src}</small>"
        if f.fix_sql:
            extra += f"<pre style='margin:2px 0'>{html.escape(f.fix_sql.strip())}</pre>"
        items.append(f"<li><b style='color:{colour}'>{f.severity}</b> {html.escape(f.message)}{extra}</li>")
    # the classes keep MathJax off: a message quoting SQL ("$1 ... $2") is not maths
    return f"<ul class='okai-findings tex2jax_ignore mathjax_ignore'>{''.join(items)}</ul>" if items else ""


def result_html(result: Result, *, max_rows: int = 50) -> str:
    """A result as HTML: title, status, findings, then a table of the rows.

    Example:
        >>> "<table" in result_html(Result("a", "b", "T", rows=[{"x": 1}]))
        True
    """
    from okai_insight.presentation._format import NO_MATH, rows_html  # the one formatting layer

    title = html.escape(f"{result.title} ({result.concern}.{result.name})")
    parts = [f"<div class='okai-result {NO_MATH}'><h4>{title}</h4>"]
    if result.status != "ok":
        parts.append(f"<p><i>{html.escape(result.status)}: {html.escape(result.note or '')}</i></p>")
    elif result.note:
        parts.append(f"<p><i>{html.escape(result.note)}</i></p>")
    parts.append(findings_html(result.findings))
    if result.rows:
        parts.append(rows_html(result.rows, result.columns, max_rows=max_rows))
    parts.append("</div>")
    return "".join(parts)


def _json_safe(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, list | tuple):
        return [_json_safe(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if hasattr(v, "tolist"):
        return v.tolist()
    try:
        json.dumps(v)
    except TypeError:
        return str(v)
    return v


def _polars_safe(v: Any) -> Any:
    # Decimal, intervals, IP addresses and friends become plain values polars can infer.
    import datetime as dt
    from decimal import Decimal

    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dt.date | dt.time | dt.timedelta):
        return v
    return _json_safe(v) if not isinstance(v, int | float | str | bool) and v is not None else v
