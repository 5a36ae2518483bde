"""``connect()`` on ElizaOS 1.x gives a read-only handle (issue 14 item 1): reads answer what raw SQL on the 1.x
tables says, every contract write raises ReadOnlySchema naming the schema, and nothing changes.

Before: ``connect()`` raised ReadOnlySchema for the whole database (no reads at all).
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg
import pytest

import okai_insight
from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.adapters.elizaos1 import WRITE_METHODS, ElizaOS1Reader
from okai_insight.errors import MixedDimensions, ReadOnlySchema, SchemaError
from tests.elizaos1.conftest import ElizaOS1Databases
from tests.elizaos1.snapshot import fingerprint

NAME = "ElizaOS 1.x (@elizaos/plugin-sql)"


def _raw(url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _agents(elizaos1: ElizaOS1Databases) -> tuple[str, str]:
    ada, grace = elizaos1.postgres_summary["agents"]
    return ada["agentId"], grace["agentId"]


def test_every_contract_write_is_refused_and_nothing_changes(elizaos1: ElizaOS1Databases) -> None:
    before = fingerprint(elizaos1.url)
    db = okai_insight.connect(elizaos1.url)
    try:
        assert isinstance(db, ElizaOS1Reader)
        # Every public contract method that is not a read: the list must cover them all.
        public = {n for n, _ in inspect.getmembers(DatabaseAdapter, inspect.isfunction) if not n.startswith("_")}
        reads = {n for n in public if n.startswith(("get_", "search_", "count_", "iter_"))} | {"init", "close"}
        assert public - reads == set(WRITE_METHODS)
        some = uuid.uuid4()
        for name in WRITE_METHODS:
            with pytest.raises(ReadOnlySchema) as err:
                getattr(db, name)(some, some)
            assert err.value.schema == NAME and name in str(err.value)
        # Even a bug that reached the connection could not write: the session is read-only at the server.
        with pytest.raises(ReadOnlySchema):
            db._rows("DELETE FROM cache")
    finally:
        db.close()
    assert fingerprint(elizaos1.url) == before


def test_reads_match_raw_sql(elizaos1: ElizaOS1Databases) -> None:
    ada, grace = _agents(elizaos1)
    url = elizaos1.url
    before = fingerprint(url)
    with okai_insight.connect(url) as db:
        assert isinstance(db, ElizaOS1Reader) and db.dimensions == (384, 768)
        room, n = _raw(
            url, "SELECT room_id, count(*) FROM memories WHERE type = 'messages' GROUP BY 1 ORDER BY 2 DESC"
        )[0]
        got = db.get_memories(room, "messages")
        raw = _raw(
            url,
            "SELECT id FROM memories WHERE room_id = %s AND type = 'messages' ORDER BY created_at DESC, id DESC",
            room,
        )
        assert [m.id for m in got] == [r[0] for r in raw] and len(got) == n
        assert sum(1 for _ in db.iter_memories(room, "messages", page_size=7)) == n
        assert db.count_memories(room, unique=False, table_name="messages") == n
        unique = _raw(
            url, "SELECT count(*) FROM memories WHERE room_id = %s AND type = 'messages' AND \"unique\"", room
        )
        assert db.count_memories(room, unique=True, table_name="messages") == unique[0][0]

        mid, text, vec = _raw(
            url,
            "SELECT m.id, m.content->>'text', e.dim_384::real[] FROM memories m JOIN embeddings e "
            "ON e.memory_id = m.id WHERE e.dim_384 IS NOT NULL AND vector_norm(e.dim_384) > 0 ORDER BY m.id LIMIT 1",
        )[0]
        one = db.get_memory_by_id(mid)
        assert one is not None and one.content["text"] == text and one.user_id is not None
        assert one.embedding is not None and np.allclose(one.embedding, vec)
        assert {m.id for m in db.get_memories_by_room_ids([room], "messages")} == {r[0] for r in raw}

        # Cosine search over the agent's column, exact; zero vectors (which 1.x returns first) never match.
        hits = db.search_memories_by_embedding(vec, table_name="messages", agent_id=ada, count=5)
        expected = _raw(
            url,
            "SELECT m.id FROM embeddings e JOIN memories m ON m.id = e.memory_id WHERE m.type = 'messages' "
            "AND m.agent_id = %s AND vector_norm(e.dim_384) > 0 ORDER BY e.dim_384 <=> %s::real[]::vector, m.id LIMIT 5",
            ada,
            list(vec),
        )
        assert [h.id for h in hits] == [r[0] for r in expected] and hits[0].id == mid
        assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
        zeros = {r[0] for r in _raw(url, "SELECT memory_id FROM embeddings WHERE vector_norm(dim_384) = 0")}
        assert zeros  # the fixture has them
        wide = db.search_memories_by_embedding(vec, table_name="messages", agent_id=ada, count=10_000)
        assert not zeros & {h.id for h in wide}

        # Two agents, two dimensions: a search without a choice is refused with a typed error.
        with pytest.raises(MixedDimensions, match="384 and 768"):
            db.search_memories_by_embedding(vec, table_name="messages")
        with pytest.raises(MixedDimensions):
            _ = db.embedding_dimension
        assert db.dimension_for(uuid.UUID(grace)) == 768

        account = db.get_account_by_id(ada)
        assert account is not None and account.name == "Ada" and account.username == "ada"
        user = _raw(
            url, "SELECT id, names FROM entities WHERE agent_id = %s AND id <> %s ORDER BY id LIMIT 1", ada, ada
        )[0]
        entity = db.get_account_by_id(user[0])
        assert entity is not None and entity.name == user[1][0] and entity.details["names"] == user[1]
        rooms = _raw(url, "SELECT DISTINCT room_id FROM participants WHERE entity_id = %s ORDER BY 1", user[0])
        assert db.get_rooms_for_participant(user[0]) == [r[0] for r in rooms]
        members = _raw(url, "SELECT DISTINCT entity_id FROM participants WHERE room_id = %s ORDER BY 1", room)
        assert db.get_participants_for_room(room) == [r[0] for r in members]
        rels = _raw(url, "SELECT id FROM relationships WHERE source_entity_id = %s OR target_entity_id = %s", ada, ada)
        assert {r.id for r in db.get_relationships(ada)} == {r[0] for r in rels} and rels
        key, agent, value = _raw(url, "SELECT key, agent_id, value FROM cache ORDER BY key LIMIT 1")[0]
        cached = db.get_cache(key=key, agent_id=agent)
        assert cached is not None and json.loads(cached) == value
    assert fingerprint(url) == before


def test_a_chosen_dimension_or_agent_picks_the_column(
    elizaos1: ElizaOS1Databases, make_database: Callable[..., str]
) -> None:
    ada, grace = _agents(elizaos1)
    with okai_insight.connect(elizaos1.url, dimension=768) as db:
        assert db.embedding_dimension == 768
    with ElizaOS1Reader(elizaos1.url, agent_id=ada) as db:
        db.init()
        assert db.embedding_dimension == 384
    with pytest.raises(MixedDimensions):
        okai_insight.connect(elizaos1.url, dimension=1536)
    with pytest.raises(SchemaError, match=r"not an ElizaOS 1\.x"):
        ElizaOS1Reader(make_database("e1empty")).init()
