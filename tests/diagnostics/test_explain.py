"""EXPLAIN analysis on real plans: each finding on a plan that shows it, quiet on good plans, and safe."""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest

from okai_insight.cli import main
from okai_insight.diagnostics import explain as ex
from okai_insight.diagnostics._runner import CheckUnavailable
from okai_insight.errors import InvalidInput

DIM = 8
PARALLEL = {
    "max_parallel_workers": "0",
    "max_parallel_workers_per_gather": "2",
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
}


def vec(seed: int) -> str:
    return "[" + ",".join(f"{x:.4f}" for x in np.random.default_rng(seed).standard_normal(DIM)) + "]"


@pytest.fixture(scope="module")
def db(pg_url: str) -> str:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        # a and b are perfectly correlated: the planner multiplies their selectivities and underestimates 100x
        conn.execute(
            "CREATE TABLE big AS SELECT g AS id, g % 100 AS a, g % 100 AS b, md5(g::text) AS pad "
            "FROM generate_series(1, 50000) AS g"
        )
        conn.execute("ALTER TABLE big ADD PRIMARY KEY (id)")
        conn.execute("CREATE TABLE small AS SELECT g AS id FROM generate_series(1, 2000) AS g")
        # never vacuumed: its visibility map is empty, so an index-only scan must visit the heap
        conn.execute("CREATE TABLE fresh (id int) WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO fresh SELECT generate_series(1, 20000)")
        conn.execute("CREATE INDEX fresh_id ON fresh (id)")
        conn.execute("CREATE SEQUENCE counter")
        conn.execute(f"CREATE TABLE vecs (id int PRIMARY KEY, room int, grp int, e vector({DIM}))")
        conn.execute(
            "INSERT INTO vecs SELECT g, g % 100, g % 10, "
            f"(SELECT array_agg(random() - 0.5 + 0 * d + 0 * g) FROM generate_series(1, {DIM}) AS d)::vector "
            "FROM generate_series(1, 12000) AS g"
        )
        conn.execute("CREATE INDEX vecs_hnsw ON vecs USING hnsw (e vector_cosine_ops)")
        conn.execute("CREATE INDEX vecs_room ON vecs (room)")
        conn.execute("CREATE TABLE plain_vecs AS SELECT id, e FROM vecs")
        conn.execute("ANALYZE")
    return pg_url


def codes(result: ex.ExplainResult) -> list[tuple[str, str]]:
    return [(f.severity, f.threshold or "") for f in result.findings]


def loud(result):
    return [f for f in result.findings if f.severity != "info"]


# -- general findings -------------------------------------------------------------------------------------------
def test_misestimate_and_filter_on_a_large_sequential_scan(db):
    r = ex.explain(db, "SELECT * FROM big WHERE a = 1 AND b = 1", analyze=True)
    scan = r.node("Seq Scan")
    assert scan is not None and scan.actual_rows == 500 and scan.estimated_rows < 50
    assert scan.estimate_factor >= 10 and scan.underestimated
    mis = [f for f in r.findings if f.threshold.startswith("estimate factor")]
    assert mis and mis[0].subject == "node 0: Seq Scan on big"
    assert "ANALYZE big" in mis[0].fix_sql and "CREATE STATISTICS" in mis[0].fix_sql
    filt = [f for f in r.findings if f.threshold.startswith("rows removed by filter")]
    assert filt and filt[0].severity == "warning" and "99 %" in filt[0].message
    assert "CREATE INDEX CONCURRENTLY ON big" in filt[0].fix_sql
    row = r.rows[0]
    assert row["rows_removed_by_filter"] == 49500 and row["shared_hit_blocks"] + row["shared_read_blocks"] > 0


