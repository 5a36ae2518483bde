"""Memory rows are decoded a result at a time (okai_insight.adapters._pg_memory_rows): every row still gets its own
embedding and content, whatever the result holds (several chunks, NULLs, mixed dimensions, halfvec, contents
nested too deep for ``json``, JSON text stored as a jsonb string), read from a real server.
"""

from __future__ import annotations

import json
import uuid

import numpy as np
import psycopg
import pytest

from okai_insight.adapters._pg_memory_rows import CHUNK_ROWS, memories, raw_memory_columns
from okai_insight.adapters.postgres import register
from okai_insight.errors import DeepContentWarning

#: A memory row from literal values: %(extra)s adds columns, {embedding} and {content} are SQL expressions.
ROW = (
    "SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid AS id, 'messages' AS type, "
    "'2026-01-01'::timestamptz + i * interval '1 s' AS \"createdAt\", {content} AS content, {embedding} AS embedding, "
    'NULL::uuid AS "userId", NULL::uuid AS "agentId", NULL::uuid AS "roomId", i %% 2 = 0 AS is_unique{extra} '
    "FROM generate_series(1, %(n)s) AS i ORDER BY i"
)


@pytest.fixture(scope="module")
def conn(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register(c, ef_search=40)
        yield c


def _read(conn, embedding: str, content: str, n: int, *, raw: bool = True, extra: str = ""):
    cur = conn.cursor()
    if raw:
        raw_memory_columns(cur)
    query = ROW.format(embedding=embedding, content=content, extra=extra)
    return memories(cur, cur.execute(query, {"n": n}, binary=True).fetchall())


def _expected_vector(i: int, dim: int = 3) -> list[float]:
    return [float(i), float(i) / 2, -float(i)][:dim]


def test_each_row_keeps_its_own_embedding_and_content_across_chunks(conn):
    n = 2 * CHUNK_ROWS + 7
    found = _read(
        conn,
        "format('[%%s,%%s,%%s]', i, i / 2.0, -i)::vector",
        "jsonb_build_object('text', 'row ' || i, 'i', i)",
        n,
        extra=", 0.25::float8 * (i %% 3) AS distance",
    )
    assert len(found) == n
    for i, m in enumerate(found, start=1):
        assert m.id == uuid.UUID(int=i) and m.content == {"text": f"row {i}", "i": i}
        assert m.embedding is not None and m.embedding.dtype == np.float32
        assert m.embedding.tolist() == _expected_vector(i)
        assert m.similarity == 1.0 - 0.25 * (i % 3) and m.unique is (i % 2 == 0) and m.type == "messages"
    # Rows of one chunk share one block; a memory kept from a large read keeps at most a chunk alive.
    first, same_chunk, next_chunk = found[0].embedding, found[1].embedding, found[CHUNK_ROWS].embedding
    assert first.base is same_chunk.base and first.base is not next_chunk.base
    assert first.base.shape[0] <= CHUNK_ROWS
    # ... and each embedding is writable without touching its neighbours
    first[0] = 99.0
    assert same_chunk.tolist() == _expected_vector(2) and found[0].embedding[0] == 99.0


def test_nulls_and_mixed_dimensions_are_decoded_row_by_row(conn):
    expression = "CASE WHEN i = 2 THEN NULL WHEN i = 3 THEN '[7,8]'::vector ELSE format('[%%s,%%s,%%s]', i, i / 2.0, -i)::vector END"
    found = _read(conn, expression, "jsonb_build_object('i', i)", 4)
    assert [None if m.embedding is None else m.embedding.tolist() for m in found] == [
        _expected_vector(1),
        None,
        [7.0, 8.0],
        _expected_vector(4),
    ]
    assert all(m.embedding is None or m.embedding.dtype == np.float32 for m in found)


def test_halfvec_embeddings_arrive_as_float32(conn):
    found = _read(conn, "format('[%%s,%%s,%%s]', i, i / 2.0, -i)::halfvec", "'{}'::jsonb", 3)
    assert [m.embedding.tolist() for m in found] == [_expected_vector(i) for i in (1, 2, 3)]
    assert {m.embedding.dtype for m in found} == {np.dtype(np.float32)}


def test_contents_of_every_shape(conn):
    """An object; JSON text stored as a jsonb string (decoded, as ElizaOS wrote some); a string that is not JSON
    (kept); an array; NULL."""
    expression = (
        'CASE i WHEN 1 THEN \'{"text": "a"}\'::jsonb WHEN 2 THEN to_jsonb(\'{"text": "b"}\'::text) '
        "WHEN 3 THEN to_jsonb('not json'::text) WHEN 4 THEN '[1, 2]'::jsonb ELSE NULL END"
    )
    found = _read(conn, "'[1,2,3]'::vector", expression, 5)
    assert [m.content for m in found] == [{"text": "a"}, {"text": "b"}, "not json", [1, 2], None]


def test_a_content_nested_too_deep_for_json_is_read_with_the_others(conn):
    depth = 3000
    deep = json.dumps({"text": "deep"})
    for _ in range(depth):
        deep = '{"a": ' + deep + "}"
    conn.execute("CREATE TEMP TABLE deep_content (i int, doc jsonb)")
    conn.execute('INSERT INTO deep_content VALUES (1, \'{"text": "flat"}\'), (2, %s::jsonb)', (deep,))
    query = ROW.format(
        embedding="'[1,2,3]'::vector", content="(SELECT d.doc FROM deep_content AS d WHERE d.i = i.i)", extra=""
    )
    cur = raw_memory_columns(conn.cursor())
    with pytest.warns(DeepContentWarning):
        found = memories(cur, cur.execute(query, {"n": 2}, binary=True).fetchall())
    assert found[0].content == {"text": "flat"}
    value = found[1].content
    for _ in range(depth):
        value = value["a"]
    assert value == {"text": "deep"}


def test_default_loaders_give_the_same_memories(conn):
    """A cursor with the connection's own loaders (dicts, pgvector's Vector) builds the same memories."""
    args = ("format('[%%s,%%s,%%s]', i, i / 2.0, -i)::vector", "jsonb_build_object('i', i)", 5)
    raw, plain = _read(conn, *args), _read(conn, *args, raw=False)
    assert raw == plain
    assert [m.embedding.tolist() for m in raw] == [m.embedding.tolist() for m in plain]


def test_a_result_without_the_memory_columns_is_refused(conn):
    cur = raw_memory_columns(conn.cursor())
    rows = cur.execute("SELECT 1 AS id, 'x' AS surprise", binary=True).fetchall()
    with pytest.raises(psycopg.ProgrammingError, match="needs the columns"):
        memories(cur, rows)
    assert memories(cur, []) == []
