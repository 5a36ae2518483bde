"""tune_index: index candidates built in a scratch server from a copy of the user's table (issue 17 item 3).

Real embedded PostgreSQL + pgvector on both sides: the test database plays the user's, ``tune_index`` starts its
own throwaway server. Small sizes (2,000 x 64) keep it fast; the trade-off at real sizes is in
bench/quantization.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

from okai_insight.cli import main
from okai_insight.embeddings.recall import TIE_TOLERANCE
from okai_insight.errors import InvalidInput, UnsupportedDatabase
from okai_insight.tuning import TuneIndexResult, refusal, tune_index

matplotlib.use("Agg")

ROWS, DIMS, QUERIES = 2000, 64, 100


def _clustered(n: int, d: int, seed: int) -> np.ndarray:
    """Unit vectors around 20 centres (neighbourhoods like real embeddings, unlike uniform noise)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, d))
    x = centres[rng.integers(0, 20, n)] + 0.6 * rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _create(url: str, table: str, X: np.ndarray) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute(
            f"CREATE TABLE {table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
            f'"roomId" uuid, embedding vector({X.shape[1]}))'
        )
        with conn.cursor().copy(f"COPY {table} (embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["vector"])
            for v in X:
                copy.write_row([v])
        conn.execute(f"ANALYZE {table}")


def fingerprint(url: str) -> str:
    """Everything a diagnostic could change: relations, indexes, extensions, settings per database, every row."""
    with psycopg.connect(url) as conn:
        parts = [
            conn.execute(
                "SELECT string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ',' ORDER BY 1) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND n.nspname NOT LIKE 'pg_toast%'"
            ).fetchone(),
            conn.execute("SELECT string_agg(indexdef, ';' ORDER BY indexdef) FROM pg_indexes").fetchone(),
            conn.execute("SELECT string_agg(extname || extversion, ',' ORDER BY 1) FROM pg_extension").fetchone(),
            conn.execute("SELECT string_agg(setconfig::text, ',' ORDER BY 1) FROM pg_db_role_setting").fetchone(),
        ]
        for table in ("memories", "small32"):
            parts.append(
                conn.execute(
                    f"SELECT md5(string_agg(id::text || embedding::text, ',' ORDER BY id)) FROM {table}"
                ).fetchone()
            )
    return json.dumps([p[0] if p else None for p in parts])


@pytest.fixture(scope="module")
def data(pg_url: str) -> dict[str, Any]:
    X = _clustered(ROWS, DIMS, seed=7)
    _create(pg_url, "memories", X)
    _create(pg_url, "small32", _clustered(400, 32, seed=8))
    with psycopg.connect(pg_url) as conn:
        register_vector(conn)
        rows = conn.execute("SELECT id::text, embedding FROM memories").fetchall()
    ids = [r[0] for r in rows]
    M = np.vstack([np.asarray(r[1].to_numpy() if hasattr(r[1], "to_numpy") else r[1], dtype=np.float64) for r in rows])
    return {"ids": ids, "X": M, "row": {i: n for n, i in enumerate(ids)}}


@pytest.fixture(scope="module")
def tuned(pg_url: str, data: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scratch = tmp_path_factory.mktemp("scratch-parent")
    before = fingerprint(pg_url)
    result = tune_index(pg_url, sample_rows=ROWS, queries=QUERIES, progress=False, scratch_dir=str(scratch))
    return {"result": result, "before": before, "after": fingerprint(pg_url), "scratch": scratch}


def test_the_users_database_is_unchanged_and_the_scratch_server_is_gone(tuned: dict[str, Any]) -> None:
    r: TuneIndexResult = tuned["result"]
    assert r.status == "ok", r.note
    assert tuned["before"] == tuned["after"]
    assert list(Path(tuned["scratch"]).iterdir()) == [], "the scratch server's data directory was removed"
    assert r.note is not None and f"measured on a copy of {ROWS:,} rows in a scratch server" in r.note
    assert r.summary["sample_rows"] == ROWS and r.summary["queries"] == QUERIES and r.summary["dims"] == DIMS


def test_every_candidate_was_built_and_measured(tuned: dict[str, Any]) -> None:
    r: TuneIndexResult = tuned["result"]
    kinds = {row["kind"] for row in r.rows}
    assert kinds == {"exact", "vector", "halfvec", "bit"}
    assert {(row["m"], row["ef_construction"]) for row in r.rows if row["kind"] == "vector"} == {
        (8, 32),
        (16, 64),
        (32, 128),
    }
    assert {row["overfetch"] for row in r.rows if row["kind"] == "bit"} == {2, 4, 8}
    for row in r.rows:
        if row["kind"] != "exact":
            assert row["size_bytes"] > 0 and row["build_ms"] > 0 and row["mean_ms"] > 0
            assert row["recall_low"] <= row["recall_at_k"] <= row["recall_high"]
    size = {row["kind"]: row["size_bytes"] for row in r.rows if row["m"] == 16}
    # what quantization is for: half and one-bit codes make smaller graphs than full precision
    assert size["bit"] < size["halfvec"] < size["vector"]
    # bit rows: ef_search is raised to at least k x over-fetch, or the inner LIMIT would be cut short
    assert all(row["ef_search"] >= 10 * row["overfetch"] for row in r.rows if row["kind"] == "bit")


def test_recall_agrees_with_an_independent_numpy_computation(tuned: dict[str, Any], data: dict[str, Any]) -> None:
    r: TuneIndexResult = tuned["result"]
    X, row = data["X"], data["row"]
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    qids = [q["query_id"] for q in r.tables["queries"]]
    assert len(qids) == QUERIES and len(set(qids)) == QUERIES
    distances = {q: 1.0 - unit @ unit[row[q]] for q in qids}  # cosine distance of every row to the query
    kth = {q: np.sort(d)[9] for q, d in distances.items()}
    by_setting: dict[tuple[Any, ...], list[float]] = {}
    for res in r.tables["results"]:
        q = res["query_id"]
        if res["candidate"] == "exact":  # the exact top-10 is numpy's top-10 (ties at the 10th aside)
            got = np.array([distances[q][row[i]] for i in res["ids"]])
            assert len(got) == 10 and np.all(got <= kth[q] + 1e-5)
            continue
        got = [distances[q][row[i]] for i in res["ids"]]
        hits = min(10, sum(1 for d in got if d <= kth[q] + max(TIE_TOLERANCE, 1e-5)))
        by_setting.setdefault((res["candidate"], res["ef_search"], res["overfetch"]), []).append(hits / 10)
    checked = 0
    for measured in r.rows:
        if measured["kind"] == "exact":
            continue
        ours = float(np.mean(by_setting[(measured["candidate"], measured["ef_search"], measured["overfetch"])]))
        assert abs(ours - measured["recall_at_k"]) < 0.003, (measured["candidate"], ours, measured["recall_at_k"])
        checked += 1
    assert checked == len(r.rows) - 1


def test_the_advice_is_the_smallest_candidate_reaching_the_target(tuned: dict[str, Any]) -> None:
    r: TuneIndexResult = tuned["result"]
    for row in r.rows:
        expected = row["kind"] != "exact" and bool(row["uses_index"]) and row["recall_low"] >= 0.95
        assert row["reaches_target"] is expected
    reaching = [row for row in r.rows if row["reaches_target"]]
    assert reaching, "on clustered 64-dimension data at least one candidate reaches 0.95"
    advice = r.advice
    assert advice is not None and advice["verified"] is True
    assert advice["size_bytes"] == min(row["size_bytes"] for row in reaching)
    same_size = [row for row in reaching if row["size_bytes"] == advice["size_bytes"]]
    assert advice["mean_ms"] == min(row["mean_ms"] for row in same_size)
    assert advice["ddl"].startswith("CREATE INDEX CONCURRENTLY") and '"public"."memories"' in advice["ddl"]
    assert "$1" in advice["query"] and advice["settings"] == [f"SET hnsw.ef_search = {advice['ef_search']};"]
    info = [f for f in r.findings if f.fix_sql and advice["ddl"] in f.fix_sql]
    assert info and "reaches recall@10 0.95 with the smallest index" in info[0].message


def test_the_advice_applies_to_the_users_table_as_it_is(
    tuned: dict[str, Any], pg_url: str, make_database: Callable[..., str]
) -> None:
    """The DDL and the query were verified on the scratch copy (key as text); here they run on a copy of the
    user's own database (uuid key), and the plan uses the new index."""
    advice = tuned["result"].advice
    assert advice is not None
    source = pg_url.split("?")[0].rsplit("/", 1)[-1]
    copy_url = make_database("tiapply", template=source)
    with psycopg.connect(copy_url, autocommit=True) as conn:
        register_vector(conn)
        for statement in advice["settings_before_build"]:
            conn.execute(statement)
        conn.execute(advice["ddl"])
        q = conn.execute("SELECT embedding FROM memories LIMIT 1").fetchone()
        assert q is not None
        for statement in advice["settings"]:
            conn.execute(statement)
        query = advice["query"].replace("$1", "%(q)s")  # psycopg's spelling of the one parameter
        plan = conn.execute(f"EXPLAIN (FORMAT JSON) {query}", {"q": q[0]}).fetchone()
        assert plan is not None
        name = advice["ddl"].split('"')[1]
        assert f'"Index Name": "{name}"' in json.dumps(plan[0])
        rows = conn.execute(query, {"q": q[0]}).fetchall()
        assert len(rows) == 10 and rows[0][1] == pytest.approx(0.0, abs=1e-6)


def test_renderings(tuned: dict[str, Any]) -> None:
    r: TuneIndexResult = tuned["result"]
    text = r.to_text()
    assert "to apply:" in text and "CREATE INDEX CONCURRENTLY" in text and "SET hnsw.ef_search" in text
    assert f"sample of {ROWS:,} rows" in text and "measured on a copy" in text
    assert " kB" in text and " ms" in text  # sizes and times formatted for people
    html = r._repr_html_()
    assert "<pre>" in html and "CREATE INDEX CONCURRENTLY" in html
    frame = r.to_pandas()
    assert {"candidate", "recall_at_k", "size_bytes", "build_ms", "mean_ms"} <= set(frame.columns)
    assert len(frame) == len(r.rows)
    ax = r.plot()
    assert ax.get_xscale() == "log" and "recall@10" in ax.get_ylabel()


def test_bit_quantization_is_refused_where_the_dimension_or_version_does_not_allow_it(pg_url: str, data: Any) -> None:
    result = tune_index(pg_url, table="small32", kinds=("bit",), progress=False)
    assert result.status == "unavailable"
    assert result.note is not None and "at least 64 dimensions" in result.note
    assert "a 32-bit code has only 33 Hamming distances" in result.note
    # the other candidates still run, and the refusal is said once, as a finding
    result = tune_index(
        pg_url, table="small32", kinds=("vector", "bit"), hnsw=[(8, 32)], ef_search=[40], queries=20, progress=False
    )
    assert result.status == "ok" and {row["kind"] for row in result.rows} == {"exact", "vector"}
    assert any("not measured: bit" in f.message for f in result.findings)
    why = refusal("bit", 384, (0, 6, 2))
    assert why == "bit (binary_quantize(...)::bit(n), bit_hamming_ops) needs pgvector 0.7 or later; this server has 0.6"
    assert refusal("halfvec", 384, (0, 6)) is not None and refusal("halfvec", 384, (0, 7)) is None
    assert "at most 2,000 dimensions" in str(refusal("vector", 3072, (0, 8)))
    assert refusal("bit", 384, (0, 8)) is None


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/agent.db", "memory://"])
def test_other_stores_get_the_one_line_needs_postgresql_answer(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = url.format(tmp=tmp_path)
    with pytest.raises(UnsupportedDatabase, match="needs PostgreSQL"):
        tune_index(target, progress=False)
    assert main(["tune-index", target]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("okai-insight: error: tune-index needs PostgreSQL; ")
    assert not (tmp_path / "agent.db").exists()


@pytest.mark.parametrize(
    "options",
    [{"k": 0}, {"kinds": ("pq",)}, {"target_recall": 1.5}, {"hnsw": [(16, 8)]}, {"ef_search": [0]}, {"sample_rows": 1}],
)
def test_bad_input_is_refused_before_anything_starts(pg_url: str, options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        tune_index(pg_url, progress=False, **options)


def test_the_cli(pg_url: str, data: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune-index", pg_url, "--hnsw", "16"]) == 2
    assert "m:ef_construction" in capsys.readouterr().err
    argv = ["tune-index", pg_url, "--table", "small32", "--kinds", "vector", "--hnsw", "8:32", "--ef-search", "40"]
    assert main([*argv, "--queries", "20", "--target", "0.8", "--quiet", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["sample_rows"] == 400 and [r["kind"] for r in out["rows"]] == ["exact", "vector"]
    # 400 rows: the planner prefers a sequential scan to the HNSW index, so nothing is advised, and it says why
    hnsw = out["rows"][1]
    assert hnsw["uses_index"] is False and hnsw["recall_low"] >= 0.8 and out["summary"]["advice"] is None
    warning = next(f for f in out["findings"] if f["severity"] == "warning")
    assert "the planner chose a sequential scan over the index on this 400-row copy" in warning["message"]


def test_an_elizaos_1x_database(pg_url: str, make_database: Callable[..., str]) -> None:
    """ElizaOS 1.x keeps vectors in embeddings.dim_N next to memories: the advice indexes that column, searches by
    memory_id, and applies as printed to the user's own tables (a copy of the database)."""
    url = make_database("tieliza1")
    X = _clustered(ROWS, 384, seed=9)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION vector")
        register_vector(conn)
        conn.execute(
            "CREATE TABLE memories (id uuid PRIMARY KEY, type text, created_at timestamp DEFAULT now(), content jsonb,"
            ' entity_id uuid, agent_id uuid, room_id uuid, world_id uuid, "unique" boolean DEFAULT true,'
            " metadata jsonb)"
        )
        conn.execute(
            "CREATE TABLE embeddings (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), memory_id uuid REFERENCES"
            " memories(id), created_at timestamp DEFAULT now(), dim_384 vector(384), dim_768 vector(768))"
        )
        agent = "00000000-0000-0000-0000-00000000a6e7"
        conn.execute(
            "INSERT INTO memories (id, type, content, agent_id, room_id, entity_id, world_id) SELECT "
            "gen_random_uuid(), 'messages', '{\"text\": \"hi\"}', %s, %s, %s, %s FROM generate_series(1, %s)",
            (agent, agent, agent, agent, ROWS),
        )
        ids = [r[0] for r in conn.execute("SELECT id FROM memories ORDER BY id").fetchall()]
        with conn.cursor().copy("COPY embeddings (memory_id, dim_384) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "vector"])
            for memory_id, v in zip(ids, X, strict=True):
                copy.write_row([memory_id, v])
        conn.execute("ANALYZE")
    before = fingerprint_of(url, ["memories", "embeddings"])
    r = tune_index(
        url, kinds=("vector", "bit"), hnsw=[(8, 32)], ef_search=[40], queries=40, target_recall=0.8, progress=False
    )
    assert fingerprint_of(url, ["memories", "embeddings"]) == before
    assert r.status == "ok" and r.summary["table"] == "public.embeddings" and r.summary["column"] == "dim_384"
    assert r.summary["sample_rows"] == ROWS and {row["kind"] for row in r.rows} == {"exact", "vector", "bit"}
    advice = r.advice
    assert advice is not None and '"public"."embeddings"' in advice["ddl"] and '"dim_384"' in advice["ddl"]
    assert '"memory_id"' in advice["query"]
    copy_url = make_database("tieliza1c", template=url.split("?")[0].rsplit("/", 1)[-1])
    with psycopg.connect(copy_url, autocommit=True) as conn:
        register_vector(conn)
        conn.execute(advice["ddl"])
        for statement in advice["settings"]:
            conn.execute(statement)
        q = conn.execute("SELECT dim_384 FROM embeddings LIMIT 1").fetchone()
        assert q is not None
        plan = conn.execute(f"EXPLAIN (FORMAT JSON) {advice['query'].replace('$1', '%(q)s')}", {"q": q[0]}).fetchone()
        assert plan is not None and f'"Index Name": "{advice["ddl"].split(chr(34))[1]}"' in json.dumps(plan[0])


def fingerprint_of(url: str, tables: list[str]) -> str:
    """Index definitions and every row's text of ``tables``."""
    with psycopg.connect(url) as conn:
        parts = [conn.execute("SELECT string_agg(indexdef, ';' ORDER BY indexdef) FROM pg_indexes").fetchone()]
        parts += [
            conn.execute(f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {t} AS t").fetchone()
            for t in tables
        ]
    return json.dumps([p[0] if p else None for p in parts])