def test_disk_sort_and_hash_batches(db):
    r = ex.explain(db, "SELECT * FROM big ORDER BY pad", analyze=True, settings={"work_mem": "64kB"})
    sort = r.node("Sort")
    assert sort.sort_space_type == "Disk" and sort.sort_method == "external merge"
    (f,) = [f for f in r.findings if f.threshold == "Sort Space Type = Disk"]
    assert f.severity == "warning" and f.fix_sql.startswith("SET work_mem = '")
    assert r.settings == {"work_mem": "64kB"}
    h = ex.explain(
        db,
        "SELECT count(*) FROM big x JOIN big y ON x.pad = y.pad",
        analyze=True,
        settings={
            "work_mem": "64kB",
            "enable_mergejoin": "off",
            **{k: "0" for k in ("max_parallel_workers_per_gather",)},
        },
    )
    assert h.node("Hash").hash_batches > 1
    assert any(f.threshold == "Hash Batches > 1" for f in h.findings)


def test_nested_loop_heap_fetches_and_workers(db):
    nl = ex.explain(
        db,
        "SELECT count(*) FROM small s JOIN big b ON b.id = s.id",
        analyze=True,
        settings={"enable_hashjoin": "off", "enable_mergejoin": "off"},
    )
    loop = nl.node("Nested Loop")
    assert loop is not None and nl.nodes[loop.children[1]].loops == 2000
    assert any(f.threshold.startswith("inner loops >=") and f.subject.endswith("Nested Loop") for f in nl.findings)
    hf = ex.explain(
        db,
        "SELECT id FROM fresh WHERE id < 5000",
        analyze=True,
        settings={"enable_seqscan": "off", "enable_bitmapscan": "off"},
    )
    ios = hf.node("Index Only Scan")
    assert ios is not None and ios.heap_fetches >= 4999
    (f,) = [f for f in hf.findings if f.threshold.startswith("Heap Fetches")]
    assert f.fix_sql == "VACUUM (ANALYZE) fresh;"
    w = ex.explain(db, "SELECT count(*) FROM big", analyze=True, settings=PARALLEL)
    gather = w.node("Gather") or w.node("Gather Merge")
    assert gather.workers_planned >= 1 and gather.workers_launched == 0
    assert any(f.threshold == "Workers Launched < Workers Planned" for f in w.findings)


def test_good_plans_are_quiet(db):
    q = vec(1)
    good = [
        ex.explain(db, "SELECT * FROM big WHERE id = 42", analyze=True),
        ex.explain(db, "SELECT count(*) FROM small", analyze=True),
        ex.explain(db, "SELECT id FROM vecs ORDER BY e <=> %(q)s::vector LIMIT 5", {"q": q}, analyze=True),
        ex.explain(db, "SELECT id FROM vecs ORDER BY e <=> %(q)s::vector LIMIT 5", {"q": q}),
    ]
    for r in good:
        assert r.findings == [], (r.query, [f.message for f in r.findings])
    assert good[2].nodes[1].index == "vecs_hnsw" and good[2].execution_ms > 0
    assert good[3].execution_ms is None and good[3].nodes[1].actual_rows is None


# -- pgvector findings -----------------------------------------------------------------------------------------
def test_operator_mismatch_seq_scan_and_sort(db):
    r = ex.explain(db, "SELECT id FROM vecs ORDER BY e <-> %(q)s::vector LIMIT 5", {"q": vec(2)}, analyze=True)
    assert [n.node_type for n in r.nodes] == ["Limit", "Sort", "Seq Scan"]
    crit = [f for f in r.findings if f.severity == "critical"]
    assert len(crit) == 1 and "<-> (L2 distance)" in crit[0].message and "vecs_hnsw" in crit[0].message
    assert "ORDER BY e <=> %(q)s::vector LIMIT 5" in crit[0].fix_sql  # the corrected query
    assert "USING hnsw (e vector_l2_ops)" in crit[0].fix_sql  # or the index for the operator as it is
    assert "<< critical" in r.tree().splitlines()[1]
    assert "#fde7ea" in r._repr_html_()


