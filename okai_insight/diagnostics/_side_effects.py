"""Which function calls EXPLAIN ANALYZE must not run: side effects a rollback does not undo.

EXPLAIN ANALYZE executes the statement. The READ ONLY transaction stops table writes and the rollback undoes the
rest of the transaction, but some functions act outside it: ``pg_terminate_backend`` ends another session,
``pg_advisory_lock`` takes a *session* lock that survives the rollback (on a pooled connection it stays held),
``set_config(..., false)`` changes the session, ``nextval`` advances a sequence for good, ``dblink`` commits on
another connection, ``lo_export`` / ``pg_read_file`` reach the server's files, ``query_to_xml`` runs SQL text no
parser in front of it can see.

Why three rules and not one (a deny list alone is unsound: a user's VOLATILE function can do anything):

1. **Known escapes, by name** (:data:`ESCAPES`, refused with ``analyze``, whatever ``allow_writes`` says): a
   clear message naming the function. Functions that run SQL text (:data:`RUNS_SQL_TEXT`) are refused even
   without ``analyze``: a stable one may be evaluated by the planner while it estimates.
2. **Every VOLATILE function, by the live catalog** (``pg_proc.provolatile = 'v'``, refused with ``analyze``
   unless ``allow_writes=True``): PostgreSQL marks a function volatile when it may change state, so this covers
   the user's own functions and extensions we have never heard of. A small allow list
   (:data:`HARMLESS_VOLATILE`: ``random()``, ``clock_timestamp()``, size and lock-status readers) stays usable,
   only for the ``pg_catalog`` functions of that name: a same-named function in another schema (which a
   search_path could put first) does not inherit the pass. Names are matched case-insensitively (refusing more,
   never less). Operators are checked the same way through their function (``pg_operator.oprcode``).
3. The names come from the statement's parse tree *and* from the plan of a plain ``EXPLAIN (VERBOSE)`` run first
   (nothing executes), so a function hidden in a view or an RLS policy is seen too.

And the last wall, for what no name check sees (a trigger, a domain check or an index expression of a statement
run with ``allow_writes``, a type's input function): EXPLAIN ANALYZE runs on a throwaway connection, closed
afterwards and never returned to a pool, so no session state (advisory locks, settings, prepared statements)
can outlive it; and under ``statement_timeout``.

Example:
    >>> refuse_by_name({"pg_terminate_backend"}, analyze=True, allow_writes=False)
    Traceback (most recent call last):
    ...
    okai_insight.errors.StatementRefused: EXPLAIN ANALYZE would run pg_terminate_backend(), which acts outside the rolled-back transaction (it ends another session); explain it without analyze (nothing runs)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from okai_insight.errors import StatementRefused

#: Functions whose effect escapes the rollback, and what they do (exact names).
ESCAPES = {
    "pg_terminate_backend": "it ends another session",
    "pg_cancel_backend": "it cancels another session's query",
    "pg_log_backend_memory_contexts": "it writes another session's memory to the server log",
    "set_config": "it changes a setting, for the whole session unless is_local",
    "setseed": "it changes the session's random seed",
    "nextval": "a sequence advances for good",
    "setval": "a sequence is set for good",
    "pg_notify": "it notifies listeners",
    "txid_current": "it assigns a transaction id",
    "pg_current_xact_id": "it assigns a transaction id",
    "pg_reload_conf": "it reloads the server's configuration",
    "pg_rotate_logfile": "it rotates the server's log file",
    "pg_switch_wal": "it switches the server to a new WAL file",
    "pg_create_restore_point": "it writes a restore point to the WAL",
    "pg_logical_emit_message": "it writes a message to the WAL",
    "pg_log_standby_snapshot": "it writes a snapshot to the WAL",
    "pg_promote": "it promotes a standby",
    "pg_backup_start": "it starts a base backup",
    "pg_backup_stop": "it stops a base backup",
    "pg_wal_replay_pause": "it pauses recovery",
    "pg_wal_replay_resume": "it resumes recovery",
    "pg_export_snapshot": "it exports a snapshot to other sessions",
    "pg_import_system_collations": "it creates collations",
    "pg_stat_statements_reset": "it clears query statistics",
    "pg_stat_force_next_flush": "it flushes statistics",
    "gin_clean_pending_list": "it moves index entries",
    "pg_read_file": "it reads a file on the server",
    "pg_read_binary_file": "it reads a file on the server",
    "pg_stat_file": "it reads a file's status on the server",
    "pg_file_write": "it writes a file on the server",
    "pg_file_rename": "it renames a file on the server",
    "pg_file_unlink": "it deletes a file on the server",
    "pg_file_sync": "it syncs a file on the server",
    "loread": "it reads a large object",
    "lowrite": "it writes a large object",
}
#: Families of such functions, by name prefix.
ESCAPE_PREFIXES = {
    "pg_advisory_": "an advisory lock held by the session survives the rollback",
    "pg_try_advisory_": "an advisory lock held by the session survives the rollback",
    "dblink": "it runs SQL on another connection, which commits on its own",
    "lo_": "it reads or changes large objects or server files",
    "pg_ls_": "it lists a directory on the server",
    "pg_stat_reset": "it clears statistics",
    "pg_replication_origin_": "it changes replication state",
    "pg_logical_slot_": "it consumes a replication slot's changes",
    "binary_upgrade_": "it is for pg_upgrade only",
    "brin_": "it changes a BRIN index",
    "pg_restore_": "it overwrites planner statistics",
    "pg_clear_": "it clears planner statistics",
}
#: Functions that run SQL given as text, which no parser in front of them sees: refused even without analyze.
RUNS_SQL_TEXT = frozenset(
    {
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "table_to_xml",
        "table_to_xmlschema",
        "table_to_xml_and_xmlschema",
        "schema_to_xml",
        "schema_to_xmlschema",
        "schema_to_xml_and_xmlschema",
        "database_to_xml",
        "database_to_xmlschema",
        "database_to_xml_and_xmlschema",
        "ts_stat",
        "ts_rewrite",
    }
)
#: pg_catalog functions marked VOLATILE that only read or wait (statement_timeout bounds pg_sleep).
HARMLESS_VOLATILE = frozenset(
    {
        "random",
        "random_normal",
        "array_sample",
        "array_shuffle",
        "clock_timestamp",
        "timeofday",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "pg_relation_size",
        "pg_table_size",
        "pg_indexes_size",
        "pg_total_relation_size",
        "pg_database_size",
        "pg_tablespace_size",
        "pg_lock_status",
        "pg_blocking_pids",
        "pg_safe_snapshot_blocking_pids",
        "pg_stat_statements",
        "pg_stat_statements_info",
        "pg_is_in_recovery",
        "pg_current_wal_lsn",
        "pg_current_wal_insert_lsn",
        "pg_current_wal_flush_lsn",
        "pg_last_wal_receive_lsn",
        "pg_last_wal_replay_lsn",
        "pg_last_xact_replay_timestamp",
        "pg_is_wal_replay_paused",
        "pg_get_wal_replay_pause_state",
        "pg_jit_available",
        "pg_partition_tree",
        "pg_partition_ancestors",
        "pg_get_wait_events",
        "pg_notification_queue_usage",
        "pg_xact_status",
        "txid_status",
        "pg_stat_get_io",
        "pg_stat_have_stats",
        "current_query",
    }
)
#: Sequence functions: refused with analyze unless allow_writes (the docs of explain() say sequences advance).
_SEQUENCES = frozenset({"nextval", "setval"})


def escape_reason(name: str) -> str | None:
    """Why this function (lower-case name, no schema) escapes the rollback, or None.

    Example:
        >>> escape_reason("pg_try_advisory_xact_lock")
        'an advisory lock held by the session survives the rollback'
        >>> escape_reason("count") is None
        True
    """
    if name in ESCAPES:
        return ESCAPES[name]
    return next((why for prefix, why in ESCAPE_PREFIXES.items() if name.startswith(prefix)), None)


def refuse_by_name(names: Iterable[str], *, analyze: bool, allow_writes: bool) -> None:
    """Raise :class:`StatementRefused` for the first called function (sorted) that rule 1 refuses.

    Example:
        >>> refuse_by_name({"count", "random"}, analyze=True, allow_writes=False)
        >>> refuse_by_name({"query_to_xml"}, analyze=False, allow_writes=False)
        Traceback (most recent call last):
        ...
        okai_insight.errors.StatementRefused: query_to_xml() runs SQL given as text, which okai-insight cannot check; explain that SQL itself
    """
    for name in sorted(names):
        if name in RUNS_SQL_TEXT:
            raise StatementRefused(
                f"{name}() runs SQL given as text, which okai-insight cannot check; explain that SQL itself"
            )
        if not analyze or (allow_writes and name in _SEQUENCES):
            continue
        why = escape_reason(name)
        if why is not None:
            raise StatementRefused(
                f"EXPLAIN ANALYZE would run {name}(), which acts outside the rolled-back transaction ({why}); "
                "explain it without analyze (nothing runs)"
            )


def refuse_volatile(rows: Iterable[dict[str, Any]], *, allow_writes: bool) -> None:
    """Rule 2 over the rows of ``queries/explain/volatile_calls.sql`` (kind, name, schema_name).

    Example:
        >>> refuse_volatile([{"kind": "function", "name": "random", "schema_name": "pg_catalog"}], allow_writes=False)
        >>> refuse_volatile([{"kind": "function", "name": "bump", "schema_name": "public"}], allow_writes=False)
        Traceback (most recent call last):
        ...
        okai_insight.errors.StatementRefused: EXPLAIN ANALYZE would run public.bump(), a VOLATILE function (it may change state a rollback does not undo); explain it without analyze (nothing runs), or pass allow_writes=True to run it in a rolled-back transaction
    """
    for row in rows:
        name, schema = str(row["name"]), str(row["schema_name"])
        if schema == "pg_catalog" and name.lower() in HARMLESS_VOLATILE:
            continue
        if allow_writes:
            continue
        what = f"{schema}.{name}()" if row["kind"] == "function" else f"operator {schema}.{name}"
        raise StatementRefused(
            f"EXPLAIN ANALYZE would run {what}, a VOLATILE function (it may change state a rollback does not "
            "undo); explain it without analyze (nothing runs), or pass allow_writes=True to run it in a "
            "rolled-back transaction"
        )


# A function call as EXPLAIN VERBOSE deparses it: a name, possibly "quoted", then "(".
_CALL = re.compile(r'(?:"((?:[^"]|"")+)"|([A-Za-z_\x80-\uffff][A-Za-z0-9_$\x80-\uffff]*))\s*\(')
# A string constant as the plan prints it ('it''s'), removed first so that text inside it is not read as a call.
_LITERAL = re.compile(r"'(?:[^']|'')*'")


def plan_function_names(plan: Any) -> frozenset[str]:
    """The names of the functions a plan (EXPLAIN (VERBOSE, FORMAT JSON)) calls, lower case: from its output
    lists, filters, conditions and function scans. It over-reads (``ANY (``, ``numeric(``), which only means a
    few more names looked up in the catalog.

    Example:
        >>> plan = [{"Plan": {"Output": ["pg_catalog.pg_advisory_lock(42)", '"Odd"(x)', "'set_config(x'::text"]}}]
        >>> sorted(plan_function_names(plan))
        ['odd', 'pg_advisory_lock']
    """
    names: set[str] = set()
    for text in _strings(plan):
        for quoted, bare in _CALL.findall(_LITERAL.sub("''", text)):
            names.add((quoted.replace('""', '"') if quoted else bare).lower())
    return frozenset(names)


def _strings(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
