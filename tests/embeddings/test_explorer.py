"""The explorer on the planted world: the map separates topics, neighbours come through the index, drift."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

from okai_insight.embeddings import drift, explore, neighbours
from okai_insight.embeddings._project import clear_cache, project
from okai_insight.errors import ConfigurationError, InvalidInput, NotFound
from tests.embeddings._world import TOPICS, World


@pytest.fixture(scope="module")
def projection(world: World, pg_url: str):
    # fit_rows below the row count: UMAP fits 300 rows, the others are placed by their PCA-space neighbours.
    return explore(pg_url, agent_id=world.agents["clean"], limit=None, fit_rows=300, n_epochs=100, progress=False)


def test_frame_holds_coordinates_and_metadata(projection, world):
    f = projection.frame
    clean = [i for i, a in enumerate(world.agent_of) if a == "clean"]
    embedded = {world.ids[i] for i in clean if world.vectors[i] is not None and np.linalg.norm(world.vectors[i]) > 0}
    assert set(f["id"]) == embedded  # zero and NULL vectors are left out
    assert list(f.columns[:2]) == ["x", "y"] and np.isfinite(f[["x", "y"]].to_numpy()).all()
    assert {"agent_id", "room_id", "user_id", "type", "created_at", "text_preview"} <= set(f.columns)
    assert (f["agent_id"].astype(str) == str(world.agents["clean"])).all()
    assert projection.vectors.shape == (len(f), world.dim)
    assert "UMAP" in projection.summary["method"]
    assert projection.to_polars().shape == f.shape


def test_rows_are_the_frame_read_as_dicts(projection, world):
    """rows: a view of the frame (a million dicts are never built unless read), equal to its records."""
    from okai_insight.embeddings.explorer import records

    f, rows = projection.frame, projection.rows
    columns = list(projection.columns)
    assert len(rows) == len(f) and columns == [c for c in f.columns if c != "cluster"]
    expected = records(f[columns])
    assert rows[0] == expected[0] and rows[-1] == expected[-1] and rows[3:6] == expected[3:6]
    assert list(rows) == expected and rows == expected
    assert rows[0]["agent_id"] == world.agents["clean"] and rows[0]["agent_name"] != "none"
    assert projection.to_dict()["rows"][0]["id"] == rows[0]["id"]
    with pytest.raises(IndexError):
        rows[len(f)]


def test_clusters_recover_the_topics(projection, world):
    cl = projection.clusters(min_cluster_size=15)
    assert cl.summary["clusters"] >= len(TOPICS)
    f = projection.frame
    room_index = {str(r): i for i, r in enumerate(world.rooms)}
    for row in cl.rows:
        if row["cluster"] == -1:
            continue
        members = f[f["cluster"] == row["cluster"]]
        rooms = Counter(room_index[str(r)] for r in members["room_id"])
        topic, count = rooms.most_common(1)[0]
        assert count / len(members) >= 0.9  # each cluster is one room's topic
        assert set(row["top_words"].split()[:3]) <= set(TOPICS[topic].split())
        assert row["size"] == len(members)


def test_scatter_coloured_by_any_column(projection):
    import matplotlib

    matplotlib.use("Agg")
    ax = projection.plot(color="room_id")
    assert len(ax.get_legend().get_texts()) == 5
    ax = projection.plot(color="created_at")
    assert len(ax.figure.axes) == 2  # a colour bar for a continuous column
    with pytest.raises(InvalidInput):
        projection.plot(color="no_such_column")


def test_projection_is_cached_by_its_inputs():
    X = np.random.default_rng(1).normal(size=(60, 8)).astype(np.float32)
    clear_cache()
    a = project(X, n_epochs=20, progress=False)
    b = project(X, n_epochs=20, progress=False)
    assert np.array_equal(a, b) and a.shape == (60, 2)
    c = project(X, n_epochs=20, seed=1, progress=False)
    assert not np.array_equal(a, c)


def test_disk_cache(tmp_path):
    X = np.random.default_rng(2).normal(size=(40, 6))
    a = project(X, n_epochs=10, cache=False, cache_dir=tmp_path, progress=False)
    files = list(tmp_path.glob("projection-*.npy"))
    assert len(files) == 1
    assert np.array_equal(np.load(files[0]), a)
    assert np.array_equal(project(X, n_epochs=10, cache=False, cache_dir=tmp_path, progress=False), a)


def test_neighbours_of_a_memory_through_the_index(world, pg_url):
    a, b = sorted(next(iter(world.near_dup_pairs)))
    res = neighbours(pg_url, a, k=5)
    assert res.rows[0]["id"] == b and res.rows[0]["rank"] == 1
    va, vb = world.vectors[world.ids.index(a)], world.vectors[world.ids.index(b)]
    expected = float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
    assert res.rows[0]["cosine_similarity"] == pytest.approx(expected, abs=1e-6)
    assert a not in {r["id"] for r in res.rows} and len(res.rows) == 5
    sims = [r["cosine_similarity"] for r in res.rows]
    assert sims == sorted(sims, reverse=True)


def test_neighbours_of_a_vector_match_numpy(world, pg_url):
    ids, X = world.matrix()
    q = X[3] + 0.01
    res = neighbours(pg_url, vector=q, k=3, ef_search=400)
    sims = X @ q / (np.linalg.norm(X, axis=1) * np.linalg.norm(q))
    assert [r["id"] for r in res.rows] == [ids[j] for j in np.argsort(-sims)[:3]]


def test_neighbours_of_a_text_needs_the_model_or_says_so(pg_url, world):
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigurationError, match="okai-insight\\[embeddings\\]"):
            neighbours(pg_url, text="rain tomorrow?")
    else:  # with the model installed the text is embedded (384 dims: this world is 64, so refused)
        with pytest.raises(InvalidInput, match="dimensions"):
            neighbours(pg_url, text="rain tomorrow?")


def test_neighbours_refusals(pg_url, world):
    with pytest.raises(InvalidInput):
        neighbours(pg_url)
    with pytest.raises(InvalidInput):
        neighbours(pg_url, "not-a-uuid")
    with pytest.raises(NotFound):
        neighbours(pg_url, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidInput, match="dimensions"):
        neighbours(pg_url, vector=np.ones(3))
    with pytest.raises(InvalidInput, match="no embedding"):
        neighbours(pg_url, next(iter(world.null_ids)))


def test_drift_against_numpy_centroids(world, pg_url):
    base = (dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 11, tzinfo=dt.UTC))
    res = drift(pg_url, window="year", baseline=base)
    for agent, aid in world.agents.items():
        keep = [
            i
            for i, a in enumerate(world.agent_of)
            if a == agent and world.vectors[i] is not None and np.linalg.norm(world.vectors[i]) > 0
        ]
        allv = np.mean([world.vectors[i] for i in keep], axis=0)
        basev = np.mean([world.vectors[i] for i in keep if base[0] <= world.created[i] < base[1]], axis=0)
        expected = 1 - allv @ basev / (np.linalg.norm(allv) * np.linalg.norm(basev))
        row = next(r for r in res.rows if r["group"] == str(aid))
        assert row["distance_from_baseline"] == pytest.approx(expected, abs=1e-5)


def test_drift_flags_the_agent_whose_model_changed(world, pg_url):
    res = drift(pg_url, window="week")
    flagged = {f.subject for f in res.findings if f.severity == "warning"}
    assert str(world.agents["mixed"]) in flagged

    def worst(agent: str) -> float:
        return max(r["distance_from_baseline"] for r in res.rows if r["group"] == str(world.agents[agent]))

    # The clean agent's last week holds only topic-0 copies (a topic shift); the mixed agent's, another model.
    assert worst("mixed") > worst("clean") + 0.1
    assert all(abs(r["distance_from_baseline"]) < 1e-9 for r in res.rows if r["distance_from_previous"] is None)
    import matplotlib

    matplotlib.use("Agg")
    assert "baseline" in res.plot().get_ylabel()
    with pytest.raises(InvalidInput):
        drift(pg_url, window="fortnight")


def test_explore_refusals(pg_url, world):
    with pytest.raises(NotFound):
        explore(pg_url, room_id="00000000-0000-0000-0000-000000000000", progress=False)
    with pytest.raises(InvalidInput):
        explore(pg_url, agent_id="nope", progress=False)


def test_explore_command_writes_the_map(world, pg_url, tmp_path, capsys):
    from okai_insight.cli import main

    out = tmp_path / "map.png"
    code = main(
        [
            "explore",
            pg_url,
            "--agent-id",
            str(world.agents["clean"]),
            "--limit",
            "150",
            "--output",
            str(out),
            "--quiet",
            "--min-cluster-size",
            "10",
        ]
    )
    assert code == 0 and out.stat().st_size > 1000
    text = capsys.readouterr().out
    assert "map of 150 memories" in text and "Memory clusters" in text
