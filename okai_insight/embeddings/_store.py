"""The embedding checks' vector source on a SQLite or in-memory store: the rows the SQL files of
``queries/embeddings`` return on PostgreSQL, computed in numpy from the store's ``memories`` (or ``knowledge``) table.

The analysis (quality, explorer, threshold) is the same code on every backend; only the reading differs:
:func:`source_rows` sends a named query to PostgreSQL through the runner, or answers it here for a
:class:`~okai_insight._store_runner.StoreRunner`. Keyed samples use the same ``md5(id || seed)`` order as the SQL, so
both backends pick the same rows from the same data. Search on these stores is exact (sqlite-vec scans every
vector), so neighbours here are exact too. Zero vectors are left out of neighbour searches, as sqlite-vec's vec0
index and pgvector's cosine index leave them out.

Example:
    >>> sorted(store_table_columns("knowledge"))
    ['agentId', 'content', 'createdAt', 'id']
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from okai_insight._store_runner import StoreRunner
from okai_insight.errors import InvalidInput, UnknownTable

__all__ = ["StoreRows", "load_rows", "source_rows", "store_table_columns"]

#: The columns each okai-insight SQLite table has (knowledge has no room, user or type).
_COLUMNS = {
    "memories": ("id", "agentId", "roomId", "userId", "type", "createdAt", "content"),
    "knowledge": ("id", "agentId", "createdAt", "content"),
}
#: Logical group name -> the row key holding it.
_GROUP_KEY = {"agent": "agent_id", "room": "room_id", "user": "user_id", "type": "type", "world": "world_id"}


def store_table_columns(table: str) -> frozenset[str]:
    """The columns of ``table`` on a store (raises :class:`UnknownTable` for another table)."""
    if table not in _COLUMNS:
        raise UnknownTable(f"a SQLite / in-memory store has vector tables memories and knowledge, not {table!r}")
    return frozenset(_COLUMNS[table])


@dataclass
class StoreRows:
    """Every row of a store's vector table: metadata dicts and their vectors (None: NULL), read once."""

    rows: list[dict[str, Any]] = field(default_factory=list)


def load_rows(run: StoreRunner, table: str, column: str) -> StoreRows:
    """Read ``table``'s rows and vectors in one read transaction."""
    from okai_insight.adapters._sqlite_functions import from_blob, to_datetime

    cols = store_table_columns(table)
    if column != "embedding":
        raise InvalidInput(f"{table} on a SQLite / in-memory store has one vector column, embedding, not {column!r}")
    select = ", ".join(f'"{c}"' if c in cols else f'NULL AS "{c}"' for c in _COLUMNS["memories"])
    query = f'SELECT {select}, "embedding" FROM {table}'
    raw = run.read(lambda c: c.query_named(query))
    out = []
    for r in raw:
        content = r["content"]
        text = None
        if content is not None:
            value = json.loads(content).get("text") if content.startswith("{") else None
            text = value if isinstance(value, str) or value is None else json.dumps(value)
        vec = from_blob(r["embedding"])
        out.append(
            {
                "id": str(r["id"]),
                "agent_id": r["agentId"],
                "room_id": r["roomId"],
                "user_id": r["userId"],
                "world_id": None,
                "type": r["type"],
                "created_at": to_datetime(r["createdAt"]) if r["createdAt"] else None,
                "text": text,
                "vec": None if vec is None else vec + np.float32(0.0),  # -0.0 -> 0.0, as the adapters store it
            }
        )
    return StoreRows(out)


def _key(row_id: str, seed: Any) -> str:
    return hashlib.md5(f"{row_id}{seed}".encode()).hexdigest()


def _group(row: dict[str, Any], group: str | None) -> Any:
    if group is None:
        return "all"
    value = row[_GROUP_KEY[group]]
    return None if value is None else str(value)


def _norm(v: np.ndarray) -> float:
    return float(np.linalg.norm(v.astype(np.float64)))


def _sampled(rows: list[dict[str, Any]], percent: float, seed: Any) -> list[dict[str, Any]]:
    """About ``percent`` % of the rows, keyed by ``md5(id || seed)`` (the store's stand-in for TABLESAMPLE)."""
    if percent >= 100:
        return rows
    return [r for r in rows if int(_key(r["id"], seed)[:8], 16) < percent / 100 * 16**8]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return float(a64 @ b64 / (np.linalg.norm(a64) * np.linalg.norm(b64)))


def source_rows(run: Any, t: Any, name: str, params: dict[str, Any], group: str | None = None) -> list[dict[str, Any]]:
    """The rows of query ``name`` (a file of ``queries/embeddings``) with ``params``: through the runner on
    PostgreSQL, computed here on a store.

    Example:
        >>> source_rows(run, t, "group_stats", {"percent": 100, "seed": 0, "unit_tolerance": 1e-3})  # doctest: +SKIP
    """
    if t.store is None:
        return list(run.query("embeddings", name, params, identifiers=t.identifiers(group)).rows)
    rows: list[dict[str, Any]] = t.store.rows
    handler = _HANDLERS.get(name)
    if handler is None:
        raise InvalidInput(f"{name} is not answered on a SQLite / in-memory store")
    return handler(rows, params, group)


