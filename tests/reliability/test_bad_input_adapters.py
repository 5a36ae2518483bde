"""Bad input, property-based, on every local adapter at once: each generated input gets the same answer from
PostgreSQL, SQLite and the in-memory adapter (stored, or refused with the same okai-insight error class).

Before the shared limits, SQLite and memory stored cache keys and emails PostgreSQL's btree index refused
(ProgramLimitExceeded), and content nested ~990 levels raised RecursionError on one and not the other. The inputs
are test_bad_input.py's hostile values, with its cases at and past every limit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.adapters.memory import MemoryAdapter
from okai_insight.adapters.sqlite import SqliteAdapter
from okai_insight.errors import OkaiError
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings
from tests.reliability.conftest import DIM, make_adapter, seed_room
from tests.reliability.test_bad_input import CASES, any_text, content, embedding

pytestmark = pytest.mark.slow

SWEEP = CASES.__class__(CASES, max_examples=300)


@pytest.fixture(scope="module")
def adapters(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Each adapter with an agent and a room of its own."""
    settings = Settings(embedding_dimension=DIM)
    made: dict[str, DatabaseAdapter] = {
        "postgres": make_adapter(pg_url),
        "sqlite": SqliteAdapter(f"sqlite:///{tmp_path_factory.mktemp('sweep') / 'db.sqlite'}", settings=settings),
        "memory": MemoryAdapter("memory://", settings=settings),
    }
    for db in made.values():
        db.init()  # a second init is a no-op
    yield {name: (db, *seed_room(db)) for name, db in made.items()}  # type: ignore[arg-type]
    for db in made.values():
        db.close()


def _outcome(call: Callable[..., Any], *args: Any) -> str:
    try:
        call(*args)
    except OkaiError as exc:
        return type(exc).__name__
    return "stored"


def _same_everywhere(adapters: dict[str, Any], call: Callable[[DatabaseAdapter, uuid.UUID, uuid.UUID], Any]) -> None:
    outcomes = {name: _outcome(call, *adapter) for name, adapter in adapters.items()}
    assert len(set(outcomes.values())) == 1, f"adapters disagree: {outcomes}"


@SWEEP
@given(content=content, vector=st.one_of(embedding, st.none()))
def test_create_memory_gets_one_answer_on_every_adapter(adapters, content, vector):
    _same_everywhere(
        adapters,
        lambda db, agent, room: db.create_memory(
            Memory(user_id=agent, agent_id=agent, room_id=room, content=content, embedding=vector), "messages"
        ),
    )


@SWEEP
@given(key=any_text, value=st.one_of(any_text, st.none()))
def test_set_cache_gets_one_answer_on_every_adapter(adapters, key, value):
    _same_everywhere(adapters, lambda db, agent, room: db.set_cache(key=key, agent_id=agent, value=value))


@SWEEP
@given(email=any_text, username=st.one_of(any_text, st.none()))
def test_create_account_gets_one_answer_on_every_adapter(adapters, email, username):
    tag = uuid.uuid4().hex  # one fresh email and username per case, so only the input's own faults can refuse it
    _same_everywhere(
        adapters,
        lambda db, agent, room: db.create_account(
            Account(
                id=uuid.uuid4(),
                name="x",
                email=email + tag,
                username=None if username is None else username + tag,
            )
        ),
    )
