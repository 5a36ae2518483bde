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
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

from okai_insight._store_runner import store_runner
from okai_insight.results import Finding, Result
from okai_insight.runner import CheckUnavailable, Features, QueryResult, Rows, Runner, Target, using

P = ParamSpec("P")
Findings = list[Finding]
#: What a diagnostic body returns: rows, findings, and optionally the column names (kept when there are no rows).
Outcome = tuple[Rows, Findings] | tuple[Rows, Findings, tuple[str, ...]]

Body = Callable[Concatenate[Runner, P], Outcome]
#: What an embedding check's body returns: the result's fields by name (rows, findings, columns, summary, tables...).
Fields = dict[str, Any]
R = TypeVar("R", bound=Result)


@overload
def diagnostic(
    concern: str,
    title: str,
    *,
    doctor: bool = True,
    adapter_only: bool = False,
    shown_with: tuple[str, ...] = (),
    stores: bool = False,
) -> Callable[[Body[P]], Callable[Concatenate[Target, P], Result]]: ...


@overload
def diagnostic(
    concern: str,
    title: str,
    *,
    result: type[R],
    doctor: bool = True,
    adapter_only: bool = False,
    shown_with: tuple[str, ...] = (),
    stores: bool = False,
) -> Callable[[Callable[Concatenate[Runner, P], Fields]], Callable[Concatenate[Target, P], R]]: ...


def diagnostic(
    concern: str,
    title: str,
    *,
    result: type[Result] = Result,
    doctor: bool = True,
    adapter_only: bool = False,
    shown_with: tuple[str, ...] = (),
    stores: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a diagnostic from ``body(run, **options) -> (rows, findings[, columns])`` and record it in the registry
    (:mod:`okai_insight.diagnostics._registry`), from which doctor, the CLI, the magics, the widgets and the
    report select it: ``doctor`` (part of ``doctor()``), ``adapter_only`` (doctor runs it only for an adapter),
    ``shown_with`` (other concerns whose panel or section also shows it), ``stores`` (the check also runs on a
    SQLite or in-memory store, through :class:`~okai_insight._store_runner.StoreRunner`).

    The public function takes the database target first; it opens a runner, times the check, and turns
    :class:`CheckUnavailable` into a ``status="unavailable"`` result with an info finding saying how to enable it.
    ``result``: the Result subclass to build (the embedding checks' results carry a summary, side tables and a
    plot); its body returns the fields by name (``{"rows": ..., "findings": ..., "summary": ...}``).

    Example:
        >>> @diagnostic("indexes", "Invalid indexes")                       # doctest: +SKIP
        ... def invalid_indexes(run):
        ...     return run.query("indexes", "invalid_indexes").rows, []
    """

    def wrap(body: Callable[..., Any]) -> Callable[..., Any]:
        name = body.__name__

        @functools.wraps(body)
        def run_diagnostic(db: Target = None, /, *args: Any, **kwargs: Any) -> Result:
            start = time.perf_counter()
            try:
                store = store_runner(db) if stores else None  # SQLite / in-memory: read through a StoreRunner
                with store if store is not None else using(db) as run:
                    out = body(run, *args, **kwargs)
            except CheckUnavailable as exc:
                finding = Finding("info", str(exc), fix_sql=exc.fix_sql, check=name)
                return result(
                    concern,
                    name,
                    title,
                    findings=[finding],
                    status="unavailable",
                    note=str(exc),
                    duration_ms=(time.perf_counter() - start) * 1000,
                )
            if isinstance(out, dict):
                fields = dict(out)
                findings = fields.pop("findings", [])
            else:
                fields = {"rows": out[0], "columns": out[2] if len(out) > 2 else ()}
                findings = out[1]
            return result(
                concern,
                name,
                title,
                findings=[replace(f, check=name) for f in findings],
                duration_ms=(time.perf_counter() - start) * 1000,
                **fields,
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
    "Fields",
    "Findings",
    "Outcome",
    "QueryResult",
    "Rows",
    "Runner",
    "Target",
    "diagnostic",
    "using",
]
