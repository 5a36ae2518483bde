"""Bad input, property-based: every entry point either succeeds correctly or raises okai-insight's typed error,
and a refused call leaves the database unchanged.

Inputs mix the valid with the hostile: wrong dimensions, NaN and infinities, empty and huge content, NUL
characters and unpaired surrogates (text that was invalid UTF-8: a real ElizaOS failure), any unicode, SQL
fragments in every string parameter, malformed ids and values of the wrong type. 1000 generated cases per entry
point, against the real embedded PostgreSQL.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.errors import OkaiError
from okai_insight.models import Memory
from okai_insight.validation import (
    MAX_CONTENT_DEPTH,
    MAX_INDEXED_TEXT_BYTES,
    MAX_SQUARED_NORM,
    MIN_SQUARED_NORM,
)
from tests.reliability.conftest import DIM, changes, install_change_counter, make_adapter, seed_room

pytestmark = pytest.mark.slow

# The same 1000 cases on every run, so CI is reproducible; OKAI_HYPOTHESIS_RANDOM=1 explores fresh ones.
CASES = settings(
    max_examples=1000,
    deadline=None,
    derandomize=not os.environ.get("OKAI_HYPOTHESIS_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SQL_FRAGMENTS = [
    "'; DROP TABLE memories; --",
    '" OR 1=1 --',
    "messages'); DELETE FROM accounts; --",
    "%s",
    "%(type)s",
    "$1",
    "\\",
    "memories",
    "messages",
]
# Any code point, surrogates included (what a bad decode of invalid UTF-8 leaves in a Python str), NUL included.
any_text = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.sampled_from(SQL_FRAGMENTS),
    st.text(max_size=5).map(lambda s: s * 2000),  # big
    # around the indexed-text limit (cache keys, emails), incompressible as PostgreSQL's index would see it
    st.sampled_from([MAX_INDEXED_TEXT_BYTES, MAX_INDEXED_TEXT_BYTES + 1, 2700]).map(lambda n: os.urandom(n).hex()[:n]),
)
finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
any_float = st.floats(allow_nan=True, allow_infinity=True)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), any_float, any_text)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(any_text, inner, max_size=4)),
    max_leaves=12,
)


def nested(depth: int) -> dict[str, Any]:
    """Content ``depth`` levels deep (the object itself is level 1), objects and arrays alternating."""
    inner: Any = "leaf"
    for level in range(depth - 1):
        inner = [inner] if level % 2 else {"k": inner}
    return {"text": "deep", "a": inner} if depth > 1 else {"text": "deep"}


def self_containing() -> dict[str, Any]:
    loop: dict[str, Any] = {"text": "loop"}
    loop["again"] = [loop]
    return loop


#: Content at and past okai_insight.validation's depth limit (the limit, one more, ~990 where json recursed out,
#: 3000) and a value containing itself. The size limit (MAX_CONTENT_BYTES) is held on every adapter by
#: tests/contract/test_limits.py: 0.2 s a case would add minutes to this sweep.
limit_content = st.one_of(
    st.sampled_from([MAX_CONTENT_DEPTH - 1, MAX_CONTENT_DEPTH, MAX_CONTENT_DEPTH + 1, 990, 3000]).map(nested),
    st.builds(self_containing),
)
content = st.one_of(
    st.dictionaries(any_text, json_value, max_size=5),
    st.fixed_dictionaries({"text": any_text}),
    json_value,  # not a dict at all, sometimes
    limit_content,
)
embedding = st.one_of(
    st.lists(finite, min_size=DIM, max_size=DIM),
    st.lists(any_float, min_size=0, max_size=DIM + 3),
    st.integers(0, 2 * DIM).map(lambda n: np.ones(n, dtype=np.float32)),
    st.just(np.zeros(DIM, dtype=np.float32)),
    st.just(np.full(DIM, 1e39)),  # overflows float32
    st.sampled_from([1e19, 1e20, 3.0e38]).map(lambda v: np.full(DIM, v, dtype=np.float32)),  # norm overflows
    st.just(np.full(DIM, 1e-23, dtype=np.float32)),  # squares vanish in float32
    st.lists(st.complex_numbers(max_magnitude=10), min_size=DIM, max_size=DIM),
    st.just(np.ones(DIM, dtype=np.complex64)),
    st.just(np.ones((2, DIM // 2), dtype=np.float32)),
    any_text,
    st.none(),
)
table_name = st.one_of(st.just("messages"), st.sampled_from(["documents", "fragments", "lore"]), any_text, st.none())


@pytest.fixture(scope="module")
def db(pg_url: str) -> Iterator[PostgresAdapter]:
    adapter = make_adapter(pg_url)
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def watch(pg_url: str, db: PostgresAdapter) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own that counts every change to the adapter's tables (see install_change_counter)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        install_change_counter(conn)
        yield conn


@pytest.fixture(scope="module")
def room(db: PostgresAdapter) -> tuple[uuid.UUID, uuid.UUID]:
    return seed_room(db)


def test_float32_overflow_is_a_typed_error_without_a_warning(db: PostgresAdapter) -> None:
    # 1e39 is a finite float64 but overflows float32: numpy's cast warns (RuntimeWarning, an error under
    # filterwarnings=error or python -W error) before check_embedding can raise its own error.
    from okai_insight.errors import InvalidEmbedding

    with pytest.raises(InvalidEmbedding):
        db.search_memories_by_embedding(np.full(DIM, 1e39), table_name="messages")


def _valid_vector(value: Any) -> np.ndarray[Any, Any] | None:
    try:
        if np.asarray(value).dtype.kind not in "biuf":  # complex, text, objects: never an embedding
            return None
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if isinstance(value, str | bytes) or arr.ndim != 1 or arr.size != DIM or not np.all(np.isfinite(arr)):
        return None
    out = arr.astype(np.float32)
    if not np.all(np.isfinite(out)):
        return None
    squared = float(out.astype(np.float64) @ out.astype(np.float64))  # pgvector's float32 cosine must work
    return out if squared == 0.0 or MIN_SQUARED_NORM <= squared <= MAX_SQUARED_NORM else None


def _same_json(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@CASES
@given(
    content=content,
    vector=embedding,
    table=table_name,
    memory_id=st.one_of(st.uuids(), st.none(), any_text, st.integers()),
)
def test_create_memory(
    db: PostgresAdapter,
    watch: psycopg.Connection[Any],
    room: tuple[uuid.UUID, uuid.UUID],
    content: Any,
    vector: Any,
    table: Any,
    memory_id: Any,
) -> None:
    agent, room_id = room
    before = changes(watch)
    memory = Memory(id=memory_id, user_id=agent, agent_id=agent, room_id=room_id, content=content, embedding=vector)
    try:
        new_id = db.create_memory(memory, table)
    except OkaiError:
        assert changes(watch) == before, "a refused create_memory changed the database"
        return
    # accepted: the input was valid, and it reads back as written
    assert _valid_vector(vector) is not None or vector is None, f"accepted a bad embedding {vector!r}"
    stored = db.get_memory_by_id(new_id)
    assert stored is not None
    assert stored.type == table
    assert _same_json(content, stored.content)
    if vector is None:
        assert stored.embedding is None
    else:
        expected = _valid_vector(vector)
        assert stored.embedding is not None and expected is not None
        assert np.allclose(stored.embedding, expected, rtol=1e-6, atol=0.0)


@CASES
@given(
    vector=embedding,
    table=table_name,
    threshold=st.one_of(any_float, st.integers(-3, 3), any_text, st.none()),
    count=st.one_of(st.integers(-5, 20_000), any_text, st.none(), any_float),
    room_id=st.one_of(st.none(), st.uuids(), any_text),
)
def test_search_memories_by_embedding(
    db: PostgresAdapter,
    watch: psycopg.Connection[Any],
    vector: Any,
    table: Any,
    threshold: Any,
    count: Any,
    room_id: Any,
) -> None:
    before = changes(watch)
    try:
        found = db.search_memories_by_embedding(
            vector, table_name=table, match_threshold=threshold, count=count, room_id=room_id
        )
    except OkaiError:
        assert changes(watch) == before
        return
    q = _valid_vector(vector)
    assert q is not None and np.any(q), f"searched with a bad query vector {vector!r}"
    assert isinstance(count, int) and len(found) <= count
    sims = [m.similarity for m in found]
    assert all(s is not None for s in sims)
    assert sims == sorted(sims, reverse=True)  # type: ignore[type-var]
    if threshold is not None:
        assert all(s >= threshold - 1e-6 for s in sims)  # type: ignore[operator]
    assert all(m.type == table for m in found)


@CASES
@given(key=any_text, value=st.one_of(any_text, st.integers(), st.none()), agent=st.one_of(st.uuids(), any_text))
def test_set_and_get_cache(
    db: PostgresAdapter, watch: psycopg.Connection[Any], key: Any, value: Any, agent: Any
) -> None:
    before = changes(watch)
    try:
        db.set_cache(key=key, agent_id=agent, value=value)
    except OkaiError:
        assert changes(watch) == before, "a refused set_cache changed the database"
        return
    assert isinstance(value, str)
    assert db.get_cache(key=key, agent_id=agent) == value
