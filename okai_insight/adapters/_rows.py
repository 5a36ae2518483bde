"""Model objects from rows keyed by column name, shared by the adapters whose drivers return text ids (SQLite and
Supabase REST); each passes its own timestamp decoder.

Example:
    >>> import uuid
    >>> r = relationship({"id": str(uuid.UUID(int=1)), "userA": str(uuid.UUID(int=2)), "userB": str(uuid.UUID(int=3)),
    ...                   "userId": str(uuid.UUID(int=2)), "status": None, "createdAt": None}, lambda v: v)
    >>> r.user_b.int
    3
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from okai_insight.models import Account, Participant, Relationship, UserState

TimeDecoder = Callable[[Any], dt.datetime | None]


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def participant(row: Mapping[str, Any], when: TimeDecoder) -> Participant:
    """A ``participants`` row (id, userId, roomId, userState, last_message_read, joinedAt)."""
    state = row["userState"]
    return Participant(
        _uuid(row["id"]),
        _uuid(row["userId"]),
        _uuid(row["roomId"]),
        UserState(state) if state else None,
        row["last_message_read"],
        when(row["joinedAt"]),
    )


def relationship(row: Mapping[str, Any], when: TimeDecoder) -> Relationship:
    """A ``relationships`` row (id, userA, userB, userId, status, createdAt)."""
    return Relationship(
        _uuid(row["id"]),
        _uuid(row["userA"]),
        _uuid(row["userB"]),
        _uuid(row["userId"]),
        row["status"],
        when(row["createdAt"]),
    )


def account(row: Mapping[str, Any], when: TimeDecoder, document: Callable[[Any], Any]) -> Account:
    """An ``accounts`` row (id, name, username, email, avatarUrl, details, createdAt); ``document`` decodes the
    details column (JSON text on SQLite, already a dict from PostgREST)."""
    return Account(
        _uuid(row["id"]),
        row["name"],
        row["username"],
        row["email"],
        row["avatarUrl"],
        document(row["details"]) or {},
        when(row["createdAt"]),
    )
