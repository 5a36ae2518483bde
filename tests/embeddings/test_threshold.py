"""tune_threshold: labelled pairs against a brute-force best F1, conventions, pseudo-labels, practice numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from okai_insight.embeddings import best_f1, convert_threshold, tune_threshold
from okai_insight.errors import InvalidInput
from tests.embeddings._world import World


def _labelled(world: World, seed: int = 3) -> pd.DataFrame:
    """Planted near duplicates (relevant), same-room pairs (relevant with probability 0.5), random pairs."""
    rng = np.random.default_rng(seed)
    ids, _ = world.matrix()
    room = {m: world.room_of[world.ids.index(m)] for m in ids}
    rows = [(a, b, True) for a, b in (sorted(p) for p in world.near_dup_pairs)]
    for _ in range(150):
        a, b = rng.choice(ids, size=2, replace=False)
        relevant = bool(room[a] == room[b] and rng.random() < 0.5)
        rows.append((str(a), str(b), relevant))
    return pd.DataFrame(rows, columns=["query", "memory", "relevant"])


def _brute_force(s: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    best_t, best = None, -1.0
    for t in sorted(set(s.tolist()), reverse=True):  # strictest first: ties keep the highest threshold
        p = s >= t
        tp, fp, fn = (p & y).sum(), (p & ~y).sum(), (~p & y).sum()
        f1 = 2 * tp / (2 * tp + fp + fn)
        if f1 > best + 1e-15:
            best_t, best = t, f1
    return float(best_t), float(best)


def test_best_f1_on_labelled_pairs_equals_brute_force(world, pg_url):
    pairs = _labelled(world)
    res = tune_threshold(pg_url, pairs, convention="cosine", queries=50)
    assert res.status == "ok"
    vec = {m: v for m, v in zip(world.ids, world.vectors, strict=True)}
    s = np.array(
        [
            float(vec[q] @ vec[m] / (np.linalg.norm(vec[q]) * np.linalg.norm(vec[m])))
            for q, m in zip(pairs["query"], pairs["memory"], strict=True)
        ]
    )
    y = pairs["relevant"].to_numpy(bool)
    got = {(p["query"], p["memory"]): p["score"] for p in res.table("pairs")}
    assert np.allclose([got[(q, m)] for q, m in zip(pairs["query"], pairs["memory"], strict=True)], s, atol=1e-6)
    t, f1 = _brute_force(np.array([got[(q, m)] for q, m in zip(pairs["query"], pairs["memory"], strict=True)]), y)
    assert res.summary["best_threshold"] == pytest.approx(t, abs=1e-12)
    assert res.summary["best_f1"] == pytest.approx(f1)
    assert 0 < f1 < 1  # the labels are noisy on purpose: a real trade-off
    assert res.summary["relevant_pairs"] == int(y.sum())
    f1s = [r["f1"] for r in res.rows]
    assert max(f1s) <= f1 + 1e-12  # no grid point beats the exact search


def test_eliza_convention_gives_the_same_partition(world, pg_url):
    pairs = _labelled(world)
    cos = tune_threshold(pg_url, pairs, convention="cosine", queries=20)
    eliza = tune_threshold(pg_url, pairs, convention="eliza", queries=20)
    assert eliza.summary["best_f1"] == pytest.approx(cos.summary["best_f1"])
    expected = convert_threshold(cos.summary["best_threshold"], "cosine", "eliza")
    assert eliza.summary["best_threshold"] == pytest.approx(expected, abs=1e-5)
    dist = tune_threshold(pg_url, pairs, convention="l2_distance", queries=20)
    assert dist.summary["best_f1"] == pytest.approx(cos.summary["best_f1"])
    assert dist.summary["best_threshold"] == pytest.approx(np.sqrt(2 - 2 * cos.summary["best_threshold"]), abs=1e-5)


def test_practice_columns(world, pg_url):
    res = tune_threshold(pg_url, _labelled(world), queries=40, limit=10, thresholds=[-1.0, 0.5, 1.01])
    by_t = {r["threshold"]: r for r in res.rows}
    assert by_t[-1.0]["mean_results"] == pytest.approx(10.0)  # every top-10 memory passes the lowest threshold
    assert by_t[-1.0]["queries_without_results"] == 0
    assert by_t[1.01]["mean_results"] == 0.0 and by_t[1.01]["queries_without_results"] == 40
    assert 0 <= by_t[0.5]["mean_results"] <= 10
    assert res.summary["queries"] == 40


def test_current_threshold_is_compared(world, pg_url):
    res = tune_threshold(pg_url, _labelled(world), queries=20, current=0.999)
    assert res.summary["current_f1"] < res.summary["best_f1"]
    assert any(f.severity == "warning" and "current threshold 0.999" in f.message for f in res.findings)


def test_pseudo_labelled_pairs_find_the_planted_duplicates(world, pg_url):
    res = tune_threshold(pg_url, queries=400, random_pairs=500)
    assert res.status == "ok" and res.summary["labels"].startswith("pseudo")
    positives = {frozenset((p["query"], p["memory"])) for p in res.table("pairs") if p["relevant"]}
    assert positives & (world.near_dup_pairs | world.exact_dup_pairs)
    assert res.summary["best_f1"] > 0.8


def test_best_f1_helper_and_refusals(pg_url, world):
    b = best_f1(np.array([0.2, 0.4, 0.4, 0.9]), np.array([False, True, False, True]))
    assert (b.threshold, round(b.f1, 4)) == (0.4, 0.8)
    tie = best_f1(np.array([0.9, 0.6, 0.5]), np.array([True, False, True]))  # F1 0.8 at 0.5 only
    assert tie.threshold == 0.5
    even = best_f1(np.array([0.9, 0.8, 0.7]), np.array([True, False, False]))  # 1.0 at 0.9: strictest wins
    assert even.threshold == 0.9 and even.f1 == 1.0
    d = best_f1(np.array([0.1, 0.5]), np.array([True, False]), higher_is_closer=False)
    assert d.threshold == 0.1 and d.f1 == 1.0
    with pytest.raises(InvalidInput):
        best_f1(np.array([0.1]), np.array([False]))
    with pytest.raises(InvalidInput, match="missing"):
        tune_threshold(pg_url, pd.DataFrame({"query": ["x"]}))
    with pytest.raises(InvalidInput, match="UUID"):
        tune_threshold(pg_url, pd.DataFrame({"query": ["x"], "memory": ["y"], "relevant": [True]}))
    with pytest.raises(InvalidInput, match="convention"):
        tune_threshold(pg_url, convention="dot")


def test_plots(world, pg_url):
    import matplotlib

    matplotlib.use("Agg")
    res = tune_threshold(pg_url, _labelled(world), queries=10)
    ax = res.plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["precision", "recall", "f1"]
    ax2 = res.plot_scores()
    assert ax2.get_ylabel() == "pairs"


@pytest.fixture(scope="module")
def copies_url(make_database) -> str:
    """A database like the demo: 30 memories each stored in 20 rooms (the same vector and text twenty times: more
    copies than a probe's 10 neighbours, so most copy pairs are not found as positives) and one paraphrase of each,
    under an HNSW cosine index. Random pairs from different rooms are then often two copies of one memory."""
    import json
    import uuid

    import psycopg
    from pgvector.psycopg import register_vector

    from okai_insight.schema import migrate

    url = make_database("threshold_copies")
    rng = np.random.default_rng(7)
    dim = 32
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn, dimension=dim)
        register_vector(conn)
        agent = uuid.uuid4()
        conn.execute('INSERT INTO accounts ("id", "name", "email") VALUES (%s, %s, %s)', (agent, "a", "a@x.org"))
        rooms = [uuid.uuid4() for _ in range(20)]
        for r in rooms:
            conn.execute('INSERT INTO rooms ("id") VALUES (%s)', (r,))
        rows = []
        for j in range(30):
            v = rng.normal(size=dim)
            v /= np.linalg.norm(v)
            text = f"memory {j} " + " ".join(f"w{j}x{i}" for i in range(6))
            for r in rooms:
                rows.append((text, v, r))
            para = v + 0.25 * rng.normal(size=dim) / np.sqrt(dim)
            rows.append((text + " again", para / np.linalg.norm(para), rooms[j % 20]))
        with conn.cursor() as cur:
            for text, v, r in rows:
                cur.execute(
                    'INSERT INTO memories ("id", "type", "content", "embedding", "userId", "agentId", "roomId") '
                    "VALUES (%s, 'messages', %s, %s, %s, %s, %s)",
                    (uuid.uuid4(), json.dumps({"text": text}), v.astype(np.float32), agent, agent, r),
                )
        conn.execute("ANALYZE memories")
    return url


def test_duplicates_are_never_negatives(copies_url):
    """Random 'irrelevant' pairs drawn across rooms were often two copies of one memory (cosine 1.0, same text):
    counted as negatives, they put irrelevant pairs at the top of the score range. Copies are left out."""
    res = tune_threshold(copies_url, random_pairs=1_000)
    assert res.status == "ok"
    negatives = [p for p in res.table("pairs") if not p["relevant"]]
    assert len(negatives) >= 500
    assert max(p["score"] for p in negatives) < 0.999, "a copy was counted as an irrelevant pair"
    texts = {}
    import psycopg

    with psycopg.connect(copies_url) as conn:
        for i, c in conn.execute("SELECT id::text, content->>'text' FROM memories"):
            texts[i] = c.removesuffix(" again")
    assert not [p for p in negatives if texts[p["query"]] == texts[p["memory"]]]
    # Relevant and irrelevant pairs are separable: the advice is the gap between them, not a tie at 1.0.
    assert res.summary["best_f1"] == 1.0
    assert res.summary["best_threshold"] < 0.999


def test_advice_does_not_depend_on_the_front_ends_queries(world, pg_url):
    """The report and notebook sample 50 queries, the widget 100, the CLI 200: the labels (and so the best
    threshold and its interval) must be the same for all; only the practice columns differ."""
    runs = {q: tune_threshold(pg_url, queries=q) for q in (50, 100, 200)}
    keys = ("best_threshold", "best_threshold_low", "best_threshold_high", "best_f1", "pairs", "relevant_pairs")
    first = runs[50].summary
    for q, r in runs.items():
        assert {k: r.summary[k] for k in keys} == {k: first[k] for k in keys}, q
        assert r.summary["queries"] == q
    s = first
    assert s["best_threshold_low"] <= s["best_threshold"] <= s["best_threshold_high"]
    assert "95 % interval" in runs[200].findings[-1].message or any(
        "95 % interval" in f.message for f in runs[200].findings
    )


def test_a_current_threshold_inside_the_interval_is_not_warned_about(world, pg_url):
    res = tune_threshold(pg_url)
    low, high = res.summary["best_threshold_low"], res.summary["best_threshold_high"]
    inside = tune_threshold(pg_url, current=(low + high) / 2)
    assert not any(f.severity == "warning" for f in inside.findings)
    assert any("inside the best threshold's interval" in f.message for f in inside.findings)


def test_every_front_end_uses_the_threshold_tuners_defaults() -> None:
    import inspect

    from okai_insight.cli import build_parser
    from okai_insight.embeddings.threshold import DEFAULT_PROBES, DEFAULT_QUERIES
    from okai_insight.report._sections import threshold_section

    assert inspect.signature(threshold_section).parameters["queries"].default == DEFAULT_QUERIES
    args = build_parser().parse_args(["tune-threshold"])
    assert (args.queries, args.probes) == (DEFAULT_QUERIES, DEFAULT_PROBES)
