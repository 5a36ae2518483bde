"""The roles ``create_roles`` makes, used as real login roles on the embedded server (issue 19 item 4).

``app_user``, through the isolated adapter, can use every method of the contract within its own rooms (create a
room and take part in it, write and delete its memories, goals, logs, ...) and reach nothing outside them; the
whole contract suite also runs as ``app_user`` (tests/contract/conftest.py, entry "isolated"). The analyst runs the
diagnostics and cannot write; under isolation it reads no user's rows, not even by naming a user in
``okai.user_id``, and the embedding diagnostic says why its table looks empty."""

from __future__ import annotations

import uuid

import numpy as np
import psycopg
import pytest
from psycopg import conninfo

from okai_insight.embeddings import embedding_quality
from okai_insight.errors import ConfigurationError, NotFound, PermissionDenied
from okai_insight.models import Account, Goal, KnowledgeItem, Memory
from okai_insight.ops.security import (
    IsolatedPostgresAdapter,
    create_roles,
    disable_isolation,
    enable_isolation,
    isolation_enabled,
    verify_isolation,
)
from okai_insight.settings import Settings
from tests.ops._data import DIM, populate
from tests.ops._rooms import take_part

SETTINGS = Settings.from_env({}, pool_min_size=1, pool_max_size=2)
ISOLATED_TABLES = {"accounts", "rooms", "participants", "memories", "goals", "logs", "relationships", "knowledge",
                   "cache", "okai_schema_version", "okai_settings"}  # fmt: skip


def _as(url: str, role: str) -> str:
    """``url`` logging in as ``role`` (the embedded server trusts local connections; no password involved)."""
    params = conninfo.conninfo_to_dict(url)
    params["user"] = role
    params.pop("password", None)
    return conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


@pytest.fixture(scope="module")
def secured(make_database):
    data = populate(make_database("roles"), memories=40)
    take_part(data)
    with psycopg.connect(data.url, autocommit=True) as conn:
        # A login role an administrator made a member of the analyst group before running the roles command.
        conn.execute("DROP ROLE IF EXISTS okai_roles_member")
        conn.execute("CREATE ROLE okai_roles_member LOGIN")
        conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'okai_analyst') "
                     "THEN CREATE ROLE okai_analyst; END IF; END $$")  # fmt: skip
        conn.execute("GRANT okai_analyst TO okai_roles_member")
    create_roles(data.url)
    enable_isolation(data.url)
    return data


def _user(url: str, name: str) -> IsolatedPostgresAdapter:
    """A new user acting through the isolated adapter, with its own account."""
    uid = uuid.uuid4()
    db = IsolatedPostgresAdapter(url, user_id=uid, dimension=DIM, settings=SETTINGS)
    db.init()
    assert db.create_account(Account(id=uid, name=name, email=f"{name}-{uid.hex[:6]}@example.org"))
    return db


def _refused(call) -> bool:
    """True when the database refused the call, whichever way the method reports a refusal."""
    try:
        result = call()
    except PermissionDenied:
        return True
    return result in (False, None, 0, [])


def _owner_count(url: str, query: str, *params) -> int:
    with psycopg.connect(url) as conn:
        return int(conn.execute(query.encode(), params).fetchone()[0])


@pytest.mark.parametrize("role", ["okai_analyst", "okai_roles_member"])
def test_the_analyst_logs_in_read_only_and_cannot_write(secured, role):
    with psycopg.connect(_as(secured.url, role), autocommit=True) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0] >= 1  # pg_monitor's view
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            conn.execute("DELETE FROM memories")
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            conn.execute("INSERT INTO rooms DEFAULT VALUES")


