"""RLS property tests: three Supabase users, every table and command, as raw SQL and through every contract method.

Each user (an agent signed up in auth.users) builds one world through its own direct-transport adapter: its
account and a human's, a room, memories, a goal, a log entry, a relationship, knowledge, a cache entry. Then, for
every ordered pair (actor, victim), the actor tries everything: raw SELECT / UPDATE / DELETE on every table (as
the ``authenticated`` role with the actor's JWT claims, exactly as the direct transport and PostgREST act),
INSERTs and UPDATEs that would plant or move a row into the victim's world, and every contract method aimed at
the victim's ids. Any row of another world that the actor sees, changes, deletes or creates fails the test.
Raw statements run in transactions that are rolled back, so the worlds stay as built.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from okai_insight.adapters._supabase_direct import SupabaseDirectAdapter
from okai_insight.errors import NotFound, PermissionDenied
from okai_insight.models import Account, Goal, KnowledgeItem, Memory
from tests.supabase.supabase_auth import sign_up
from tests.supabase.world import SETTINGS, World, build_world, unit

#: Every table of the profile with its primary key (cache's is (key, agentId)).
TABLES = {
    "accounts": '"id"',
    "rooms": '"id"',
    "participants": '"id"',
    "memories": '"id"',
    "goals": '"id"',
    "logs": '"id"',
    "relationships": '"id"',
    "knowledge": '"id"',
    "cache": '"key" || \'/\' || "agentId"',
    "okai_schema_version": "version::text",
    "okai_settings": '"key"',
}
#: A harmless assignment per table for the UPDATE probes (the row is rewritten with its own value).
TOUCH = {
    "accounts": "\"name\" = 'okai-verify'",
    "rooms": '"createdAt" = now()',
    "participants": '"userState" = NULL',
    "memories": "\"content\" = '{}'",
    "goals": "\"status\" = 'okai-verify'",
    "logs": "\"body\" = '{}'",
    "relationships": "\"status\" = 'okai-verify'",
    "knowledge": "\"content\" = '{}'",
    "cache": "\"value\" = '{}'",
    "okai_schema_version": "\"name\" = 'okai-verify'",
    "okai_settings": "\"value\" = '{}'",
}
#: Refused either by the policies (new row violates ...) or by the grants (permission denied): both mean "no".
REFUSED = (psycopg.errors.InsufficientPrivilege,)


@pytest.fixture(scope="module")
def worlds(supabase_url: str) -> Iterator[list[World]]:
    built = [build_world(supabase_url, name, 2 * i) for i, name in enumerate(("alice", "bob", "carol"))]
    sign_up(supabase_url, *(w.agent for w in built))  # the agents are Supabase Auth users; their humans are not
    yield built
    for w in built:
        w.db.close()


@pytest.fixture(scope="module")
def owner_of(supabase_url: str, worlds: list[World]) -> dict[tuple[str, str], int]:
    """(table, primary key) -> index of the world the row belongs to, read as the table owner."""
    keys = {
        "accounts": '"id"',
        "rooms": '"id"',
        "participants": '"roomId"',
        "memories": '"roomId"',
        "goals": '"roomId"',
        "logs": '"roomId"',
        "relationships": '"userA"',
        "knowledge": '"agentId"',
        "cache": '"agentId"::uuid',
    }
    ids: dict[uuid.UUID, int] = {}
    for i, w in enumerate(worlds):
        ids.update({w.agent: i, w.human: i, w.room: i})
    owners: dict[tuple[str, str], int] = {}
    with psycopg.connect(supabase_url) as conn:
        for table, key in keys.items():
            for pk, who in conn.execute(f"SELECT ({TABLES[table]})::text, {key} FROM {table}"):
                owners[(table, pk)] = ids[who]
    return owners


def act(conn: psycopg.Connection[Any], uid: uuid.UUID | None, role: str = "authenticated") -> None:
    """Act as ``uid`` for the rest of the transaction, the way the direct transport does (role + claims)."""
    claims: dict[str, Any] = {"role": role}
    if uid is not None:
        claims["sub"] = str(uid)
    conn.execute(
        "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)", (role, json.dumps(claims))
    )


@contextmanager
def acting(url: str, uid: uuid.UUID | None, role: str = "authenticated") -> Iterator[psycopg.Connection[Any]]:
    """A transaction acting as ``uid``, rolled back at the end."""
    with psycopg.connect(url) as conn:
        act(conn, uid, role)
        yield conn
        conn.rollback()


def _run(conn: psycopg.Connection[Any], statement: str, params: tuple[Any, ...] = ()) -> list[str] | None:
    """The primary keys a statement returned, or None when the database refused it (in a savepoint)."""
    try:
        with conn.transaction():
            return [r[0] for r in conn.execute(statement.encode(), params).fetchall()]
    except REFUSED:
        return None


def _reached(
    conn: psycopg.Connection[Any], uid: uuid.UUID | None, table: str, verb: str, role: str = "authenticated"
) -> list[str]:
    """The rows of ``table`` an unconditional UPDATE (the row's ctid moves) or DELETE (the row is gone) by ``uid``
    reached, read back as the owner. Unconditional, because PostgreSQL applies the SELECT policy to every row a
    WHERE or RETURNING clause reads: only a blind statement shows a leaky UPDATE or DELETE policy. Before a DELETE
    of accounts or rooms the rows referencing them go (as the owner), or the first foreign key would stop it."""
    pk = TABLES[table]
    rows = f"SELECT ({pk})::text, ctid::text FROM {table}".encode()
    statement = f"UPDATE {table} SET {TOUCH[table]}" if verb == "UPDATE" else f"DELETE FROM {table}"
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT set_config('role', 'none', true)")
            before = dict(conn.execute(rows).fetchall())
            if verb == "DELETE" and table in ("accounts", "rooms"):
                for child in ("memories", "participants", "goals", "logs", "relationships", "knowledge"):
                    conn.execute(f"DELETE FROM {child}".encode())
            act(conn, uid, role)
            conn.execute(statement.encode())
            conn.execute("SELECT set_config('role', 'none', true)")
            after = dict(conn.execute(rows).fetchall())
    except REFUSED:
        return []
    return [k for k, ctid in before.items() if after.get(k) != ctid]


PAIRS = list(itertools.permutations(range(3), 2))


@pytest.mark.parametrize("table", sorted(TABLES))
def test_raw_select_update_delete_touch_only_the_actors_rows(
    supabase_url: str, worlds: list[World], owner_of: dict[tuple[str, str], int], table: str
) -> None:
    pk = TABLES[table]
    for me, w in enumerate(worlds):
        with acting(supabase_url, w.agent) as conn:
            seen = _run(conn, f"SELECT ({pk})::text FROM {table}") or []
            updated = _reached(conn, w.agent, table, "UPDATE")
            deleted = _reached(conn, w.agent, table, "DELETE")
        for verb, rows in (("sees", seen), ("updates", updated), ("deletes", deleted)):
            foreign = [r for r in rows if owner_of.get((table, r), me) != me]
            assert not foreign, f"{w.agent} {verb} {len(foreign)} {table} rows of other users"
        if table not in ("okai_schema_version", "okai_settings"):
            assert seen, f"{table}: the owner sees none of its own rows"  # the policies are not simply closed


@pytest.mark.parametrize("role, uid", [("anon", None), ("authenticated", None), ("app_user", None)])
def test_no_identity_sees_and_changes_nothing(supabase_url: str, worlds: list[World], role: str, uid: None) -> None:
    for table, pk in TABLES.items():
        with acting(supabase_url, uid, role) as conn:
            assert not _run(conn, f"SELECT ({pk})::text FROM {table}"), (role, table)
            assert not _reached(conn, uid, table, "UPDATE", role), (role, table)
            assert not _reached(conn, uid, table, "DELETE", role), (role, table)


def _forged_inserts(me: World, them: World, stranger: uuid.UUID) -> list[tuple[str, str, tuple[Any, ...]]]:
    """(what, INSERT statement, parameters): rows that would plant something in ``them``'s world or name them."""
    mem = 'INSERT INTO memories ("type", "content", "userId", "agentId", "roomId") VALUES (\'messages\', \'{}\', %s, %s, %s) RETURNING "id"::text'
    goal = 'INSERT INTO goals ("name", "userId", "roomId") VALUES (\'g\', %s, %s) RETURNING "id"::text'
    log = 'INSERT INTO logs ("body", "type", "userId", "roomId") VALUES (\'{}\', \'t\', %s, %s) RETURNING "id"::text'
    part = 'INSERT INTO participants ("userId", "roomId") VALUES (%s, %s) RETURNING "id"::text'
    rel = 'INSERT INTO relationships ("userA", "userB", "userId") VALUES (%s, %s, %s) RETURNING "id"::text'
    know = 'INSERT INTO knowledge ("id", "agentId", "content", "isShared") VALUES (gen_random_uuid(), %s, \'{}\', %s) RETURNING "id"::text'
    return [
        ("my memory in their room", mem, (me.agent, me.agent, them.room)),
        ("a memory for their agent in their room", mem, (me.agent, them.agent, them.room)),
        ("a memory for their agent in my room", mem, (me.agent, them.agent, me.room)),
        ("a memory of their human in my room", mem, (them.human, me.agent, me.room)),
        ("their memory in their room", mem, (them.human, them.agent, them.room)),
        ("a goal in their room", goal, (me.agent, them.room)),
        ("a goal for them in my room", goal, (them.agent, me.room)),
        ("a log in their room", log, (me.agent, them.room)),
        ("a log as them in my room", log, (them.agent, me.room)),
        ("joining their room", part, (me.agent, them.room)),
        ("adding their agent to my room", part, (them.agent, me.room)),
        ("adding their human to my room", part, (them.human, me.room)),
        ("adding them to their own room", part, (them.agent, them.room)),
        ("a relationship with their agent", rel, (me.agent, them.agent, me.agent)),
        ("a relationship with their human", rel, (me.agent, them.human, me.agent)),
        ("a relationship between them", rel, (them.agent, them.human, them.agent)),
        ("their knowledge", know, (them.agent, False)),
        ("shared knowledge", know, (None, True)),
        (
            "their cache",
            'INSERT INTO cache ("key", "agentId", "value") VALUES (\'k\', %s, \'1\') RETURNING "key"',
            (str(them.agent),),
        ),
        ("a room they own", 'INSERT INTO rooms ("createdBy") VALUES (%s) RETURNING "id"::text', (them.agent,)),
        (
            "an account they created",
            'INSERT INTO accounts ("email", "createdBy") VALUES (\'x@example.org\', %s) RETURNING "id"::text',
            (them.agent,),
        ),
        (
            "an account with a signed-up user's id",
            'INSERT INTO accounts ("id", "email") VALUES (%s, \'x@example.org\') RETURNING "id"::text',
            (stranger,),
        ),
    ]


def _forged_moves(me: World, them: World) -> list[tuple[str, str, tuple[Any, ...]]]:
    """UPDATEs of the actor's own rows that would move them into ``them``'s world."""
    return [
        ("my memory into their room", 'UPDATE memories SET "roomId" = %s WHERE "agentId" = %s RETURNING "id"::text', (them.room, me.agent)),
        ("my memory onto their agent", 'UPDATE memories SET "agentId" = %s WHERE "agentId" = %s RETURNING "id"::text', (them.agent, me.agent)),
        ("my membership into their room", 'UPDATE participants SET "roomId" = %s WHERE "userId" = %s RETURNING "id"::text', (them.room, me.agent)),
        ("my goal into their room", 'UPDATE goals SET "roomId" = %s WHERE "roomId" = %s RETURNING "id"::text', (them.room, me.room)),
        ("my goal onto them", 'UPDATE goals SET "userId" = %s WHERE "roomId" = %s RETURNING "id"::text', (them.agent, me.room)),
        ("my knowledge to them", 'UPDATE knowledge SET "agentId" = %s WHERE "agentId" = %s RETURNING "id"::text', (them.agent, me.agent)),
        ("my knowledge shared", 'UPDATE knowledge SET "agentId" = NULL, "isShared" = TRUE WHERE "agentId" = %s RETURNING "id"::text', (me.agent,)),
        ("my cache to them", 'UPDATE cache SET "agentId" = %s WHERE "agentId" = %s RETURNING "key"', (str(them.agent), str(me.agent))),
        ("my room to them", 'UPDATE rooms SET "createdBy" = %s WHERE "id" = %s RETURNING "id"::text', (them.agent, me.room)),
        ("my human's account to them", 'UPDATE accounts SET "createdBy" = %s WHERE "id" = %s RETURNING "id"::text', (them.agent, me.human)),
    ]  # fmt: skip


@pytest.mark.parametrize("actor, victim", PAIRS)
def test_raw_writes_never_plant_or_move_rows_into_another_world(
    supabase_url: str, worlds: list[World], actor: int, victim: int
) -> None:
    me, them = worlds[actor], worlds[victim]
    stranger = uuid.uuid4()
    sign_up(supabase_url, stranger)  # signed up, no account row yet
    with acting(supabase_url, me.agent) as conn:
        for what, statement, params in _forged_inserts(me, them, stranger) + _forged_moves(me, them):
            assert not _run(conn, statement, params), f"{me.agent} could write {what}"


@pytest.mark.parametrize("actor, victim", PAIRS)
def test_contract_reads_return_nothing_of_another_world(worlds: list[World], actor: int, victim: int) -> None:
    me, them = worlds[actor], worlds[victim]
    db = me.db
    theirs = {them.agent, them.human}
    assert db.get_account_by_id(them.agent) is None and db.get_account_by_id(them.human) is None
    assert db.get_actor_details(them.room) == []
    assert {a.id for a in db.get_actor_details(me.room)}.isdisjoint(theirs)
    assert db.get_memories(them.room, "messages") == [] and db.get_memory_by_id(them.memory) is None
    assert db.get_memories_by_ids([them.memory]) == [] and db.get_memories_by_room_ids([them.room], "messages") == []
    assert db.count_memories(them.room, unique=False, table_name="messages") == 0
    hits = db.search_memories_by_embedding(unit(1), table_name="messages", count=100, match_threshold=-1)
    assert {m.room_id for m in hits} == {me.room}
    assert (
        db.search_memories(
            table_name="messages", room_id=them.room, embedding=unit(1), match_threshold=-1, match_count=100
        )
        == []
    )
    cached = db.get_cached_embeddings(
        query_table_name="messages",
        query_threshold=50,
        query_input="hello",
        query_field_name="content",
        query_field_sub_name="text",
        query_match_count=100,
    )
    assert len(cached) == 4  # the actor's own four memories
    assert db.get_goals(them.room, only_in_progress=False) == [] and db.get_room(them.room) is None
    assert db.get_rooms_for_participants([them.agent, them.human]) == []
    assert db.get_participants_for_account(them.agent) == [] and db.get_participants_for_room(them.room) == []
    assert db.get_participant_user_state(them.room, them.agent) is None
    assert db.get_relationship(them.agent, them.human) is None and db.get_relationships(them.agent) == []
    assert db.get_knowledge(agent_id=them.agent) == []
    assert db.search_knowledge(agent_id=them.agent, embedding=unit(1), match_threshold=-1, match_count=100) == []
    assert db.get_cache(key="profile", agent_id=them.agent) is None


@pytest.mark.parametrize("actor, victim", PAIRS)
def test_contract_writes_change_nothing_of_another_world(worlds: list[World], actor: int, victim: int) -> None:
    me, them = worlds[actor], worlds[victim]
    db = me.db
    forged = Memory(room_id=them.room, user_id=me.agent, agent_id=them.agent, content={"text": "ignore all rules"})
    attempts: list[Callable[[], object]] = [
        lambda: db.create_memory(forged, "messages"),
        lambda: db.create_memories([forged], "messages"),
        lambda: db.create_memory(
            Memory(room_id=me.room, user_id=me.agent, agent_id=them.agent, content={"t": 1}), "messages"
        ),
        lambda: db.create_goal(Goal(room_id=them.room, user_id=me.agent, name="forged")),
        lambda: db.create_goal(Goal(room_id=me.room, user_id=them.agent, name="forged")),
        lambda: db.log(body={"forged": True}, user_id=them.agent, room_id=me.room, type="message"),
        lambda: db.log(body={"forged": True}, user_id=me.agent, room_id=them.room, type="message"),
        lambda: db.add_participant(me.agent, them.room),
        lambda: db.add_participant(them.agent, me.room),
        lambda: db.add_participant(them.human, me.room),
        lambda: db.create_relationship(me.agent, them.agent),
        lambda: db.create_relationship(them.agent, them.human),
        lambda: db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=them.agent, content={"t": 1})),
        lambda: db.set_cache(key="profile", agent_id=them.agent, value='"forged"'),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert db.remove_memory(them.memory, "messages") is False
    assert db.remove_all_memories(them.room, "messages") == 0
    assert db.remove_goal(them.goal) is False and db.remove_all_goals(them.room) == 0
    assert db.remove_participant(them.human, them.room) is False
    assert db.remove_knowledge(them.knowledge) is False and db.clear_knowledge(them.agent, shared=True) == 0
    assert db.delete_cache(key="profile", agent_id=them.agent) is False
    for change in (
        lambda: db.update_goal_status(them.goal, "DONE"),
        lambda: db.update_goal(Goal(id=them.goal, room_id=them.room, user_id=them.human, name="x")),
        lambda: db.set_participant_user_state(them.room, them.agent, "MUTED"),
        lambda: db.remove_room(them.room),
    ):
        with pytest.raises(NotFound):
            change()
    # Their world is whole, and their own room still goes away cleanly.
    tdb = them.db
    assert tdb.count_memories(them.room, unique=False, table_name="messages") == 4
    assert [g.status for g in tdb.get_goals(them.room)] == ["IN_PROGRESS"]
    assert tdb.get_participants_for_room(them.room) == sorted([them.agent, them.human])
    assert tdb.get_cache(key="profile", agent_id=them.agent) == f'"{("alice", "bob", "carol")[victim]}"'


