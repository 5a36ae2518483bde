"""Replication: this server's role, standbys and replay lag, and replication slots (inactive ones retain WAL).

Example:
    >>> from okai_insight.diagnostics import replication
    >>> replication.replication_slots(url).findings                  # doctest: +SKIP
    []
"""

from __future__ import annotations

from okai_insight.diagnostics._fmt import human_bytes, human_ms
from okai_insight.diagnostics._result import Finding
from okai_insight.diagnostics._runner import Findings, Outcome, Runner, diagnostic

#: The one replication-lag threshold (ops health, the replica status and the CLI use it too): PgHero calls a
#: standby's lag good while it is under 5 s (app/controllers/pg_hero/home_controller.rb, ``replication_lag < 5``;
#: the lag itself is lib/pghero/methods/replication.rb's ``replication_lag``). A lag at or above it warns.
MAX_LAG_MS = 5_000.0
PGHERO_REPLICATION = "PgHero lib/pghero/methods/replication.rb"
PGHERO_LAG = f"{PGHERO_REPLICATION} (replication_lag); app/controllers/pg_hero/home_controller.rb (< 5 s)"


@diagnostic("replication", "Replication")
def replication_status(run: Runner, *, max_lag_ms: float = MAX_LAG_MS) -> Outcome:
    """On a standby its replay lag; on a primary each standby's lag (no rows: a primary without standbys). A
    warning when a lag reaches ``max_lag_ms`` (5 s), or when a standby runs no WAL receiver (it replays nothing
    new: the primary is unreachable or replication is misconfigured).

    Example:
        >>> replication_status(url).rows                            # doctest: +SKIP
        []
    """
    res = run.query("replication", "replication_status")
    findings: Findings = []
    for r in res.rows:
        where = "this standby" if r["role"] == "standby" else f"standby {r['standby']}"
        subject = str(r["standby"] or "server")
        if r["role"] == "standby" and r["wal_receiver"] is False:
            findings.append(
                Finding(
                    "warning",
                    "this standby runs no WAL receiver (primary unreachable?): it replays nothing new, reads there "
                    "grow stale.",
                    threshold="wal_receiver = false",
                    source="PostgreSQL docs, monitoring-stats.html#MONITORING-PG-STAT-WAL-RECEIVER-VIEW",
                    subject=subject,
                )
            )
        if (r["replay_lag_ms"] or 0) >= max_lag_ms:
            findings.append(
                Finding(
                    "warning",
                    f"{where} replays {human_ms(r['replay_lag_ms'])} behind ({human_bytes(r['replay_lag_bytes'])} "
                    "of WAL): reads there are stale.",
                    threshold=f"replay_lag_ms >= {max_lag_ms:g}",
                    source=PGHERO_LAG,
                    subject=subject,
                )
            )
    return res.rows, findings, res.columns


@diagnostic("replication", "Replication slots")
def replication_slots(run: Runner) -> Outcome:
    """Replication slots; a warning for each inactive one (it retains WAL until the disk fills), critical when
    its WAL is already lost.

    Example:
        >>> replication_slots(url).rows                             # doctest: +SKIP
        []
    """
    res = run.query("replication", "replication_slots")
    findings: Findings = []
    for r in res.rows:
        if r["active"]:
            continue
        lost = r["wal_status"] == "lost"
        findings.append(
            Finding(
                "critical" if lost else "warning",
                f"replication slot {r['slot']} ({r['slot_type']}) is inactive and retains "
                f"{human_bytes(r['retained_wal_bytes'])} of WAL"
                + (
                    ": its WAL is already lost, the consumer cannot resume."
                    if lost
                    else "; it grows until the disk fills."
                ),
                threshold="active = false",
                source=f"{PGHERO_REPLICATION} (replication_slots); PostgreSQL docs, view-pg-replication-slots",
                fix_sql=f"SELECT pg_drop_replication_slot('{str(r['slot']).replace(chr(39), chr(39) * 2)}');",
                subject=str(r["slot"]),
            )
        )
    return res.rows, findings, res.columns
