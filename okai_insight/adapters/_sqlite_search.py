"""Vector search on SQLite: sqlite-vec KNN with the filters pushed into ``vec0``, or an exact scan of a small set.

Both paths return the true nearest rows:

* ``vec0`` is a flat index (every vector is compared), and its metadata columns (type, room, agent, unique) are
  filtered *inside* the KNN scan, so ``k`` rows come back whenever ``k`` rows pass the filters;
* a room or agent holding at most ``Settings.exact_search_max_rows`` rows is read through its btree index and
  ranked with ``vec_distance_cosine`` (cheaper than visiting every vector chunk); so is any ``k`` above vec0's
  limit of 4096.

Candidates are then re-scored in double precision (the similarity the PostgreSQL adapter reports), ordered
nearest first, and cut at the inclusive threshold. Zero vectors are not indexed and never match.

Example:
    >>> rows = knn_memories(conn, q, MemoryQuery(type="messages", room="...", k=10), exact_cap=10_000)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from okai_insight.adapters._sqlite_driver import Connection
from okai_insight.adapters._sqlite_functions import blob, cosine_similarity
from okai_insight.adapters._sqlite_schema import VEC0_MAX_K
from okai_insight.models import Embedding

MEMORY_COLUMNS = (
    'm."id", m."type", m."createdAt", m."content", m."embedding", m."userId", m."agentId", m."roomId", m."isUnique"'
)
KNOWLEDGE_COLUMNS = (
    'k."id", k."agentId", k."content", k."embedding", k."createdAt", k."isMain", k."originalId", k."chunkIndex", '
    'k."isShared"'
)
_NOT_ZERO = '{0}."embedding" IS NOT NULL AND {0}."embedding" != zeroblob(length({0}."embedding"))'


@dataclass(frozen=True)
class MemoryQuery:
    """What a memory search filters on; ids are canonical text."""

    type: str
    k: int
    room: str | None = None
    agent: str | None = None
    unique: bool = False

    def params(self, q: Embedding) -> dict[str, Any]:
        return {"q": blob(q), "k": self.k, "type": self.type, "room": self.room, "agent": self.agent}

    def where(self, alias: str, *, vec0: bool = False) -> str:
        """The filter over ``memories`` (or, with ``vec0``, over the ``vec_memories`` metadata columns)."""
        if vec0:
            room, agent, unique = "room_key = :room_key", "agent_key = :agent_key", "is_unique"
        else:
            room, agent, unique = '"roomId" = :room', '"agentId" = :agent', '"isUnique"'
        parts = [f'{alias}."type" = :type' if not vec0 else f"{alias}.type = :type"]
        if self.room is not None:
            parts.append(f"{alias}.{room}")
        if self.agent is not None:
            parts.append(f"{alias}.{agent}")
        if self.unique:
            parts.append(f"{alias}.{unique} = 1")
        return " AND ".join(parts)


Row = dict[str, Any]  # a row keyed by column name (Connection.query_named)


def _rank(q: Embedding, rows: Sequence[Row], k: int, threshold: float) -> list[tuple[Row, float]]:
    """Re-score rows in double precision, nearest first, keep ``k`` at or above ``threshold``.

    Each result is ``(row, similarity)``.
    """
    if not rows:
        return []
    matrix = np.stack([np.frombuffer(bytes(r["embedding"]), dtype="<f4") for r in rows]).astype(np.float32)
    sims = cosine_similarity(q, matrix)
    order = sorted((i for i in range(len(rows)) if not np.isnan(sims[i])), key=lambda i: -sims[i])
    return [(rows[i], float(sims[i])) for i in order[:k] if sims[i] >= threshold]


def _small_set(conn: Connection, mq: MemoryQuery, cap: int) -> bool:
    """True when a room or agent filter keeps at most ``cap`` embedded rows (counted no further than cap + 1)."""
    if mq.room is None and mq.agent is None:
        return False
    (n,) = conn.query(
        f'SELECT count(*) FROM (SELECT 1 FROM memories AS m WHERE {mq.where("m")} AND m."embedding" IS NOT NULL '
        "LIMIT :cap)",
        {"type": mq.type, "room": mq.room, "agent": mq.agent, "cap": cap + 1},
    )[0]
    return int(n) <= cap


def knn_memories(
    conn: Connection, q: Embedding, mq: MemoryQuery, *, threshold: float, exact_cap: int
) -> list[tuple[Row, float]]:
    """The ``k`` memories nearest to ``q`` passing the filters, as ``(row, similarity)`` nearest first.

    Example:
        >>> knn_memories(conn, q, MemoryQuery(type="messages", k=3), threshold=-1, exact_cap=10_000)  # doctest: +SKIP
    """
    params = mq.params(q)
    if mq.k > VEC0_MAX_K or _small_set(conn, mq, exact_cap):
        rows = conn.query_named(
            f'SELECT * FROM (SELECT {MEMORY_COLUMNS}, vec_distance_cosine(m."embedding", :q) AS distance '
            f"FROM memories AS m WHERE {mq.where('m')} AND {_NOT_ZERO.format('m')}) "
            "WHERE distance IS NOT NULL ORDER BY distance LIMIT :k",
            params,
        )
    else:
        keys = _index_keys(conn, mq)
        if keys is None:
            return []  # no indexed row has that room or agent
        rows = conn.query_named(
            "WITH knn AS ("
            "SELECT v.id, v.distance FROM vec_memories AS v "
            f"WHERE v.embedding MATCH :q AND v.k = :k AND {mq.where('v', vec0=True)}"
            f') SELECT {MEMORY_COLUMNS}, knn.distance FROM knn JOIN memories AS m ON m."id" = knn.id '
            "ORDER BY knn.distance",
            {"q": params["q"], "k": mq.k, "type": mq.type, **keys},
        )
    return _rank(q, rows, mq.k, threshold)


def _index_keys(conn: Connection, mq: MemoryQuery) -> dict[str, int] | None:
    """The vec0 integer keys of the query's room and agent (okai_vec_keys), or None when one was never indexed."""
    keys: dict[str, int] = {}
    for name, value in (("room_key", mq.room), ("agent_key", mq.agent)):
        if value is None:
            continue
        found = conn.query('SELECT "key" FROM okai_vec_keys WHERE "id" = ?', (value,))
        if not found:
            return None
        keys[name] = int(found[0][0])
    return keys


