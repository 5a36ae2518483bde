"""Panels over the diagnostics: health, statements, indexes, space and maintenance. Each calls library functions
and shows their result objects (``result_html``); none runs SQL of its own.

Example:
    >>> from okai_insight.jupyter import HealthWidget
    >>> HealthWidget(url)                                            # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from okai_insight.diagnostics._result import Result, findings_html
from okai_insight.jupyter._base import Panel
from okai_insight.presentation import STYLE, badges
from okai_insight.presentation import results_html as format_results


def results_html(results: list[Result], *, max_rows: int = 25) -> str:
    """Several results as one HTML block, with the style sheet.

    Example:
        >>> "<h4>T (a.b)</h4>" in results_html([Result("a", "b", "T")])
        True
    """
    return STYLE + format_results(results, max_rows=max_rows)


class HealthWidget(Panel):
    """Every health check (the ``doctor`` report): counts per severity, findings with their fixes, then each check
    that found something. Checks run one at a time on one connection, with progress.

    Example:
        >>> w = HealthWidget(url, background=False)                      # doctest: +SKIP
        >>> w.report.counts()                                            # doctest: +SKIP
        {'critical': 0, 'warning': 1, 'info': 5}
    """

    title = "Health"
    report: Any = None

    def controls(self) -> list[Any]:
        self.show_all = widgets.Checkbox(value=False, description="every check's rows", indent=False)
        self.show_all.observe(self._rerender, names="value")
        return [self.show_all]

    def _rerender(self, _: Any) -> None:
        if self.data is not None:
            self.render(self.data)

    def compute(self) -> Any:
        from okai_insight.diagnostics import DoctorReport, Runner, doctor, registry

        entries = registry.entries(doctor=True)
        results: list[Result] = []
        with Runner(self.db) as run:
            database = version = None
            for i, entry in enumerate(entries):
                self.step(i, len(entries), entry.name)
                if entry.adapter_only and run.adapter is None:
                    continue  # as in doctor(): pool statistics exist only for an adapter's pool
                part = doctor(run, checks=[entry.name])
                results += part.results
                database, version = part.database, part.server_version
        self.step(len(entries), len(entries), "done")
        return DoctorReport(results, database, version, sum(r.duration_ms for r in results))

    def render(self, data: Any) -> None:
        self.report = data
        head = (
            f"<p><b>{data.database or '?'}</b> on PostgreSQL {data.server_version or '?'}: "
            f"{len(data.results)} checks</p><p>{badges(data.counts())}</p>"
        )
        shown = data.results if self.show_all.value else [r for r in data.results if r.findings or r.status != "ok"]
        self.show_results(shown, head=head + findings_html(data.findings))


class _ResultsPanel(Panel):
    """A panel showing the registered diagnostics of its ``concerns`` (``@diagnostic(..., shown_with=...)`` adds a
    diagnostic of another concern), each called with the panel's :meth:`options` it takes."""

    concerns: tuple[str, ...] = ()

    def checks(self) -> list[Any]:
        """The diagnostics this panel shows, from the registry, in report order.

        Example:
            >>> [c.__name__ for c in SpaceWidget(autoload=False).checks()][:2]
            ['database_size', 'table_sizes']
        """
        from okai_insight.diagnostics import registry

        chosen = [f for concern in self.concerns for f in registry.functions(concern=concern)]
        return list(dict.fromkeys(chosen))

    def options(self) -> dict[str, Any]:
        """Values of the panel's controls, passed to each check whose signature has a parameter of that name."""
        return {}

    def compute(self) -> Any:
        import inspect

        from okai_insight.diagnostics import Runner

        checks = self.checks()
        options = self.options()
        out = []
        with Runner(self.db) as run:
            for i, check in enumerate(checks):
                self.step(i, len(checks), getattr(check, "__name__", "check"))
                takes = inspect.signature(check).parameters
                out.append(check(run, **{k: v for k, v in options.items() if k in takes}))
        return out

    def render(self, data: Any) -> None:
        self.show_results(data)


class StatementsWidget(_ResultsPanel):
    """Top statements from pg_stat_statements by total time, mean time or calls, and the slow ones.

    Example:
        >>> StatementsWidget(url).order.value                            # doctest: +SKIP
        'total'
    """

    title = "Statements"
    concerns = ("statements",)

    def controls(self) -> list[Any]:
        self.order = widgets.Dropdown(options=["total", "mean", "calls"], value="total", description="order by")
        self.limit = widgets.BoundedIntText(value=20, min=1, max=500, description="rows", layout={"width": "140px"})
        for w in (self.order, self.limit):
            w.observe(lambda _: self.refresh(), names="value")
        return [self.order, self.limit]

    def options(self) -> dict[str, Any]:
        return {"order_by": self.order.value, "limit": int(self.limit.value)}


class IndexesWidget(_ResultsPanel):
    """Index usage, duplicate, unused and invalid indexes, missing foreign-key indexes, sequential scans, and the
    vector indexes with the queries they serve.

    Example:
        >>> IndexesWidget(url)                                           # doctest: +SKIP
    """

    title = "Indexes"
    concerns = ("indexes",)


class SpaceWidget(_ResultsPanel):
    """Database and table sizes, vacuum and analyze state, transaction-ID and sequence headroom.

    Example:
        >>> SpaceWidget(url)                                             # doctest: +SKIP
    """

    title = "Space & maintenance"
    concerns = ("space", "maintenance")
