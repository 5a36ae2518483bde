"""Exact top-k of many query vectors from one streamed read of the table (the recall tuner's ground truth).

Asking the server for each query's exact top-k is one sequential scan per query: 200 queries on 1M x 384 read
the whole table 200 times (~1 s each on 2 cores). Here the table is read once instead: consecutive ranges of its
pages (a TID range scan, one ``COPY ... (FORMAT BINARY)`` statement per range, so each stays inside the runner's
``statement_timeout``) are decoded straight into a float32 block with numpy (fixed-width binary rows: no Python
object per row), every block is scored against all the queries with one matrix product, and each query keeps its
``k + margin`` best candidates by their ``ctid``. Memory stays at one block plus the candidates, never the matrix.

The candidates' distances are then asked of the server (``WHERE ctid = ANY(...)``, with the operator the searches
use), so the exact list and its distances come from the same float arithmetic as the approximate searches they are
compared with: client-side float noise only decides which ``k + margin`` rows are looked at, never the order.

Example:
    >>> with run.transaction(vectors=True) as tx:                                    # doctest: +SKIP
    ...     ids, dists = streamed_topk(tx, table, Q, k=10)
    >>> len(ids) == len(Q)  # doctest: +SKIP
    True
"""

from __future__ import annotations

import numpy as np
from psycopg import sql

from okai_insight.embeddings._table import VectorTable
from okai_insight.errors import InvalidInput
from okai_insight.runner import Transaction, tagged

#: Distance operators computed client-side; other ones (L1 ``<+>``) keep the per-query exact scans.
OPERATORS = ("<=>", "<->", "<#>")
#: Pages read per COPY statement (8 kB pages: ~64 MB, ~40k rows of 384 dimensions).
PAGES_PER_READ = 8_192
#: Candidates kept beyond k per query: client and server float rounding may order near-equal rows differently.
MARGIN = 10
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def supported(tx: Transaction, table: VectorTable) -> bool:
    """Whether :func:`streamed_topk` can read ``table``: a plain PostgreSQL table (not an ElizaOS 1.x join, not a
    store, not distributed, not partitioned, no inheritance children) on PostgreSQL 14+ (TID range scans),
    searched with a supported operator.

    Example:
        >>> supported(tx, t)                                                        # doctest: +SKIP
        True
    """
    from okai_insight.embeddings._citus import uses_citus

    if not (
        table.source is None
        and table.store is None
        and table.operator in OPERATORS
        and tx.run.features.server_version_num >= 140000
        and not uses_citus(tx.run)
    ):
        return False
    # Page ranges cover one heap: a partitioned table (no heap of its own) or an inheritance parent (its children
    # hold rows past its pages) keep the per-query scans.
    rows = tx.execute(
        sql.SQL(
            "SELECT c.relkind::text AS kind, EXISTS (SELECT 1 FROM pg_inherits AS i WHERE i.inhparent = c.oid) "
            "AS parent FROM pg_class AS c WHERE c.oid = {}::regclass"
        ).format(sql.Literal(sql.Identifier(table.schema, table.table).as_string(tx.cursor))),
        label="embeddings/relation_kind",
    ).rows
    return bool(rows) and rows[0]["kind"] in ("r", "m") and not rows[0]["parent"]


def _distances(block: np.ndarray, Q: np.ndarray, op: str) -> np.ndarray:
    """(rows, queries) distances of one block to every query, as the operator defines them. float32 (BLAS sgemm,
    twice float64's speed): it only picks the candidates, whose distances the server then computes."""
    B = block
    if op == "<=>":
        norms = np.linalg.norm(B, axis=1)
        zero = norms == 0
        norms[zero] = 1.0
        D = np.asarray(1.0 - (B / norms[:, None]) @ Q.T)
        D[zero] = np.inf  # a zero vector has no direction: the server's cosine distance is NaN, ordered last
        return D
    if op == "<->":
        sq = (B * B).sum(axis=1)[:, None] - 2.0 * (B @ Q.T) + (Q * Q).sum(axis=1)[None]
        return np.asarray(np.sqrt(np.maximum(sq, 0.0)))
    return np.asarray(-(B @ Q.T))  # <#>: the negative inner product


def _decode(buf: bytes | memoryview, dims: int, half: bool) -> tuple[np.ndarray, np.ndarray, int]:
    """Whole rows at the front of ``buf`` (binary COPY of ``ctid, vector``): their ctids as (block << 16 | offset),
    their vectors, and how many bytes they took (the tail is an incomplete row, or the trailer)."""
    width = 2 if half else 4
    row = 2 + 4 + 6 + 4 + 4 + width * dims
    n = len(buf) // row
    if n == 0:
        return np.zeros(0, np.int64), np.zeros((0, dims), np.float32), 0
    rec = np.dtype(
        [
            ("fields", ">i2"),
            ("tid_len", ">i4"),
            ("block", ">u4"),
            ("offset", ">u2"),
            ("vec_len", ">i4"),
            ("dims", ">i2"),
            ("unused", ">i2"),
            ("v", (">f2" if half else ">f4", dims)),
        ]
    )
    a = np.frombuffer(buf, dtype=rec, count=n)
    if (a["fields"] != 2).any() or (a["vec_len"] != 4 + width * dims).any() or (a["dims"] != dims).any():
        raise InvalidInput("unexpected row layout in the binary COPY of the vectors (mixed dimensions?)")
    tids = (a["block"].astype(np.int64) << 16) | a["offset"].astype(np.int64)
    return tids, a["v"].astype(np.float32), n * row


