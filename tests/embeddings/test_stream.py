"""The streaming read behind explore at scale (issue 17 item 4): a server-side cursor in binary, vectors decoded a
batch at a time into one preallocated matrix. It must return exactly what the plain read returns: the same rows,
vectors (float32, vector and halfvec columns), metadata and, with a limit, the same keyed order."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import psycopg
import pytest

from okai_insight.embeddings import _fetch
from okai_insight.embeddings._fetch import Filters, fetch, uuid_categories, uuid_text
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


# --- the columnar read (fetch_packed.sql): fixed-width parts packed by the server, decoded a batch at a time ------


def _missing_as_none(values) -> list:
    return [None if v is None or v != v else v for v in values]


def test_the_packed_query_reads_what_fetch_rows_reads() -> None:
    from okai_insight.query_files import load_sql

    def tail(name: str) -> str:  # FROM, WHERE, ORDER BY and LIMIT
        return load_sql("embeddings", name).split("FROM {sampled}", 1)[1]

    assert tail("fetch_packed") == tail("fetch_rows")


def test_streaming_text_ids_and_missing_metadata(world: World, pg_url: str, monkeypatch) -> None:
    """Ids that are not uuids come as text; a NULL agent, room or time stays missing (the packed row carries the nil
    uuid and a NULL mask); a nil uuid that is a real value stays a value."""
    nil = uuid.UUID(int=0)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS odd_memories")
        conn.execute(  # a keyed share of the rows (hashtext of the id, so the same rows every run)
            "CREATE TABLE odd_memories AS SELECT 'm-' || row_number() OVER (ORDER BY id) AS id, "
            'CASE WHEN abs(hashtext(id::text)) %% 10 < 3 THEN NULL ELSE "agentId" END AS "agentId", '
            "CASE WHEN abs(hashtext(id::text || 'r')) %% 10 < 3 THEN NULL "
            "WHEN abs(hashtext(id::text || 'r')) %% 10 < 5 THEN %s::uuid "
            'ELSE "roomId" END AS "roomId", "userId", "type", '
            'CASE WHEN abs(hashtext(id::text || \'t\')) %% 10 < 3 THEN NULL ELSE "createdAt" END AS "createdAt", '
            "content, embedding FROM memories",
            (nil,),
        )
        conn.execute("ANALYZE odd_memories")
    plain, Xp, _ = _read(pg_url, "odd_memories", monkeypatch, stream=False, limit=None)
    streamed, Xs, _ = _read(pg_url, "odd_memories", monkeypatch, stream=True, limit=None)
    assert sorted(streamed["id"]) == sorted(plain["id"]) and all(i.startswith("m-") for i in streamed["id"])
    order = {i: n for n, i in enumerate(plain["id"])}
    back = [order[i] for i in streamed["id"]]
    assert np.array_equal(Xs, Xp[back])
    a = streamed.set_index("id").loc[list(plain["id"])]
    for col in ("agent_id", "room_id", "user_id", "world_id", "type", "text_preview", "group"):
        assert _missing_as_none(a[col]) == _missing_as_none(plain[col]), col
    assert a["agent_id"].isna().any() and a["room_id"].isna().any() and (a["room_id"] == nil).any()
    got, want = a["created_at"].tolist(), plain["created_at"].tolist()
    assert [t is pd.NaT for t in got] == [t is pd.NaT or t is None for t in want] and any(t is pd.NaT for t in got)
    assert all(g == w for g, w in zip(got, want, strict=True) if g is not pd.NaT)


def test_streamed_frames_are_columnar(world: World, pg_url: str, monkeypatch) -> None:
    """The agent, room, user and world columns are categories of uuids (a million rows, a few thousand values),
    the times a UTC datetime column, the ids text."""
    frame, _, _ = _read(pg_url, "memories", monkeypatch, stream=True, limit=None)
    for col in ("agent_id", "room_id", "user_id", "world_id", "type"):
        assert isinstance(frame[col].dtype, pd.CategoricalDtype), col
    assert set(frame["room_id"].cat.categories) <= set(world.rooms)
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
    assert all(str(uuid.UUID(i)) == i for i in frame["id"])


def test_uuid_categories_when_uuids_share_their_first_bytes() -> None:
    a = uuid.UUID("01234567-89ab-cdef-0000-000000000001")
    b = uuid.UUID("01234567-89ab-cdef-0000-000000000002")  # the same first 8 bytes: hashing them is not enough
    c = uuid.uuid4()
    raw = np.frombuffer(b"".join(u.bytes for u in (a, b, c, a, b)), np.uint8).reshape(5, 16)
    cat = uuid_categories(raw, np.array([False, False, False, False, True]))
    assert list(cat[:4]) == [a, b, c, a] and cat.isna().tolist() == [False] * 4 + [True]
    assert sorted(cat.categories) == sorted([a, b, c])
    assert list(uuid_text(raw)) == [str(u) for u in (a, b, c, a, b)]


def test_streaming_vectors_of_several_dimensions(pg_url: str, monkeypatch) -> None:
    from okai_insight.errors import InvalidInput
    from tests.embeddings._world import build_mixed_dims

    main, _ = build_mixed_dims(pg_url)
    with pytest.raises(InvalidInput, match="several dimensions"):
        _read(pg_url, "vectors_any", monkeypatch, stream=True, limit=None)
    frame, X, _ = _read(pg_url, "vectors_any", monkeypatch, stream=True, limit=None, dims=16)
    assert set(frame["id"]) == main and X.shape == (len(main), 16)
