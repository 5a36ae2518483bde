"""The ``diagnostic`` decorator: a check written as ``body(run, **options) -> (rows, findings)`` becomes a public
function taking a database target and returning a :class:`~okai_insight.results.Result`.

The runner itself (read-only transactions, timeouts, the feature cache) is the public :mod:`okai_insight.runner`,
shared with the embedding checks and ops; its names are re-exported here for the diagnostics modules.

Example:
    >>> from okai_insight.diagnostics._runner import diagnostic
    >>> @diagnostic("indexes", "Invalid indexes")                       # doctest: +SKIP
    ... def invalid_indexes(run):
    ...     return run.query("indexes", "invalid_indexes").rows, []
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Concatenate, ParamSpec

from okai_insight.results import Finding, Result
from okai_insight.runner import CheckUnavailable, Features, QueryResult, Rows, Runner, Target, using

P = ParamSpec("P")
Findings = list[Finding]
#: What a diagnostic body returns: rows, findings, and optionally the column names (kept when there are no rows).
Outcome = tuple[Rows, Findings] | tuple[Rows, Findings, tuple[str, ...]]

Body = Callable[Concatenate[Runner, P], Outcome]


def diagnostic(
    concern: str,
    title: str,
    *,
    doctor: bool = True,
    adapter_only: bool = False,
    shown_with: tuple[str, ...] = (),
) -> Callable[[Body[P]], Callable[Concatenate[Target, P], Result]]:
    """Make a diagnostic from ``body(run, **options) -> (rows, findings[, columns])`` and record it in the registry
    (:mod:`okai_insight.diagnostics._registry`), from which doctor, the CLI, the magics, the widgets and the
    report select it: ``doctor`` (part of ``health()``), ``adapter_only`` (doctor runs it only for an adapter),
    ``shown_with`` (other concerns whose panel or section also shows it).

    The public function takes the database target first; it opens a runner, times the check, and turns
    :class:`CheckUnavailable` into a ``status="unavailable"`` result with an info finding saying how to enable it.

    Example:
        >>> @diagnostic("indexes", "Invalid indexes")                       # doctest: +SKIP
        ... def invalid_indexes(run):
        ...     return run.query("indexes", "invalid_indexes").rows, []
    """

    def wrap(body: Body[P]) -> Callable[Concatenate[Target, P], Result]:
        name = body.__name__

        @functools.wraps(body)
        def run_diagnostic(db: Target = None, /, *args: P.args, **kwargs: P.kwargs) -> Result:
            start = time.perf_counter()
            try:
                with using(db) as run:
                    out = body(run, *args, **kwargs)
            except CheckUnavailable as exc:
                finding = Finding("info", str(exc), fix_sql=exc.fix_sql, check=name)
                return Result(
                    concern,
                    name,
                    title,
                    findings=[finding],
                    status="unavailable",
                    note=str(exc),
                    duration_ms=(time.perf_counter() - start) * 1000,
                )
            rows, findings = out[0], out[1]
            columns: tuple[str, ...] = out[2] if len(out) > 2 else ()  # type: ignore[misc]
            return Result(
                concern,
                name,
                title,
                rows=rows,
                findings=[replace(f, check=name) for f in findings],
                columns=columns,
                duration_ms=(time.perf_counter() - start) * 1000,
            )

        run_diagnostic.concern = concern  # type: ignore[attr-defined]
        run_diagnostic.title = title  # type: ignore[attr-defined]
        from okai_insight.diagnostics import _registry

        _registry.record(_registry.Entry(run_diagnostic, name, concern, title, doctor, adapter_only, shown_with))
        return run_diagnostic

    return wrap


__all__ = [
    "CheckUnavailable",
    "Features",
    "Findings",
    "Outcome",
    "QueryResult",
    "Rows",
    "Runner",
    "Target",
    "diagnostic",
    "using",
]
