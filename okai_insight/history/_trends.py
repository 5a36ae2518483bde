"""Trends over a database's history snapshots: space growth, top statements over time, and what changed since
the last snapshot (deltas of pg_stat_statements' and pg_stat_user_indexes' cumulative counters, sizes).

Example:
    >>> h = History("k", "okai", {"snapshots": [], "statements": [], "relations": [], "vector_indexes": []})
    >>> h.since_last()
    []
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Rows = list[dict[str, Any]]


class History:
    """The snapshots of one database, oldest first, and the trends read from them.

    ``tables`` holds the store's rows: ``snapshots``, ``statements``, ``relations``, ``vector_indexes``.

    Example:
        >>> History("k", "okai", {"snapshots": [], "statements": [], "relations": [], "vector_indexes": []}).snapshots
        []
    """

    def __init__(self, key: str, database: str, tables: dict[str, Rows]) -> None:
        self.key = key
        self.database = database
        self.tables = tables
        self.snapshots: Rows = list(tables.get("snapshots", []))

    def _of(self, table: str, snapshot_id: int) -> Rows:
        return [r for r in self.tables.get(table, []) if r["snapshot_id"] == snapshot_id]

    def space(self) -> Rows:
        """Total size of the tables (indexes and TOAST included) at each snapshot, and the growth since the one
        before.

        Example:
            >>> history(url).space()[-1]["growth_bytes"]              # doctest: +SKIP
            8192
        """
        out: Rows = []
        previous: int | None = None
        for s in self.snapshots:
            total = sum(int(r["bytes"] or 0) for r in self._of("relations", s["id"]) if r["kind"] == "table")
            out.append(
                {
                    "snapshot": s["id"],
                    "taken_at": s["taken_at"],
                    "tables_bytes": total,
                    "growth_bytes": None if previous is None else total - previous,
                }
            )
            previous = total
        return out

    def summary(self) -> dict[str, Any]:
        """How many snapshots, over what span, the tables' size at the last one and its growth since the first and
        since the one before (None where there is nothing to compare).

        Example:
            >>> History("k", "okai", {}).summary()["snapshots"]
            0
        """
        space = self.space()
        first, last = (space[0], space[-1]) if space else (None, None)
        return {
            "snapshots": len(self.snapshots),
            "first_taken_at": first["taken_at"] if first else None,
            "last_taken_at": last["taken_at"] if last else None,
            "tables_bytes": last["tables_bytes"] if last else None,
            "growth_since_first_bytes": last["tables_bytes"] - first["tables_bytes"] if last and first else None,
            "growth_since_last_bytes": last["growth_bytes"] if last else None,
        }

    def growth_by_table(self, n: int = 10) -> Rows:
        """The ``n`` tables that grew most between the first and the last snapshot (size then and now).

        Example:
            >>> History("k", "okai", {}).growth_by_table()
            []
        """
        if len(self.snapshots) < 2:
            return []
        first = {
            (r["schema"], r["name"]): int(r["bytes"] or 0)
            for r in self._of("relations", self.snapshots[0]["id"])
            if r["kind"] == "table"
        }
        out: Rows = [
            {
                "table": f"{r['schema']}.{r['name']}",
                "first_bytes": first.get((r["schema"], r["name"])),
                "last_bytes": int(r["bytes"] or 0),
                "growth_bytes": int(r["bytes"] or 0) - first.get((r["schema"], r["name"]), 0),
                "live_rows": r.get("live_rows"),
            }
            for r in self._of("relations", self.snapshots[-1]["id"])
            if r["kind"] == "table"
        ]
        return sorted((r for r in out if r["growth_bytes"]), key=lambda r: -int(r["growth_bytes"]))[:n]

    def top_statements(self, n: int = 10) -> Rows:
        """The ``n`` statements with the most total time at the last snapshot, with their cumulative calls and
        time at every snapshot (one row per statement and snapshot).

        Example:
            >>> history(url).top_statements(3)[0]["queryid"]          # doctest: +SKIP
            '-4711'
        """
        if not self.snapshots:
            return []
        last = sorted(self._of("statements", self.snapshots[-1]["id"]), key=lambda r: -(r["total_ms"] or 0))[:n]
        wanted = {r["queryid"] for r in last}
        out: Rows = []
        for s in self.snapshots:
            for r in self._of("statements", s["id"]):
                if r["queryid"] in wanted:
                    out.append({"snapshot": s["id"], "taken_at": s["taken_at"], **_public(r)})
        return out

    def since_last(self) -> Rows:
        """What changed between the last two snapshots: statements that ran (calls and time in between, most
        time first), tables and indexes whose size changed, vector indexes that were scanned. Counters that went
        down (pg_stat_statements or the statistics were reset) count from zero.

        Example:
            >>> history(url).since_last()[0]                          # doctest: +SKIP
            {'kind': 'statement', 'name': 'SELECT ...', 'calls': 120, 'total_ms': 35.2, 'bytes': None, 'scans': None}
        """
        if len(self.snapshots) < 2:
            return []
        before, after = self.snapshots[-2], self.snapshots[-1]
        reset = before.get("stats_reset") != after.get("stats_reset")
        out: Rows = []
        old = {r["queryid"]: r for r in self._of("statements", before["id"])}
        stmts: Rows = []
        for r in self._of("statements", after["id"]):
            o = None if reset else old.get(r["queryid"])
            calls = _delta(r["calls"], o and o["calls"])
            ms = _delta(r["total_ms"], o and o["total_ms"])
            if calls:
                stmts.append(_row("statement", str(r["query"]), calls=calls, total_ms=round(float(ms), 3)))
        out += sorted(stmts, key=lambda r: -r["total_ms"])
        sizes = {(r["schema"], r["name"]): r for r in self._of("relations", before["id"])}
        for r in self._of("relations", after["id"]):
            o = sizes.get((r["schema"], r["name"]))
            grown = int(r["bytes"] or 0) - int(o["bytes"] or 0) if o else int(r["bytes"] or 0)
            if grown:
                out.append(_row(r["kind"], f"{r['schema']}.{r['name']}", bytes=grown))
        scans = {(r["schema"], r["index"]): r for r in self._of("vector_indexes", before["id"])}
        for r in self._of("vector_indexes", after["id"]):
            o = scans.get((r["schema"], r["index"]))
            n = _delta(r["idx_scan"], o and o["idx_scan"])
            if n:
                out.append(_row("vector index", f"{r['schema']}.{r['index']}", scans=n))
        return out

    def plot(self, ax: Any = None) -> Any:
        """Space growth: the tables' total size at each snapshot (MB). Returns the Axes.

        Example:
            >>> history(url).plot()                                    # doctest: +SKIP
        """
        from okai_insight.embeddings._results import new_axes

        ax = new_axes(ax)
        rows = self.space()
        ax.plot([r["taken_at"] for r in rows], [r["tables_bytes"] / 1e6 for r in rows], marker="o", label="tables")
        ax.set_xlabel("snapshot (UTC)")
        ax.set_ylabel("MB")
        ax.set_title(f"Space over time: {self.database}")
        ax.tick_params(axis="x", labelrotation=30)
        return ax

    def plot_statements(self, ax: Any = None, *, n: int = 5) -> Any:
        """Top statements over time: cumulative total time (ms) of the ``n`` heaviest at each snapshot.

        Example:
            >>> history(url).plot_statements(n=3)                      # doctest: +SKIP
        """
        from okai_insight.embeddings._results import new_axes

        ax = new_axes(ax)
        lines: dict[str, list[tuple[str, float]]] = {}
        labels: dict[str, str] = {}
        for r in self.top_statements(n):
            lines.setdefault(r["queryid"], []).append((r["taken_at"], float(r["total_ms"] or 0)))
            labels[r["queryid"]] = " ".join(str(r["query"]).split())[:40]
        for qid, pts in lines.items():
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=labels[qid])
        ax.set_xlabel("snapshot (UTC)")
        ax.set_ylabel("total time (ms, cumulative)")
        ax.set_title("Top statements over time")
        if lines:
            ax.legend(fontsize="small")
        ax.tick_params(axis="x", labelrotation=30)
        return ax

    def to_text(self) -> str:
        """The terminal rendering: the snapshots, space growth and what changed since the last snapshot.

        Example:
            >>> print(History("k", "okai", {}).to_text())
            == History of okai (key k): 0 snapshots
            take one with: okai-insight snapshot [URL]
        """
        from okai_insight.results import text_table

        parts = [f"== History of {self.database} (key {self.key}): {len(self.snapshots)} snapshots"]
        if len(self.snapshots) < 2:
            parts.append("take one with: okai-insight snapshot [URL]" if not self.snapshots else "one snapshot so far")
        if self.snapshots:
            parts.append(
                "\nSpace:\n" + text_table(self.space(), ("snapshot", "taken_at", "tables_bytes", "growth_bytes"))
            )
        changes = self.since_last()
        if changes:
            parts.append(
                "\nSince the last snapshot:\n"
                + text_table(changes, ("kind", "name", "calls", "total_ms", "bytes", "scans"), max_width=60)
            )
        return "\n".join(parts)

    def __repr__(self) -> str:
        return f"History({self.database!r}, {len(self.snapshots)} snapshots)"


def _delta(now: Any, before: Any) -> Any:
    now = now or 0
    if before is None or now < before:  # new, or the counters were reset in between
        return now
    return now - before


def _row(kind: str, name: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"kind": kind, "name": name, "calls": None, "total_ms": None, "bytes": None, "scans": None}
    row.update(values)
    return row


def _public(r: dict[str, Any], skip: Sequence[str] = ("snapshot_id",)) -> dict[str, Any]:
    return {k: v for k, v in r.items() if k not in skip}