def test_the_analyst_reads_no_users_rows_even_naming_one_and_the_diagnostic_says_why(secured):
    analyst = _as(secured.url, "okai_analyst")
    user = secured.users[0]
    with psycopg.connect(analyst) as conn:
        assert conn.execute("SELECT count(*) FROM memories").fetchone() == (0,)  # the policies bind it
        # Anyone may set okai.user_id; only the application role is believed (okai_uid() is NULL otherwise).
        conn.execute("SELECT set_config('okai.user_id', %s, false)", (str(user),))
        for table in ("memories", "rooms", "participants", "accounts"):
            assert conn.execute(f"SELECT count(*) FROM {table}".encode()).fetchone() == (0,), table
        # The statistics an analyst works from are there (pg_monitor, the catalogue).
        assert conn.execute("SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'memories'").fetchone()
    with psycopg.connect(secured.url, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    q = embedding_quality(analyst, by=None, probes=10)
    warnings = [f.message for f in q.findings if "row level security" in f.message]
    assert len(warnings) == 1 and "0 rows read of about 40" in warnings[0] and "okai_analyst" in warnings[0]
    # The owner is not filtered: no such finding, and the rows are counted.
    owner = embedding_quality(secured.url, by=None, probes=10)
    assert not [f for f in owner.findings if "row level security" in f.message]
    assert sum(r["sampled_rows"] for r in owner.rows) == 40


def test_the_app_role_uses_the_contract_in_its_own_rooms(secured):
    # Failed before: app_user had no grant on rooms (create_room: permission denied).
    alice = _user(secured.url, "alice")
    me = alice.user_id
    try:
        agent = uuid.uuid4()  # an account Alice manages (her agent), who has not claimed it
        assert alice.create_account(Account(id=agent, name="Eliza", email=f"eliza-{agent.hex[:6]}@example.org"))
        assert alice.get_account_by_id(agent) is not None
        room = alice.create_room()
        assert alice.get_room(room) == room
        assert alice.add_participant(me, room) and alice.add_participant(agent, room)
        assert set(alice.get_participants_for_room(room)) == {me, agent}
        assert room in alice.get_rooms_for_participant(me)
        assert {a.name for a in alice.get_actor_details(room)} == {"alice", "Eliza"}
        alice.set_participant_user_state(room, me, "MUTED")
        assert alice.get_participant_user_state(room, me) == "MUTED"
        v = np.ones(DIM, dtype=np.float32)
        one = alice.create_memory(Memory(user_id=me, agent_id=agent, room_id=room, content={"text": "hi"},
                                         embedding=v), "messages")  # fmt: skip
        batch = alice.create_memories(
            [Memory(user_id=me, room_id=room, content={"text": f"m{i}"}, embedding=v * (i + 1)) for i in range(3)],
            "messages",
        )
        assert alice.get_memory_by_id(one) is not None
        assert {m.id for m in alice.get_memories(room, "messages", count=10)} == {one, *batch}
        found = alice.search_memories_by_embedding(v, table_name="messages", room_id=room, count=10)
        assert {m.id for m in found} == {one, *batch}
        assert alice.count_memories(room, unique=False, table_name="messages") == 4
        assert alice.remove_memory(one, "messages") is True
        assert alice.remove_all_memories(room, "messages") == 3
        goal = alice.create_goal(Goal(room_id=room, user_id=me, name="greet"))
        alice.update_goal_status(goal, "DONE")
        assert [g.status for g in alice.get_goals(room, only_in_progress=False)] == ["DONE"]
        assert alice.remove_goal(goal) is True
        alice.log(body={"event": "joined"}, user_id=me, room_id=room, type="test")
        assert alice.create_relationship(me, agent) and alice.get_relationship(me, agent) is not None
        alice.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=me, content={"text": "k"}, embedding=v))
        assert len(alice.get_knowledge(agent_id=me)) == 1 and alice.clear_knowledge(me) == 1
        assert alice.set_cache(key="k", agent_id=me, value="1") and alice.get_cache(key="k", agent_id=me) == "1"
        assert alice.delete_cache(key="k", agent_id=me)
        assert alice.remove_participant(agent, room)
        alice.remove_room(room)
        assert alice.get_room(room) is None
        assert _owner_count(secured.url, 'SELECT count(*) FROM rooms WHERE "id" = %s', room) == 0
    finally:
        alice.close()


