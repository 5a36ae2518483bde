"""Isolation through the direct transport: user A gets none of user B's rows through any read method, cannot
write rows as B, and A's changes aimed at B's rows change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from okai_insight.errors import NotFound, PermissionDenied
from okai_insight.models import Goal, KnowledgeItem, Memory
from tests.supabase.world import World, build_world, unit


@pytest.fixture(scope="module")
def worlds(supabase_url: str) -> Iterator[tuple[World, World]]:
    a, b = build_world(supabase_url, "alice", 0), build_world(supabase_url, "bob", 4)
    yield a, b
    a.db.close()
    b.db.close()


def test_each_user_sees_their_own_world(worlds: tuple[World, World]) -> None:
    a, _ = worlds
    db = a.db
    assert db.get_room(a.room) == a.room
    assert {x.name for x in db.get_actor_details(a.room)} == {"alice", "alice's human"}
    assert len(db.get_memories(a.room, "messages")) == 4
    assert db.count_memories(a.room, unique=False, table_name="messages") == 4
    hits = db.search_memories(
        table_name="messages", room_id=a.room, embedding=unit(0), match_threshold=0.5, match_count=10
    )
    assert hits[0].id == a.memory and hits[0].similarity == pytest.approx(1.0)
    assert [g.id for g in db.get_goals(a.room)] == [a.goal]
    assert db.get_rooms_for_participant(a.human) == [a.room]
    assert db.get_relationship(a.human, a.agent) is not None
    assert [k.id for k in db.get_knowledge(agent_id=a.agent)] == [a.knowledge]
    assert db.get_cache(key="profile", agent_id=a.agent) == '"alice"'
    assert db.get_participant_user_state(a.room, a.agent) == "FOLLOWED"
    assert db.get_account_by_id(a.human) is not None


def test_a_reads_none_of_bs_rows(worlds: tuple[World, World]) -> None:
    a, b = worlds
    db = a.db
    assert db.get_account_by_id(b.agent) is None and db.get_account_by_id(b.human) is None
    assert db.get_actor_details(b.room) == []
    assert db.get_memories(b.room, "messages") == []
    assert db.get_memories(b.room, "messages", agent_id=b.agent, count=10) == []
    assert db.get_memory_by_id(b.memory) is None
    assert db.get_memories_by_ids([b.memory, a.memory]) == [db.get_memory_by_id(a.memory)]
    assert db.get_memories_by_room_ids([b.room], "messages") == []
    assert db.count_memories(b.room, unique=False, table_name="messages") == 0
    assert (
        db.search_memories(table_name="messages", room_id=b.room, embedding=unit(4), match_threshold=-1, match_count=10)
        == []
    )
    everywhere = db.search_memories_by_embedding(unit(4), table_name="messages", count=100)
    assert everywhere and {m.room_id for m in everywhere} == {a.room}
    cached = db.get_cached_embeddings(
        query_table_name="messages",
        query_threshold=20,
        query_input="hello from bob",
        query_field_name="content",
        query_field_sub_name="text",
        query_match_count=100,
    )
    assert len(cached) == 4  # alice's four memories, none of bob's
    assert db.get_goals(b.room, only_in_progress=False) == []
    assert db.get_room(b.room) is None
    assert db.get_rooms_for_participant(b.agent) == [] and db.get_rooms_for_participants([b.agent, b.human]) == []
    assert db.get_participants_for_account(b.human) == [] and db.get_participants_for_room(b.room) == []
    assert db.get_participant_user_state(b.room, b.agent) is None
    assert db.get_relationship(b.agent, b.human) is None and db.get_relationships(b.human) == []
    assert db.get_knowledge(agent_id=b.agent) == [] and db.get_knowledge(agent_id=a.agent, id=b.knowledge) == []
    assert db.search_knowledge(agent_id=b.agent, embedding=unit(4), match_threshold=-1, match_count=10) == []
    assert db.get_cache(key="profile", agent_id=b.agent) is None


def test_a_cannot_write_rows_as_b(worlds: tuple[World, World]) -> None:
    a, b = worlds
    db = a.db
    as_b = Memory(room_id=b.room, user_id=b.human, agent_id=b.agent, content={"text": "forged"}, embedding=unit(1))
    with pytest.raises(PermissionDenied):
        db.create_memory(as_b, "messages")
    with pytest.raises(PermissionDenied):  # in A's own room, but on B's behalf
        db.create_memory(Memory(room_id=a.room, user_id=b.human, agent_id=b.agent, content={"text": "x"}), "messages")
    with pytest.raises(PermissionDenied):
        db.create_memories([as_b], "messages")
    with pytest.raises(PermissionDenied):
        db.create_goal(Goal(room_id=b.room, user_id=b.human, name="forged"))
    with pytest.raises(PermissionDenied):
        db.log(body={"forged": True}, user_id=b.human, room_id=b.room, type="message")
    with pytest.raises(PermissionDenied):
        db.add_participant(a.agent, b.room)  # joining B's room uninvited
    with pytest.raises(PermissionDenied):
        db.create_relationship(b.agent, b.human)
    with pytest.raises(PermissionDenied):
        db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=b.agent, content={"text": "forged"}))
    with pytest.raises(PermissionDenied):  # shared knowledge is service_role's to write
        db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=None, is_shared=True, content={"t": "x"}))
    with pytest.raises(PermissionDenied):
        db.set_cache(key="profile", agent_id=b.agent, value='"forged"')


def test_a_cannot_change_or_delete_bs_rows(worlds: tuple[World, World]) -> None:
    a, b = worlds
    db = a.db
    assert db.remove_memory(b.memory, "messages") is False
    assert db.remove_all_memories(b.room, "messages") == 0
    with pytest.raises(NotFound):
        db.update_goal_status(b.goal, "DONE")
    assert db.remove_goal(b.goal) is False and db.remove_all_goals(b.room) == 0
    assert db.remove_participant(b.human, b.room) is False
    with pytest.raises(NotFound):
        db.set_participant_user_state(b.room, b.agent, "MUTED")
    assert db.remove_knowledge(b.knowledge) is False and db.clear_knowledge(b.agent, shared=True) == 0
    assert db.delete_cache(key="profile", agent_id=b.agent) is False
    with pytest.raises(NotFound):
        db.remove_room(b.room)
    # B's world is whole.
    bd = b.db
    assert bd.count_memories(b.room, unique=False, table_name="messages") == 4
    assert [g.status for g in bd.get_goals(b.room)] == ["IN_PROGRESS"]
    assert bd.get_participants_for_room(b.room) == sorted([b.agent, b.human])
    assert bd.get_participant_user_state(b.room, b.agent) == "FOLLOWED"
    assert [k.id for k in bd.get_knowledge(agent_id=b.agent)] == [b.knowledge]
    assert bd.get_cache(key="profile", agent_id=b.agent) == '"bob"'
    assert bd.get_room(b.room) == b.room


def test_service_role_sees_everything(supabase_url: str, worlds: tuple[World, World]) -> None:
    from okai_insight.adapters._supabase_direct import SupabaseDirectAdapter
    from tests.supabase.world import SETTINGS

    a, b = worlds
    with SupabaseDirectAdapter(supabase_url, role="service_role", settings=SETTINGS) as admin:
        admin.init()
        assert admin.get_room(a.room) == a.room and admin.get_room(b.room) == b.room
        assert admin.get_memory_by_id(b.memory) is not None
