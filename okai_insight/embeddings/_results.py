"""Result objects of the embedding checks: the diagnostics :class:`Result` plus the extras a person looks at.

Each check body runs inside :func:`run_check`, which opens the runner, times it and turns
:class:`CheckUnavailable` into a ``status="unavailable"`` result, like the diagnostics decorator, but builds the
result class the check asks for (with its tables and ``.plot(ax=None)``).

Example:
    >>> r = EmbeddingResult("embeddings", "x", "X", rows=[{"a": 1}])
    >>> r.table("missing") is None, r.ok
    (True, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from okai_insight.results import Finding, Result
from okai_insight.runner import CheckUnavailable, Runner, Target, using

CONCERN = "embeddings"


@dataclass
class EmbeddingResult(Result):
    """A :class:`Result` with named side tables (``tables``: name -> list of dict rows) and a ``summary`` dict.

    Example:
        >>> EmbeddingResult("embeddings", "x", "X", tables={"pairs": [{"a": 1}]}).table_frame("pairs").shape
        (1, 1)
    """

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> list[dict[str, Any]] | None:
        """A side table's rows, or None."""
        return self.tables.get(name)

    def table_frame(self, name: str) -> Any:
        """A side table as a pandas DataFrame (empty when missing)."""
        import pandas as pd

        return pd.DataFrame(self.tables.get(name) or [])

    def to_text(self, *, max_rows: int = 20, max_width: int = 60) -> str:
        """The terminal rendering, with the summary line first."""
        text = super().to_text(max_rows=max_rows, max_width=max_width)
        if self.summary:
            head, _, rest = text.partition("\n")
            summary = ", ".join(f"{k}={_short(v)}" for k, v in self.summary.items() if not isinstance(v, list | dict))
            return f"{head}\n{summary}" + (f"\n{rest}" if rest else "")
        return text


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


R = TypeVar("R", bound=EmbeddingResult)


def run_check(
    db: Target,
    name: str,
    title: str,
    body: Callable[[Runner], dict[str, Any]],
    cls: type[R],
) -> R:
    """Run ``body(run) -> dict(rows=..., findings=..., columns=..., tables=..., summary=..., extra...)`` as a check.

    Example:
        >>> run_check(url, "x", "X", lambda run: {"rows": []}, EmbeddingResult).status    # doctest: +SKIP
        'ok'
    """
    start = time.perf_counter()
    try:
        with using(db) as run:
            out = body(run)
    except CheckUnavailable as exc:
        finding = Finding("info", str(exc), fix_sql=exc.fix_sql, check=name)
        return cls(
            CONCERN,
            name,
            title,
            findings=[finding],
            status="unavailable",
            note=str(exc),
            duration_ms=(time.perf_counter() - start) * 1000,
        )
    findings = [replace(f, check=name) for f in out.pop("findings", [])]
    return cls(
        CONCERN,
        name,
        title,
        findings=findings,
        duration_ms=(time.perf_counter() - start) * 1000,
        **out,
    )


def new_axes(ax: Any = None, *, figsize: tuple[float, float] = (7.0, 4.5)) -> Any:
    """The given Axes, or a new figure's.

    Example:
        >>> new_axes().get_xlabel()                                   # doctest: +SKIP
        ''
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax
