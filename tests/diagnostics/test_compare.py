"""explain --compare measures honestly: a warm-up, several alternating runs, medians with their range, and "same"
when a difference is inside the noise; a real difference is still reported."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest

from okai_insight.diagnostics import explain as ex
from okai_insight.errors import InvalidInput

SEARCH = "SELECT id FROM vecs ORDER BY e <=> (SELECT e FROM vecs WHERE id = 1) LIMIT 10"
SELECTIVE = "SELECT count(pad) FROM wide WHERE k = 17"


@pytest.fixture(scope="module")
def db(pg_url: str) -> str:
    rng = np.random.default_rng(4)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE vecs (id int PRIMARY KEY, e vector(32))")
        with conn.cursor().copy("COPY vecs (id, e) FROM STDIN") as cp:
            for i, v in enumerate(rng.standard_normal((3000, 32)), start=1):
                cp.write_row((i, "[" + ",".join(f"{x:.5f}" for x in v) + "]"))
        conn.execute("CREATE INDEX vecs_hnsw ON vecs USING hnsw (e vector_cosine_ops)")
        # 200k narrow rows, 20 of them with k = 17: an index lookup against a scan of the whole table
        conn.execute(
            "CREATE TABLE wide AS SELECT g AS id, (g * 7919) % 10000 AS k, md5(g::text) AS pad "
            "FROM generate_series(1, 200000) AS g"
        )
        conn.execute("CREATE INDEX wide_k ON wide (k)")
        conn.execute("VACUUM ANALYZE")
    return pg_url


def _rows(result):
    return {r["metric"]: r for r in result.rows}


@pytest.mark.parametrize(
    ("before", "after"), [(None, {"hnsw.ef_search": "40"}), ({"hnsw.ef_search": "40"}, None)], ids=["AB", "BA"]
)
def test_a_setting_compared_with_itself_is_the_same(db, before, after):
    result = ex.compare_settings(db, SEARCH, after, before_settings=before)
    rows = _rows(result)
    assert rows["execution_ms"]["change"] == "same", rows["execution_ms"]
    assert rows["planning_ms"]["change"] == "same", rows["planning_ms"]
    assert rows["plan"]["change"] == "same"
    for side in ("before_range", "after_range"):  # medians with their spread, over the runs
        assert f"{ex.COMPARE_RUNS} runs)" in rows["execution_ms"][side]
    assert [len(side) for side in result.runs] == [ex.COMPARE_RUNS, ex.COMPARE_RUNS]
    assert not [f for f in result.findings if "slower" in f.message]


def test_a_real_difference_is_reported(db):
    seq = {"enable_indexscan": "off", "enable_bitmapscan": "off"}
    result = ex.compare_settings(db, SELECTIVE, {"enable_seqscan": "off"}, before_settings=seq, runs=5)
    rows = _rows(result)
    assert "Seq Scan on wide" in rows["plan"]["before"] and "Index" in rows["plan"]["after"]
    change = rows["execution_ms"]["change"]
    assert change != "same" and "faster" in change, rows["execution_ms"]
    assert rows["execution_ms"]["before"] > 3 * rows["execution_ms"]["after"]
    # the other way round: slower, with the spread that makes it a real difference in the finding
    back = ex.compare_settings(db, SELECTIVE, seq, before_settings={"enable_seqscan": "off"}, runs=5)
    (slower,) = [f for f in back.findings if "slower" in f.message]
    assert slower.severity == "warning" and "5 runs" in slower.message


def test_timing_rule():
    same = ex.timing_change(ex.Timing((1.0, 1.2, 1.4)), ex.Timing((1.3, 1.5, 1.6)))  # ranges overlap
    assert same == "same"
    assert ex.timing_change(ex.Timing((1.00, 1.01)), ex.Timing((1.05, 1.06))) == "same"  # apart but under 10 %
    assert ex.timing_change(ex.Timing((1.0, 1.1)), ex.Timing((2.0, 2.2))).endswith("(2.0x slower)")
    with pytest.raises(InvalidInput, match="runs must be"):
        ex.compare_settings("postgresql://nobody@/none?host=/nonexistent", SEARCH, {}, runs=0)
