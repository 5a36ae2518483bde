"""Display names for the ids an embedding map shows: agents and users by ``accounts.name``, rooms by their
``name`` (ElizaOS 1.x) or, on the 0.x schema where rooms have no name, by their participants' names.

A name that cannot be read (a table or column missing, no permission) falls back to the id's first 8 characters:
names are for people, never needed for correctness.

Example:
    >>> label_of({"5f0c": "alice"}, "5f0c"), label_of({}, "0123456789abcdef")
    ('alice', '01234567')
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from okai_insight.runner import Runner

# Trusted constant SQL (no user input): the accounts and rooms of the ElizaOS schemas.
_ACCOUNTS = sql.SQL('SELECT "id"::text AS id, "name" AS name FROM accounts WHERE "name" IS NOT NULL')
_ROOM_COLUMNS = sql.SQL(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'rooms' "
    "AND table_schema = ANY (current_schemas(false))"
)
_ROOM_NAMES = sql.SQL('SELECT "id"::text AS id, "name" AS name FROM rooms WHERE "name" IS NOT NULL')
# 0.x: a room is named by its participants (at most 3, by name, then "+N").
_ROOM_PARTICIPANTS = sql.SQL(
    'SELECT p."roomId"::text AS id, '
    'string_agg(coalesce(a."name", left(a."id"::text, 8)), \' & \' ORDER BY a."name") AS name '
    'FROM participants AS p JOIN accounts AS a ON a."id" = p."userId" GROUP BY p."roomId"'
)


def label_of(names: dict[str, str], value: Any) -> str:
    """The display name of an id (its first 8 characters when it has none; ``"none"`` for a missing id).

    Example:
        >>> label_of({}, None)
        'none'
    """
    if value is None or value != value:
        return "none"
    key = str(value)
    return names.get(key) or key[:8]


def display_names(run: Runner) -> dict[str, str]:
    """Map account and room ids (as text) to names; ``{}`` for what the database does not hold.

    Example:
        >>> display_names(run)["b7a1..."]                                              # doctest: +SKIP
        'alice'
    """
    from okai_insight._store_runner import StoreRunner

    if isinstance(run, StoreRunner):
        return _store_names(run)
    names: dict[str, str] = {}
    for statement in _statements(run):
        try:
            rows = run.execute(statement, label="embeddings/display_names").rows
        except Exception:  # a missing table or column: keep the ids
            continue
        for r in rows:
            if r["name"]:
                names.setdefault(str(r["id"]), str(r["name"]))
    return names


#: The same names on a SQLite / in-memory store (okai-insight's own schema: 0.x-style rooms without a name).
_STORE_ACCOUNTS = 'SELECT "id" AS id, "name" AS name FROM accounts WHERE "name" IS NOT NULL'
_STORE_ROOMS = (
    'SELECT p."roomId" AS id, group_concat(coalesce(a."name", substr(a."id", 1, 8)), \' & \') AS name '
    'FROM participants AS p JOIN accounts AS a ON a."id" = p."userId" GROUP BY p."roomId"'
)


def _store_names(run: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for statement in (_STORE_ACCOUNTS, _STORE_ROOMS):
        try:
            rows = run.read(lambda c, s=statement: c.query_named(s))
        except Exception:  # names are for people: a store without these tables keeps the ids
            continue
        for r in rows:
            if r["name"]:
                names.setdefault(str(r["id"]), str(r["name"]))
    return names


def _statements(run: Runner) -> list[sql.SQL]:
    try:
        room_columns = {r["column_name"] for r in run.execute(_ROOM_COLUMNS, label="embeddings/room_columns").rows}
    except Exception:
        room_columns = set()
    rooms = _ROOM_NAMES if "name" in room_columns else _ROOM_PARTICIPANTS
    return [_ACCOUNTS, rooms]
