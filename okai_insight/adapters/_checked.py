"""A contract call's input after the checks: the shapes :class:`~okai_insight.adapters.base.DatabaseAdapter` hands to
each adapter's ``_do_*`` method, so an adapter only encodes values for its backend and runs its statements.

Every check lives in :mod:`okai_insight.validation`; this module applies them to whole rows (a memory, a goal, a
knowledge item, an account) in one order, the same for every adapter.

Example:
    >>> import uuid
    >>> from okai_insight.models import Goal
    >>> g = check_goal(Goal(room_id=uuid.UUID(int=1), user_id=None, name="Greet"))
    >>> g.status.value, g.objectives
    ('IN_PROGRESS', [])
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from okai_insight.errors import DuplicateId, InvalidInput
from okai_insight.models import Account, Embedding, Goal, GoalStatus, KnowledgeItem, Memory
from okai_insight.validation import (
    check_content,
    check_count,
    check_embedding,
    check_goal_status,
    check_id,
    check_indexed_text,
    check_optional_id,
    check_text,
    check_timestamp,
    content_json,
    norms_in_range,
)


class CheckedMemory(NamedTuple):
    """A memory ready to store: ids are UUIDs (``id`` generated when the memory had none), ``content`` is its JSON
    text (checked and serialised once), ``embedding`` a float32 array or None.

    A named tuple, immutable like the frozen dataclass it was, built for every row of a ``create_memories`` batch
    at a fifth of the cost (a frozen dataclass sets each field through ``object.__setattr__``).
    """

    id: uuid.UUID
    type: str
    created_at: dt.datetime | None
    content: str
    embedding: Embedding | None
    user_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    room_id: uuid.UUID | None
    unique: bool


_UNCHECKED: Any = object()


def check_memory(
    memory: Any, memory_type: str, dimension: int, *, id: uuid.UUID | None = None, embedding: Any = _UNCHECKED
) -> CheckedMemory:
    """Check one memory for ``create_memory`` / ``create_memories``; ``embedding`` passes one already checked.

    Example:
        >>> check_memory(Memory(content={"text": "hi"}), "messages", 3).content
        '{"text": "hi"}'
    """
    if not isinstance(memory, Memory):
        raise InvalidInput(f"expected a Memory, got {type(memory).__name__}")
    if embedding is _UNCHECKED:
        embedding = None if memory.embedding is None else check_embedding(memory.embedding, dimension)
    if id is None:
        id = check_id(memory.id, "memory.id") if memory.id is not None else uuid.uuid4()
    return CheckedMemory(
        id,
        memory_type,
        check_timestamp(memory.created_at, "memory.created_at"),
        content_json(memory.content, "memory.content"),
        embedding,
        check_optional_id(memory.user_id, "memory.user_id"),
        check_optional_id(memory.agent_id, "memory.agent_id"),
        check_optional_id(memory.room_id, "memory.room_id"),
        bool(memory.unique),
    )


class MemoryBatch:
    """The memories of one ``create_memories`` call: their ids fixed up front (a retry writes the same rows), each
    row checked by ``check`` (:func:`check_memory` or an adapter's stricter version) as it is iterated, so an adapter that streams (PostgreSQL's COPY) overlaps the checks with the
    server's work; iterate again to check again.

    Example:
        >>> batch = MemoryBatch([Memory(content={})], "messages", 3)
        >>> [m.type for m in batch], len(batch.ids)
        (['messages'], 1)
    """

    def __init__(
        self,
        memories: Sequence[Any],
        memory_type: str,
        dimension: int,
        check: Callable[..., CheckedMemory] = check_memory,
    ) -> None:
        if isinstance(memories, str | bytes) or not isinstance(memories, Sequence):
            raise InvalidInput("memories must be a list of Memory objects")
        self.memories = memories
        self.type = memory_type
        self.dimension = dimension
        self._check = check
        self.ids = [
            check_id(m.id, "memory.id") if isinstance(m, Memory) and m.id is not None else uuid.uuid4()
            for m in memories
        ]
        if len(set(self.ids)) != len(self.ids):
            raise DuplicateId("the batch holds the same memory id twice")
        self._embeddings = _embeddings_at_once(memories, dimension)

    def __len__(self) -> int:
        return len(self.memories)

    def __iter__(self) -> Iterator[CheckedMemory]:
        embeddings, check = self._embeddings, self._check
        for i, (memory, mid) in enumerate(zip(self.memories, self.ids, strict=True)):
            if embeddings is None:
                yield check(memory, self.type, self.dimension, id=mid)
            else:
                yield check(memory, self.type, self.dimension, id=mid, embedding=embeddings[i])


def _embeddings_at_once(memories: Sequence[Any], dimension: int) -> list[Embedding | None] | None:
    """Every embedding of a batch checked in one numpy pass; None when some embedding is not a plain 1-D numeric
    array of the right size (each is then checked alone, for the precise error)."""
    arrays = []
    for m in memories:
        e = m.embedding if isinstance(m, Memory) else 0
        if e is None:
            continue
        if not (isinstance(e, np.ndarray) and e.shape == (dimension,) and e.dtype.kind in "fiu"):
            return None
        arrays.append(e)
    if not arrays:
        return [None] * len(memories)
    with np.errstate(over="ignore", invalid="ignore"):  # values past float32 become inf: refused just below
        matrix = np.stack(arrays).astype("<f4") + np.float32(0.0)  # -0.0 becomes 0.0, as SQLite's blob() does
    if not (np.isfinite(np.stack(arrays)).all() and np.isfinite(matrix).all() and norms_in_range(matrix)):
        return None
    rows = iter(matrix)
    return [None if m.embedding is None else next(rows) for m in memories]


@dataclass(frozen=True, slots=True)
class CheckedGoal:
    """A goal's stored fields; ``objectives`` are the JSON objects the ``objectives`` column holds."""

    name: str
    status: GoalStatus
    description: str | None
    objectives: list[dict[str, Any]]
    room_id: uuid.UUID
    user_id: uuid.UUID | None


