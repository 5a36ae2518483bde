"""Result objects of the embedding checks: the diagnostics :class:`Result` plus the extras a person looks at.

Each check is a diagnostic like any other (``@diagnostic("embeddings", title, result=..., doctor=False)``): the
decorator opens the runner, times the check, turns :class:`~okai_insight.runner.CheckUnavailable` into a
``status="unavailable"`` result, and builds the result class the check names (with its tables and ``.plot``).

Example:
    >>> r = EmbeddingResult("embeddings", "x", "X", rows=[{"a": 1}])
    >>> r.table("missing") is None, r.ok
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from okai_insight.results import Result


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
