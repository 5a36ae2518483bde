"""Typed models of the rows an adapter reads and writes (frozen dataclasses).

Field names are ElizaOS's in snake_case (``roomId`` -> ``room_id``). Embeddings are returned as numpy float32 arrays;
they are excluded from equality so two models compare by their data, not by array identity.

Example:
    >>> import uuid
    >>> from okai_insight.models import Memory
    >>> m = Memory(id=uuid.UUID(int=1), room_id=uuid.UUID(int=2), content={"text": "hello"})
    >>> m.content["text"], m.unique
    ('hello', True)
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Embedding = npt.NDArray[np.float32]


class GoalStatus(enum.StrEnum):
    """A goal's status, as ElizaOS spells it."""

    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    FAILED = "FAILED"


class UserState(enum.StrEnum):
    """A participant's state in a room (ElizaOS's ``userState``)."""

    FOLLOWED = "FOLLOWED"
    MUTED = "MUTED"


@dataclass(frozen=True)
class Account:
    """A user or agent identity (table ``accounts``)."""

    id: uuid.UUID
    name: str | None = None
    username: str | None = None
    email: str = ""
    avatar_url: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class Actor:
    """An account as a room shows it (``get_actor_details``)."""

    id: uuid.UUID
    name: str | None
    username: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Memory:
    """A memory (table ``memories``); ``type`` is the ElizaOS ``tableName`` it was stored under.

    ``similarity`` is set only on search results: cosine similarity ``1 - (embedding <=> query)``.
    """

    id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    room_id: uuid.UUID | None = None
    content: dict[str, Any] = field(default_factory=dict)
    embedding: Embedding | None = field(default=None, compare=False, repr=False)
    created_at: dt.datetime | None = None
    unique: bool = True
    similarity: float | None = None
    type: str | None = None


@dataclass(frozen=True)
class Objective:
    """One objective of a goal."""

    description: str
    completed: bool = False
    id: str | None = None


@dataclass(frozen=True)
class Goal:
    """An agent's goal (table ``goals``)."""

    room_id: uuid.UUID
    user_id: uuid.UUID | None
    name: str
    status: GoalStatus = GoalStatus.IN_PROGRESS
    objectives: tuple[Objective, ...] = ()
    description: str | None = None
    id: uuid.UUID | None = None
    created_at: dt.datetime | None = None

    @classmethod
    def from_stored(
        cls,
        *,
        id: uuid.UUID,
        room_id: uuid.UUID,
        user_id: uuid.UUID | None,
        name: str | None,
        status: Any,
        objectives: Any,
        description: str | None,
        created_at: dt.datetime | None,
    ) -> Goal:
        """A goal as a database row holds it, made safe to use: the same on every adapter.

        Rows written by ElizaOS or by hand may carry an unknown status (read as ``IN_PROGRESS``) or objectives
        that are not objects (skipped); a read never fails on them.

        Example:
            >>> g = Goal.from_stored(id=uuid.UUID(int=1), room_id=uuid.UUID(int=2), user_id=None, name="Greet",
            ...                      status="PAUSED", objectives=[{"description": "wave"}, "junk"],
            ...                      description=None, created_at=None)
            >>> g.status, g.objectives
            (<GoalStatus.IN_PROGRESS: 'IN_PROGRESS'>, (Objective(description='wave', completed=False, id=None),))
        """
        return cls(
            id=id,
            room_id=room_id,
            user_id=user_id,
            name=name or "",
            status=GoalStatus(status) if status in GoalStatus._value2member_map_ else GoalStatus.IN_PROGRESS,
            objectives=tuple(
                Objective(
                    description=o.get("description", ""), completed=bool(o.get("completed", False)), id=o.get("id")
                )
                for o in (objectives or [])
                if isinstance(o, dict)
            ),
            description=description,
            created_at=created_at,
        )


@dataclass(frozen=True)
class Relationship:
    """A connection between two accounts (table ``relationships``)."""

    id: uuid.UUID
    user_a: uuid.UUID
    user_b: uuid.UUID
    user_id: uuid.UUID
    status: str | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class Participant:
    """A room membership (table ``participants``)."""

    id: uuid.UUID
    user_id: uuid.UUID
    room_id: uuid.UUID
    user_state: UserState | None = None
    last_message_read: str | None = None
    joined_at: dt.datetime | None = None


@dataclass(frozen=True)
class KnowledgeItem:
    """A knowledge chunk for retrieval-augmented generation (ElizaOS's ``knowledge`` table)."""

    id: uuid.UUID
    content: dict[str, Any]
    agent_id: uuid.UUID | None = None
    embedding: Embedding | None = field(default=None, compare=False, repr=False)
    created_at: dt.datetime | None = None
    is_main: bool = False
    original_id: uuid.UUID | None = None
    chunk_index: int | None = None
    is_shared: bool = False
    similarity: float | None = None


@dataclass(frozen=True)
class CachedEmbedding:
    """A stored embedding whose text is close (Levenshtein distance) to an input (``get_cached_embeddings``)."""

    embedding: Embedding = field(compare=False, repr=False)
    levenshtein_score: int