def test_similarity_desc_and_no_index(db):
    r = ex.explain(
        db,
        "SELECT id, 1 - (e <=> %(q)s::vector) AS similarity FROM vecs ORDER BY similarity DESC LIMIT 5",
        {"q": vec(3)},
        analyze=True,
    )
    (f,) = loud(r)
    assert "order_by_similarity" in f.threshold and "ORDER BY e <=> $1" in f.fix_sql
    n = ex.explain(db, "SELECT id FROM plain_vecs ORDER BY e <=> %(q)s::vector LIMIT 5", {"q": vec(4)}, analyze=True)
    (f,) = loud(n)
    assert "no vector index" in f.message
    assert f.fix_sql.startswith("CREATE INDEX CONCURRENTLY ON plain_vecs USING hnsw (e vector_cosine_ops)")
    w = ex.explain(db, "SELECT id FROM vecs WHERE e <=> %(q)s::vector < 0.2", {"q": vec(5)}, analyze=True)
    assert any("distance_not_in_order_by" in (f.threshold or "") for f in w.findings)


def test_filtered_hnsw_scan_returns_fewer_rows_and_iterative_scan_fixes_it(db):
    # a filter keeping 10 % of rows after an HNSW scan that yields ef_search (40) candidates: ~4 rows, not 20
    query = "SELECT id FROM vecs WHERE grp = %(grp)s ORDER BY e <=> %(q)s::vector LIMIT 20"
    params = {"grp": 7, "q": vec(6)}
    r = ex.explain(db, query, params, analyze=True)
    assert r.nodes[1].index == "vecs_hnsw" and r.root.actual_rows < 20
    (f,) = r.findings
    assert f.severity == "warning" and "of the 20 rows asked" in f.message
    assert f.fix_sql.startswith("SET hnsw.iterative_scan = relaxed_order;")
    estimate_only = ex.explain(db, query, params)
    assert [x.severity for x in estimate_only.findings] == ["info"]
    diff = ex.compare_settings(db, query, {"hnsw.iterative_scan": "relaxed_order"}, params)
    rows = {x["metric"]: x for x in diff.rows}
    assert rows["rows"]["after"] == 20 and rows["rows"]["before"] < 20
    assert rows["settings"]["after"] == "hnsw.iterative_scan=relaxed_order"
    assert any(x.message.startswith("resolved: ") and x.severity == "info" for x in diff.findings)
    before, after = diff.plans
    assert loud(after) == []


def test_exact_search_over_a_selective_filter_is_quiet(db):
    # the planner's other good plan for a selective filter: read the room's rows through its btree, sort them
    # exactly (recall 1.0)
    query = "SELECT id FROM vecs WHERE room = %(room)s ORDER BY e <=> %(q)s::vector LIMIT 10"
    r = ex.explain(db, query, {"room": 7, "q": vec(8)}, analyze=True, settings={"enable_indexscan": "off"})
    assert [n.node_type for n in r.nodes] == ["Limit", "Sort", "Bitmap Heap Scan", "Bitmap Index Scan"]
    assert r.root.actual_rows == 10
    assert r.findings == [], [f.message for f in r.findings]


def test_limit_above_ef_search(db):
    query = "SELECT id FROM vecs ORDER BY e <=> %(q)s::vector LIMIT 60"
    r = ex.explain(db, query, {"q": vec(7)}, analyze=True)
    (f,) = r.findings
    assert "hnsw.ef_search is 40" in f.message and f.fix_sql.startswith("SET hnsw.ef_search = 60;")
    assert r.root.actual_rows == 40
    fixed = ex.explain(db, query, {"q": vec(7)}, analyze=True, settings={"hnsw.ef_search": 60})
    assert fixed.findings == [] and fixed.root.actual_rows == 60
    cmp = ex.compare_plans(r, fixed)
    assert next(x for x in cmp.rows if x["metric"] == "rows")["change"] == "+50 %"


# -- safety ----------------------------------------------------------------------------------------------------
def _fingerprint(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT (SELECT md5(string_agg(b::text, ',' ORDER BY id)) FROM big AS b), "
            "(SELECT count(*) FROM small), (SELECT count(*) FROM vecs), "
            "(SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = 'big')"
        ).fetchone()