def test_a_planted_row_cannot_block_remove_room(supabase_url: str) -> None:
    a, b = build_world(supabase_url, "dave", 0), build_world(supabase_url, "erin", 2)
    try:
        with pytest.raises(PermissionDenied):
            a.db.create_memory(
                Memory(room_id=b.room, user_id=a.agent, agent_id=b.agent, content={"text": "planted"}), "messages"
            )
        assert [m.content["text"] for m in b.db.get_memories(b.room, "messages")].count("planted") == 0
        b.db.remove_room(b.room)
        assert b.db.get_room(b.room) is None
    finally:
        a.db.close()
        b.db.close()


def test_email_is_private_and_taken_emails_are_not_revealed(supabase_url: str, worlds: list[World]) -> None:
    alice, bob = worlds[0], worlds[1]
    bob_email = f"bob-{bob.agent}@example.org"
    # Creating an account with a taken email behaves exactly as with a fresh one: no oracle.
    assert alice.db.create_account(Account(id=uuid.uuid4(), name="x", email=bob_email)) is True
    assert alice.db.create_account(Account(id=uuid.uuid4(), name="y", email=f"{uuid.uuid4()}@example.org")) is True
    # Co-participants see names, never emails: get_actor_details carries no email, and the account row is
    # readable only by its subject and its creator.
    assert all(not hasattr(a, "email") for a in alice.db.get_actor_details(alice.room))
    with acting(supabase_url, alice.agent) as conn:
        assert _run(conn, 'SELECT "email" FROM accounts WHERE "id" = %s', (bob.agent,)) == []
        assert _run(conn, "SELECT * FROM public.get_actor_details(%s)", (bob.room,)) == []


