"""The vector-statement analyser on statement texts (ElizaOS 0.1.9's and okai-insight's own among them)."""

from __future__ import annotations

from okai_insight.diagnostics._vector_query_analysis import VectorIndex, analyse, distance_aliases, order_by_clauses

COSINE = VectorIndex("memories", "embedding", "idx_memories_embedding", "hnsw", "vector_cosine_ops", "<=>")
ELIZA_0_1_9 = (
    "SELECT *, 1 - (embedding <-> $1::vector(384)) as similarity FROM memories WHERE type = $2 "
    'AND "roomId" = $3 AND 1 - (embedding <-> $1::vector) >= $4 ORDER BY embedding <-> $1::vector LIMIT $5'
)
OKAI = (
    'SELECT * FROM (SELECT m."id", m."embedding" <=> $1 AS distance FROM memories AS m WHERE m."roomId" = $2 '
    'AND m."embedding" IS NOT NULL ORDER BY m."embedding" <=> $1 LIMIT $3) AS nearest '
    "WHERE 1 - distance >= $4 ORDER BY distance"
)


def codes(query, **kw):
    return [p.code for p in analyse(query, COSINE, **kw)]


def test_elizaos_operator_mismatch_gets_the_corrected_query():
    (p,) = analyse(ELIZA_0_1_9, COSINE)
    assert p.code == "operator_mismatch"
    assert "<->" not in p.corrected and p.corrected.count("<=>") == 3
    assert p.corrected.endswith("ORDER BY embedding <=> $1::vector LIMIT $5")


OKAI_EXACT = (
    'SELECT m."id", c.distance, c.n AS filtered_rows FROM (SELECT s.*, count(*) OVER () AS n FROM (SELECT m."id", '
    'm."embedding" <=> $1 AS distance FROM memories AS m WHERE m."roomId" = $2 AND m."embedding" IS NOT NULL '
    'LIMIT $3) AS s ORDER BY s.distance LIMIT $4) AS c JOIN memories AS m ON m."id" = c."id"'
)


def test_servable_statements_are_quiet():
    assert codes(OKAI) == []
    assert codes(OKAI_EXACT) == []  # sorted by the distance through its subquery's name: not a misuse
    assert codes("SELECT id FROM memories ORDER BY embedding <=> $1 LIMIT 10") == []
    assert codes("SELECT id FROM rooms WHERE a <-> b < 1") == []  # another table: not this index's business


def test_each_problem():
    assert codes("SELECT 1 - (embedding <=> $1) AS similarity FROM memories ORDER BY similarity DESC LIMIT 5") == [
        "order_by_similarity"
    ]
    assert codes("SELECT id FROM memories WHERE embedding <=> $1 < 0.2") == ["distance_not_in_order_by"]
    qualified = (
        "SELECT * FROM (SELECT id, 1 - (embedding <=> $1) AS sim FROM memories) AS t ORDER BY t.sim DESC LIMIT 5"
    )
    assert codes(qualified) == ["order_by_similarity"]
    assert codes("SELECT id FROM memories ORDER BY embedding <=> $1") == ["missing_limit"]
    assert codes("SELECT id FROM memories ORDER BY embedding <=> '[1,2]' LIMIT 100") == ["limit_above_ef_search"]
    assert codes("SELECT id FROM memories ORDER BY embedding <=> '[1,2]' LIMIT 100", iterative_scan=True) == []
    assert codes("SELECT id FROM memories ORDER BY embedding <=> '[1,2]' LIMIT 100", ef_search=100) == []


def test_parsing_helpers():
    assert distance_aliases("SELECT 1 - (e <=> $1) AS sim, e <=> $1 AS d FROM t") == {"sim": True, "d": False}
    clauses = order_by_clauses("SELECT * FROM (SELECT x FROM t ORDER BY (a <=> b) LIMIT 3) s ORDER BY y DESC")
    assert [(c.first_item, c.descending, c.limit) for c in clauses] == [("(a <=> b)", False, "3"), ("y", True, None)]
