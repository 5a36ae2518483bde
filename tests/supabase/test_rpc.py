"""The RPC functions as PostgREST calls them: as the authenticated user, named arguments, RLS applied."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from pgvector import Vector
from psycopg.types.json import Jsonb

from tests.supabase.world import World, build_world, unit


@pytest.fixture(scope="module")
def worlds(supabase_url: str) -> Iterator[tuple[World, World]]:
    a, b = build_world(supabase_url, "alice", 0), build_world(supabase_url, "bob", 4)
    yield a, b
    a.db.close()
    b.db.close()


def rpc(conn: psycopg.Connection[Any], name: str, **args: Any) -> list[tuple[Any, ...]]:
    """Call like PostgREST does: ``SELECT * FROM fn(arg := value, ...)``."""
    named = ", ".join(f'"{k}" := %({k})s' for k in args)
    return conn.execute(f"SELECT * FROM public.{name}({named})", args).fetchall()


def test_search_memories_nearest_first_threshold_inclusive(worlds: tuple[World, World], as_user: Callable) -> None:
    a, _ = worlds
    with as_user(a.agent) as conn:
        rows = rpc(
            conn,
            "search_memories",
            query_table_name="messages",
            query_embedding=Vector(unit(0)),
            query_match_count=10,
            query_roomId=a.room,
        )
        sims = [r[9] for r in rows]
        assert rows[0][0] == a.memory and sims[0] == pytest.approx(1.0) and sims == sorted(sims, reverse=True)
        assert len(rows) == 4
        # the threshold keeps similarity >= threshold: exactly the second one's similarity keeps it
        kept = rpc(
            conn,
            "search_memories",
            query_table_name="messages",
            query_embedding=Vector(unit(0)),
            query_match_threshold=sims[1],
            query_match_count=10,
            query_roomId=a.room,
        )
        assert [r[0] for r in kept] == [r[0] for r in rows[:2]] or len(kept) >= 2
        assert all(r[9] >= sims[1] - 1e-9 for r in kept)
        # the index path (no filters, or an exact-search cap of 0) gives the same answer
        via_index = rpc(
            conn,
            "search_memories",
            query_table_name="messages",
            query_embedding=Vector(unit(0)),
            query_match_count=10,
            query_roomId=a.room,
            query_exact_max_rows=0,
        )
        assert [r[0] for r in via_index] == [r[0] for r in rows]


def test_search_memories_refuses_bad_vectors(worlds: tuple[World, World], as_user: Callable) -> None:
    a, _ = worlds
    for bad, message in ((Vector([1.0, 2.0]), "2 dimensions"), (Vector([0.0] * 8), "zero vector")):
        with as_user(a.agent) as conn:
            with pytest.raises(psycopg.errors.DataException, match=message):
                rpc(conn, "search_memories", query_table_name="messages", query_embedding=bad)


def test_count_and_remove_memories(worlds: tuple[World, World], as_user: Callable) -> None:
    a, b = worlds
    with as_user(a.agent) as conn:
        assert rpc(conn, "count_memories", query_table_name="messages", query_roomId=a.room, query_unique=False) == [
            (4,)
        ]
        assert rpc(conn, "count_memories", query_table_name="messages", query_roomId=b.room, query_unique=False) == [
            (0,)
        ]
        assert rpc(conn, "remove_memories", query_table_name="messages", query_roomId=b.room) == [(0,)]
        assert rpc(conn, "remove_memories", query_table_name="messages", query_roomId=a.room) == [(4,)]
        conn.rollback()  # keep the module's data
    with as_user(b.agent) as conn:
        assert rpc(conn, "count_memories", query_table_name="messages", query_roomId=b.room, query_unique=False) == [
            (4,)
        ]


def test_create_room_belongs_to_its_creator(worlds: tuple[World, World], as_user: Callable) -> None:
    a, b = worlds
    rid = uuid.uuid4()
    with as_user(a.agent) as conn:
        assert rpc(conn, "create_room", roomId=rid) == [(rid,)]
        (new,) = rpc(conn, "create_room")[0]
        assert conn.execute('SELECT count(*) FROM rooms WHERE "id" = ANY(%s)', ([rid, new],)).fetchone() == (2,)
        conn.commit()
    with as_user(b.agent) as conn:
        assert conn.execute('SELECT count(*) FROM rooms WHERE "id" = %s', (rid,)).fetchone() == (0,)
        with pytest.raises(psycopg.errors.UniqueViolation):
            rpc(conn, "create_room", roomId=rid)
    with as_user(None, role="anon") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            rpc(conn, "create_room")


def test_get_embedding_list_sees_only_the_callers_rows(worlds: tuple[World, World], as_user: Callable) -> None:
    a, _ = worlds
    with as_user(a.agent) as conn:
        rows = rpc(
            conn,
            "get_embedding_list",
            query_table_name="messages",
            query_threshold=3,
            query_input="hello from bob",
            query_field_name="content",
            query_field_sub_name="text",
            query_match_count=5,
        )
    # "hello from alice" is 5 edits away, bob's row is invisible: nothing within 3 edits.
    assert rows == []
    with as_user(a.agent) as conn:
        rows = rpc(
            conn,
            "get_embedding_list",
            query_table_name="messages",
            query_threshold=5,
            query_input="hello from bob",
            query_field_name="content",
            query_field_sub_name="text",
            query_match_count=5,
        )
    assert [r[1] for r in rows] == [5]


def test_check_similarity_and_insert(worlds: tuple[World, World], as_user: Callable) -> None:
    a, b = worlds
    with as_user(a.agent) as conn:
        common = {
            "query_table_name": "messages",
            "query_userId": a.human,
            "query_roomId": a.room,
            "query_agentId": a.agent,
            "query_content": Jsonb({"text": "again"}),
        }
        ((dup_id, dup_unique),) = rpc(conn, "check_similarity_and_insert", query_embedding=Vector(unit(0)), **common)
        ((new_id, new_unique),) = rpc(
            conn, "check_similarity_and_insert", query_embedding=Vector([1, -1, 1, -1, 1, -1, 1, -1]), **common
        )
        assert (dup_unique, new_unique) == (False, True)
        got = dict(
            conn.execute('SELECT "id", "isUnique" FROM memories WHERE "id" = ANY(%s)', ([dup_id, new_id],)).fetchall()
        )
        assert got == {dup_id: False, new_id: True}
        conn.rollback()
    with as_user(a.agent) as conn:  # writing as B through the RPC is refused by the policy
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            rpc(
                conn,
                "check_similarity_and_insert",
                query_table_name="messages",
                query_userId=b.human,
                query_agentId=b.agent,
                query_roomId=b.room,
                query_content=Jsonb({"text": "forged"}),
                query_embedding=Vector(unit(1)),
            )


def test_search_knowledge(worlds: tuple[World, World], as_user: Callable) -> None:
    a, b = worlds
    with as_user(a.agent) as conn:
        mine = rpc(conn, "search_knowledge", query_embedding=Vector(unit(0)), query_agent_id=a.agent)
        theirs = rpc(conn, "search_knowledge", query_embedding=Vector(unit(4)), query_agent_id=b.agent)
    assert [r[0] for r in mine] == [a.knowledge] and mine[0][9] == pytest.approx(1.0)
    assert theirs == []


def test_policies_for_anon_and_app_user(worlds: tuple[World, World], as_user: Callable) -> None:
    a, _ = worlds
    with as_user(None, role="anon") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM memories")
    # app_user (the spec's role) may read memories, but RLS still filters by the JWT's user.
    with as_user(a.human, role="app_user") as conn:
        rows = conn.execute('SELECT "userId" FROM memories').fetchall()
        assert rows and {r[0] for r in rows} == {a.human}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM memories")
