"""Contract: memories, vector search semantics, cached embeddings."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest

from okai_insight.errors import DimensionMismatch, DuplicateId, InvalidEmbedding, InvalidId, InvalidInput, UnknownTable
from okai_insight.models import Memory
from tests.contract._helpers import DIM, account, agentless, memory, unit, world


def test_create_and_get_memory(db):
    user, agent, room = world(db)
    emb = unit(1, 2, 3)
    mid = db.create_memory(memory(room, user, agent, "hello", emb), "messages")
    got = db.get_memory_by_id(mid)
    assert got.id == mid and got.content == {"text": "hello"}
    assert (got.user_id, got.agent_id, got.room_id) == (user, agent, room)
    assert got.embedding.dtype == np.float32 and np.allclose(got.embedding, emb, atol=1e-6)
    assert got.unique is True and got.created_at is not None
    assert db.get_memory_by_id(uuid.uuid4()) is None


def test_memory_with_given_id_and_without_embedding(db):
    user, agent, room = world(db)
    mid = uuid.uuid4()
    assert (
        db.create_memory(agentless(db, agent, id=mid, room_id=room, user_id=user, content={"text": "x"}), "facts")
        == mid
    )
    assert db.get_memory_by_id(mid).embedding is None
    with pytest.raises(DuplicateId):
        db.create_memory(agentless(db, agent, id=mid, room_id=room, user_id=user, content={"text": "y"}), "facts")
    assert db.get_memory_by_id(mid).content == {"text": "x"}


def test_embeddings_accepted_as_lists(db):
    user, agent, room = world(db)
    mid = db.create_memory(memory(room, user, agent, "list", list(map(float, unit(1)))), "messages")
    assert db.get_memory_by_id(mid).embedding.shape == (DIM,)


@pytest.mark.parametrize(
    ("emb", "error"),
    [
        ([1.0] * (DIM + 1), DimensionMismatch),
        ([1.0] * (DIM - 1), DimensionMismatch),
        ([float("nan")] * DIM, InvalidEmbedding),
        ([float("inf")] + [0.0] * (DIM - 1), InvalidEmbedding),
        ([], InvalidEmbedding),
        ("0.1,0.2", InvalidEmbedding),
    ],
)
def test_bad_embeddings_are_refused_and_nothing_is_written(db, emb, error):
    user, agent, room = world(db)
    with pytest.raises(error):
        db.create_memory(memory(room, user, agent, "bad", emb), "messages")
    with pytest.raises(error):
        db.create_memories(
            [memory(room, user, agent, "ok", unit(1)), memory(room, user, agent, "bad", emb)], "messages"
        )
    assert db.count_memories(room, unique=False, table_name="messages") == 0


def test_dimension_mismatch_names_expected_and_got(db):
    user, agent, room = world(db)
    with pytest.raises(DimensionMismatch) as info:
        db.search_memories_by_embedding([0.1] * (DIM * 2), table_name="messages")
    assert (info.value.expected, info.value.got) == (DIM, DIM * 2)
    assert str(DIM) in str(info.value) and str(DIM * 2) in str(info.value)


@pytest.mark.parametrize("name", ["", "messages; DROP TABLE memories", "x' OR '1'='1", None, "a" * 100, "mem ories"])
def test_table_names_are_validated(db, name):
    user, agent, room = world(db)
    with pytest.raises(UnknownTable):
        db.create_memory(memory(room, user, agent, "x", unit(1)), name)
    with pytest.raises(UnknownTable):
        db.search_memories_by_embedding(unit(1), table_name=name)


def test_count_memories_needs_a_table_name(db):
    _user, _agent, room = world(db)
    with pytest.raises(UnknownTable):
        db.count_memories(room)


def test_malformed_ids(db):
    with pytest.raises(InvalidId):
        db.get_memory_by_id("'; DELETE FROM memories; --")
    with pytest.raises(InvalidId):
        db.get_memories_by_ids(["abc"])
    with pytest.raises(InvalidId):
        db.get_memories_by_ids("00000000-0000-0000-0000-000000000001")  # a string, not a list


def test_content_with_nul_or_invalid_utf8_is_refused(db):
    user, agent, room = world(db)
    for text in ("nul\x00byte", "lone \ud800 surrogate"):
        with pytest.raises(InvalidInput):
            db.create_memory(memory(room, user, agent, text, unit(1)), "messages")
    assert db.count_memories(room, unique=False, table_name="messages") == 0


def test_unicode_and_sql_looking_content_round_trips(db):
    user, agent, room = world(db)
    text = "Robert'); DROP TABLE memories;-- 🤖 日本語 \\ \" %s %(x)s"
    mid = db.create_memory(memory(room, user, agent, text, unit(1)), "messages")
    assert db.get_memory_by_id(mid).content["text"] == text


def test_get_memories_newest_first_with_count_and_keyset(db):
    user, agent, room = world(db)
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ids = []
    for i in range(7):
        m = Memory(
            room_id=room,
            user_id=user,
            agent_id=agent,
            content={"text": str(i)},
            embedding=unit(1, i),
            created_at=base + dt.timedelta(minutes=i),
        )
        ids.append(db.create_memory(m, "messages"))
    db.create_memory(memory(room, user, agent, "other type", unit(1)), "facts")
    all_rows = db.get_memories(room, "messages")
    assert [m.content["text"] for m in all_rows] == [str(i) for i in reversed(range(7))]
    page1 = db.get_memories(room, "messages", count=3)
    page2 = db.get_memories(room, "messages", count=3, before=(page1[-1].created_at, page1[-1].id))
    page3 = db.get_memories(room, "messages", count=3, before=(page2[-1].created_at, page2[-1].id))
    assert [m.id for m in page1 + page2 + page3] == [m.id for m in all_rows]
    ms = int((base + dt.timedelta(minutes=2)).timestamp() * 1000)
    me = int((base + dt.timedelta(minutes=4)).timestamp() * 1000)
    window = db.get_memories(room, "messages", start=ms, end=me)
    assert sorted(m.content["text"] for m in window) == ["2", "3", "4"]
    assert db.get_memories(db.create_room(), "messages") == []


def test_get_memories_unique_and_agent_filters(db):
    user, agent, room = world(db)
    other_agent = account(db, "Other")
    db.create_memory(memory(room, user, agent, "a", unit(1)), "messages")
    db.create_memory(
        Memory(
            room_id=room, user_id=user, agent_id=other_agent, content={"text": "b"}, embedding=unit(2), unique=False
        ),
        "messages",
    )
    assert [m.content["text"] for m in db.get_memories(room, "messages", unique=True)] == ["a"]
    assert [m.content["text"] for m in db.get_memories(room, "messages", agent_id=other_agent)] == ["b"]


def test_get_memories_by_ids(db):
    user, agent, room = world(db)
    a = db.create_memory(memory(room, user, agent, "a", unit(1)), "messages")
    b = db.create_memory(memory(room, user, agent, "b", unit(2)), "facts")
    assert db.get_memories_by_ids([]) == []
    assert {m.id for m in db.get_memories_by_ids([a, b, uuid.uuid4()])} == {a, b}
    assert [m.id for m in db.get_memories_by_ids([a, b], "facts")] == [b]


def test_get_memories_by_room_ids(db):
    user, agent, r1 = world(db)
    r2, r3 = db.create_room(), db.create_room()
    for room, text in ((r1, "one"), (r2, "two"), (r3, "three")):
        db.create_memory(memory(room, user, agent, text, unit(1)), "messages")
    got = db.get_memories_by_room_ids([r1, r2], "messages")
    assert sorted(m.content["text"] for m in got) == ["one", "two"]
    assert db.get_memories_by_room_ids([], "messages") == []
    assert len(db.get_memories_by_room_ids([r1, r2, r3], "messages", limit=2)) == 2


def test_remove_memory_and_remove_all(db):
    user, agent, room = world(db)
    a = db.create_memory(memory(room, user, agent, "a", unit(1)), "messages")
    db.create_memory(memory(room, user, agent, "b", unit(2)), "messages")
    f = db.create_memory(memory(room, user, agent, "f", unit(3)), "facts")
    assert db.remove_memory(a, "facts") is False  # wrong type: nothing removed
    assert db.remove_memory(a, "messages") is True
    assert db.remove_memory(a, "messages") is False
    assert db.remove_all_memories(room, "messages") == 1
    assert db.count_memories(room, unique=False, table_name="messages") == 0
    assert db.get_memory_by_id(f) is not None


def test_count_memories_unique(db):
    user, agent, room = world(db)
    db.create_memory(memory(room, user, agent, "a", unit(1)), "messages")
    db.create_memory(agentless(db, agent, room_id=room, user_id=user, content={"text": "b"}, unique=False), "messages")
    assert db.count_memories(room, unique=True, table_name="messages") == 1
    assert db.count_memories(room, unique=False, table_name="messages") == 2
    assert db.count_memories(room, unique=False, table_name="facts") == 0


# -- search semantics ---------------------------------------------------------------------------------------
def _planted(db):
    user, agent, room = world(db)
    vectors = {"x": unit(1), "x-ish": unit(1, 0.3), "diagonal": unit(1, 1), "y": unit(0, 1), "minus-x": unit(-1)}
    ids = {name: db.create_memory(memory(room, user, agent, name, v), "messages") for name, v in vectors.items()}
    db.create_memory(agentless(db, agent, room_id=room, user_id=user, content={"text": "no embedding"}), "messages")
    return user, agent, room, vectors, ids


def test_search_is_cosine_nearest_first(db):
    _u, _a, _room, vectors, _ids = _planted(db)
    hits = db.search_memories_by_embedding(unit(1), table_name="messages", count=10)
    names = [h.content["text"] for h in hits]
    assert names == ["x", "x-ish", "diagonal", "y", "minus-x"]  # the row without embedding never matches
    expected = [float(np.dot(unit(1), vectors[n])) for n in names]
    assert np.allclose([h.similarity for h in hits], expected, atol=1e-5)
    assert all(h.embedding is not None for h in hits)


def test_search_threshold_is_inclusive(db):
    _u, _a, _room, vectors, _ids = _planted(db)
    exact = float(np.dot(unit(1), vectors["diagonal"]))  # cos 45 degrees
    hits = db.search_memories_by_embedding(unit(1), table_name="messages", match_threshold=exact - 1e-6, count=10)
    assert [h.content["text"] for h in hits] == ["x", "x-ish", "diagonal"]
    hits = db.search_memories_by_embedding(unit(1), table_name="messages", match_threshold=0.99, count=10)
    assert [h.content["text"] for h in hits] == ["x"]
    assert db.search_memories_by_embedding(unit(0, 0, 1), table_name="messages", match_threshold=0.5) == []


def test_search_count_and_filters(db):
    user, agent, room, _v, _ids = _planted(db)
    assert len(db.search_memories_by_embedding(unit(1), table_name="messages", count=2)) == 2
    other = db.create_room()
    db.create_memory(memory(other, user, agent, "other room", unit(1)), "messages")
    in_room = db.search_memories_by_embedding(unit(1), table_name="messages", room_id=other, count=5)
    assert [h.content["text"] for h in in_room] == ["other room"]
    assert db.search_memories_by_embedding(unit(1), table_name="facts") == []
    other_agent = account(db, "Other")
    db.create_memory(
        Memory(room_id=room, user_id=user, agent_id=other_agent, content={"text": "by other"}, embedding=unit(1)),
        "messages",
    )
    by_agent = db.search_memories_by_embedding(unit(1), table_name="messages", agent_id=other_agent)
    assert [h.content["text"] for h in by_agent] == ["by other"]


def test_search_memories_is_room_scoped(db):
    user, agent, room, _v, _ids = _planted(db)
    hits = db.search_memories(
        table_name="messages", room_id=room, embedding=unit(1), match_threshold=0.9, match_count=3
    )
    assert [h.content["text"] for h in hits] == ["x", "x-ish"]
    assert (
        db.search_memories(
            table_name="messages", room_id=db.create_room(), embedding=unit(1), match_threshold=0.0, match_count=3
        )
        == []
    )


def test_search_refuses_zero_and_bad_parameters(db):
    with pytest.raises(InvalidEmbedding):
        db.search_memories_by_embedding(np.zeros(DIM), table_name="messages")
    with pytest.raises(InvalidInput):
        db.search_memories_by_embedding(unit(1), table_name="messages", match_threshold=float("nan"))
    with pytest.raises(InvalidInput):
        db.search_memories_by_embedding(unit(1), table_name="messages", count=0)


def test_unique_flag_marks_near_duplicates(db):
    user, agent, room = world(db)
    first = db.create_memory(memory(room, user, agent, "hello", unit(1, 0.01)), "messages", unique=True)
    dup = db.create_memory(memory(room, user, agent, "hello!", unit(1, 0.02)), "messages", unique=True)
    far = db.create_memory(memory(room, user, agent, "bye", unit(0, 1)), "messages", unique=True)
    assert db.get_memory_by_id(first).unique is True
    assert db.get_memory_by_id(dup).unique is False
    assert db.get_memory_by_id(far).unique is True
    other = db.create_room()  # the check is per room
    elsewhere = db.create_memory(memory(other, user, agent, "hello", unit(1, 0.01)), "messages", unique=True)
    assert db.get_memory_by_id(elsewhere).unique is True
    hits = db.search_memories_by_embedding(unit(1), table_name="messages", room_id=room, unique=True)
    assert dup not in {h.id for h in hits} and first in {h.id for h in hits}


def test_zero_vectors_are_stored_but_never_match(db):
    """ElizaOS stores zero vectors as placeholders; cosine similarity to them is undefined."""
    user, agent, room = world(db)
    zid = db.create_memory(memory(room, user, agent, "placeholder", np.zeros(DIM)), "messages")
    db.create_memory(memory(room, user, agent, "real", unit(1)), "messages")
    assert db.get_memory_by_id(zid) is not None
    hits = db.search_memories_by_embedding(unit(1), table_name="messages", match_threshold=-1.0, count=10)
    assert zid not in {h.id for h in hits}


def test_create_memories_bulk(db):
    user, agent, room = world(db)
    rng = np.random.default_rng(1)
    vecs = rng.normal(size=(300, DIM)).astype(np.float32)
    ids = db.create_memories([memory(room, user, agent, f"m{i}", v) for i, v in enumerate(vecs)], "messages")
    assert len(ids) == 300 and len(set(ids)) == 300
    assert db.count_memories(room, unique=False, table_name="messages") == 300
    assert db.create_memories([], "messages") == []
    q = vecs[17] / np.linalg.norm(vecs[17])
    top = db.search_memories_by_embedding(q, table_name="messages", count=1)
    assert top[0].id == ids[17] and top[0].similarity == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(DuplicateId):
        db.create_memories(
            [agentless(db, agent, id=ids[0], room_id=room, user_id=user, content={"text": "again"})], "messages"
        )
    assert db.count_memories(room, unique=False, table_name="messages") == 300


def test_get_cached_embeddings(db):
    user, agent, room = world(db)
    db.create_memory(memory(room, user, agent, "hello world", unit(1)), "messages")
    db.create_memory(memory(room, user, agent, "hello word", unit(2)), "messages")
    db.create_memory(memory(room, user, agent, "something else entirely", unit(3)), "messages")
    got = db.get_cached_embeddings(
        query_table_name="messages",
        query_threshold=2,
        query_input="hello world",
        query_field_name="content",
        query_field_sub_name="text",
        query_match_count=5,
    )
    assert [g.levenshtein_score for g in got] == [0, 1]
    assert np.allclose(got[0].embedding, unit(1), atol=1e-6)


def test_get_cached_embeddings_with_long_input(db):
    """fuzzystrmatch refuses arguments over 255 characters; the adapter compares the first 255."""
    user, agent, room = world(db)
    long_text = "a" * 300
    db.create_memory(memory(room, user, agent, long_text, unit(1)), "messages")
    got = db.get_cached_embeddings(
        query_table_name="messages",
        query_threshold=0,
        query_input="a" * 400,
        query_field_name="content",
        query_field_sub_name="text",
        query_match_count=5,
    )
    assert len(got) == 1 and got[0].levenshtein_score == 0
