"""remove_room on Supabase is one transaction that locks the room (issue 12 item 11), as on every adapter.

The SQL function runs for real as an authenticated user (the way PostgREST calls it); the REST adapter's use of it
is checked against a hand-written recording (see test_rest.py for why no live PostgREST).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from okai_insight import connect
from okai_insight.errors import NotFound, PermissionDenied
from tests.supabase.replay import Replay, load, serve
from tests.supabase.test_rest import KEY, TOKEN, R, X
from tests.supabase.world import World, build_world


@pytest.fixture(scope="module")
def world(supabase_url: str) -> Iterator[World]:
    w = build_world(supabase_url, "remover", 0)
    yield w
    w.db.close()


def _remove_room(conn: psycopg.Connection[Any], room: uuid.UUID) -> bool:
    row = conn.execute('SELECT "removed" FROM public.remove_room("query_roomId" := %s)', (room,)).fetchone()
    assert row is not None
    return bool(row[0])


def test_remove_room_rpc_while_memories_arrive(world: World, supabase_url: str, as_user: Callable[..., Any]) -> None:
    """10 trials: the user's agent keeps inserting into a room while the user removes it through the RPC. The RPC
    says the room was removed, nothing of it is left, and the writer stops on NotFound (its insert waited for the
    room's lock) or PermissionDenied (it started after: the row level security no longer sees the room)."""
    from okai_insight.models import Memory

    for trial in range(10):
        room = world.db.create_room()
        assert world.db.add_participant(world.agent, room)
        writing = threading.Event()
        refused: list[BaseException] = []
        errors: list[BaseException] = []

        def writer(room: uuid.UUID = room, writing=writing, refused=refused, errors=errors) -> None:
            for i in range(100_000):
                memory = Memory(room_id=room, user_id=world.agent, agent_id=world.agent, content={"text": f"t{i}"})
                try:
                    world.db.create_memory(memory, "messages")
                except (NotFound, PermissionDenied) as exc:  # after the removal RLS may refuse first: no room
                    refused.append(exc)
                    return
                except BaseException as exc:
                    errors.append(exc)
                    return
                if i == 3:
                    writing.set()

        thread = threading.Thread(target=writer)
        thread.start()
        assert writing.wait(10)
        with as_user(world.agent) as conn:
            assert _remove_room(conn, room), f"trial {trial}"
        thread.join(30)
        assert not errors, f"trial {trial}: {errors[0]!r}"
        assert refused, f"trial {trial}: the writer never saw the room go"
        with psycopg.connect(supabase_url) as admin:
            left = admin.execute('SELECT count(*) FROM memories WHERE "roomId" = %s', (room,)).fetchone()
            gone = admin.execute('SELECT count(*) FROM rooms WHERE "id" = %s', (room,)).fetchone()
        assert left == (0,) and gone == (0,), f"trial {trial}"


def test_remove_room_rpc_is_false_for_a_room_not_yours(world: World, supabase_url: str, as_user: Callable) -> None:
    stranger = uuid.uuid4()
    with as_user(stranger) as conn:
        assert _remove_room(conn, world.room) is False
        assert _remove_room(conn, uuid.uuid4()) is False
    assert world.db.get_room(world.room) == world.room  # untouched


@pytest.fixture
def replay() -> Iterator[tuple[Replay, str]]:
    rec = load("rest_remove_room.json")
    server, url = serve(rec)
    yield rec, url
    server.shutdown()
    server.server_close()


def test_rest_remove_room_uses_the_rpc_and_falls_back_on_older_projects(replay: tuple[Replay, str]) -> None:
    rec, url = replay
    db = connect(f"supabase://{url.removeprefix('http://')}?scheme=http&key={KEY}&access_token={TOKEN}")
    db.remove_room(R)
    with pytest.raises(NotFound):
        db.remove_room(R)
    db.remove_room(X)  # no RPC on this project: one DELETE a table, the room's last
    db.close()
    rec.verify()
