"""The roles ``create_roles`` makes, used as real login roles on the embedded server (issue 19 item 4): the analyst
runs the diagnostics and cannot write, and is told when row level security hides rows from it; the application
role does the memory methods through the isolated adapter on its own rows; neither reads another user's rows."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from psycopg import conninfo

from okai_insight.embeddings import embedding_quality
from okai_insight.models import Memory
from okai_insight.ops.security import IsolatedPostgresAdapter, create_roles, enable_isolation
from okai_insight.settings import Settings
from tests.ops._data import DIM, populate

SETTINGS = Settings.from_env({}, pool_min_size=1, pool_max_size=2)


def _as(url: str, role: str) -> str:
    """``url`` logging in as ``role`` (the embedded server trusts local connections; no password involved)."""
    params = conninfo.conninfo_to_dict(url)
    params["user"] = role
    params.pop("password", None)
    return conninfo.make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})


@pytest.fixture(scope="module")
def secured(make_database):
    data = populate(make_database("roles"), memories=40)
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


@pytest.mark.parametrize("role", ["okai_analyst", "okai_roles_member"])
def test_the_analyst_logs_in_read_only_and_cannot_write(secured, role):
    with psycopg.connect(_as(secured.url, role), autocommit=True) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("SELECT count(*) FROM pg_stat_activity").fetchone()[0] >= 1  # pg_monitor's view
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            conn.execute("DELETE FROM memories")
        with pytest.raises((psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientPrivilege)):
            conn.execute("INSERT INTO rooms DEFAULT VALUES")


def test_the_analyst_sees_no_users_rows_and_the_diagnostic_says_why(secured):
    analyst = _as(secured.url, "okai_analyst")
    with psycopg.connect(analyst) as conn:
        assert conn.execute("SELECT count(*) FROM memories").fetchone() == (0,)  # memories_isolation binds it
    with psycopg.connect(secured.url, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    q = embedding_quality(analyst, by=None, probes=10)
    warnings = [f.message for f in q.findings if "row level security" in f.message]
    assert len(warnings) == 1 and "0 rows read of about 40" in warnings[0] and "okai_analyst" in warnings[0]
    # The owner is not filtered: no such finding, and the rows are counted.
    owner = embedding_quality(secured.url, by=None, probes=10)
    assert not [f for f in owner.findings if "row level security" in f.message]
    assert sum(r["sampled_rows"] for r in owner.rows) == 40


def test_the_app_role_does_the_memory_methods_on_its_own_rows_only(secured):
    user, other = secured.users
    # The adapter connects as the tables' owner and acts as app_user in every transaction (SET LOCAL ROLE).
    db = IsolatedPostgresAdapter(secured.url, user_id=user, dimension=DIM, settings=SETTINGS)
    db.init()
    try:
        with psycopg.connect(secured.url) as conn:
            theirs = [r[0] for r in conn.execute('SELECT "id" FROM memories WHERE "userId" = %s', (other,))]
            mine_before = conn.execute('SELECT count(*) FROM memories WHERE "userId" = %s', (user,)).fetchone()[0]
        assert theirs and mine_before
        room = secured.rooms[0]
        q = np.ones(DIM, dtype=np.float32)
        new = db.create_memory(Memory(user_id=user, room_id=room, content={"text": "mine"}, embedding=q), "messages")
        assert db.get_memory_by_id(new) is not None
        assert all(m.user_id == user for m in db.get_memories(room, "messages", count=100))
        assert db.get_memory_by_id(theirs[0]) is None
        assert db.count_memories(room, unique=False, table_name="messages") >= 1
        assert db.remove_memory(new, "messages") is True  # the spec's SELECT, INSERT could not delete
        assert db.remove_memory(theirs[0], "messages") is False
        assert db.remove_all_memories(room, "messages") >= 0
    finally:
        db.close()
    with psycopg.connect(secured.url) as conn:
        left = {r[0] for r in conn.execute('SELECT "id" FROM memories WHERE "userId" = %s', (other,))}
        assert set(theirs) <= left  # nothing of the other user's was touched


def test_the_app_role_logs_in_and_reaches_only_its_users_rows(secured):
    user, other = secured.users
    with psycopg.connect(_as(secured.url, "app_user"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM memories").fetchone() == (0,)  # no user id: nothing
        conn.execute("SELECT set_config('okai.user_id', %s, false)", (str(user),))
        mine = conn.execute('SELECT count(*) FROM memories WHERE "userId" = %s', (user,)).fetchone()[0]
        assert mine > 0
        assert conn.execute('SELECT count(*) FROM memories WHERE "userId" = %s', (other,)).fetchone() == (0,)
        assert conn.execute('DELETE FROM memories WHERE "userId" = %s', (other,)).rowcount == 0
        with conn.transaction(force_rollback=True):
            assert conn.execute('DELETE FROM memories WHERE "userId" = %s', (user,)).rowcount == mine
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM accounts")  # the other tables have no row level security: no grant