def test_the_app_role_reaches_nothing_outside_its_rooms(secured):
    alice, bob = _user(secured.url, "alice"), _user(secured.url, "bob")
    me, him = alice.user_id, bob.user_id
    try:
        his_room = bob.create_room()
        bob.add_participant(him, his_room)
        v = np.ones(DIM, dtype=np.float32)
        his = bob.create_memory(Memory(user_id=him, room_id=his_room, content={"text": "bob's"}, embedding=v),
                                "messages")  # fmt: skip
        bob.create_goal(Goal(room_id=his_room, user_id=him, name="bob's goal"))
        bob.set_cache(key="k", agent_id=him, value="secret")
        my_room = alice.create_room()
        alice.add_participant(me, my_room)
        # Reading.
        assert alice.get_room(his_room) is None
        assert alice.get_account_by_id(him) is None
        assert alice.get_memory_by_id(his) is None
        assert alice.get_memories(his_room, "messages", count=10) == []
        assert alice.get_participants_for_room(his_room) == []
        assert alice.get_actor_details(his_room) == []
        assert alice.get_goals(his_room) == []
        assert alice.get_rooms_for_participant(him) == []
        assert alice.get_cache(key="k", agent_id=him) is None
        assert alice.search_memories_by_embedding(v, table_name="messages", count=100) == []
        assert alice.count_memories(his_room, unique=False, table_name="messages") == 0
        # The populated users' rows too (written by the owner, in rooms Alice takes no part in).
        assert alice.get_memories(secured.rooms[0], "messages", count=100) == []
        # Writing into his room, naming him, or joining uninvited.
        assert _refused(lambda: alice.add_participant(me, his_room))
        assert _refused(lambda: alice.add_participant(him, my_room))
        with pytest.raises(PermissionDenied):
            alice.create_memory(Memory(user_id=me, room_id=his_room, content={"text": "planted"}), "messages")
        with pytest.raises(PermissionDenied):
            alice.create_memory(Memory(user_id=him, room_id=my_room, content={"text": "as him"}), "messages")
        assert _refused(lambda: alice.create_goal(Goal(room_id=his_room, user_id=me, name="planted")))
        assert _refused(lambda: alice.create_relationship(me, him))  # a stranger: no room shared
        # Deleting and changing.
        assert alice.remove_memory(his, "messages") is False
        assert alice.remove_all_memories(his_room, "messages") == 0
        assert alice.remove_all_goals(his_room) == 0
        assert alice.delete_cache(key="k", agent_id=him) is False
        for room in (his_room, uuid.uuid4()):  # his room is to her what a room that does not exist is
            with pytest.raises(NotFound):
                alice.remove_room(room)
        assert bob.get_room(his_room) == his_room and bob.get_memory_by_id(his) is not None
        assert len(bob.get_goals(his_room)) == 1 and bob.get_cache(key="k", agent_id=him) == "secret"
    finally:
        alice.close()
        bob.close()


def test_the_app_role_logs_in_and_reaches_only_its_users_rows(secured):
    user, other = secured.users
    with psycopg.connect(_as(secured.url, "app_user"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM memories").fetchone() == (0,)  # no user id: nothing
        assert conn.execute("SELECT count(*) FROM rooms").fetchone() == (0,)
        conn.execute("SELECT set_config('okai.user_id', %s, false)", (str(user),))
        mine = conn.execute('SELECT count(*) FROM memories WHERE "userId" = %s', (user,)).fetchone()[0]
        assert mine == 20  # every memory of the user, in the rooms it takes part in
        assert conn.execute('SELECT count(*) FROM memories WHERE "userId" = %s', (other,)).fetchone() == (0,)
        assert conn.execute('DELETE FROM memories WHERE "userId" = %s', (other,)).rowcount == 0
        with conn.transaction(force_rollback=True):
            assert conn.execute('DELETE FROM memories WHERE "userId" = %s', (user,)).rowcount == mine
        assert conn.execute('SELECT "id" FROM accounts').fetchall() == [(user,)]  # its own account only
        assert conn.execute("SELECT count(*) FROM rooms").fetchone() == (2,)  # the rooms it takes part in


def test_the_verifier_exercises_every_table_under_the_room_tied_policies(secured):
    report = verify_isolation(secured.url)
    assert report.ok, report.problems
    assert {c["table"] for c in report.checks} == ISOLATED_TABLES - {"okai_schema_version", "okai_settings"}
    assert all(set(c.values()) == {c["table"], "isolated"} for c in report.checks)


def test_isolation_switches_on_twice_and_off_again(make_database):
    data = populate(make_database("roles_toggle"), memories=4)
    enable_isolation(data.url)  # before the roles exist: the grants come with create_roles
    enable_isolation(data.url)  # idempotent
    create_roles(data.url)
    with psycopg.connect(data.url, autocommit=True) as conn:
        assert isolation_enabled(conn)
        rls = dict(conn.execute("SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(%s)",
                                (list(ISOLATED_TABLES),)).fetchall())  # fmt: skip
        assert rls == dict.fromkeys(ISOLATED_TABLES, True)
        assert conn.execute("SELECT has_table_privilege('app_user', 'rooms', 'INSERT')").fetchone() == (True,)
        spec = conn.execute("SELECT count(*) FROM pg_policies WHERE policyname = 'memories_isolation'").fetchone()
        assert spec == (0,)  # replaced: permissive policies OR together, it would widen memories_select
        conn.execute('CREATE POLICY "their_own" ON goals FOR SELECT TO okai_analyst USING (false)')
    assert verify_isolation(data.url).ok is False  # an unexpected permissive policy is named
    disable_isolation(data.url)
    with psycopg.connect(data.url, autocommit=True) as conn:
        assert not isolation_enabled(conn)
        on = conn.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) AND relrowsecurity",
                          (list(ISOLATED_TABLES),)).fetchall()  # fmt: skip
        assert on == []
        assert conn.execute("SELECT has_table_privilege('app_user', 'rooms', 'INSERT')").fetchone() == (False,)
        assert conn.execute("SELECT has_table_privilege('app_user', 'memories', 'DELETE')").fetchone() == (True,)
        assert conn.execute("SELECT policyname FROM pg_policies").fetchall() == [("their_own",)]  # not ours
        assert conn.execute("SELECT to_regnamespace('okai_private')").fetchone() == (None,)