def _group_stats(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    per: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in _sampled(rows, p["percent"], p["seed"]):
        per[_group(r, group)].append(r)
    out = []
    for grp, members in per.items():
        vecs = [r["vec"] for r in members if r["vec"] is not None]
        norms = np.array([_norm(v) for v in vecs], dtype=np.float64)
        finite = norms[np.isfinite(norms)]
        positive = finite[finite > 0]
        dims: dict[str, int] = defaultdict(int)
        for v in vecs:
            dims[str(v.shape[0])] += 1
        out.append(
            {
                "group": grp,
                "sampled_rows": len(members),
                "null_vectors": len(members) - len(vecs),
                "zero_vectors": int((finite == 0).sum()),
                "nan_vectors": int((~np.isfinite(norms)).sum()),
                "non_unit_vectors": int((np.abs(positive - 1) > p["unit_tolerance"]).sum()),
                "norm_min": float(positive.min()) if positive.size else None,
                "norm_p05": float(np.percentile(positive, 5)) if positive.size else None,
                "norm_median": float(np.percentile(positive, 50)) if positive.size else None,
                "norm_p95": float(np.percentile(positive, 95)) if positive.size else None,
                "norm_max": float(positive.max()) if positive.size else None,
                "norm_mean": float(positive.mean()) if positive.size else None,
                "norm_stddev": float(positive.std(ddof=1)) if positive.size > 1 else None,
                "stored_dims": dict(sorted(dims.items(), key=lambda kv: int(kv[0]))) or None,
            }
        )
    return sorted(out, key=lambda r: (-r["sampled_rows"], str(r["group"])))


def _row_norms(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    kept = [r for r in _sampled(rows, p["percent"], p["seed"]) if r["vec"] is not None]
    kept.sort(key=lambda r: _key(r["id"], p["seed"]))
    limit = p.get("limit")
    return [
        {"id": r["id"], "group": _group(r, group), "dims": r["vec"].shape[0], "norm": _norm(r["vec"])}
        for r in (kept if limit is None else kept[:limit])
    ]


def _nonzero(r: dict[str, Any]) -> bool:
    return r["vec"] is not None and bool(np.any(r["vec"] != 0))


def _exact_duplicates(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    same: dict[bytes, list[dict[str, Any]]] = defaultdict(list)
    for r in _sampled(rows, p["percent"], p["seed"]):
        if _nonzero(r):
            same[r["vec"].tobytes() + str(r["vec"].shape[0]).encode()].append(r)
    groups = [members for members in same.values() if len(members) > 1]
    total_rows = sum(len(g) for g in groups)
    groups.sort(key=lambda g: (-len(g), min(r["id"] for r in g)))
    return [
        {
            "vector_md5": hashlib.md5(g[0]["vec"].tobytes()).hexdigest(),
            "rows": len(g),
            "ids": [r["id"] for r in sorted(g, key=lambda r: (str(r["created_at"]), r["id"]))],
            "groups": sorted({_group(r, group) for r in g}, key=str),
            "duplicate_groups": len(groups),
            "duplicate_rows": total_rows,
        }
        for g in groups[: p["max_groups"]]
    ]


def _same_text_pairs(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    sample = [r for r in _sampled(rows, p["percent"], p["seed"]) if r["text"] is not None and _nonzero(r)]
    first: dict[str, dict[str, Any]] = {}
    for r in sorted(sample, key=lambda r: (str(r["created_at"]), r["id"])):
        first.setdefault(r["text"], r)
    out = []
    for s in sample:
        f = first[s["text"]]
        if f["id"] == s["id"]:
            continue
        same_dims = f["vec"].shape[0] == s["vec"].shape[0]
        cos = _cosine(f["vec"], s["vec"]) if same_dims else None
        if cos is None or cos < p["max_similarity"]:
            out.append(
                {
                    "id_a": f["id"],
                    "id_b": s["id"],
                    "group_a": _group(f, group),
                    "group_b": _group(s, group),
                    "text_preview": s["text"][:80],
                    "dims_a": f["vec"].shape[0],
                    "dims_b": s["vec"].shape[0],
                    "cosine_similarity": cos,
                }
            )
    out.sort(key=lambda r: (r["cosine_similarity"] is not None, r["cosine_similarity"] or 0.0, r["id_a"], r["id_b"]))
    return out[: p["limit"]]


def _matches(r: dict[str, Any], p: dict[str, Any]) -> bool:
    for key in ("agent_id", "room_id", "user_id", "world_id"):
        if p.get(key) is not None and r[key] != str(p[key]):
            return False
    if p.get("type") is not None and r["type"] != p["type"]:
        return False
    if p.get("since") is not None and (r["created_at"] is None or r["created_at"] < p["since"]):
        return False
    if p.get("until") is not None and (r["created_at"] is None or r["created_at"] >= p["until"]):
        return False
    if p.get("dims") is not None and r["vec"].shape[0] != p["dims"]:
        return False
    return not (p.get("nonzero") and not _nonzero(r))


def _fetch_rows(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    kept = [r for r in _sampled(rows, p["percent"], p["seed"]) if r["vec"] is not None and _matches(r, p)]
    kept.sort(key=lambda r: _key(r["id"], p["seed"]))
    if p.get("limit") is not None:
        kept = kept[: p["limit"]]
    chars = p.get("preview_chars", 120)
    return [
        {
            "id": r["id"],
            "agent_id": r["agent_id"],
            "room_id": r["room_id"],
            "user_id": r["user_id"],
            "world_id": r["world_id"],
            "type": r["type"],
            "created_at": r["created_at"],
            "text_preview": None if r["text"] is None else r["text"][:chars],
            "group": _group(r, group),
            "embedding": r["vec"],
        }
        for r in kept
    ]


def _near_neighbours(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    """Each probe's ``k`` nearest rows by cosine distance, exact (what sqlite-vec's vec0 search returns)."""
    wanted = {str(i) for i in p["ids"]}
    candidates = [r for r in rows if _nonzero(r)]
    by_dims: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in candidates:
        by_dims[r["vec"].shape[0]].append(r)
    matrices = {d: np.vstack([r["vec"] for r in members]).astype(np.float64) for d, members in by_dims.items()}
    out = []
    for probe in sorted((r for r in candidates if r["id"] in wanted), key=lambda r: r["id"]):
        d = probe["vec"].shape[0]
        members, M = by_dims[d], matrices[d]
        q = probe["vec"].astype(np.float64)
        cos = (M @ q) / (np.linalg.norm(M, axis=1) * np.linalg.norm(q))
        order = [int(i) for i in np.argsort(-cos, kind="stable") if members[int(i)]["id"] != probe["id"]]
        for i in order[: p["k"]]:
            nb = members[i]
            out.append(
                {
                    "probe_id": probe["id"],
                    "probe_group": _group(probe, group),
                    "neighbour_id": nb["id"],
                    "neighbour_group": _group(nb, group),
                    "cosine_similarity": float(cos[i]),
                    "l2_distance": float(np.linalg.norm(M[i] - q)),
                    "inner_product": float(M[i] @ q),
                }
            )
    return out


def _fetch_by_ids(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    wanted = {str(i) for i in p["ids"]}
    return [
        {"id": r["id"], "room_id": r["room_id"], "text": r["text"], "embedding": r["vec"]}
        for r in sorted(rows, key=lambda r: r["id"])
        if r["id"] in wanted
    ]


def _neighbours(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    """The ``k`` nearest rows of a memory (``id``, left out itself) or of a vector (``q``) by cosine distance, exact
    (sqlite-vec's vec0 search scans every vector; the in-memory store ranks them all the same way)."""
    if p.get("id") is not None:
        me = next((r for r in rows if r["id"] == str(p["id"])), None)
        if me is None or me["vec"] is None:
            return []
        q = me["vec"].astype(np.float64)
    else:
        q = np.asarray(p["q"], dtype=np.float64)
    qn = float(np.linalg.norm(q))
    candidates = [r for r in rows if _nonzero(r) and r["vec"].shape[0] == q.shape[0] and r["id"] != str(p.get("id"))]
    if not candidates or qn == 0:
        return []
    M = np.vstack([r["vec"] for r in candidates]).astype(np.float64)
    cos = (M @ q) / (np.linalg.norm(M, axis=1) * qn)
    chars = p.get("preview_chars", 120)
    out = []
    for i in np.argsort(-cos, kind="stable")[: p["k"]]:
        r = candidates[int(i)]
        out.append(
            {
                "id": r["id"],
                "cosine_similarity": float(cos[i]),
                "distance": float(1.0 - cos[i]),
                "agent_id": r["agent_id"],
                "room_id": r["room_id"],
                "user_id": r["user_id"],
                "type": r["type"],
                "created_at": r["created_at"],
                "text_preview": None if r["text"] is None else r["text"][:chars],
            }
        )
    return out


def _zero_vectors(rows: list[dict[str, Any]], p: dict[str, Any], group: str | None) -> list[dict[str, Any]]:
    ids = sorted(r["id"] for r in rows if r["vec"] is not None and not _nonzero(r))
    return [{"id": i} for i in ids[: p["limit"]]]


_HANDLERS = {
    "group_stats": _group_stats,
    "row_norms": _row_norms,
    "exact_duplicates": _exact_duplicates,
    "same_text_pairs": _same_text_pairs,
    "fetch_rows": _fetch_rows,
    "near_neighbours": _near_neighbours,
    "fetch_by_ids": _fetch_by_ids,
    "neighbours": _neighbours,
    "zero_vectors": _zero_vectors,
}