def _tid_text(tid: int) -> str:
    return f"({tid >> 16},{tid & 0xFFFF})"


def streamed_topk(
    tx: Transaction, table: VectorTable, Q: np.ndarray, k: int, *, pages_per_read: int = PAGES_PER_READ
) -> tuple[list[list[str]], list[list[float]]]:
    """Each query's exact ``k`` nearest rows of the whole table (ids and the server's distances, nearest first),
    from one streamed pass (see the module docstring). ``Q``: (queries, dims). Runs inside ``tx`` (one snapshot
    for the read and the distance look-ups when the caller's isolation gives one).

    Example:
        >>> ids, dists = streamed_topk(tx, t, X[:200], 10)                             # doctest: +SKIP
        >>> len(ids[0]), dists[0][0]  # doctest: +SKIP
        (10, 0.0)
    """
    Q0 = np.asarray(Q, dtype=np.float32)
    Q = Q0.copy()
    nq, dims = Q.shape
    op = table.operator
    if op == "<=>":
        qn = np.linalg.norm(Q, axis=1, keepdims=True)
        qn[qn == 0] = 1.0
        Q = Q / qn
    keep = k + MARGIN
    best_d = np.full((nq, 0), np.inf, dtype=np.float32)
    best_t = np.zeros((nq, 0), dtype=np.int64)
    half = table.type_name == "halfvec"
    ident = sql.Identifier(table.schema, table.table)
    col = sql.Identifier(table.column)
    pages = tx.execute(
        sql.SQL("SELECT (pg_relation_size({}::regclass) / current_setting('block_size')::int)::bigint AS pages").format(
            sql.Literal(ident.as_string(tx.cursor))
        ),
        label="embeddings/relation_pages",
    ).rows[0]["pages"]
    for start in range(0, int(pages) + 1, pages_per_read):
        statement = sql.SQL(
            "COPY (SELECT ctid, {col} FROM {t} WHERE ctid >= {lo}::tid AND ctid < {hi}::tid AND {col} IS NOT NULL "
            "AND vector_dims({col}) = {dims}) TO STDOUT (FORMAT BINARY)"
        ).format(
            col=col,
            t=ident,
            lo=sql.Literal(f"({start},0)"),
            hi=sql.Literal(f"({start + pages_per_read},0)"),
            dims=sql.Literal(dims),
        )
        # tagged: pg_stat_statements and pg_stat_activity show the read as okai-insight's own
        with (
            tx.run._translated("embeddings/stream_vectors"),
            tx.cursor.copy(tagged(statement)) as copy,
        ):
            data = b"".join(bytes(chunk) for chunk in copy)  # one range: ~64 MB at most (pages_per_read)
        if not data:
            continue
        if not data.startswith(_SIGNATURE):
            raise InvalidInput("not a binary COPY stream")
        body = memoryview(data)[19 + int.from_bytes(data[15:19], "big") :]  # a view: no second copy
        tids, V, used = _decode(body, dims, half)
        if bytes(body[used:]) != b"\xff\xff":
            raise InvalidInput("the binary COPY of the vectors ended inside a row")
        if len(tids):
            best_d, best_t = _merge(best_d, best_t, _distances(V, Q, op), tids, keep)
    return _lookup(tx, table, Q0, best_t, k)


def _merge(
    best_d: np.ndarray, best_t: np.ndarray, D: np.ndarray, tids: np.ndarray, keep: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fold one block's (rows, queries) distances into each query's ``keep`` best (distances, ctids)."""
    m = min(keep, D.shape[0])
    part = (
        np.argpartition(D, m - 1, axis=0)[:m]
        if m < D.shape[0]
        else np.arange(D.shape[0])[:, None].repeat(D.shape[1], axis=1)
    )
    cand_d = np.take_along_axis(D, part, axis=0).T  # (queries, m)
    cand_t = tids[part].T
    all_d = np.concatenate([best_d, cand_d], axis=1)
    all_t = np.concatenate([best_t, cand_t], axis=1)
    if all_d.shape[1] > keep:
        top = np.argpartition(all_d, keep - 1, axis=1)[:, :keep]
        all_d = np.take_along_axis(all_d, top, axis=1)
        all_t = np.take_along_axis(all_t, top, axis=1)
    return all_d, all_t


def _lookup(
    tx: Transaction, table: VectorTable, Q: np.ndarray, cands: np.ndarray, k: int
) -> tuple[list[list[str]], list[list[float]]]:
    """The server's distances of each query's candidates (by ctid), the ``k`` nearest kept, nearest first."""
    vtype = sql.SQL("halfvec" if table.type_name == "halfvec" else "vector")
    statement = sql.SQL(
        "SELECT id::text AS id, ({col} {op} %(q)s::{vtype})::float8 AS distance FROM {t} "
        "WHERE ctid = ANY(%(tids)s::tid[]) ORDER BY 2, 1"
    ).format(
        col=sql.Identifier(table.column),
        op=sql.SQL(table.operator),
        vtype=vtype,
        t=sql.Identifier(table.schema, table.table),
    )
    ids: list[list[str]] = []
    dists: list[list[float]] = []
    for i in range(cands.shape[0]):
        tids = [_tid_text(int(t)) for t in cands[i]]
        rows = tx.execute(statement, {"q": Q[i].astype(np.float32), "tids": tids}, label="embeddings/exact_lookup").rows
        rows = [r for r in rows if r["distance"] == r["distance"]][:k]  # NaN (zero vectors) last, as ORDER BY does
        ids.append([r["id"] for r in rows])
        dists.append([float(r["distance"]) for r in rows])
    return ids, dists
