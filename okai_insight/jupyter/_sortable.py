"""Sortable, searchable tables for notebooks: a diagnostic's result (or a DataFrame, or rows) shown with its findings
first and its rows in an itables table (sort by any column, search, page), offline: itables' JavaScript ships in its
wheel. Its display data also carries the static HTML view (:func:`okai_insight.results.result_html`), which front
ends without widgets show (an HTML export, a notebook viewer, papermill's stored outputs).

Example:
    >>> from okai_insight.jupyter import interactive
    >>> interactive(indexes.index_usage(url))                  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import Any

import ipywidgets as widgets

from okai_insight.jupyter._scatter import sortable_table
from okai_insight.results import Result, result_html


class WithStaticView(widgets.VBox):  # type: ignore[misc]
    """A VBox whose display data also holds a static HTML view (``text/html``): JupyterLab, Notebook 7 and Voila
    render the widgets, anything without a widget manager renders the HTML.

    Example:
        >>> "text/html" in WithStaticView([], static="<p>x</p>")._repr_mimebundle_()
        True
    """

    def __init__(self, children: list[Any], *, static: str) -> None:
        super().__init__(children)
        self._static = static

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/html"] = self._static
        return bundle


def interactive(data: Any, *, page_rows: int = 15, caption: str | None = None) -> Any:
    """``data`` (a :class:`~okai_insight.results.Result`, a pandas DataFrame or a list of row dicts) as a widget:
    a result's title, status and findings first, as in every okai-insight view, then its rows as a sortable,
    searchable table of ``page_rows`` a page. Numbers stay numbers (sorting is numeric), floats rounded to 3
    significant digits. Without itables, or with no rows, the static HTML view.

    Example:
        >>> r = Result("space", "table_sizes", "Table sizes", rows=[{"table": "t", "size_bytes": 8192}])
        >>> type(interactive(r)).__name__
        'WithStaticView'
    """
    if isinstance(data, Result):
        header = result_html(dataclasses.replace(data, rows=[]))
        rows, caption = data.rows, caption or data.title
        static = result_html(data)
    else:
        header = ""
        rows = data.to_dict("records") if hasattr(data, "to_dict") else list(data)
        static = _rows_html(rows)
    table = sortable_table(rows, caption=caption, page_rows=page_rows) if rows else None
    if table is None:
        return widgets.HTML(static)
    return WithStaticView([widgets.HTML(header), table] if header else [table], static=static)


def result_widgets(results: list[Result], *, head: str = "", page_rows: int = 10) -> list[Any] | None:
    """Several results as widgets for a panel: ``head`` (HTML), then each result's title, status and findings
    (static HTML, findings first as everywhere) followed by its rows as a sortable, searchable table. ``None``
    without itables, or when a result's rows cannot become a table; the caller then shows the static HTML.

    Example:
        >>> parts = result_widgets([Result("space", "t", "T", rows=[{"x": 1}])], head="<p>db</p>")
        >>> parts is None or [type(p).__name__ for p in parts]
        ['HTML', 'ITable']
    """
    from okai_insight.presentation import STYLE

    children: list[Any] = []
    pending = STYLE + head
    for result in results:
        pending += result_html(dataclasses.replace(result, rows=[]))
        if not result.rows:
            continue
        try:
            table = sortable_table(result.rows, page_rows=page_rows)
        except (TypeError, ValueError, OverflowError):  # a value itables cannot serialise: the static view shows all
            return None
        if table is None:
            return None
        table.add_class(f"okai-rows-{result.name}")  # which result a table shows, for people and browser tests
        children += [widgets.HTML(pending), table]
        pending = ""
    if pending:
        children.append(widgets.HTML(pending))
    return children


def _rows_html(rows: list[dict[str, Any]]) -> str:
    from okai_insight.presentation._format import rows_html

    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    return rows_html(rows, columns) if rows else "<p><i>no rows</i></p>"
