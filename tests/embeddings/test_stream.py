"""The streaming read behind explore at scale (issue 17 item 4): a server-side cursor in binary, vectors decoded a
batch at a time into one preallocated matrix. It must return exactly what the plain read returns: the same rows,
vectors (float32, vector and halfvec columns), metadata and, with a limit, the same keyed order."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from okai_insight.embeddings import _fetch
from okai_insight.embeddings._fetch import Filters, fetch
from okai_insight.embeddings._table import read_table
from okai_insight.runner import using
from tests.embeddings._world import World


def _read(url: str, table: str, monkeypatch: pytest.MonkeyPatch, *, stream: bool, **kwargs):
    monkeypatch.setattr(_fetch, "STREAM_ROWS", 0 if stream else 10**9)
    monkeypatch.setattr(_fetch, "STREAM_BATCH", 37)  # several batches, the last one partial
    with using(url) as run:
        t = read_table(run, table)
        return fetch(run, t, **kwargs)


def test_streaming_read_equals_the_plain_read(world: World, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, Xp, _ = _read(pg_url, "memories", monkeypatch, stream=False, limit=None)
    streamed, Xs, _ = _read(pg_url, "memories", monkeypatch, stream=True, limit=None)
    assert Xs.dtype == np.float32 and Xs.shape == Xp.shape and Xs.flags.c_contiguous
    ids, _ = world.matrix()
    assert sorted(streamed["id"]) == sorted(plain["id"]) == sorted(ids)  # zero and NULL vectors left out
    order = {i: n for n, i in enumerate(plain["id"])}
    back = [order[i] for i in streamed["id"]]
    assert np.array_equal(Xs, Xp[back])
    a = streamed.set_index("id").sort_index()
    b = plain.set_index("id").sort_index()
    assert a.astype(str).equals(b.astype(str))  # agent, room, user, type, created_at, text preview, group


def test_streaming_with_a_limit_keeps_the_keyed_order(world: World, pg_url: str, monkeypatch) -> None:
    plain, Xp, _ = _read(pg_url, "memories", monkeypatch, stream=False, limit=100, seed=3)
    streamed, Xs, _ = _read(pg_url, "memories", monkeypatch, stream=True, limit=100, seed=3)
    assert list(streamed["id"]) == list(plain["id"]) and np.array_equal(Xs, Xp)
    room = str(world.rooms[1])
    one, X1, _ = _read(pg_url, "memories", monkeypatch, stream=True, limit=None, filters=Filters(room_id=room))
    assert set(one["room_id"].astype(str)) == {room} and X1.shape[0] == len(one) > 0


def test_streaming_a_halfvec_column(world: World, pg_url: str, monkeypatch) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS half_memories")
        conn.execute(
            'CREATE TABLE half_memories AS SELECT id, "agentId", "roomId", "userId", "type", "createdAt", content, '
            f"embedding::halfvec({world.dim}) AS embedding FROM memories"
        )
        conn.execute("ANALYZE half_memories")
    plain, Xp, _ = _read(pg_url, "half_memories", monkeypatch, stream=False, limit=None)
    streamed, Xs, _ = _read(pg_url, "half_memories", monkeypatch, stream=True, limit=None)
    order = {i: n for n, i in enumerate(plain["id"])}
    assert Xs.dtype == np.float32 and np.array_equal(Xs, Xp[[order[i] for i in streamed["id"]]])


def test_an_empty_streaming_read(world: World, pg_url: str, monkeypatch) -> None:
    frame, X, _ = _read(pg_url, "memories", monkeypatch, stream=True, limit=None, filters=Filters(type="nothing"))
    assert len(frame) == 0 and X.shape == (0, world.dim)
