"""Small builders shared by the contract tests, aware of who the adapter acts as.

Most adapters act with no identity: any row may be written for any account. An adapter behind row level security
(Supabase's direct transport as an ``authenticated`` user) acts as one user and may write only that user's rows.
The fixture registers such an adapter's :class:`Identity`; the builders then use the acting user where a test needs
"the user" or "the agent", and write rows of a foreign identity through that identity's own adapter. For adapters
without an identity every builder does exactly what it did before: random accounts, one adapter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.models import Account, Memory

DIM = 8


@dataclass
class Identity:
    """Who an adapter acts as: ``user_id``; ``open_as(uid)`` an adapter on the same database acting as ``uid``;
    ``open_admin()`` one that bypasses row level security (for setup the acting user may not do, e.g. shared
    knowledge). Adapters opened here are closed with the test."""

    user_id: uuid.UUID
    open_as: Callable[[uuid.UUID], DatabaseAdapter]
    open_admin: Callable[[], DatabaseAdapter]
    opened: dict[uuid.UUID | None, DatabaseAdapter] = field(default_factory=dict)

    def close(self) -> None:
        for adapter in self.opened.values():
            adapter.close()
        self.opened.clear()


#: Adapters (by object id) acting as one user, registered by tests/contract/conftest.py's ``db`` fixture.
IDENTITIES: dict[int, Identity] = {}


def identity(db: DatabaseAdapter) -> Identity | None:
    """The identity ``db`` acts as, or None when it may write rows for anyone."""
    return IDENTITIES.get(id(db))


def unit(*values: float) -> np.ndarray:
    """A unit vector of the contract's dimension from its first components."""
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def account(db: DatabaseAdapter, name: str = "Sam") -> uuid.UUID:
    aid = uuid.uuid4()
    assert db.create_account(Account(id=aid, name=name, username=f"{name}-{aid.hex[:6]}", email=f"{aid}@example.org"))
    return aid


def actor_id(db: DatabaseAdapter) -> uuid.UUID:
    """The acting user's id, or a fresh id for an adapter without identity (no account is created)."""
    who = identity(db)
    return uuid.uuid4() if who is None else who.user_id


def me(db: DatabaseAdapter, name: str = "Sam") -> uuid.UUID:
    """The acting user's account (created on first use), or a fresh account for an adapter without identity."""
    who = identity(db)
    if who is None:
        return account(db, name)
    if db.get_account_by_id(who.user_id) is None:
        uid = who.user_id
        assert db.create_account(
            Account(id=uid, name=name, username=f"{name}-{uid.hex[:6]}", email=f"{uid}@example.org")
        )
    return who.user_id


def as_user(db: DatabaseAdapter, user_id: uuid.UUID) -> DatabaseAdapter:
    """An adapter on ``db``'s database acting as ``user_id`` (``db`` itself for an adapter without identity)."""
    who = identity(db)
    if who is None or user_id == who.user_id:
        return db
    if user_id not in who.opened:
        who.opened[user_id] = who.open_as(user_id)
    return who.opened[user_id]


def admin(db: DatabaseAdapter) -> DatabaseAdapter:
    """An adapter on ``db``'s database that bypasses row level security (``db`` itself when there is none)."""
    who = identity(db)
    if who is None:
        return db
    if None not in who.opened:
        who.opened[None] = who.open_admin()
    return who.opened[None]


def world(db: DatabaseAdapter) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A user (the acting user, if the adapter has one), an agent and a room both take part in."""
    user, agent = me(db, "Sam"), account(db, "Eliza")
    room = db.create_room()
    db.add_participant(user, room)
    db.add_participant(agent, room)
    return user, agent, room


def memory(room: uuid.UUID, user: uuid.UUID, agent: uuid.UUID, text: str, emb: np.ndarray | None) -> Memory:
    return Memory(room_id=room, user_id=user, agent_id=agent, content={"text": text}, embedding=emb)


def requires_agent(db: DatabaseAdapter) -> bool:
    """Whether every memory needs an agent: okai-insight's schema with memories partitioned by agent
    (``okai-insight partition``), where the agent is part of the primary key."""
    return getattr(getattr(db, "profile", None), "partition_key", None) == "agentId"


def agentless(db: DatabaseAdapter, agent: uuid.UUID, **fields: Any) -> Memory:
    """A memory without an agent, as the tests about ids, embeddings and counts write it; where every memory
    needs an agent (:func:`requires_agent`) it belongs to ``agent``, and the test asserts the same behaviour."""
    return Memory(**fields, agent_id=agent if requires_agent(db) else None)