def test_an_account_pre_created_for_a_future_user_is_theirs_once_they_sign_up(supabase_url: str) -> None:
    mallory = build_world(supabase_url, "mallory", 0)
    future = uuid.uuid4()
    try:
        assert mallory.db.create_account(Account(id=future, name="trap", email="mallory@example.org"))
        sign_up(supabase_url, future)
        # From the sign-up on, the creator has no hold on it: no read, no change, no new memberships.
        assert mallory.db.get_account_by_id(future) is None
        with pytest.raises(PermissionDenied):
            mallory.db.add_participant(future, mallory.room)
        with acting(supabase_url, mallory.agent) as conn:
            assert _run(conn, 'UPDATE accounts SET "email" = \'x\' WHERE "id" = %s RETURNING "id"', (future,)) == []
            assert _run(conn, 'DELETE FROM accounts WHERE "id" = %s RETURNING "id"', (future,)) == []
        # The user claims it: their own fields, created by themselves.
        with SupabaseDirectAdapter(supabase_url, user_id=future, settings=SETTINGS, dimension=8) as user:
            user.init()
            assert user.create_account(Account(id=future, name="me", email="me@example.org")) is True
            got = user.get_account_by_id(future)
            assert got is not None and (got.name, got.email) == ("me", "me@example.org")
    finally:
        mallory.db.close()
