"""Contract: the same limits on every adapter (okai_insight.validation's MAX_* constants), each a typed refusal
before anything is written, and everything at the limit stored and read back.

Before these limits, PostgreSQL raised raw psycopg ProgramLimitExceeded (long cache keys and emails) or
RecursionError (content nested ~990 levels), while SQLite and the in-memory adapter stored the same key and email;
complex embeddings lost their imaginary part and vectors of huge finite values were stored but never found.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import numpy as np
import pytest

from okai_insight.errors import InvalidContent, InvalidEmbedding, InvalidInput
from okai_insight.models import Account, KnowledgeItem, Memory
from okai_insight.validation import MAX_CONTENT_BYTES, MAX_CONTENT_DEPTH, MAX_INDEXED_TEXT_BYTES
from tests.contract._helpers import DIM, actor_id, agentless, me, memory, unit, world


def _nested(depth: int) -> dict[str, Any]:
    """Content ``depth`` levels deep (the object itself is level 1), alternating objects and arrays."""
    inner: Any = "leaf"
    for level in range(depth - 1):
        inner = [inner] if level % 2 else {"k": inner}
    return {"text": "deep", "a": inner} if depth > 1 else {"text": "deep"}


def _self_containing() -> dict[str, Any]:
    loop: dict[str, Any] = {"text": "loop"}
    loop["again"] = [loop]
    return loop


BAD_CONTENT = {
    "one level too deep": lambda: _nested(MAX_CONTENT_DEPTH + 1),
    "3000 levels": lambda: _nested(3000),
    "contains itself": _self_containing,
    "over the size limit": lambda: {"text": "x" * MAX_CONTENT_BYTES},
}


def _memories(db: Any, room: uuid.UUID) -> int:
    return db.count_memories(room, unique=False, table_name="messages")


@pytest.mark.parametrize("case", sorted(BAD_CONTENT))
def test_content_past_a_limit_is_refused_by_every_writer_and_nothing_is_written(db, case):
    user, agent, room = world(db)
    content = BAD_CONTENT[case]()
    with pytest.raises(InvalidContent):
        db.create_memory(Memory(room_id=room, user_id=user, agent_id=agent, content=content), "messages")
    with pytest.raises(InvalidContent):
        db.create_memories(
            [memory(room, user, agent, "fine", unit(1)), Memory(room_id=room, agent_id=agent, content=content)],
            "messages",
        )
    assert _memories(db, room) == 0
    with pytest.raises(InvalidContent):
        db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=user, content=content))
    assert db.get_knowledge(agent_id=user) == []
    with pytest.raises(InvalidContent):
        db.log(body=content, user_id=user, room_id=room, type="test")
    with pytest.raises(InvalidContent):
        db.create_account(Account(id=uuid.uuid4(), name="x", email=f"{uuid.uuid4()}@example.org", details=content))


def test_content_at_the_depth_limit_is_stored_and_read_back_everywhere(db):
    user, agent, room = world(db)
    content = _nested(MAX_CONTENT_DEPTH)
    mid = db.create_memory(Memory(room_id=room, user_id=user, agent_id=agent, content=content), "messages")
    stored = db.get_memory_by_id(mid)
    assert stored is not None and stored.content == content
    assert [m.id for m in db.get_memories(room, "messages")] == [mid]


def test_a_cache_key_past_the_index_limit_is_refused_everywhere(db):
    agent = actor_id(db)
    at_limit = secrets.token_hex(MAX_INDEXED_TEXT_BYTES // 2)  # incompressible: the index stores it as it is
    assert db.set_cache(key=at_limit, agent_id=agent, value="v") is True
    assert db.get_cache(key=at_limit, agent_id=agent) == "v"
    for too_long in (at_limit + "x", "é" * (MAX_INDEXED_TEXT_BYTES // 2 + 1)):  # bytes of UTF-8 count
        with pytest.raises(InvalidInput, match="bytes of UTF-8"):
            db.set_cache(key=too_long, agent_id=agent, value="v")
        with pytest.raises(InvalidInput, match="bytes of UTF-8"):
            db.get_cache(key=too_long, agent_id=agent)
        with pytest.raises(InvalidInput, match="bytes of UTF-8"):
            db.delete_cache(key=too_long, agent_id=agent)
    assert db.delete_cache(key=at_limit, agent_id=agent) is True


def test_a_cache_value_past_the_content_limit_is_refused_everywhere(db):
    agent = actor_id(db)
    with pytest.raises(InvalidContent):
        db.set_cache(key="big", agent_id=agent, value="v" * MAX_CONTENT_BYTES)
    assert db.get_cache(key="big", agent_id=agent) is None


def test_an_email_or_username_past_the_index_limit_is_refused_everywhere(db):
    uid = actor_id(db)
    domain = "@example.org"
    too_long = secrets.token_hex(MAX_INDEXED_TEXT_BYTES // 2) + domain
    with pytest.raises(InvalidInput, match=r"account\.email"):
        db.create_account(Account(id=uid, name="Sam", email=too_long))
    with pytest.raises(InvalidInput, match=r"account\.username"):
        db.create_account(Account(id=uid, name="Sam", username="u" * (MAX_INDEXED_TEXT_BYTES + 1), email="a@b.c"))
    assert db.get_account_by_id(uid) is None
    at_limit = too_long[len(too_long) - MAX_INDEXED_TEXT_BYTES :]
    username = secrets.token_hex(MAX_INDEXED_TEXT_BYTES // 2)
    assert db.create_account(Account(id=uid, name="Sam", username=username, email=at_limit)) is True
    stored = db.get_account_by_id(uid)
    assert stored is not None and (stored.email, stored.username) == (at_limit, username)


BAD_VECTORS = {
    "complex array": lambda: np.ones(DIM, dtype=np.complex128) * (1 + 1j),
    "complex list": lambda: [0.5 + 0.5j] * DIM,
    "norm overflows float32": lambda: np.full(DIM, 1e20, dtype=np.float32),
    "one huge value": lambda: [3.0e38] + [0.0] * (DIM - 1),
    "squares vanish in float32": lambda: np.full(DIM, 1e-23, dtype=np.float32),
}


@pytest.mark.parametrize("case", sorted(BAD_VECTORS))
def test_embeddings_pgvector_cannot_compare_are_refused_everywhere(db, case):
    user, agent, room = world(db)
    vector = BAD_VECTORS[case]()
    with pytest.raises(InvalidEmbedding):
        db.create_memory(memory(room, user, agent, "bad", vector), "messages")
    with pytest.raises(InvalidEmbedding):
        db.create_memories(
            [memory(room, user, agent, "ok", unit(1)), memory(room, user, agent, "bad", vector)], "messages"
        )
    with pytest.raises(InvalidEmbedding):
        db.search_memories_by_embedding(vector, table_name="messages", room_id=room)
    with pytest.raises(InvalidEmbedding):
        db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=me(db), content={"t": 1}, embedding=vector))
    assert _memories(db, room) == 0


def test_large_but_comparable_embeddings_are_stored_and_found_everywhere(db):
    user, agent, room = world(db)
    big = unit(1, 2, 3) * np.float32(1e18)  # squared norm 1e36: within float32
    mid = db.create_memory(
        agentless(db, agent, room_id=room, user_id=user, content={"t": 1}, embedding=big), "messages"
    )
    found = db.search_memories_by_embedding(unit(1, 2, 3), table_name="messages", room_id=room)
    assert [m.id for m in found] == [mid]
    assert found[0].similarity == pytest.approx(1.0, abs=1e-5)
