"""Contract: accounts, rooms, participants, relationships, logs."""

from __future__ import annotations

import uuid

import pytest

from okai_insight.errors import InvalidId, InvalidInput, NotFound
from okai_insight.models import Account, Goal, UserState
from tests.contract._helpers import account, me, memory, unit, world


def test_account_round_trip(db):
    aid = uuid.uuid4()
    acc = Account(id=aid, name="Eliza", username="eliza", email="eliza@example.org", details={"summary": "an agent"})
    assert db.create_account(acc) is True
    got = db.get_account_by_id(aid)
    assert (got.id, got.name, got.username, got.email, got.details) == (
        aid,
        "Eliza",
        "eliza",
        "eliza@example.org",
        {"summary": "an agent"},
    )
    assert got.created_at is not None
    assert db.get_account_by_id(uuid.uuid4()) is None


def test_create_account_twice_returns_false(db):
    aid = account(db)
    assert db.create_account(Account(id=aid, name="again", email=f"{aid}@example.org")) is False


def test_account_bad_input(db):
    with pytest.raises(InvalidId):
        db.get_account_by_id("not-a-uuid")
    with pytest.raises(InvalidInput):
        db.create_account(Account(id=uuid.uuid4(), name="x", email="e@x", details={"bad": "a\x00b"}))


def test_rooms(db):
    rid = db.create_room()
    assert db.get_room(rid) == rid
    given = uuid.uuid4()
    assert db.create_room(given) == given
    assert db.get_room(uuid.uuid4()) is None
    with pytest.raises(InvalidId):
        db.create_room("1; DROP TABLE rooms")


def test_remove_missing_room_raises(db):
    with pytest.raises(NotFound):
        db.remove_room(uuid.uuid4())


def test_remove_room_removes_its_memories_participants_and_goals(db):
    user, agent, room = world(db)
    other = db.create_room()
    db.add_participant(user, other)
    db.create_memory(memory(room, user, agent, "in room", unit(1)), "messages")
    kept = db.create_memory(memory(other, user, agent, "elsewhere", unit(1)), "messages")
    db.create_goal(Goal(room_id=room, user_id=user, name="g"))
    db.log(body={"a": 1}, user_id=user, room_id=room, type="action")
    db.remove_room(room)
    assert db.get_room(room) is None
    assert db.count_memories(room, unique=False, table_name="messages") == 0
    assert db.get_participants_for_room(room) == []
    assert db.get_goals(room) == []
    assert db.get_memory_by_id(kept) is not None
    assert db.get_rooms_for_participant(user) == [other]


def test_participants(db):
    user, agent = account(db), account(db, "Eliza")
    r1, r2 = db.create_room(), db.create_room()
    assert db.add_participant(user, r1) is True
    assert db.add_participant(user, r1) is False  # duplicate participant returns False
    assert db.add_participant(user, r2) is True
    assert db.add_participant(agent, r2) is True
    assert sorted(db.get_rooms_for_participant(user)) == sorted([r1, r2])
    assert sorted(db.get_rooms_for_participants([user, agent])) == sorted([r1, r2])
    assert db.get_rooms_for_participants([]) == []
    assert sorted(db.get_participants_for_room(r2)) == sorted([user, agent])
    parts = db.get_participants_for_account(user)
    assert sorted(p.room_id for p in parts) == sorted([r1, r2])
    assert all(p.user_id == user for p in parts)
    assert db.remove_participant(user, r1) is True
    assert db.remove_participant(user, r1) is False
    assert db.get_rooms_for_participant(user) == [r2]


def test_participant_user_state(db):
    user, _agent, room = world(db)
    assert db.get_participant_user_state(room, user) is None
    db.set_participant_user_state(room, user, "FOLLOWED")
    assert db.get_participant_user_state(room, user) is UserState.FOLLOWED
    db.set_participant_user_state(room, user, UserState.MUTED)
    assert db.get_participant_user_state(room, user) is UserState.MUTED
    db.set_participant_user_state(room, user, None)
    assert db.get_participant_user_state(room, user) is None
    with pytest.raises(InvalidInput):
        db.set_participant_user_state(room, user, "BANNED")
    with pytest.raises(NotFound):
        db.set_participant_user_state(room, uuid.uuid4(), "MUTED")


def test_actor_details(db):
    user, agent, room = world(db)
    actors = db.get_actor_details(room)
    assert sorted(a.id for a in actors) == sorted([user, agent])
    assert [a.name for a in actors] == sorted(a.name for a in actors)
    assert db.get_actor_details(db.create_room()) == []


def test_relationships_both_directions(db):
    a, b, c = me(db), account(db), account(db)  # a is the acting user, if the adapter acts as one
    assert db.create_relationship(a, b) is True
    rel = db.get_relationship(a, b)
    assert (rel.user_a, rel.user_b) == (a, b)
    assert db.get_relationship(b, a) == rel  # either direction
    assert db.get_relationship(a, c) is None
    db.create_relationship(c, a)
    assert len(db.get_relationships(a)) == 2
    assert len(db.get_relationships(b)) == 1
    assert db.get_relationships(uuid.uuid4()) == []


def test_log_refuses_bad_input_and_writes_nothing(db):
    user, _agent, room = world(db)
    db.log(body={"text": "ok"}, user_id=user, room_id=room, type="message")
    with pytest.raises(InvalidInput):
        db.log(body={"text": "nul\x00"}, user_id=user, room_id=room, type="message")
    with pytest.raises(InvalidId):
        db.log(body={}, user_id="x' OR 1=1 --", room_id=room, type="message")
