"""``health(db)``: every diagnostic in one report, a summary per severity; what ``okai-insight doctor`` prints.

One check failing (a missing extension, a privilege, a timeout, even a bug) degrades that check only: its result
says ``unavailable`` or ``error`` and the report goes on.

Example:
    >>> from okai_insight.diagnostics import health
    >>> report = health(url)                                         # doctest: +SKIP
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
from okai_insight.diagnostics._result import SEVERITIES, Finding, Result, findings_html, result_html
from okai_insight.diagnostics._runner import Runner, Target, using
from okai_insight.errors import InvalidInput
from okai_insight.settings import Settings


def doctor_checks() -> list[Callable[..., Result]]:
    """The checks ``health()`` runs, in report order: every diagnostic registered with ``doctor=True``.

    Example:
        >>> doctor_checks()[0].__name__
        'server_features'
    """
    return registry.functions(doctor=True)


def check_names() -> list[str]:
    """The names of the checks ``health()`` runs.

    Example:
        >>> "duplicate_indexes" in check_names()
        True
    """
    return registry.names(doctor=True)


@dataclass
class HealthReport:
    """Every check's result, in order; findings, counts per severity and renderings.

    Example:
        >>> r = HealthReport([Result("a", "b", "c", findings=[Finding("critical", "x")])])
        >>> r.counts()["critical"], r.exit_code
        (1, 1)
    """

    results: list[Result]
    database: str | None = None
    server_version: str | None = None
    duration_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        """All findings, most severe first (stable within a severity: report order)."""
        every = [f for r in self.results for f in r.findings]
        return sorted(every, key=lambda f: SEVERITIES.index(f.severity))

    def counts(self) -> dict[str, int]:
        """Findings per severity.

        Example:
            >>> HealthReport([]).counts()
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
            >>> HealthReport([Result("a", "b", "c")]).result("b").name
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
            >>> HealthReport([]).summary_lines()[0]
            'critical: 0'
        """
        lines = []
        for sev, n in self.counts().items():
            checks = sorted({f.check for f in self.findings if f.severity == sev})
            lines.append(f"{sev}: {n}" + (f" ({', '.join(checks)})" if checks else ""))
        degraded = [f"{r.name} ({r.status})" for r in self.results if r.status != "ok"]
        if degraded:
            lines.append(f"not checked: {', '.join(degraded)}")
        return lines

    def to_text(self, *, verbose: bool = False) -> str:
        """The terminal report: header, findings grouped by severity, summary lines (``verbose``: every table).

        Example:
            >>> "critical: 0" in HealthReport([]).to_text()
            True
        """
        head = (
            f"okai-insight doctor: {self.database or '?'} (PostgreSQL {self.server_version or '?'}), "
            f"{len(self.results)} checks in {self.duration_ms / 1000:.1f} s"
        )
        parts = [head, ""]
        for f in self.findings:
            parts.append(f"{f.check}: {f.to_text()}")
        if not self.findings:
            parts.append("no findings")
        if verbose:
            parts += ["", *(r.to_text() for r in self.results)]
        parts += ["", *self.summary_lines()]
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: database, counts, findings, and each check's result.

        Example:
            >>> HealthReport([]).to_dict()["counts"]["critical"]
            0
        """
        return {
            "database": self.database,
            "server_version": self.server_version,
            "duration_ms": round(self.duration_ms, 1),
            "counts": self.counts(),
            "exit_code": self.exit_code,
            "findings": [f.to_dict() for f in self.findings],
            "checks": [r.to_dict() for r in self.results],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=2, default=str)

    def _repr_html_(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in self.counts().items())
        body = "".join(result_html(r) for r in self.results if r.findings or r.status != "ok")
        return (
            f"<div class='okai-health'><h3>okai-insight doctor: {self.database or ''}</h3><p>{counts}</p>"
            f"{findings_html(self.findings)}{body}</div>"
        )


def health(db: Target = None, *, checks: Sequence[str] | None = None, settings: Settings | None = None) -> HealthReport:
    """Run every check (or those named in ``checks``, in that order) on one connection and collect the results.

    Example:
        >>> report = health(url)                                     # doctest: +SKIP
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
            results.append(_run_one(entry.function, run))
        try:
            feats = run.features
            database, version = feats.database, feats.server_version
        except Exception:
            database, version = None, None
    return HealthReport(results, database, version, (time.perf_counter() - start) * 1000)


def _run_one(check: Callable[..., Result], run: Runner) -> Result:
    started = time.perf_counter()
    try:
        return check(run)
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
