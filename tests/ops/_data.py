"""Test data for the operations tests: accounts, rooms and memories written through the real adapter."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings

DIM = 8


@dataclass
class Filled:
    url: str
    agents: list[uuid.UUID]
    users: list[uuid.UUID]
    rooms: list[uuid.UUID]
    memories: int


def populate(url: str, *, memories: int = 200, seed: int = 0, old_fraction: float = 0.5) -> Filled:
    """Two agents, two users, two rooms; ``memories`` rows split over them and over two types, ``old_fraction``
    of them created a year ago, the rest within the last day."""
    rng = np.random.default_rng(seed)
    db = PostgresAdapter(url, settings=Settings.from_env({}, pool_min_size=1, pool_max_size=2), dimension=DIM)
    db.init()
    try:
        agents = [uuid.uuid4() for _ in range(2)]
        users = [uuid.uuid4() for _ in range(2)]
        for i, a in enumerate(agents + users):
            db.create_account(Account(id=a, name=f"acct{i}", email=f"acct{i}-{a.hex[:6]}@example.org"))
        rooms = [db.create_room() for _ in range(2)]
        now = dt.datetime.now(dt.UTC)
        rows = []
        for i in range(memories):
            old = i < int(memories * old_fraction)
            created = now - (dt.timedelta(days=365, minutes=i) if old else dt.timedelta(minutes=i))
            rows.append(
                Memory(
                    id=uuid.uuid4(),
                    user_id=users[i % 2],
                    agent_id=agents[i % 2],
                    room_id=rooms[(i // 2) % 2],
                    content={"text": f"memory {i}", "old": old},
                    embedding=rng.standard_normal(DIM).astype(np.float32),
                    created_at=created,
                    type="messages" if i % 3 else "facts",
                )
            )
        for table in ("messages", "facts"):
            db.create_memories([m for m in rows if m.type == table], table)
    finally:
        db.close()
    return Filled(url, agents, users, rooms, memories)
