"""The REST transport against recorded PostgREST exchanges (tests/supabase/recordings).

No PostgREST server can run on these machines. The recordings are request/response pairs written to follow
PostgREST's documented API; a local HTTP server replays them in order and fails the test on any request that
differs from the recording (method, path, query, Prefer header, JSON body). This proves what the adapter sends
and how it reads the answers, not how a live server behaves; the SQL behind the RPCs is tested for real in
test_rpc.py and test_isolation.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from okai_insight import connect
from okai_insight.adapters.supabase import SupabaseRestAdapter, open_supabase
from okai_insight.errors import ConfigurationError, DuplicateId, FeatureNotAvailable, PermissionDenied
from okai_insight.models import Account, Memory
from tests.supabase.replay import Replay, load, serve

R = uuid.UUID("11111111-1111-4111-8111-111111111111")
A = uuid.UUID("22222222-2222-4222-8222-222222222222")
U = uuid.UUID("33333333-3333-4333-8333-333333333333")
M1 = uuid.UUID("44444444-4444-4444-8444-444444444444")
M2 = uuid.UUID("55555555-5555-4555-8555-555555555555")
B = uuid.UUID("66666666-6666-4666-8666-666666666666")
X = uuid.UUID("77777777-7777-4777-8777-777777777777")
TS = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
E = np.eye(8, dtype=np.float32)[0]
#: JWT-shaped placeholders (header.payload.signature); the replay server checks them, nothing verifies them.
KEY = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiJ9.YW5vbi1rZXk"
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyIn0.dXNlci10b2tlbg"


@pytest.fixture
def replay_session() -> Iterator[tuple[Replay, str]]:
    replay = load("rest_session.json")
    server, url = serve(replay)
    yield replay, url
    server.shutdown()
    server.server_close()


def test_rest_session(replay_session: tuple[Replay, str]) -> None:
    replay, url = replay_session
    host = url.removeprefix("http://")
    db = connect(f"supabase://{host}?scheme=http&key={KEY}&access_token={TOKEN}")
    assert isinstance(db, SupabaseRestAdapter) and db.transport == "rest" and db.embedding_dimension == 8
    assert db.create_room(R) == R
    with pytest.raises(DuplicateId, match="already exists"):
        db.create_room(R)
    assert db.create_account(Account(id=A, name="Eliza", username="eliza", email="eliza@example.org"))
    acc = db.get_account_by_id(A)
    assert acc is not None and acc.name == "Eliza" and acc.created_at == TS
    assert db.add_participant(A, R)
    mem = Memory(id=M1, room_id=R, user_id=U, agent_id=A, content={"text": "hello"}, embedding=E, created_at=TS)
    assert db.create_memory(mem, "messages") == M1
    again = Memory(id=M2, room_id=R, user_id=U, agent_id=A, content={"text": "hello again"}, embedding=E, created_at=TS)
    assert db.create_memory(again, "messages", unique=True) == M2
    with pytest.raises(PermissionDenied, match="row-level security"):
        db.create_memory(
            Memory(room_id=R, user_id=B, agent_id=B, content={"text": "forged"}, created_at=TS), "messages"
        )
    hits = db.search_memories(table_name="messages", room_id=R, embedding=E, match_threshold=0.5, match_count=2)
    assert [h.id for h in hits] == [M1, M2] and [h.similarity for h in hits] == [1.0, 0.98]
    assert hits[0].embedding is not None and np.array_equal(hits[0].embedding, E) and hits[1].unique is False
    assert db.count_memories(R, unique=False, table_name="messages") == 2
    page = db.get_memories(R, "messages", count=1, before=(TS, M2))
    assert [m.id for m in page] == [M1] and page[0].content == {"text": "hello"} and page[0].room_id == R
    assert [(a.id, a.name) for a in db.get_actor_details(R)] == [(A, "Eliza")]
    assert db.remove_memory(M1, "messages") is True
    assert db.remove_memory(X, "messages") is False
    assert db.remove_all_memories(R, "messages") == 1
    assert db.set_cache(key="profile", agent_id=A, value='"Sam"')
    assert db.get_cache(key="profile", agent_id=A) == '"Sam"'
    assert db.get_room(X) is None
    with pytest.raises(FeatureNotAvailable, match="migration"):
        db.search_knowledge(agent_id=A, embedding=E, match_threshold=0.5, match_count=3)
    with pytest.raises(PermissionDenied, match="JWT expired"):
        db.get_room(R)
    db.close()
    replay.verify()
    # Every request carried the project key and the user's token, as Supabase's gateway expects.
    assert all(h["apikey"] == KEY and h["authorization"] == f"Bearer {TOKEN}" for h in replay.headers_seen)


def test_a_project_without_the_migration_is_refused() -> None:
    replay = load("rest_no_migration.json")
    server, url = serve(replay)
    try:
        db = open_supabase(f"supabase://{url.removeprefix('http://')}?scheme=http", environ={"SUPABASE_KEY": KEY})
        with pytest.raises(FeatureNotAvailable, match="okai_settings"):
            db.init()
        replay.verify()
        assert replay.headers_seen[0]["authorization"] == f"Bearer {KEY}"  # no user token: the key itself
    finally:
        db.close()
        server.shutdown()
        server.server_close()


def test_bad_input_is_refused_before_any_request(replay_session: tuple[Replay, str]) -> None:
    _replay, url = replay_session
    db = SupabaseRestAdapter(url, key=KEY)
    db.embedding_dimension = 8  # not initialised: any request would fail, so none may be sent
    from okai_insight.errors import DimensionMismatch, InvalidId

    with pytest.raises(DimensionMismatch):
        db.search_memories_by_embedding([1.0, 2.0], table_name="messages")
    with pytest.raises(InvalidId):
        db.get_room("not-a-uuid")


def test_supabase_urls() -> None:
    env = {"SUPABASE_URL": "https://abc.supabase.co", "SUPABASE_KEY": KEY, "SUPABASE_ACCESS_TOKEN": TOKEN}
    rest = open_supabase("supabase://", environ=env)
    assert isinstance(rest, SupabaseRestAdapter)
    assert (rest.url, rest.key, rest.access_token) == ("https://abc.supabase.co", KEY, TOKEN)
    named = open_supabase(f"supabase://xyz.supabase.co?key={KEY}", environ={})
    assert named.url == "https://xyz.supabase.co" and named.access_token is None  # type: ignore[attr-defined]
    direct = open_supabase(
        f"supabase+postgresql://postgres:pw@db.xyz.supabase.co:5432/postgres?user_id={A}&sslmode=require"
    )
    assert direct.transport == "direct"
    assert direct.url == "postgresql://postgres:pw@db.xyz.supabase.co:5432/postgres?sslmode=require"  # type: ignore[attr-defined]
    assert direct.user_id == A  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match="SUPABASE_URL"):
        open_supabase("supabase://", environ={})
    with pytest.raises(ConfigurationError, match="key"):
        open_supabase("supabase://xyz.supabase.co", environ={})
    with pytest.raises(ConfigurationError, match="user_id"):
        open_supabase("supabase+postgresql://postgres@localhost/postgres")
    with pytest.raises(ConfigurationError, match="role"):
        open_supabase(f"supabase+postgresql://postgres@localhost/postgres?user_id={A}&role=postgres")
