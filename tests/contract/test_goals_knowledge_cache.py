"""Contract: goals, knowledge, cache."""

from __future__ import annotations

import dataclasses
import uuid

import numpy as np
import pytest

from okai_insight.errors import DimensionMismatch, InvalidId, InvalidInput, NotFound
from okai_insight.models import Goal, GoalStatus, KnowledgeItem, Objective
from tests.contract._helpers import DIM, account, actor_id, admin, as_user, me, unit, world


def test_goal_round_trip_and_only_in_progress(db):
    user, _agent, room = world(db)
    g1 = db.create_goal(
        Goal(
            room_id=room,
            user_id=user,
            name="Learn the name",
            description="ask",
            objectives=(Objective("ask name"), Objective("remember it", completed=True, id="o2")),
        )
    )
    g2 = db.create_goal(Goal(room_id=room, user_id=user, name="Done one", status=GoalStatus.DONE))
    in_progress = db.get_goals(room)
    assert [g.id for g in in_progress] == [g1]
    got = in_progress[0]
    assert got.name == "Learn the name" and got.description == "ask" and got.status is GoalStatus.IN_PROGRESS
    assert got.objectives == (Objective("ask name"), Objective("remember it", completed=True, id="o2"))
    assert {g.id for g in db.get_goals(room, only_in_progress=False)} == {g1, g2}
    assert db.get_goals(room, user_id=account(db)) == []


def test_goals_count(db):
    user, _agent, room = world(db)
    for i in range(7):
        db.create_goal(Goal(room_id=room, user_id=user, name=f"g{i}"))
    assert len(db.get_goals(room)) == 5  # ElizaOS's default count
    assert len(db.get_goals(room, count=10)) == 7


def test_update_goal_and_status(db):
    user, _agent, room = world(db)
    gid = db.create_goal(Goal(room_id=room, user_id=user, name="g"))
    goal = db.get_goals(room)[0]
    db.update_goal(dataclasses.replace(goal, name="renamed", objectives=(Objective("x", True),)))
    got = db.get_goals(room)[0]
    assert got.name == "renamed" and got.objectives == (Objective("x", True),)
    db.update_goal_status(gid, "DONE")
    assert db.get_goals(room) == []
    assert db.get_goals(room, only_in_progress=False)[0].status is GoalStatus.DONE
    with pytest.raises(InvalidInput):
        db.update_goal_status(gid, "MAYBE")
    with pytest.raises(NotFound):
        db.update_goal_status(uuid.uuid4(), "DONE")
    with pytest.raises(NotFound):
        db.update_goal(dataclasses.replace(goal, id=uuid.uuid4()))


def test_remove_goals(db):
    user, _agent, room = world(db)
    gid = db.create_goal(Goal(room_id=room, user_id=user, name="a"))
    db.create_goal(Goal(room_id=room, user_id=user, name="b"))
    assert db.remove_goal(gid) is True
    assert db.remove_goal(gid) is False
    assert db.remove_all_goals(room) == 1
    assert db.get_goals(room, only_in_progress=False) == []


def test_knowledge(db):
    agent, other = me(db, "Eliza"), account(db, "Other")
    own = KnowledgeItem(id=uuid.uuid4(), agent_id=agent, content={"text": "cats purr"}, embedding=unit(1))
    shared = KnowledgeItem(id=uuid.uuid4(), content={"text": "water is wet"}, embedding=unit(0, 1), is_shared=True)
    foreign = KnowledgeItem(id=uuid.uuid4(), agent_id=other, content={"text": "secret"}, embedding=unit(1))
    chunk = KnowledgeItem(
        id=uuid.uuid4(),
        agent_id=agent,
        content={"text": "cats"},
        embedding=unit(1, 0.1),
        original_id=own.id,
        chunk_index=0,
    )
    for item in (own, chunk):
        db.create_knowledge(item)
    admin(db).create_knowledge(shared)  # shared items are written by a privileged role
    as_user(db, other).create_knowledge(foreign)  # another agent writes its own
    assert {k.id for k in db.get_knowledge(agent_id=agent)} == {own.id, shared.id, chunk.id}
    assert [k.id for k in db.get_knowledge(agent_id=agent, id=own.id)] == [own.id]
    assert len(db.get_knowledge(agent_id=agent, limit=1)) == 1
    hits = db.search_knowledge(agent_id=agent, embedding=unit(1), match_threshold=0.5, match_count=5)
    assert [h.id for h in hits] == [own.id, chunk.id]  # never another agent's item
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert db.get_knowledge(agent_id=agent, id=chunk.id)[0].original_id == own.id
    assert db.remove_knowledge(own.id) is True  # removes its chunks too
    assert {k.id for k in db.get_knowledge(agent_id=agent)} == {shared.id}
    assert admin(db).clear_knowledge(agent, shared=True) == 1
    assert db.get_knowledge(agent_id=agent) == []
    assert [k.id for k in as_user(db, other).get_knowledge(agent_id=other)] == [foreign.id]


def test_knowledge_bad_input(db):
    agent = account(db)
    with pytest.raises(DimensionMismatch):
        db.create_knowledge(
            KnowledgeItem(id=uuid.uuid4(), agent_id=agent, content={"text": "x"}, embedding=np.ones(DIM + 2))
        )
    with pytest.raises(InvalidInput):
        db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=agent, content={"text": "x"}, is_shared=True))
    with pytest.raises(DimensionMismatch):
        db.search_knowledge(agent_id=agent, embedding=[1.0, 2.0], match_threshold=0.1, match_count=1)
    assert db.get_knowledge(agent_id=agent) == []


def test_cache_round_trip_and_overwrite(db):
    agent = actor_id(db)
    assert db.get_cache(key="k", agent_id=agent) is None
    assert db.set_cache(key="k", agent_id=agent, value='{"a": 1}') is True
    assert db.get_cache(key="k", agent_id=agent) == '{"a": 1}'
    assert db.set_cache(key="k", agent_id=agent, value="plain text") is True
    assert db.get_cache(key="k", agent_id=agent) == "plain text"
    assert db.get_cache(key="k", agent_id=uuid.uuid4()) is None  # per agent
    assert db.delete_cache(key="k", agent_id=agent) is True
    assert db.delete_cache(key="k", agent_id=agent) is False
    assert db.get_cache(key="k", agent_id=agent) is None


def test_cache_bad_input(db):
    with pytest.raises(InvalidId):
        db.get_cache(key="k", agent_id="agent-1")
    with pytest.raises(InvalidInput):
        db.set_cache(key="k", agent_id=uuid.uuid4(), value=None)
    with pytest.raises(InvalidInput):
        db.set_cache(key="k\x00", agent_id=uuid.uuid4(), value="v")
