"""embedding_quality on a planted world: each planted defect is found, with its rows, and clean groups stay quiet."""

from __future__ import annotations

import pytest

from okai_insight.embeddings import embedding_quality
from okai_insight.errors import InvalidInput, UnknownTable
from tests.embeddings._world import World, build_mixed_dims


@pytest.fixture(scope="module")
def quality(world: World, pg_url: str):
    return embedding_quality(pg_url, "memories", by="agent", near_threshold=0.95, probes=2000)


def _group_row(q, world: World, agent: str) -> dict:
    return next(r for r in q.rows if r["group"] == str(world.agents[agent]))


def test_counts_per_agent(quality, world):
    assert quality.status == "ok"
    clean = _group_row(quality, world, "clean")
    n_clean = sum(1 for a in world.agent_of if a == "clean")
    assert clean["sampled_rows"] == n_clean
    assert clean["zero_vectors"] == 3 and clean["null_vectors"] == 2 and clean["nan_vectors"] == 0
    assert clean["stored_dims"] == {world.dim: n_clean - 2}
    assert clean["non_unit_vectors"] == 0
    assert abs(clean["norm_median"] - 1.0) < 1e-6
    unnorm = _group_row(quality, world, "unnormalised")
    assert unnorm["non_unit_vectors"] == 20 and unnorm["norm_max"] > 6
    assert quality.summary["sampled"] is False
    messages = " ".join(f.message for f in quality.findings)
    assert "3 of" in messages and "zero vector" in messages and "NULL embedding" in messages


def test_exact_and_near_duplicates_found(quality, world):
    exact_groups = {frozenset(g["ids"]) for g in quality.table("exact_duplicates")}
    assert exact_groups == world.exact_dup_pairs
    found = quality.near_duplicate_pairs()
    # Every planted pair is found through the index, exact copies included, and nothing else is that close.
    assert world.near_dup_pairs | world.exact_dup_pairs == found
    near = {frozenset((p["id_a"], p["id_b"])): p for p in quality.table("near_duplicates")}
    assert all(near[p]["exact"] for p in world.exact_dup_pairs)
    assert not any(near[p]["exact"] for p in world.near_dup_pairs)


def test_mixed_models_found_with_their_rows(quality, world):
    by_reason: dict[str, set[str]] = {}
    for r in quality.table("mixed_rows"):
        by_reason.setdefault(r["reason"], set()).add(r["id"])
    assert by_reason["norm"] == world.unnormalised_ids
    # Direction: every second-model row, and at most a stray first-model outlier from the whole-table pass.
    assert by_reason["direction"] >= world.second_model_ids
    assert len(by_reason["direction"] - world.second_model_ids) <= 2
    assert by_reason["same_text_far_vector"] == world.same_text_ids
    # Groups of one model (agent "clean") are never flagged.
    clean_ids = {m for m, a in zip(world.ids, world.agent_of, strict=True) if a == "clean"}
    assert len(quality.suspect_ids() & clean_ids) <= 2
    assert not any(
        r["group"] == str(world.agents["clean"]) for r in quality.table("mixed_rows") if r["reason"] == "norm"
    )
    assert sum("two embedding models" in f.message for f in quality.findings) >= 2


def test_sampling_is_reported(world, pg_url):
    q = embedding_quality(pg_url, by=None, sample_rows=100, probes=50)
    assert q.summary["sampled"] is True and q.summary["sample_percent"] < 100
    assert any("TABLESAMPLE" in f.message for f in q.findings)
    assert 0 < sum(r["sampled_rows"] for r in q.rows) < len(world.ids)


def test_mixed_dimensions_in_an_undeclared_column(make_database):
    url = make_database("embq_dims")
    main, odd = build_mixed_dims(url)
    q = embedding_quality(url, "vectors_any", by="agent")
    assert q.rows[0]["stored_dims"] == {16: 40, 12: 8}
    assert any(f.severity == "critical" and "2 dimensions" in f.message for f in q.findings)
    assert {r["id"] for r in q.table("mixed_rows") if r["reason"] == "dimension"} == odd
    assert q.summary["index"] is None


def test_bad_input_is_refused(pg_url, world):
    with pytest.raises(UnknownTable):
        embedding_quality(pg_url, "no_such_table")
    with pytest.raises(InvalidInput):
        embedding_quality(pg_url, by="planet")
    with pytest.raises(InvalidInput):
        embedding_quality(pg_url, column="content")
    with pytest.raises(InvalidInput):
        embedding_quality(pg_url, near_threshold=2.0)


def test_renderings(quality):
    text = quality.to_text()
    assert "Embedding quality" in text and "near_duplicate_pairs=" in text
    assert "<table" in quality._repr_html_()
    assert list(quality.to_pandas()["group"]) == [r["group"] for r in quality.rows]
    import matplotlib

    matplotlib.use("Agg")
    ax = quality.plot()
    assert ax.get_ylabel() == "L2 norm" and len(ax.get_xticklabels()) == len(quality.rows)


def test_grouping_by_room_and_type(world, pg_url):
    by_room = embedding_quality(pg_url, by="room", probes=50)
    assert {r["group"] for r in by_room.rows} == {str(r) for r in world.rooms}
    assert sum(r["sampled_rows"] for r in by_room.rows) == len(world.ids)
    by_type = embedding_quality(pg_url, by="type", probes=50)
    assert [r["group"] for r in by_type.rows] == ["messages"]
    assert by_type.to_polars().shape[0] == 1
