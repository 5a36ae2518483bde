"""Small builders shared by the contract tests."""

from __future__ import annotations

import uuid

import numpy as np

from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.models import Account, Memory

DIM = 8


def unit(*values: float) -> np.ndarray:
    """A unit vector of the contract's dimension from its first components."""
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


def account(db: DatabaseAdapter, name: str = "Sam") -> uuid.UUID:
    aid = uuid.uuid4()
    assert db.create_account(Account(id=aid, name=name, username=f"{name}-{aid.hex[:6]}", email=f"{aid}@example.org"))
    return aid


def world(db: DatabaseAdapter) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A user, an agent and a room both take part in."""
    user, agent = account(db, "Sam"), account(db, "Eliza")
    room = db.create_room()
    db.add_participant(user, room)
    db.add_participant(agent, room)
    return user, agent, room


def memory(room: uuid.UUID, user: uuid.UUID, agent: uuid.UUID, text: str, emb: np.ndarray | None) -> Memory:
    return Memory(room_id=room, user_id=user, agent_id=agent, content={"text": text}, embedding=emb)
