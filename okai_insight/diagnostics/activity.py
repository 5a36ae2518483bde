"""Activity: running and long-running queries, idle-in-transaction sessions, the lock tree, wait events; opt-in
cancel / terminate of one backend.

Example:
    >>> from okai_insight.diagnostics import activity
    >>> activity.long_running_queries(url).findings                  # doctest: +SKIP
    []
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from okai_insight.diagnostics._fmt import human_ms
from okai_insight.diagnostics._result import Finding
from okai_insight.diagnostics._runner import (
    CheckUnavailable,
    Findings,
    Outcome,
    Runner,
    Target,
    diagnostic,
    using,
)
from okai_insight.errors import InvalidInput, PermissionDenied

#: PgHero lib/pghero.rb: long_running_query_sec 60.
LONG_RUNNING_MS = 60_000
PGHERO_QUERIES = "PgHero lib/pghero/methods/queries.rb"


@diagnostic("activity", "Running queries", doctor=False)
def running_queries(run: Runner, *, min_duration_ms: float = 0) -> Outcome:
    """Statements running in this database now (not idle), longest first; no findings.

    Example:
        >>> [r["pid"] for r in running_queries(url).rows]             # doctest: +SKIP
        [4242]
    """
    return run.query("activity", "running_queries", {"min_duration_ms": min_duration_ms}).rows, []


@diagnostic("activity", "Long-running queries")
def long_running_queries(run: Runner, *, min_duration_ms: float = LONG_RUNNING_MS) -> Outcome:
    """Statements running at least ``min_duration_ms`` (default 60 s); a warning each, with the cancel SQL.

    Example:
        >>> long_running_queries(url, min_duration_ms=1000).findings[0].fix_sql   # doctest: +SKIP
        'SELECT pg_cancel_backend(4242);'
    """
    res = run.query("activity", "running_queries", {"min_duration_ms": min_duration_ms})
    findings = [
        Finding(
            "warning",
            f"pid {r['pid']} ({r['user']}, {r['application'] or 'no application'}) has run one statement for "
            f"{human_ms(r['duration_ms'])}: {_short(r['query'])}",
            threshold=f"duration_ms >= {min_duration_ms:g}",
            source=f"{PGHERO_QUERIES} (long_running_queries, long_running_query_sec 60)",
            fix_sql=f"SELECT pg_cancel_backend({r['pid']});  -- or pg_terminate_backend({r['pid']})",
            subject=f"pid {r['pid']}",
        )
        for r in res.rows
        if r["state"] == "active"
    ]
    return res.rows, findings, res.columns


@diagnostic("activity", "Idle in transaction")
def idle_in_transaction(run: Runner, *, min_idle_ms: float = LONG_RUNNING_MS) -> Outcome:
    """Sessions holding a transaction open while idle for at least ``min_idle_ms`` (default 60 s): they block
    vacuum and hold locks. A warning each (critical when they hold locks others wait for is in blocked_queries).

    Example:
        >>> idle_in_transaction(url, min_idle_ms=0).rows               # doctest: +SKIP
        []
    """
    res = run.query("activity", "idle_in_transaction", {"min_idle_ms": min_idle_ms})
    findings = [
        Finding(
            "warning",
            f"pid {r['pid']} ({r['user']}, {r['application'] or 'no application'}) has been idle in a transaction "
            f"for {human_ms(r['idle_ms'])} holding {r['locks_held']} locks; vacuum cannot remove rows it may see. "
            f"Last statement: {_short(r['last_query'])}",
            threshold=f"idle_ms >= {min_idle_ms:g}",
            source="PostgreSQL docs, runtime-config-client (idle_in_transaction_session_timeout)",
            fix_sql=f"SELECT pg_terminate_backend({r['pid']});\n"
            "-- and guard against it: ALTER DATABASE ... SET idle_in_transaction_session_timeout = '5min';",
            subject=f"pid {r['pid']}",
        )
        for r in res.rows
    ]
    return res.rows, findings, res.columns


@diagnostic("activity", "Blocked queries")
def blocked_queries(run: Runner) -> Outcome:
    """The lock tree: sessions waiting for locks and the sessions blocking them (``depth`` 0 is a root blocker).
    A critical finding per root blocker, naming what it blocks and how to end it.

    Example:
        >>> print(lock_tree_text(blocked_queries(url).rows))          # doctest: +SKIP
        pid 101 idle in transaction: LOCK TABLE t ...
          pid 102 waits (AccessShareLock on t): SELECT * FROM t
    """
    res = run.query("activity", "blocked_queries")
    waiting = {r["pid"]: r for r in res.rows if r["blocked_by"]}
    findings: Findings = []
    for r in res.rows:
        if r["blocked_by"] or not r["blocking"]:
            continue
        victims = _descendants(r["pid"], res.rows)
        findings.append(
            Finding(
                "critical",
                f"pid {r['pid']} ({r['state']}, {r['user']}) blocks {len(victims)} session(s) "
                f"(pids {', '.join(str(v) for v in victims)}); "
                f"the longest has waited {human_ms(max(waiting[v]['duration_ms'] or 0 for v in victims))}. "
                f"Blocker's statement: {_short(r['query'])}",
                threshold="a session waits for a lock another holds (pg_blocking_pids)",
                source=f"{PGHERO_QUERIES} (blocked_queries)",
                fix_sql=f"SELECT pg_cancel_backend({r['pid']});  -- if that is not enough: "
                f"SELECT pg_terminate_backend({r['pid']});",
                subject=f"pid {r['pid']}",
            )
        )
    return res.rows, findings, res.columns


@diagnostic("activity", "Wait events", doctor=False)
def wait_events(run: Runner) -> Outcome:
    """Active sessions grouped by what they wait on (``CPU / running`` when not waiting); no findings.

    Example:
        >>> wait_events(url).rows                                      # doctest: +SKIP
        [{'wait_event_type': 'Lock', 'wait_event': 'relation', 'sessions': 1}]
    """
    res = run.query("activity", "wait_events")
    return res.rows, [], res.columns


def lock_tree_text(rows: list[dict[str, Any]]) -> str:
    """The lock tree of :func:`blocked_queries` rows as indented text (blockers first, waiters below).

    Example:
        >>> rows = [{"pid": 1, "blocked_by": [], "state": "idle in transaction", "query": "LOCK t",
        ...          "waiting_for_mode": None, "waiting_for_relation": None},
        ...         {"pid": 2, "blocked_by": [1], "state": "active", "query": "SELECT 1",
        ...          "waiting_for_mode": "AccessShareLock", "waiting_for_relation": "t"}]
        >>> print(lock_tree_text(rows))
        pid 1 idle in transaction: LOCK t
          pid 2 waits (AccessShareLock on t): SELECT 1
    """
    by_pid = {r["pid"]: r for r in rows}
    lines: list[str] = []

    def walk(pid: int, depth: int, seen: frozenset[int]) -> None:
        r = by_pid[pid]
        waits = f"waits ({r['waiting_for_mode']} on {r['waiting_for_relation']})"
        what = waits if r["blocked_by"] else str(r["state"])
        lines.append(f"{'  ' * depth}pid {pid} {what}: {_short(r['query'])}")
        for child in sorted(p for p, c in by_pid.items() if pid in (c["blocked_by"] or ())):
            if child not in seen:
                walk(child, depth + 1, seen | {child})

    for r in rows:
        if not r["blocked_by"]:
            walk(r["pid"], 0, frozenset({r["pid"]}))
    return "\n".join(lines)


def cancel_query(db: Target, pid: int, *, terminate: bool = False) -> bool:
    """Opt-in: cancel the statement of one backend (``terminate=True`` ends its session). Returns whether the
    server accepted the signal. This is an action, not a diagnostic: it is never run by ``doctor()``.

    Example:
        >>> cancel_query(url, 4242)                                   # doctest: +SKIP
        True
    """
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise InvalidInput(f"pid must be a positive integer, got {pid!r}")
    function = "pg_terminate_backend" if terminate else "pg_cancel_backend"
    with using(db) as run:
        statement = sql.SQL("SELECT {}(%(pid)s) AS ok").format(sql.Identifier(function))
        try:
            row = run.execute(statement, {"pid": pid}).rows[0]
        except CheckUnavailable as exc:
            if isinstance(exc.__cause__, psycopg.errors.InsufficientPrivilege):
                raise PermissionDenied(
                    f"this role may not signal pid {pid}: it needs pg_signal_backend or to own that session"
                ) from exc
            raise
    return bool(row["ok"])


def _descendants(pid: int, rows: list[dict[str, Any]]) -> list[int]:
    out: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for r in rows:
            if current in (r["blocked_by"] or ()) and r["pid"] not in out and r["pid"] != pid:
                out.append(r["pid"])
                frontier.append(r["pid"])
    return sorted(out)


def _short(query: str | None, limit: int = 160) -> str:
    text = " ".join((query or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
