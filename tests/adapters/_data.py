"""Random worlds for the adapter tests, and the numpy brute force they are checked against."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.models import Account, Memory


@dataclass
class World:
    rooms: list[uuid.UUID]
    agents: list[uuid.UUID]
    ids: list[uuid.UUID]
    vectors: np.ndarray
    room_of: list[uuid.UUID]
    agent_of: list[uuid.UUID | None]
    unique: list[bool]
    types: list[str]


def build_world(db: DatabaseAdapter, n: int, dim: int, *, seed: int = 0, rooms: int = 4) -> World:
    """``n`` memories spread unevenly over rooms, agents (some none), types and unique flags."""
    rng = np.random.default_rng(seed)
    agents = []
    for i in range(3):
        aid = uuid.uuid4()
        db.create_account(Account(id=aid, name=f"agent{i}", email=f"{aid}@example.org"))
        agents.append(aid)
    room_ids = [db.create_room() for _ in range(rooms)]
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    # One room gets 1 % of the rows: a selective filter, where post-filtered ANN search loses recall.
    weights = np.array([0.01] + [0.99 / (rooms - 1)] * (rooms - 1))
    room_of = [room_ids[i] for i in rng.choice(rooms, size=n, p=weights)]
    agent_of: list[uuid.UUID | None] = [None if r == 3 else agents[r] for r in rng.integers(0, 4, size=n)]
    unique = [bool(u) for u in rng.random(n) < 0.7]
    types = ["messages" if t < 0.8 else "facts" for t in rng.random(n)]
    memories = [
        Memory(
            id=uuid.uuid4(),
            room_id=room_of[i],
            agent_id=agent_of[i],
            content={"i": i},
            embedding=vectors[i],
            unique=unique[i],
        )
        for i in range(n)
    ]
    ids: list[uuid.UUID] = []
    for t in ("messages", "facts"):
        batch = [m for m, ty in zip(memories, types, strict=True) if ty == t]
        db.create_memories(batch, t)
    ids = [m.id for m in memories]  # type: ignore[misc]
    return World(room_ids, agents, ids, vectors, room_of, agent_of, unique, types)


def brute_force(
    w: World,
    q: np.ndarray,
    *,
    k: int,
    type: str = "messages",
    room: uuid.UUID | None = None,
    agent: uuid.UUID | None = None,
    unique: bool = False,
    threshold: float = -1.0,
) -> list[uuid.UUID]:
    """The exact answer: cosine similarity in float64 over the rows passing the filters, nearest first."""
    keep = [
        i
        for i in range(len(w.ids))
        if w.types[i] == type
        and (room is None or w.room_of[i] == room)
        and (agent is None or w.agent_of[i] == agent)
        and (not unique or w.unique[i])
    ]
    if not keep:
        return []
    m = w.vectors[keep].astype(np.float64)
    sims = m @ q.astype(np.float64) / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
    order = np.argsort(-sims, kind="stable")[:k]
    return [w.ids[keep[i]] for i in order if sims[i] >= threshold]


def one_room(
    db: DatabaseAdapter, n: int, dim: int, table: str, *, seed: int
) -> tuple[np.ndarray, list[uuid.UUID], uuid.UUID, uuid.UUID]:
    """``n`` memories with random unit embeddings in one room of one agent, stored under ``table`` (content
    ``{"i": i}``): their vectors and ids in order, the room and the agent."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    agent = uuid.uuid4()
    db.create_account(Account(id=agent, name="Eliza", email=f"{agent}@example.org"))
    room = db.create_room()
    memories = [Memory(room_id=room, agent_id=agent, content={"i": i}, embedding=v) for i, v in enumerate(vectors)]
    return vectors, db.create_memories(memories, table), room, agent