def test_analyze_of_select_changes_nothing_and_writes_are_refused(db):
    before = _fingerprint(db)
    ex.explain(db, "SELECT * FROM big WHERE a = 3", analyze=True)
    for statement in (
        "INSERT INTO small VALUES (-1)",
        "UPDATE big SET a = 0",
        "DELETE FROM small",
        "WITH d AS (DELETE FROM small RETURNING *) SELECT count(*) FROM d",
    ):
        with pytest.raises(InvalidInput, match="writes to the database"):
            ex.explain(db, statement, analyze=True)
    with pytest.raises(InvalidInput, match=r"nextval\(\), which acts outside the rolled-back transaction"):
        ex.explain(db, "SELECT nextval('counter')", analyze=True)
    with pytest.raises(InvalidInput, match="tried to write"):  # a row lock: the READ ONLY transaction refuses it
        ex.explain(db, "SELECT * FROM small FOR UPDATE", analyze=True)
    plan = ex.explain(db, "UPDATE big SET a = 0 WHERE id < 10")  # estimates only: nothing runs
    assert plan.root.node_type == "ModifyTable"
    done = ex.explain(db, "DELETE FROM small WHERE id <= 100", analyze=True, allow_writes=True)
    assert done.root.node_type == "ModifyTable" and done.nodes[1].actual_rows == 100
    assert _fingerprint(db)[:3] == before[:3]  # the delete was rolled back


def test_bad_statements_get_typed_errors(db):
    with pytest.raises(InvalidInput, match="one statement at a time"):
        ex.explain(db, "SELECT 1; DROP TABLE big")
    with pytest.raises(InvalidInput, match="not DROP"):
        ex.explain(db, "DROP TABLE big")
    with pytest.raises(InvalidInput, match="without EXPLAIN"):
        ex.explain(db, "EXPLAIN SELECT 1")
    with pytest.raises(InvalidInput, match=r"EXPLAIN failed: .*no_such_table"):
        ex.explain(db, "SELECT * FROM no_such_table")
    with pytest.raises(InvalidInput, match="needs values"):
        ex.explain(db, "SELECT * FROM big WHERE id = $1", analyze=True)
    generic = ex.explain(db, "SELECT * FROM big WHERE id = $1")  # GENERIC_PLAN (PostgreSQL 16+)
    assert generic.nodes[0].index == "big_pkey"
    with pytest.raises(CheckUnavailable, match="statement_timeout"):
        ex.explain(db, "SELECT pg_sleep(2)", analyze=True, timeout_ms=100)
    # literals with ; and % are one statement, and % needs no escaping without params
    assert ex.explain(db, "SELECT count(*) FROM big WHERE pad LIKE 'a;%'").root.node_type == "Aggregate"
    assert ex.explain(db, "DELETE FROM small WHERE id = 1").query == "DELETE FROM small WHERE id = 1"
    assert _fingerprint(db)[1] == 2000


def test_cli_explain(db, capsys):
    q = "SELECT id FROM vecs ORDER BY e <-> (SELECT e FROM vecs WHERE id = 1) LIMIT 5"
    assert main(["explain", db, "--query", q, "--analyze", "--format", "json"]) == 1  # critical
    out = json.loads(capsys.readouterr().out)
    assert out["findings"][0]["severity"] == "critical" and out["rows"][0]["node_type"] == "Limit"
    assert out["plan"][0]["Plan"]["Node Type"] == "Limit" and "Seq Scan on vecs" in out["tree"]
    good = "SELECT id FROM vecs ORDER BY e <=> (SELECT e FROM vecs WHERE id = 1) LIMIT 60"
    assert main(["explain", db, "-q", good, "--analyze", "--compare", "hnsw.ef_search=60"]) == 0
    text = capsys.readouterr().out
    assert "resolved: Index Scan using vecs_hnsw on vecs serves a LIMIT 60" in text
    assert main(["explain", db, "-q", "INSERT INTO small VALUES (1)", "--analyze"]) == 2
    assert "writes to the database" in capsys.readouterr().err
    assert main(["explain", db, "-q", "SELECT 1", "--set", "nonsense"]) == 2
