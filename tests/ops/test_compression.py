"""Half-precision embeddings: the measured recall cost, and the conversion the adapter keeps working on."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.cli import main
from okai_insight.errors import InvalidInput
from okai_insight.ops.compression import compress_to_halfvec, halfvec_impact
from tests.ops._data import DIM, populate


@pytest.fixture(scope="module")
def url(make_database):
    return populate(make_database("halfvec"), memories=200).url


def test_impact_is_measured_for_old_or_all_embeddings(url):
    everything = halfvec_impact(url, queries=20)
    assert everything.rows_total == everything.rows_affected == 200
    assert everything.bytes_saved == 200 * 2 * DIM
    assert 0.9 <= everything.recall_at_k <= 1.0 and everything.queries == 20
    old = halfvec_impact(url, older_than_days=30, queries=20)
    assert old.rows_affected == 100 and old.recall_at_k >= everything.recall_at_k - 0.05
    with pytest.raises(InvalidInput):
        halfvec_impact(url, k=0)


def test_conversion_is_refused_when_half_precision_merges_near_duplicates(make_database):
    target = populate(make_database("halfdup"), memories=20).url
    with psycopg.connect(target) as conn:  # 60 near-duplicates that differ below half precision
        conn.execute(
            'INSERT INTO memories ("type", "content", "embedding", "roomId") '
            "SELECT 'messages', '{}'::jsonb, (SELECT array_agg(1 + CASE WHEN d = 1 THEN g * 1e-5 ELSE 0 END) "
            'FROM generate_series(1, %s) AS d)::vector, (SELECT "id" FROM rooms LIMIT 1) '
            "FROM generate_series(1, 60) AS g",
            (DIM,),
        )
    with pytest.raises(InvalidInput, match="below min_recall"):
        compress_to_halfvec(target, min_recall=0.99, queries=20, k=5)
    with psycopg.connect(target) as conn:
        typ = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'memories'::regclass AND attname = 'embedding'"
        ).fetchone()
    assert typ == (f"vector({DIM})",)  # untouched


def test_conversion_keeps_the_adapter_working(url, capsys):
    assert main(["compress", url, "--older-than-days", "30", "--queries", "5"]) == 0
    assert "dry run: 100 of 200 embeddings as halfvec" in capsys.readouterr().out
    done = compress_to_halfvec(url, min_recall=0.8, queries=10)
    assert done.impact.recall_at_k >= 0.8
    with psycopg.connect(url) as conn:
        typ = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'memories'::regclass AND attname = 'embedding'"
        ).fetchone()
        opclass = conn.execute(
            "SELECT opc.opcname FROM pg_index AS i JOIN pg_opclass AS opc ON opc.oid = i.indclass[0] "
            "WHERE i.indexrelid = 'idx_memories_embedding'::regclass"
        ).fetchone()
        stored = conn.execute('SELECT "id", embedding::vector::text FROM memories LIMIT 1').fetchone()
    assert typ == (f"halfvec({DIM})",) and opclass == ("halfvec_cosine_ops",)
    db = PostgresAdapter(url, dimension=DIM)
    db.init()
    try:
        assert db.profile.vector_type == "halfvec"
        q = np.array([float(x) for x in stored[1].strip("[]").split(",")], dtype=np.float32)
        for table in ("messages", "facts"):
            found = db.search_memories_by_embedding(q, table_name=table, count=1)
            if found and found[0].id == stored[0]:
                assert found[0].similarity > 0.999
                break
        else:
            pytest.fail("the stored vector is not its own nearest neighbour after conversion")
    finally:
        db.close()
    with pytest.raises(InvalidInput, match="already halfvec"):
        halfvec_impact(url)


def _column_state(url: str) -> tuple[object, ...]:
    """The embedding column's type, its index's operator class and a digest of every stored embedding."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            """
            SELECT
                (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                 WHERE attrelid = 'memories'::regclass AND attname = 'embedding'),
                (SELECT opc.opcname FROM pg_index AS i JOIN pg_opclass AS opc ON opc.oid = i.indclass[0]
                 WHERE i.indexrelid = 'idx_memories_embedding'::regclass),
                (SELECT md5(string_agg("id"::text || embedding::text, ',' ORDER BY "id")) FROM memories)
            """
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_an_age_scoped_conversion_is_refused_and_changes_nothing(make_database, capsys):
    # issue 19 item 3: "--older-than-days 90 --execute" used to convert every row, the age filter ignored
    target = populate(make_database("halfage"), memories=20).url
    before = _column_state(target)
    assert before[:2] == (f"vector({DIM})", "vector_cosine_ops")
    assert main(["compress", target, "--older-than-days", "30", "--execute", "--min-recall", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "InvalidInput" in err and "one type for every row" in err and "older than 30 days" in err
    with pytest.raises(InvalidInput, match="cannot compress only embeddings older than 90 days"):
        compress_to_halfvec(target, older_than_days=90, min_recall=0.5)
    with pytest.raises(InvalidInput, match="integer >= 0"):
        compress_to_halfvec(target, older_than_days=-1)
    assert _column_state(target) == before
    # the dry run measures the old rows and says what --execute would really do
    assert main(["compress", target, "--older-than-days", "30", "--queries", "5"]) == 0
    assert "--execute converts the whole column, every row" in capsys.readouterr().out
    assert _column_state(target) == before
