"""Contract: one row nested deeper than Python's json module can follow, planted by another writer with raw SQL,
leaves its room readable on every adapter: every read returns, the other rows intact, the deep row whole (with a
DeepContentWarning).

PostgreSQL stores jsonb ~10,000 levels deep (3,000 and 9,000 are planted here); SQLite's json_valid, which guards
its JSON columns, stops at 1,000, already past what json.loads decodes. Before the fix, get_memories, room search,
get_memories_by_room_ids and get_memory_by_id raised RecursionError on such a room.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.adapters.sqlite import SqliteAdapter
from okai_insight.errors import DeepContentWarning
from tests.contract._helpers import memory, unit, world

#: How deep each kind of database lets a row be (PostgreSQL: its stack; SQLite: json_valid's JSON_MAX_DEPTH).
POSTGRES_DEPTHS = (3000, 9000)
SQLITE_DEPTH = 1000


def _deep_text(depth: int) -> str:
    """A JSON object ``depth`` levels deep whose innermost value is ``"leaf"``."""
    return '{"a": ' * (depth - 1) + '{"text": "leaf"}' + "}" * (depth - 1)


def _leaf(content: Any) -> Any:
    while "a" in content:
        content = content["a"]
    return content["text"]


def _plant(db: Any, table: str, column: str, where: str, key: Any, text: str) -> None:
    """Overwrite one JSON value with raw SQL, as another program would (the adapter would refuse to write it)."""
    if isinstance(db, PostgresAdapter):
        with psycopg.connect(db.url, autocommit=True) as conn:
            n = conn.execute(f"UPDATE {table} SET {column} = %s::jsonb WHERE {where} = %s", (text, key)).rowcount
    else:
        assert isinstance(db, SqliteAdapter)
        n = db._write(lambda c: c.run(f"UPDATE {table} SET {column} = ? WHERE {where} = ?", (text, str(key))))
    assert n == 1


def _depths(db: Any) -> tuple[int, ...]:
    return POSTGRES_DEPTHS if isinstance(db, PostgresAdapter) else (SQLITE_DEPTH,)


@pytest.mark.parametrize("which", [0, -1])
def test_a_room_with_a_row_too_deep_for_json_stays_readable(db, which):
    depth = _depths(db)[which]
    user, agent, room = world(db)
    ids = [db.create_memory(memory(room, user, agent, f"m{i}", unit(1, i)), "messages") for i in range(3)]
    deep_id = ids[1]
    _plant(db, "memories", '"content"', '"id"', deep_id, _deep_text(depth))
    with pytest.raises(RecursionError):
        json.loads(_deep_text(depth))  # what every read below did before

    def check(found: list[Any], expected: set[uuid.UUID]) -> None:
        assert {m.id for m in found} == expected
        for m in found:
            if m.id == deep_id:
                assert _leaf(m.content) == "leaf"
            else:
                assert m.content == {"text": f"m{ids.index(m.id)}"}

    with pytest.warns(DeepContentWarning):
        check(db.get_memories(room, "messages"), set(ids))
    with pytest.warns(DeepContentWarning):
        check(db.get_memories(room, "messages", count=10), set(ids))
    with pytest.warns(DeepContentWarning):
        check(db.search_memories_by_embedding(unit(1, 1), table_name="messages", room_id=room, count=3), set(ids))
    with pytest.warns(DeepContentWarning):
        check(
            db.search_memories(
                table_name="messages", room_id=room, embedding=unit(1, 1), match_threshold=-1.0, match_count=3
            ),
            set(ids),
        )
    with pytest.warns(DeepContentWarning):
        check(db.get_memories_by_room_ids([room], "messages"), set(ids))
    with pytest.warns(DeepContentWarning):
        check(db.get_memories_by_ids(ids), set(ids))
    with pytest.warns(DeepContentWarning):
        got = db.get_memory_by_id(deep_id)
    assert got is not None and _leaf(got.content) == "leaf"
    # the rows around it read as always, without a warning (filterwarnings = error would raise it)
    assert db.get_memory_by_id(ids[0]).content == {"text": "m0"}
    assert db.remove_memory(deep_id, "messages") is True
    assert {m.id for m in db.get_memories(room, "messages")} == {ids[0], ids[2]}


def test_a_cache_value_too_deep_for_json_is_returned_as_its_json_text(db):
    from tests.contract._helpers import actor_id

    agent = actor_id(db)
    db.set_cache(key="deep", agent_id=agent, value="placeholder")
    depth = _depths(db)[0]
    text = '{"a": ' * (depth - 1) + "[1, 2]" + "}" * (depth - 1)
    _plant_cache(db, agent, text)
    with pytest.warns(DeepContentWarning):
        assert db.get_cache(key="deep", agent_id=agent) == text


def _plant_cache(db: Any, agent: uuid.UUID, text: str) -> None:
    if isinstance(db, PostgresAdapter):
        with psycopg.connect(db.url, autocommit=True) as conn:
            sql = 'UPDATE cache SET "value" = %s::jsonb WHERE "key" = %s AND "agentId" = %s'
            assert conn.execute(sql, (text, "deep", str(agent))).rowcount == 1
    else:
        sql = 'UPDATE cache SET "value" = ? WHERE "key" = ? AND "agentId" = ?'
        assert db._write(lambda c: c.run(sql, (text, "deep", str(agent)))) == 1
