"""The Activity panel: running and blocked queries (a lock tree), wait events, refresh and auto-refresh, and
cancel / terminate of one backend only after an explicit opt-in and a confirmation.

Example:
    >>> from okai_insight.jupyter import ActivityWidget
    >>> ActivityWidget(url)                                          # doctest: +SKIP
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets

from okai_insight.jupyter._base import Panel, short_error
from okai_insight.jupyter._panels import results_html
from okai_insight.presentation import message_html


class ActivityWidget(Panel):
    """Sessions now: running queries, blocked ones as a lock tree, wait events.

    Cancel / terminate: tick "allow cancel/terminate", pick a pid, press Cancel or Terminate, then Confirm. Nothing
    is signalled without both steps. ``auto_refresh_s`` is the auto-refresh period.

    Example:
        >>> w = ActivityWidget(url, background=False)                   # doctest: +SKIP
        >>> w.allow.value = True; w.pid.value = 4242; w.request("cancel"); w.confirm()   # doctest: +SKIP
    """

    title = "Activity"

    def __init__(self, db: Any = None, *, auto_refresh_s: float = 5.0, **kwargs: Any) -> None:
        self.auto_refresh_s = auto_refresh_s
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.pending: str | None = None
        self.last_action: str | None = None
        super().__init__(db, **kwargs)

    def controls(self) -> list[Any]:
        self.auto = widgets.ToggleButton(value=False, description="auto-refresh", icon="clock-o")
        self.auto.observe(self._toggle_auto, names="value")
        return [self.auto]

    def extra_children(self) -> list[Any]:
        self.allow = widgets.Checkbox(value=False, description="allow cancel/terminate", indent=False)
        self.pid = widgets.Dropdown(options=[], description="pid", layout={"width": "180px"}, disabled=True)
        self.cancel_button = widgets.Button(description="Cancel query", disabled=True, button_style="warning")
        self.terminate_button = widgets.Button(description="Terminate session", disabled=True, button_style="danger")
        self.confirm_button = widgets.Button(description="Confirm", button_style="danger",
                                             layout={"visibility": "hidden"})  # fmt: skip
        self.abort_button = widgets.Button(description="Back", layout={"visibility": "hidden"})
        self.action_status = widgets.HTML()
        self.allow.observe(lambda _: self._sync_buttons(), names="value")
        self.pid.observe(lambda _: self._sync_buttons(), names="value")
        self.cancel_button.on_click(lambda _: self.request("cancel"))
        self.terminate_button.on_click(lambda _: self.request("terminate"))
        self.confirm_button.on_click(lambda _: self.confirm())
        self.abort_button.on_click(lambda _: self._clear_pending())
        row = widgets.HBox([self.allow, self.pid, self.cancel_button, self.terminate_button, self.confirm_button,
                            self.abort_button])  # fmt: skip
        return [row, self.action_status]

    def compute(self) -> Any:
        from okai_insight.diagnostics import Runner, registry

        checks = registry.functions(concern="activity")
        out = []
        with Runner(self.db) as run:
            for i, check in enumerate(checks):
                self.step(i, len(checks), check.__name__)
                out.append(check(run))
        return out

    def render(self, data: Any) -> None:
        from okai_insight.diagnostics.activity import blocked_queries, lock_tree_text, running_queries

        by_name = {r.name: r for r in data}
        running, blocked = by_name[running_queries.__name__], by_name[blocked_queries.__name__]
        tree = lock_tree_text(blocked.rows) if blocked.rows else ""
        tree_html = f"<h4>Lock tree</h4><pre>{html.escape(tree)}</pre>" if tree else ""
        self.body.value = results_html(data) + tree_html
        pids = sorted({int(r["pid"]) for r in running.rows if r.get("pid") is not None})
        current = self.pid.value
        self.pid.options = pids
        if current in pids:
            self.pid.value = current
        self._sync_buttons()

    # -- cancel / terminate ------------------------------------------------------------------------------------
    def _sync_buttons(self) -> None:
        allowed = bool(self.allow.value)
        self.pid.disabled = not allowed
        self.cancel_button.disabled = self.terminate_button.disabled = not allowed or self.pid.value is None
        if not allowed:
            self._clear_pending()

    def request(self, action: str) -> None:
        """Ask for ``cancel`` or ``terminate`` of the chosen pid; nothing happens until :meth:`confirm`.

        Example:
            >>> w.request("cancel")                                      # doctest: +SKIP
        """
        if action not in ("cancel", "terminate"):
            raise ValueError(f"action must be cancel or terminate, got {action!r}")
        if not self.allow.value:
            self.action_status.value = message_html("tick 'allow cancel/terminate' first", kind="error")
            return
        if self.pid.value is None:
            self.action_status.value = message_html("choose a pid first", kind="error")
            return
        self.pending = action
        what = "cancel the running statement of" if action == "cancel" else "terminate the session of"
        self.action_status.value = f"<b>Really {what} pid {self.pid.value}?</b> Press Confirm."
        self.confirm_button.layout.visibility = self.abort_button.layout.visibility = "visible"

    def confirm(self) -> bool | None:
        """Carry out the requested action (library ``cancel_query``); returns what the server answered.

        Example:
            >>> w.confirm()                                              # doctest: +SKIP
            True
        """
        if self.pending is None or not self.allow.value or self.pid.value is None:
            self.action_status.value = message_html("nothing to confirm", kind="error")
            return None
        from okai_insight.diagnostics.activity import cancel_query

        action, pid = self.pending, int(self.pid.value)
        self._clear_pending()
        try:
            ok = cancel_query(self.db, pid, terminate=action == "terminate")
        except Exception as exc:
            self.action_status.value = message_html(short_error(exc), kind="error")
            return None
        self.last_action = f"{action} {pid}: {'accepted' if ok else 'no such backend'}"
        self.action_status.value = html.escape(self.last_action)
        self.refresh()
        return ok

    def _clear_pending(self) -> None:
        self.pending = None
        self.confirm_button.layout.visibility = self.abort_button.layout.visibility = "hidden"

    # -- auto-refresh ------------------------------------------------------------------------------------------
    def _toggle_auto(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._stop.clear()
            self._timer = threading.Thread(target=self._loop, name="okai-activity-auto", daemon=True)
            self._timer.start()
        else:
            self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.auto_refresh_s):
            self.refresh()

    def close(self) -> None:
        """Stop auto-refresh and close the widget."""
        self._stop.set()
        super().close()
