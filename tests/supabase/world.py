"""Two Supabase users' worlds in one database, each written through its own direct-transport adapter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from okai_insight.adapters._supabase_direct import SupabaseDirectAdapter
from okai_insight.models import Account, Goal, KnowledgeItem, Memory
from okai_insight.settings import Settings
from tests.supabase.conftest import DIM

SETTINGS = Settings.from_env({}, pool_max_size=2, pool_min_size=1)


def unit(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i % DIM] = 1.0
    v[(i + 1) % DIM] = 0.5
    return v


@dataclass
class World:
    """One agent (the authenticated user), a human it talks to, a room and one row of every kind."""

    db: SupabaseDirectAdapter
    agent: uuid.UUID
    human: uuid.UUID
    room: uuid.UUID
    memory: uuid.UUID
    goal: uuid.UUID
    knowledge: uuid.UUID


def build_world(url: str, name: str, offset: int) -> World:
    agent, human = uuid.uuid4(), uuid.uuid4()
    db = SupabaseDirectAdapter(url, user_id=agent, settings=SETTINGS, dimension=DIM)
    db.init()
    assert db.create_account(Account(id=agent, name=name, email=f"{name}-{agent}@example.org"))
    assert db.create_account(Account(id=human, name=f"{name}'s human", email=f"{human}@example.org"))
    room = db.create_room()
    assert db.add_participant(agent, room) and db.add_participant(human, room)
    memory = db.create_memory(
        Memory(
            room_id=room, user_id=human, agent_id=agent, content={"text": f"hello from {name}"}, embedding=unit(offset)
        ),
        "messages",
    )
    db.create_memories(
        [
            Memory(
                room_id=room, user_id=agent, agent_id=agent, content={"text": f"{name} {i}"}, embedding=unit(offset + i)
            )
            for i in range(1, 4)
        ],
        "messages",
    )
    goal = db.create_goal(Goal(room_id=room, user_id=human, name=f"{name}'s goal"))
    db.log(body={"said": name}, user_id=human, room_id=room, type="message")
    assert db.create_relationship(agent, human)
    knowledge = uuid.uuid4()
    db.create_knowledge(
        KnowledgeItem(id=knowledge, agent_id=agent, content={"text": f"{name} knows"}, embedding=unit(offset))
    )
    assert db.set_cache(key="profile", agent_id=agent, value=f'"{name}"')
    db.set_participant_user_state(room, agent, "FOLLOWED")
    return World(db, agent, human, room, memory, goal, knowledge)
