"""Panels over the diagnostics: health, statements, indexes, space and maintenance. Each calls library functions
and shows their result objects (``result_html``); none runs SQL of its own.

Example:
    >>> from okai_insight.jupyter import HealthWidget
    >>> HealthWidget(url)                                            # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from okai_insight.diagnostics._result import Result, findings_html, result_html
from okai_insight.jupyter._base import Panel
from okai_insight.report._render import STYLE, badges


def results_html(results: list[Result], *, max_rows: int = 25) -> str:
    """Several results as one HTML block.

    Example:
        >>> "<h4>T (a.b)</h4>" in results_html([Result("a", "b", "T")])
        True
    """
    return STYLE + "".join(result_html(r, max_rows=max_rows) for r in results)


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
        from okai_insight.diagnostics import HealthReport, Runner, health
        from okai_insight.diagnostics.health import check_names

        names = check_names()
        results: list[Result] = []
        with Runner(self.db) as run:
            database = version = None
            for i, name in enumerate(names):
                self.step(i, len(names), name)
                if name == "pool_stats" and run.adapter is None:
                    continue  # as in health(): pool statistics exist only for an adapter's pool
                part = health(run, checks=[name])
                results += part.results
                database, version = part.database, part.server_version
        self.step(len(names), len(names), "done")
        return HealthReport(results, database, version, sum(r.duration_ms for r in results))

    def render(self, data: Any) -> None:
        self.report = data
        head = (
            f"<p><b>{data.database or '?'}</b> on PostgreSQL {data.server_version or '?'}: "
            f"{len(data.results)} checks</p><p>{badges(data.counts())}</p>"
        )
        shown = data.results if self.show_all.value else [r for r in data.results if r.findings or r.status != "ok"]
        self.body.value = STYLE + head + findings_html(data.findings) + results_html(shown)


class _ResultsPanel(Panel):
    """A panel showing a fixed list of diagnostics' results."""

    def checks(self) -> list[Any]:
        raise NotImplementedError

    def compute(self) -> Any:
        from okai_insight.diagnostics import Runner

        checks = self.checks()
        out = []
        with Runner(self.db) as run:
            for i, check in enumerate(checks):
                self.step(i, len(checks), getattr(check, "__name__", "check"))
                out.append(check(run))
        return out

    def render(self, data: Any) -> None:
        self.body.value = results_html(data)


class StatementsWidget(_ResultsPanel):
    """Top statements from pg_stat_statements by total time, mean time or calls, and the slow ones.

    Example:
        >>> StatementsWidget(url).order.value                            # doctest: +SKIP
        'total'
    """

    title = "Statements"

    def controls(self) -> list[Any]:
        self.order = widgets.Dropdown(options=["total", "mean", "calls"], value="total", description="order by")
        self.limit = widgets.BoundedIntText(value=20, min=1, max=500, description="rows", layout={"width": "140px"})
        for w in (self.order, self.limit):
            w.observe(lambda _: self.refresh(), names="value")
        return [self.order, self.limit]

    def checks(self) -> list[Any]:
        from okai_insight.diagnostics import statements

        def top(run: Any) -> Result:
            return statements.query_stats(run, order_by=self.order.value, limit=int(self.limit.value))

        top.__name__ = "query_stats"
        return [top, statements.slow_queries, statements.statements_info]


class IndexesWidget(_ResultsPanel):
    """Index usage, then duplicate, unused and invalid indexes, missing foreign-key indexes, sequential scans.

    Example:
        >>> IndexesWidget(url)                                           # doctest: +SKIP
    """

    title = "Indexes"

    def checks(self) -> list[Any]:
        from okai_insight.diagnostics import indexes, vectors

        return [
            indexes.index_usage,
            indexes.duplicate_indexes,
            indexes.unused_indexes,
            indexes.invalid_indexes,
            indexes.foreign_keys_without_index,
            indexes.sequential_scans,
            vectors.vector_indexes,
            vectors.vector_queries,
        ]


class SpaceWidget(_ResultsPanel):
    """Database and table sizes, vacuum and analyze state, transaction-ID and sequence headroom.

    Example:
        >>> SpaceWidget(url)                                             # doctest: +SKIP
    """

    title = "Space & maintenance"

    def checks(self) -> list[Any]:
        from okai_insight.diagnostics import maintenance, space

        return [
            space.database_size,
            space.table_sizes,
            maintenance.vacuum_stats,
            maintenance.transaction_id_danger,
            maintenance.sequence_danger,
        ]
