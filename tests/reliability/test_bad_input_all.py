"""Bad input on every other entry point: each call either succeeds or raises okai-insight's typed error, and a
refused call leaves every table as it was: 1000 generated cases for each entry point, whether one call or a group
of calls each checked on its own (the same cases every run; see test_bad_input.py for the inputs and
OKAI_HYPOTHESIS_RANDOM), against the real embedded PostgreSQL.

test_bad_input.py checks create_memory, search_memories_by_embedding and the cache in depth (what succeeds
reads back exactly); this module sweeps the rest of the contract with the same hostile values in every
parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.errors import OkaiError
from okai_insight.models import Account, Goal, KnowledgeItem, Memory, Objective
from tests.reliability.conftest import DIM, changes, install_change_counter, make_adapter, seed_room
from tests.reliability.test_bad_input import CASES, any_float, any_text, content, embedding, table_name

pytestmark = pytest.mark.slow

ids = st.one_of(st.uuids(), st.uuids().map(str), any_text, st.integers(), st.none())
counts = st.one_of(st.integers(-5, 200_000), any_float, any_text, st.none(), st.booleans())
states = st.one_of(st.sampled_from(["FOLLOWED", "MUTED", None]), any_text)
statuses = st.one_of(st.sampled_from(["IN_PROGRESS", "DONE", "FAILED"]), any_text, st.none())
timestamps = st.one_of(st.none(), st.integers(-(2**63), 2**63), any_float, any_text, st.datetimes())


@pytest.fixture(scope="module")
def watch(pg_url: str, db: PostgresAdapter) -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own that counts every change to the adapter's tables (after ``db`` created them)."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        install_change_counter(conn)
        yield conn


@pytest.fixture(scope="module")
def db(pg_url: str) -> Iterator[PostgresAdapter]:
    adapter = make_adapter(pg_url)
    yield adapter
    adapter.close()


@pytest.fixture(scope="module")
def world(db: PostgresAdapter) -> dict[str, Any]:
    agent, room = seed_room(db)
    db.add_participant(agent, room)
    goal = db.create_goal(Goal(room_id=room, user_id=agent, name="seed"))
    return {"agent": agent, "room": room, "goal": goal}


class Calls(list[Callable[[], Any]]):
    """An entry point made of several calls, each checked on its own."""


def _check(db: PostgresAdapter, watch: psycopg.Connection[Any], call: Callable[[], Any]) -> None:
    before = changes(watch)
    try:
        call()
    except OkaiError:
        assert changes(watch) == before, "a refused call changed the database"
    # any other exception type escapes and fails the test: it would be an untyped error


# Each entry point: (name, strategy for its arguments, how to call it).
ENTRY_POINTS: dict[str, tuple[Any, Callable[[PostgresAdapter, dict[str, Any], Any], Any]]] = {
    "get_memories": (
        st.tuples(ids, table_name, counts, timestamps, timestamps),
        lambda db, w, a: db.get_memories(a[0], a[1], count=a[2], start=a[3], end=a[4]),
    ),
    "get_memories_by_ids": (
        st.tuples(st.one_of(st.lists(ids, max_size=4), any_text, st.none()), st.one_of(table_name, st.none())),
        lambda db, w, a: db.get_memories_by_ids(a[0], a[1]),
    ),
    "get_memories_by_room_ids": (
        st.tuples(st.one_of(st.lists(ids, max_size=4), any_text), table_name, counts),
        lambda db, w, a: db.get_memories_by_room_ids(a[0], a[1], limit=a[2]),
    ),
    "get_cached_embeddings": (
        st.tuples(table_name, counts, any_text, any_text, any_text, counts),
        lambda db, w, a: db.get_cached_embeddings(
            query_table_name=a[0],
            query_threshold=a[1],
            query_input=a[2],
            query_field_name=a[3],
            query_field_sub_name=a[4],
            query_match_count=a[5],
        ),
    ),
    "create_memories": (
        st.tuples(st.lists(st.tuples(content, embedding), max_size=3), table_name),
        lambda db, w, a: db.create_memories(
            [Memory(room_id=w["room"], agent_id=w["agent"], content=c, embedding=e) for c, e in a[0]], a[1]
        ),
    ),
    "count_and_remove_memories": (
        st.tuples(ids, table_name, st.booleans()),
        lambda db, w, a: Calls([lambda: db.count_memories(a[0], a[2], a[1]), lambda: db.remove_memory(a[0], a[1])]),
    ),
    "log": (
        st.tuples(content, ids, st.one_of(ids, st.just("room")), any_text),
        lambda db, w, a: db.log(body=a[0], user_id=a[1], room_id=w["room"] if a[2] == "room" else a[2], type=a[3]),
    ),
    "create_account": (
        st.tuples(ids, st.one_of(any_text, st.none()), any_text, content),
        lambda db, w, a: db.create_account(Account(id=a[0], name=a[1], email=a[2], details=a[3])),
    ),
    "rooms_and_participants": (
        st.tuples(ids, ids, states),
        lambda db, w, a: Calls(
            [
                lambda: db.get_room(a[0]),
                lambda: db.add_participant(a[1], a[0]),
                lambda: db.set_participant_user_state(w["room"], a[1], a[2]),
                lambda: db.get_participant_user_state(a[0], a[1]),
                lambda: db.get_rooms_for_participant(a[1]),
            ]
        ),
    ),
    "goals": (
        st.tuples(ids, any_text, statuses, st.lists(any_text, max_size=3), counts),
        lambda db, w, a: Calls(
            [
                lambda: db.create_goal(
                    Goal(
                        room_id=w["room"],
                        user_id=w["agent"],
                        name=a[1],
                        status=a[2],
                        objectives=tuple(Objective(d) for d in a[3]),
                    )
                ),
                lambda: db.update_goal_status(w["goal"] if a[0] is None else a[0], a[2]),
                lambda: db.get_goals(w["room"], count=a[4]),
            ]
        ),
    ),
    "relationships": (
        st.tuples(ids, ids),
        lambda db, w, a: Calls([lambda: db.get_relationship(a[0], a[1]), lambda: db.get_relationships(a[0])]),
    ),
    "knowledge": (
        st.tuples(ids, content, embedding, st.one_of(any_float, st.integers(-3, 3)), counts, st.booleans()),
        lambda db, w, a: Calls(
            [
                lambda: db.create_knowledge(
                    KnowledgeItem(
                        id=a[0], agent_id=None if a[5] else w["agent"], content=a[1], embedding=a[2], is_shared=a[5]
                    )
                ),
                lambda: db.search_knowledge(
                    agent_id=w["agent"], embedding=a[2], match_threshold=a[3], match_count=a[4]
                ),
            ]
        ),
    ),
    "lookups_by_id": (
        st.tuples(ids, st.one_of(st.lists(ids, max_size=3), any_text)),
        lambda db, w, a: Calls(
            [
                lambda: db.get_account_by_id(a[0]),
                lambda: db.get_actor_details(a[0]),
                lambda: db.get_participants_for_account(a[0]),
                lambda: db.get_participants_for_room(a[0]),
                lambda: db.get_rooms_for_participants(a[1]),
                lambda: db.get_knowledge(agent_id=a[0], id=a[0]),
                lambda: db.delete_cache(key=str(a[0]), agent_id=a[0]),
            ]
        ),
    ),
    "removals": (
        st.tuples(ids, ids, table_name, st.booleans()),
        lambda db, w, a: Calls(
            [
                lambda: db.remove_participant(a[0], a[1]),
                lambda: db.remove_all_memories(a[0], a[2]),
                lambda: db.remove_goal(a[0]),
                lambda: db.remove_all_goals(a[0]),
                lambda: db.remove_knowledge(a[0]),
                lambda: db.clear_knowledge(a[0], a[3]),
                lambda: db.remove_room(a[1]),
            ]
        ),
    ),
    "creations": (
        st.tuples(ids, ids, any_text, statuses),
        lambda db, w, a: Calls(
            [
                lambda: db.create_room(a[0]),
                lambda: db.create_relationship(a[0], a[1]),
                lambda: db.update_goal(Goal(id=a[0], room_id=w["room"], user_id=w["agent"], name=a[2], status=a[3])),
            ]
        ),
    ),
    "search_memories": (
        st.tuples(ids, embedding, st.one_of(any_float, st.integers(-3, 3)), counts, table_name),
        lambda db, w, a: db.search_memories(
            table_name=a[4], room_id=a[0], embedding=a[1], match_threshold=a[2], match_count=a[3]
        ),
    ),
}


#: Every this many cases the goals the sweep created are deleted (outside any check): ``get_goals`` returns a
#: room's goals, so 1000 cases of the goals group would otherwise read back up to 1000 goals of 10 kB each per call.
PRUNE_EVERY = 50


def test_the_change_counter_sees_writes_and_ignores_refusals(db, watch, world):
    """The sweep's "unchanged" check can fail: a committed write moves the counter, a refused one does not."""
    before = changes(watch)
    db.create_room()
    assert changes(watch) == before + 1
    with pytest.raises(OkaiError):
        db.create_memories(
            [Memory(room_id=world["room"], agent_id=world["agent"], content={"text": "x"}, embedding=[1.0] * DIM)] * 2
            + [Memory(room_id=world["room"], agent_id=world["agent"], content={"text": "y"}, embedding=[1.0])],
            "messages",
        )
    assert changes(watch) == before + 1
    with watch.transaction(force_rollback=True):  # a write rolled back is no change
        watch.execute("INSERT INTO rooms (id) VALUES (gen_random_uuid())")
        assert changes(watch) > before + 1
    assert changes(watch) == before + 1


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_entry_point_succeeds_or_refuses_cleanly(db, watch, world, entry_point):
    strategy, call = ENTRY_POINTS[entry_point]

    cases = 0

    @CASES
    @given(args=strategy)
    def run(args: Any) -> None:
        nonlocal cases
        cases += 1
        if cases % PRUNE_EVERY == 0:
            watch.execute("DELETE FROM goals WHERE id <> %s", [world["goal"]])
        # A single-call entry point runs inside this first check; a list one only builds its calls here, and
        # each is checked on its own, so one call's success never hides the next one's refusal.
        built: list[Any] = []
        _check(db, watch, lambda: built.append(call(db, world, args)))
        for one in built[0] if built and isinstance(built[0], Calls) else []:
            _check(db, watch, one)

    run()
    assert cases >= CASES.max_examples, f"only {cases} cases ran"


def test_every_entry_point_is_swept():
    """The two bad-input modules together touch every method of the contract."""
    import inspect

    from okai_insight.adapters.base import DatabaseAdapter

    swept_text = inspect.getsource(inspect.getmodule(test_every_entry_point_is_swept))  # type: ignore[arg-type]
    from tests.reliability import test_bad_input

    swept_text += inspect.getsource(test_bad_input)
    methods = {n for n, _ in inspect.getmembers(DatabaseAdapter, inspect.isfunction) if not n.startswith("_")}
    not_input = {"init", "close"}
    assert {m for m in methods - not_input if f".{m}(" not in swept_text} == set()
