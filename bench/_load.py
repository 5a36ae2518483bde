"""A load worker: create and search memories for a bounded time, checking every write can be read back.

Used by the short CI version (tests/reliability/test_load.py) with threads and processes; run it longer for a
soak test. Each worker writes into a room of its own, so a room-filtered search (exact, see the adapter's
``_search``) must return the memory just written as its nearest neighbour.

Example:
    >>> report = work(url, dim=8, room_id=room, agent_id=agent, seconds=1.0, seed=0)   # doctest: +SKIP
    >>> report.errors                                                                  # doctest: +SKIP
    []
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import numpy as np

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.models import Memory
from okai_insight.settings import Settings


@dataclass
class WorkerReport:
    """What one worker did: the ids it was told were written, latencies, and anything that went wrong."""

    ids: list[str] = field(default_factory=list)
    create_ms: list[float] = field(default_factory=list)
    search_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_read_back: int = 0


def work(
    url: str,
    *,
    dim: int,
    room_id: str,
    agent_id: str,
    seconds: float,
    seed: int,
    db: PostgresAdapter | None = None,
) -> WorkerReport:
    """Alternate create_memory and a room-filtered search until ``seconds`` have passed.

    Pass ``db`` to share one adapter (threads); without it the worker opens its own (processes).

    Example:
        >>> work(url, dim=8, room_id=r, agent_id=a, seconds=0.5, seed=1).not_read_back   # doctest: +SKIP
        0
    """
    own = db is None
    adapter = db or PostgresAdapter(url, settings=Settings(embedding_dimension=dim, pool_max_size=2))
    if own:
        adapter.init()
    rng = np.random.default_rng(seed)
    report = WorkerReport()
    deadline = time.monotonic() + seconds
    n = 0
    try:
        while time.monotonic() < deadline:
            vector = rng.standard_normal(dim).astype(np.float32)
            vector /= np.linalg.norm(vector)
            memory = Memory(
                id=uuid.uuid4(),
                user_id=uuid.UUID(agent_id),
                agent_id=uuid.UUID(agent_id),
                room_id=uuid.UUID(room_id),
                content={"text": f"worker {seed} memory {n}"},
                embedding=vector,
            )
            try:
                start = time.perf_counter()
                new_id = adapter.create_memory(memory, "messages")
                report.create_ms.append((time.perf_counter() - start) * 1000)
                report.ids.append(str(new_id))
                start = time.perf_counter()
                found = adapter.search_memories_by_embedding(vector, table_name="messages", room_id=room_id, count=1)
                report.search_ms.append((time.perf_counter() - start) * 1000)
                if not found or found[0].id != new_id:
                    report.not_read_back += 1
            except Exception as exc:  # a load test counts failures instead of stopping at the first
                report.errors.append(repr(exc))
            n += 1
    finally:
        if own:
            adapter.close()
    return report
