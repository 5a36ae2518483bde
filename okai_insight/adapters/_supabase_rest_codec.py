"""JSON in and out of PostgREST: rows (camelCase columns) to okai-insight's models, errors to its error types."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import numpy as np

from okai_insight.errors import (
    ConnectionFailed,
    DuplicateId,
    FeatureNotAvailable,
    InvalidInput,
    LockTimeout,
    NotFound,
    OkaiError,
    PermissionDenied,
    QueryTimeout,
)
from okai_insight.models import Embedding, Goal, KnowledgeItem, Memory

MEMORY_COLUMNS = "id,type,createdAt,content,embedding,userId,agentId,roomId,isUnique"
KNOWLEDGE_COLUMNS = "id,agentId,content,embedding,createdAt,isMain,originalId,chunkIndex,isShared"
GOAL_COLUMNS = "id,roomId,userId,name,status,objectives,description,createdAt"
RELATIONSHIP_COLUMNS = "id,userA,userB,userId,status,createdAt"


def uid(value: Any) -> uuid.UUID | None:
    """A UUID from PostgREST's JSON (a string) or None."""
    return None if value is None else uuid.UUID(str(value))


def timestamp(value: Any) -> dt.datetime | None:
    """PostgREST sends timestamptz as ISO 8601 text."""
    return None if value is None else dt.datetime.fromisoformat(str(value))


def vector(value: Any) -> Embedding | None:
    """pgvector's JSON form is its text form, ``"[1,0.5]"`` (or already a list)."""
    if value is None:
        return None
    items = json.loads(value) if isinstance(value, str) else value
    return np.asarray(items, dtype=np.float32)


def to_json_vector(value: Embedding | None) -> list[float] | None:
    """A JSON array PostgREST casts to the vector column."""
    return None if value is None else [float(x) for x in np.asarray(value, dtype=np.float32)]


def memory(row: dict[str, Any]) -> Memory:
    similarity = row.get("similarity")
    return Memory(
        id=uid(row["id"]),
        type=row.get("type"),
        created_at=timestamp(row.get("createdAt")),
        content=row.get("content") or {},
        embedding=vector(row.get("embedding")),
        user_id=uid(row.get("userId")),
        agent_id=uid(row.get("agentId")),
        room_id=uid(row.get("roomId")),
        unique=bool(row.get("isUnique", True)),
        similarity=None if similarity is None else float(similarity),
    )


def knowledge(row: dict[str, Any]) -> KnowledgeItem:
    similarity = row.get("similarity")
    return KnowledgeItem(
        id=uuid.UUID(str(row["id"])),
        agent_id=uid(row.get("agentId")),
        content=row.get("content") or {},
        embedding=vector(row.get("embedding")),
        created_at=timestamp(row.get("createdAt")),
        is_main=bool(row.get("isMain")),
        original_id=uid(row.get("originalId")),
        chunk_index=row.get("chunkIndex"),
        is_shared=bool(row.get("isShared")),
        similarity=None if similarity is None else float(similarity),
    )


def goal(row: dict[str, Any]) -> Goal:
    return Goal.from_stored(
        id=uuid.UUID(str(row["id"])),
        room_id=uuid.UUID(str(row["roomId"])),
        user_id=uid(row.get("userId")),
        name=row.get("name"),
        status=row.get("status"),
        objectives=row.get("objectives"),
        description=row.get("description"),
        created_at=timestamp(row.get("createdAt")),
    )


def error(code: str | None, message: str | None, details: str | None = None) -> OkaiError:
    """okai-insight's error for a PostgREST error body (``code`` is a SQLSTATE or a ``PGRST`` code).

    Example:
        >>> type(error("42501", "new row violates row-level security policy")).__name__
        'PermissionDenied'
    """
    code = code or ""
    text = (message or "the request failed") + (f" ({details})" if details else "")
    if code == "23505":
        return DuplicateId(text)
    if code == "23503":
        return NotFound(f"a referenced row does not exist: {text}")
    if code in ("23514", "23502") or code.startswith("22"):
        return InvalidInput(f"the database refused a value: {text}")
    if code == "42501" or code.startswith("PGRST3"):  # privilege, RLS; PGRST3xx: JWT errors
        return PermissionDenied(text)
    if code in ("42P01", "42883", "PGRST202", "PGRST205"):
        return FeatureNotAvailable(f"{text}: apply okai-insight's Supabase migration (docs/supabase.md)")
    if code == "55P03":  # lock_not_available: the lock_timeout ran out
        return LockTimeout(text)
    if code == "57014":  # query_canceled: the statement_timeout (Supabase sets one per role) ran out
        return QueryTimeout(text)
    if code.startswith("08") or code.startswith("PGRST0"):  # connection; PGRST0xx: PostgREST cannot reach the db
        return ConnectionFailed(text)
    return OkaiError(f"Supabase error {code}: {text}")
