"""``doctor(db)``: every diagnostic in one report, a summary per severity; what ``okai-insight doctor`` prints.

One check failing (a missing extension, a privilege, a timeout, even a bug) degrades that check only: its result
says ``unavailable`` or ``error`` and the report goes on.

Example:
    >>> from okai_insight.diagnostics import doctor
    >>> report = doctor(url)                                         # doctest: +SKIP
    >>> report.counts()                                              # doctest: +SKIP
    {'critical': 0, 'warning': 1, 'info': 2}
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from okai_insight.diagnostics import _registry as registry
from okai_insight.diagnostics._problems import Problem, align_severities, problems
from okai_insight.diagnostics._result import SEVERITIES, Finding, Result, text_table
from okai_insight.diagnostics._runner import Runner, Target, using
from okai_insight.errors import InvalidInput, UnknownTable
from okai_insight.settings import Settings

#: What doctor passes to checks whose own defaults read more than a quick health check should. embedding_quality
#: reads a sample of at most this many rows (TABLESAMPLE above it; its findings say how many rows they counted) and
#: probes this many rows for near duplicates, each one index lookup: a bounded cost at a million rows
#: (bench/doctor.py). Call embedding_quality() itself for the full analysis.
DOCTOR_OPTIONS: dict[str, dict[str, Any]] = {"embedding_quality": {"sample_rows": 5_000, "probes": 200}}
#: Without a vector index each near-duplicate probe is a scan of the whole table (measured: 10 probes of 200,000 rows
#: x 384 dims pass the 5 s statement_timeout on 2 cores); above this many rows doctor probes one row only.
EXACT_PROBE_ROWS = 100_000


def doctor_checks() -> list[Callable[..., Result]]:
    """The checks ``doctor()`` runs, in report order: every diagnostic registered with ``doctor=True``.

    Example:
        >>> doctor_checks()[0].__name__
        'server_features'
    """
    return registry.functions(doctor=True)


def check_names() -> list[str]:
    """The names of the checks ``doctor()`` runs.

    Example:
        >>> "duplicate_indexes" in check_names()
        True
    """
    return registry.names(doctor=True)


@dataclass
class DoctorReport:
    """Every check's result, in order; findings, counts per severity and renderings.

    Example:
        >>> r = DoctorReport([Result("a", "b", "c", findings=[Finding("critical", "x")])])
        >>> r.counts()["critical"], r.exit_code
        (1, 1)
    """

    results: list[Result]
    database: str | None = None
    server_version: str | None = None
    duration_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Two checks that see one problem (zero vectors in vector_columns and in embedding_quality) give it one
        # severity, the more severe, in the summary and in each check's own findings.
        align_severities(self.results, problems(self.results))

    @property
    def problems(self) -> list[Problem]:
        """One entry per problem, most severe first, then most rows affected (see :mod:`._problems`).

        Example:
            >>> f = Finding("warning", "x", check="b")
            >>> [p.problem for p in DoctorReport([Result("a", "b", "c", findings=[f])]).problems]
            ['b']
        """
        return problems(self.results)

    @property
    def findings(self) -> list[Finding]:
        """One finding per problem, most severe first, then most rows affected (stable otherwise: report order)."""
        return [p.finding for p in self.problems]

    def counts(self) -> dict[str, int]:
        """Findings per severity.

        Example:
            >>> DoctorReport([]).counts()
            {'critical': 0, 'warning': 0, 'info': 0}
        """
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    @property
    def exit_code(self) -> int:
        """1 when any finding is critical, else 0 (``okai-insight doctor``'s exit status)."""
        return 1 if self.counts()["critical"] else 0

    def result(self, name: str) -> Result:
        """The result of one check by name.

        Example:
            >>> DoctorReport([Result("a", "b", "c")]).result("b").name
            'b'
        """
        for r in self.results:
            if r.name == name:
                return r
        raise InvalidInput(
            f"no check named {name!r} in this report (checks: {', '.join(r.name for r in self.results)})"
        )

    def summary_lines(self) -> list[str]:
        """One line per severity, then one for checks that could not run.

        Example:
            >>> DoctorReport([]).summary_lines()[0]
            'critical: 0'
        """
        lines = []
        found = self.problems
        for sev, n in self.counts().items():
            checks = sorted({c for p in found if p.severity == sev for c in (p.checks or (p.finding.check,))})
            lines.append(f"{sev}: {n}" + (f" ({', '.join(checks)})" if checks else ""))
        degraded = [f"{r.name} ({r.status})" for r in self.results if r.status != "ok"]
        if degraded:
            lines.append(f"not checked: {', '.join(degraded)}")
        return lines

    def rows(self) -> list[dict[str, Any]]:
        """The findings table: one row per problem (severity, problem, subject, rows affected and examined, the
        checks that saw it, message, threshold, source, fix).

        Example:
            >>> DoctorReport([Result("a", "b", "c", findings=[Finding("info", "x")])]).rows()[0]["severity"]
            'info'
        """
        return [p.to_row() for p in self.problems]

    def to_pandas(self) -> Any:
        """The findings table (:meth:`rows`) as a pandas DataFrame, also when there are no findings.

        Example:
            >>> list(DoctorReport([]).to_pandas().columns)[:3]
            ['severity', 'problem', 'subject']
        """
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(FINDING_COLUMNS))

    def to_polars(self) -> Any:
        """The findings table (:meth:`rows`) as a polars DataFrame.

        Example:
            >>> DoctorReport([Result("a", "b", "c", findings=[Finding("info", "x")])]).to_polars().shape
            (1, 10)
        """
        import polars as pl

        schema = {c: (pl.Int64 if c.startswith("rows_") else pl.String) for c in FINDING_COLUMNS}
        return pl.DataFrame(self.rows(), schema=schema)

    def findings_table(self, *, max_width: int = 60) -> str:
        """The findings as an aligned text table: severity, problem, where, rows affected, checks.

        Example:
            >>> print(DoctorReport([Result("a", "b", "c", findings=[Finding("info", "x", subject="t")])]).findings_table())
            severity  problem  where  rows affected  check
            --------  -------  -----  -------------  -----
            info      b        t                     b
        """
        rows = [
            {
                "severity": p.severity,
                "problem": p.problem,
                "where": p.subject or "",
                "rows affected": p.rows_text,
                "check": ", ".join(p.checks),
            }
            for p in self.problems
        ]
        return text_table(rows, ["severity", "problem", "where", "rows affected", "check"], max_width=max_width)

    def to_text(self, *, verbose: bool = False) -> str:
        """The terminal report: header, the findings table, each finding in full, summary lines (``verbose``: every
        check's rows).

        Example:
            >>> "critical: 0" in DoctorReport([]).to_text()
            True
        """
        head = (
            f"okai-insight doctor: {self.database or '?'} (PostgreSQL {self.server_version or '?'}), "
            f"{len(self.results)} checks in {self.duration_ms / 1000:.1f} s"
        )
        parts = [head, ""]
        found = self.problems
        if found:
            parts += [self.findings_table(), ""]
        for p in found:
            parts.append(f"{', '.join(p.checks) or p.finding.check}: {p.finding.to_text()}")
        if not found:
            parts.append("no findings")
        if verbose:
            parts += ["", *(r.to_text() for r in self.results)]
        parts += ["", *self.summary_lines()]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        # A terminal or a REPL shows the findings, not a dump of every check's rows.
        return self.to_text()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: database, counts, findings, and each check's result.

        Example:
            >>> DoctorReport([]).to_dict()["counts"]["critical"]
            0
        """
        return {
            "database": self.database,
            "server_version": self.server_version,
            "duration_ms": round(self.duration_ms, 1),
            "counts": self.counts(),
            "exit_code": self.exit_code,
            "findings": [{**f.to_dict(), **p.to_row()} for p in self.problems for f in (p.finding,)],
            "checks": [r.to_dict() for r in self.results],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=2, default=str)

    def _repr_html_(self) -> str:
        from okai_insight.presentation import health_html  # presentation renders; imported when rendering only

        return health_html(self)


#: The columns of :meth:`DoctorReport.to_pandas` / :meth:`DoctorReport.to_polars`.
FINDING_COLUMNS = (
    "severity",
    "problem",
    "subject",
    "rows_affected",
    "rows_examined",
    "check",
    "message",
    "threshold",
    "source",
    "fix_sql",
)


def doctor(db: Target = None, *, checks: Sequence[str] | None = None, settings: Settings | None = None) -> DoctorReport:
    """Run every check (or those named in ``checks``, in that order) on one connection and collect the results.

    Example:
        >>> report = doctor(url)                                     # doctest: +SKIP
        >>> print("\\n".join(report.summary_lines()))                # doctest: +SKIP
        critical: 1 (vector_queries)
        warning: 2 (duplicate_indexes, unused_indexes)
        info: 0
    """
    chosen = registry.entries(doctor=True)
    if checks is not None:
        known = [e.name for e in chosen]
        unknown = sorted(set(checks) - set(known))
        if unknown:
            raise InvalidInput(f"unknown check(s): {', '.join(unknown)} (known: {', '.join(known)})")
        chosen = [registry.get(name) for name in dict.fromkeys(checks)]  # in the order asked for
    start = time.perf_counter()
    results: list[Result] = []
    with using(db, settings) as run:
        for entry in chosen:
            if entry.adapter_only and run.adapter is None and checks is None:
                continue  # pool statistics exist only when the caller hands over its adapter
            results.append(_run_one(entry.function, run, **_doctor_options(entry.name, results)))
        try:
            feats = run.features
            database, version = feats.database, feats.server_version
        except Exception:
            database, version = None, None
    return DoctorReport(results, database, version, (time.perf_counter() - start) * 1000)


def _doctor_options(name: str, done: Sequence[Result]) -> dict[str, Any]:
    """The options doctor gives one check: :data:`DOCTOR_OPTIONS`, and for embedding_quality on a large memory
    table without a vector index (as vector_columns, which runs before it, saw it) a single exact probe.

    Example:
        >>> _doctor_options("embedding_quality", [])["probes"]
        200
    """
    options = dict(DOCTOR_OPTIONS.get(name, {}))
    if name == "embedding_quality":
        columns = next((r for r in done if r.name == "vector_columns"), None)
        for row in columns.rows if columns is not None else []:
            unindexed = not row.get("vector_indexes") and int(row.get("estimated_rows") or 0) > EXACT_PROBE_ROWS
            if row.get("table") == "memories" and unindexed:
                options["probes"] = 1
    return options


def _run_one(check: Callable[..., Result], run: Runner, **options: Any) -> Result:
    started = time.perf_counter()
    try:
        return check(run, **options)
    except UnknownTable as exc:  # a database without the table the check reads (no agent memories here)
        return Result(
            getattr(check, "concern", "?"),
            check.__name__,
            getattr(check, "title", check.__name__),
            status="unavailable",
            note=str(exc),
            duration_ms=(time.perf_counter() - started) * 1000,
        )
    except Exception as exc:  # one broken check must not sink the report
        import psycopg

        if not isinstance(exc, psycopg.Error | ValueError | LookupError | TypeError | KeyError | RuntimeError):
            raise
        conn = run.connection
        if not conn.closed and conn.info.transaction_status != 0:
            conn.rollback()
        message = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        return Result(
            getattr(check, "concern", "?"),
            check.__name__,
            getattr(check, "title", check.__name__),
            findings=[Finding("info", f"this check failed and was skipped: {message}", check=check.__name__)],
            status="error",
            note=message,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
