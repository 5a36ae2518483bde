"""The base of every okai-insight widget: a panel that loads library results off the kernel's main thread.

A panel has controls, a status line, a progress bar and an HTML body. :meth:`Panel.refresh` runs the panel's
``compute`` (library calls only: no SQL here) in a background thread when ``background=True``, so a slow check
never freezes the notebook's display; the progress bar moves as ``compute`` reports steps. ``render`` then puts
the library's result objects on screen. :meth:`Panel.wait` joins the thread (tests and scripts).

Example:
    >>> from okai_insight.jupyter import HealthWidget
    >>> w = HealthWidget(url, background=False)                     # doctest: +SKIP
    >>> "critical" in w.body.value                                  # doctest: +SKIP
    True
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any

import ipywidgets as widgets

from okai_insight.presentation import STYLE, message_html


def short_error(exc: BaseException) -> str:
    """An exception as one line (the type name for anything that is not an okai-insight error).

    Example:
        >>> short_error(ValueError("bad\\nmore"))
        'ValueError: bad'
    """
    from okai_insight.errors import OkaiError

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return first if isinstance(exc, OkaiError) and first else f"{type(exc).__name__}: {first}"


class Panel(widgets.VBox):  # type: ignore[misc]
    """A widget showing one concern's results; subclasses define ``title``, ``controls``, ``compute``, ``render``.

    ``db`` is anything the library takes (a URL, None for ``OKAI_DATABASE_URL`` / the embedded server, an
    adapter, a psycopg connection). ``autoload``: compute once on creation. ``background``: compute in a thread.

    Example:
        >>> w = SpaceWidget(url, background=False)                     # doctest: +SKIP
        >>> w.refresh(); w.wait()                                      # doctest: +SKIP
    """

    title = "okai-insight"

    def __init__(self, db: Any = None, *, autoload: bool = True, background: bool = True) -> None:
        self.db = db
        self.background = background
        self.data: Any = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.loads = 0
        self.status = widgets.HTML(value="")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, bar_style="info",
                                            layout=widgets.Layout(width="240px", visibility="hidden"))  # fmt: skip
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh", tooltip="run the checks again")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.body = widgets.HTML(value=STYLE + message_html("not loaded yet: press Refresh"))
        self.body.add_class("okai-body")
        # Result tables as sortable, searchable widgets (show_results): an HTML widget runs no script, so the body
        # keeps the static HTML (scripts, tests, front ends without itables) and is hidden while this is shown.
        self.tables = widgets.VBox(layout=widgets.Layout(display="none"))
        self.tables.add_class("okai-body")
        self.tables.add_class("okai-tables")
        bar = widgets.HBox([self.refresh_button, *self.controls(), self.progress, self.status])
        super().__init__([bar, *self.extra_children(), self.body, self.tables])
        self.add_class("okai-panel")
        if autoload:
            self.refresh()

    # -- for subclasses ----------------------------------------------------------------------------------------
    def controls(self) -> list[Any]:
        """Widgets placed next to the Refresh button."""
        return []

    def extra_children(self) -> list[Any]:
        """Widgets placed between the control bar and the body."""
        return []

    def compute(self) -> Any:
        """Call the library; runs in the background thread. Report progress with :meth:`step`."""
        raise NotImplementedError

    def render(self, data: Any) -> None:
        """Show ``data`` (what :meth:`compute` returned); runs after compute, in the same thread."""
        raise NotImplementedError

    def show_results(self, results: list[Any], *, head: str = "", max_rows: int = 25) -> None:
        """Show ``head`` (HTML) and ``results``: each result's findings first, then its rows in a sortable,
        searchable table (every row, paged); ``body.value`` holds the same as static HTML (the first ``max_rows``
        rows of each), which is what is shown without itables.

        Example:
            >>> w.show_results([indexes.index_usage(url)])                # doctest: +SKIP
            >>> len(w.tables.children)                                   # doctest: +SKIP
            2
        """
        from okai_insight.jupyter._sortable import result_widgets
        from okai_insight.presentation import results_html

        self.body.value = STYLE + head + results_html(results, max_rows=max_rows)
        children = result_widgets(results, head=head)
        if children is None:
            self._show_static()
            return
        self.tables.children = children
        self.tables.layout.display = None
        self.body.layout.display = "none"

    def _show_static(self) -> None:
        self.tables.children = ()
        self.tables.layout.display = "none"
        self.body.layout.display = None

    # -- machinery ---------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Whether a computation is running."""
        return self._thread is not None and self._thread.is_alive()

    def step(self, done: int, total: int, label: str = "") -> None:
        """Report progress from :meth:`compute` (``done`` of ``total`` steps, what is being done).

        Example:
            >>> w.step(3, 25, "duplicate_indexes")                      # doctest: +SKIP
        """
        self.progress.max = max(1, total)
        self.progress.value = min(done, self.progress.max)
        if label:
            self.status.value = f"<small>{html.escape(label)} ({done}/{total})</small>"

    def refresh(self) -> None:
        """Compute and render again (in a thread when ``background``); ignored while a computation runs.

        Example:
            >>> w.refresh(); w.wait()                                    # doctest: +SKIP
        """
        with self._lock:
            if self.busy:
                return
            self.progress.value = 0
            self.progress.layout.visibility = "visible"
            self.refresh_button.disabled = True
            self.status.value = "<small>working…</small>"
            if self.background:
                self._thread = threading.Thread(target=self._run, name=f"okai-{type(self).__name__}", daemon=True)
                self._thread.start()
                return
        self._run()

    def wait(self, timeout_s: float = 120.0) -> None:
        """Block until the running computation (if any) is done.

        Example:
            >>> w.wait()                                                 # doctest: +SKIP
        """
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                raise TimeoutError(f"{type(self).__name__} still busy after {timeout_s} s")

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self.data = self.compute()
            self.error = None
            self.render(self.data)
            self.status.value = f"<small>updated in {time.perf_counter() - started:.1f} s</small>"
        except Exception as exc:  # the widget's edge: a short message, never a traceback
            self.error = short_error(exc)
            from okai_insight.errors import FeatureNotAvailable

            kind = "unavailable" if isinstance(exc, FeatureNotAvailable) else "error"
            self.body.value = STYLE + message_html(self.error, kind=kind)
            self._show_static()
            self.status.value = ""
        finally:
            self.loads += 1
            self.progress.layout.visibility = "hidden"
            self.refresh_button.disabled = False