def check_goal(goal: Any) -> CheckedGoal:
    """Check a goal for ``create_goal`` / ``update_goal`` (its id is the caller's to check).

    Example:
        >>> check_goal("Greet")
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: expected a Goal, got str
    """
    if not isinstance(goal, Goal):
        raise InvalidInput(f"expected a Goal, got {type(goal).__name__}")
    check_text(goal.name, "goal.name")
    check_text(goal.description, "goal.description", optional=True)
    objectives = [
        {
            k: v
            for k, v in {"id": o.id, "description": o.description, "completed": bool(o.completed)}.items()
            if v is not None
        }
        for o in goal.objectives
    ]
    check_content({"objectives": objectives}, "goal")
    return CheckedGoal(
        name=goal.name,
        status=check_goal_status(goal.status),
        description=goal.description,
        objectives=objectives,
        room_id=check_id(goal.room_id, "goal.room_id"),
        user_id=check_optional_id(goal.user_id, "goal.user_id"),
    )


@dataclass(frozen=True, slots=True)
class CheckedKnowledge:
    """A knowledge item ready to store (``content`` checked, ``embedding`` a float32 array or None)."""

    id: uuid.UUID
    agent_id: uuid.UUID | None
    content: dict[str, Any]
    embedding: Embedding | None
    is_main: bool
    original_id: uuid.UUID | None
    chunk_index: int | None
    is_shared: bool


def check_knowledge(knowledge: Any, dimension: int) -> CheckedKnowledge:
    """Check a knowledge item for ``create_knowledge``: shared items have no agent, an agent's own item has one.

    Example:
        >>> check_knowledge(KnowledgeItem(id=uuid.UUID(int=1), agent_id=None, content={}), 3)
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: a shared knowledge item has no agent_id; an agent's own item must have one
    """
    if not isinstance(knowledge, KnowledgeItem):
        raise InvalidInput(f"expected a KnowledgeItem, got {type(knowledge).__name__}")
    if knowledge.is_shared == (knowledge.agent_id is not None):
        raise InvalidInput("a shared knowledge item has no agent_id; an agent's own item must have one")
    emb = None if knowledge.embedding is None else check_embedding(knowledge.embedding, dimension)
    return CheckedKnowledge(
        id=check_id(knowledge.id, "knowledge.id"),
        agent_id=check_optional_id(knowledge.agent_id, "knowledge.agent_id"),
        content=check_content(knowledge.content, "knowledge.content"),
        embedding=emb,
        is_main=bool(knowledge.is_main),
        original_id=check_optional_id(knowledge.original_id, "knowledge.original_id"),
        chunk_index=None
        if knowledge.chunk_index is None
        else check_count(knowledge.chunk_index, "chunk_index", maximum=10**9),
        is_shared=bool(knowledge.is_shared),
    )


def check_account(account: Account) -> Account:
    """Check an account for ``create_account``: the same account with its id a UUID and its details checked.

    Example:
        >>> check_account(Account(id=uuid.UUID(int=1), name="Eliza", email=None))
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: account.email must be a string, got NoneType
    """
    aid = check_id(account.id, "account.id")
    for name in ("name", "avatar_url"):
        check_text(getattr(account, name), f"account.{name}", optional=True)
    check_indexed_text(account.username, "account.username", optional=True)  # one limit on every adapter
    check_indexed_text(account.email, "account.email")
    details = check_content(account.details or {}, "account.details")
    return Account(aid, account.name, account.username, account.email, account.avatar_url, details, account.created_at)