def test_on_a_supabase_profile_the_analyst_cannot_name_a_user_in_the_claims(make_database):
    """auth.uid() is Supabase's and believes request.jwt.claims from any session: an analyst allowed to SELECT the
    tables read a user's account, email included, by naming them (before: SELECT on every table). Only the tables
    without row level security are granted there, and the plain-PostgreSQL grants stay off the Supabase profile."""
    from okai_insight.schema.supabase import apply
    from tests.supabase.supabase_auth import prepare_supabase_database

    url = make_database("roles_supa")
    prepare_supabase_database(url)
    victim = uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        apply(conn, dimension=DIM)
        conn.execute('INSERT INTO accounts ("id", "email", "createdBy") VALUES (%s, %s, %s)',
                     (victim, "victim@example.org", victim))  # fmt: skip
    create_roles(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("GRANT SELECT ON accounts TO okai_analyst")  # as an earlier create_roles did
    create_roles(url)  # takes it back
    with psycopg.connect(_as(url, "okai_analyst"), autocommit=True) as conn:
        conn.execute("SELECT set_config('request.jwt.claims', %s, false)", (f'{{"sub": "{victim}"}}',))
        for table in ("accounts", "memories", "rooms"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"SELECT * FROM {table}".encode())
        assert conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0] >= 1
    with psycopg.connect(url) as conn:
        assert not isolation_enabled(conn)  # the same policy names, Supabase's
        assert conn.execute("SELECT has_table_privilege('app_user', 'rooms', 'INSERT')").fetchone() == (False,)
    with pytest.raises(ConfigurationError):
        enable_isolation(url)


def test_the_embedding_tools_tell_the_analyst_why_the_table_looks_empty(secured):
    """tune_threshold, tune_recall and explore refused an analyst with "no embedded rows" alone; under isolation
    the reason is row level security, and they now say so (embedding_quality warns, test above)."""
    from okai_insight.embeddings import explore, tune_recall, tune_threshold
    from okai_insight.errors import InvalidInput, NotFound

    analyst = _as(secured.url, "okai_analyst")
    for tool in (tune_threshold, tune_recall, explore):
        with pytest.raises((InvalidInput, NotFound)) as info:
            tool(analyst)
        message = str(info.value)
        assert "row level security on public.memories filters what okai_analyst reads" in message, message
    with pytest.raises(NotFound) as info:  # no rows the owner reads: nothing of the kind is said
        explore(secured.url, room_id=uuid.uuid4())
    assert "row level security" not in str(info.value)