def knn_knowledge(conn: Connection, q: Embedding, *, agent: str, k: int, threshold: float) -> list[tuple[Row, float]]:
    """The ``k`` knowledge items (the agent's own and shared ones) nearest to ``q``, as ``(row, similarity)``.

    vec0 filters take no OR, so the agent's items and the shared ones are two KNN queries, merged.

    Example:
        >>> knn_knowledge(conn, q, agent=str(agent_id), k=5, threshold=0.5)   # doctest: +SKIP
    """
    params = {"q": blob(q), "k": k, "agent": agent}
    if k > VEC0_MAX_K:
        rows = conn.query_named(
            f"SELECT {KNOWLEDGE_COLUMNS} FROM knowledge AS k "
            f'WHERE (k."agentId" = :agent OR k."isShared" = 1) AND {_NOT_ZERO.format("k")} '
            'ORDER BY vec_distance_cosine(k."embedding", :q) LIMIT :k',
            params,
        )
        return _rank(q, rows, k, threshold)
    rows = []
    for condition in ("v.agent_id = :agent", "v.is_shared = 1"):
        rows += conn.query_named(
            "WITH knn AS ("
            "SELECT v.id, v.distance FROM vec_knowledge AS v "
            f"WHERE v.embedding MATCH :q AND v.k = :k AND {condition}"
            f') SELECT {KNOWLEDGE_COLUMNS} FROM knn JOIN knowledge AS k ON k."id" = knn.id',
            params,
        )
    unique_rows = list({r["id"]: r for r in rows}.values())
    return _rank(q, unique_rows, k, threshold)


def ids_param(ids: Sequence[Any]) -> str:
    """A list of ids as one JSON parameter, for ``IN (SELECT value FROM json_each(:ids))``.

    Example:
        >>> ids_param(["a", "b"])
        '["a", "b"]'
    """
    return json.dumps([str(i) for i in ids])


__all__ = ["KNOWLEDGE_COLUMNS", "MEMORY_COLUMNS", "MemoryQuery", "ids_param", "knn_knowledge", "knn_memories"]
