"""Read embeddings with their metadata into numpy / pandas: one keyed sample, through the safe transaction.

Example:
    >>> with using(url) as run:                                                    # doctest: +SKIP
    ...     t = read_table(run, "memories")
    ...     frame, X = fetch(run, t, Filters(room_id=room), limit=1000)
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from psycopg import sql

from okai_insight.embeddings._citus import probe_neighbours_by_probe, uses_citus
from okai_insight.embeddings._store import source_rows
from okai_insight.embeddings._table import GroupBy, VectorTable, sample_percent
from okai_insight.errors import InvalidInput
from okai_insight.runner import Runner

#: The metadata columns of a fetched frame, in order.
META = ("id", "agent_id", "room_id", "user_id", "world_id", "type", "created_at", "text_preview", "group")


@dataclass(frozen=True)
class Filters:
    """Which rows to read: any of agent, room, user (ElizaOS 1.x's entity), memory type, a created-at window
    (``since`` inclusive, ``until`` exclusive) and world (ElizaOS 1.x only).

    Example:
        >>> Filters(type="messages").active()
        {'type': 'messages'}
    """

    agent_id: str | uuid.UUID | None = None
    room_id: str | uuid.UUID | None = None
    user_id: str | uuid.UUID | None = None
    type: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    world_id: str | uuid.UUID | None = None

    def active(self) -> dict[str, Any]:
        """The filters that are set."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def params(self, table: VectorTable) -> dict[str, Any]:
        """Bound parameters for ``fetch_rows.sql``; refuses filters on columns the table lacks or malformed ids."""
        out: dict[str, Any] = {}
        need = {
            "agent_id": "agent",
            "room_id": "room",
            "user_id": "user",
            "type": "type",
            "since": "created_at",
            "until": "created_at",
            "world_id": "world",
        }
        for key, value in asdict(self).items():
            if value is not None and not table.has(need[key]):
                raise InvalidInput(f"{table.qualified} has no {need[key]} column to filter on ({key}={value!r})")
            if value is not None and key.endswith("_id"):
                try:
                    value = uuid.UUID(str(value))
                except ValueError as exc:
                    raise InvalidInput(f"{key} must be a UUID, got {value!r}") from exc
            out[key] = value
        return out


def to_matrix(vectors: list[Any]) -> np.ndarray:
    """Stack fetched vectors (numpy arrays, or pgvector ``HalfVector``) into one float32 matrix.

    Example:
        >>> to_matrix([np.ones(3), np.zeros(3)]).shape
        (2, 3)
    """
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    rows = [np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32) for v in vectors]
    dims = {r.shape[0] for r in rows}
    if len(dims) > 1:
        raise InvalidInput(f"the rows hold vectors of {len(dims)} dimensions {sorted(dims)}: pass dims= to pick one")
    return np.vstack(rows)


def fetch(
    run: Runner,
    table: VectorTable,
    filters: Filters | None = None,
    *,
    limit: int | None = 10_000,
    sample_rows: int | None = None,
    group: GroupBy = None,
    dims: int | None = None,
    nonzero: bool = True,
    seed: int = 0,
    preview_chars: int = 120,
) -> tuple[Any, np.ndarray, bool]:
    """Metadata frame, float32 matrix (same row order) and whether pages were sampled.

    ``limit`` keeps a keyed sample of that many rows (``md5(id || seed)`` order); ``sample_rows`` first reads about
    that many rows' worth of pages (TABLESAMPLE SYSTEM) on big tables.
    """
    import pandas as pd

    if limit is not None and limit <= 0:
        raise InvalidInput(f"limit must be positive or None, got {limit}")
    percent = sample_percent(table.estimated_rows, sample_rows) if sample_rows else 100.0
    params = {
        "percent": percent,
        "seed": seed,
        "limit": limit,
        "preview_chars": preview_chars,
        "agent_id": None,
        "room_id": None,
        "user_id": None,
        "world_id": None,
        "type": None,
        "since": None,
        "until": None,
        "dims": dims if dims is not None else table.declared_dims,
        "nonzero": nonzero,
    }
    params.update((filters or Filters()).params(table))
    if table.declared_dims is None and dims is None:
        params["dims"] = None
    if table.store is not None:
        rows = source_rows(run, table, "fetch_rows", params, group)
    elif limit is None or limit > STREAM_ROWS:
        frame, X = _stream(run, table, params, group, limit)
        return frame, X, percent < 100
    else:
        with run.transaction(vectors=True) as tx:
            rows = tx.query("embeddings", "fetch_rows", params, identifiers=table.identifiers(group)).rows
    frame = pd.DataFrame([{k: r[k] for k in META} for r in rows], columns=list(META))
    X = to_matrix([r["embedding"] for r in rows])
    if not len(rows) and table.declared_dims:
        X = np.zeros((0, table.declared_dims), dtype=np.float32)
    return frame, X, percent < 100


#: Reads of more rows than this stream (a server-side cursor in binary, vectors straight into one matrix).
STREAM_ROWS = 20_000
#: Rows a streaming read fetches per round trip.
STREAM_BATCH = 10_000


def _stream(
    run: Runner, table: VectorTable, params: dict[str, Any], group: GroupBy, limit: int | None
) -> tuple[Any, np.ndarray]:
    """A big read without holding it twice: a server-side cursor fetches :data:`STREAM_BATCH` rows at a time in
    binary; each vector's bytes (pgvector's wire format: dims, then big-endian floats) are decoded straight into
    one preallocated float32 matrix, and the metadata into column lists. Without a ``limit`` the keyed
    ``ORDER BY md5(id || seed)`` is left out: it would sort every row with its vector (gigabytes at a million rows
    of 384 dimensions) to return them all anyway, so the rows come in the table's order.

    Example:
        >>> frame, X = _stream(run, t, params, None, None)                    # doctest: +SKIP
        >>> X.shape                                                           # doctest: +SKIP
        (1000000, 384)
    """
    import pandas as pd
    from psycopg.adapt import Loader
    from psycopg.pq import Format
    from psycopg.rows import tuple_row

    from okai_insight.query_files import load_sql
    from okai_insight.runner import _statement_text, tagged

    text = _statement_text(load_sql("embeddings", "fetch_rows"))
    if limit is None:
        text = text.replace("ORDER BY md5(id::text || %(seed)s::text)", "")
    statement = tagged(sql.SQL(text).format(**table.identifiers(group)))  # type: ignore[arg-type]  # trusted file
    half = table.type_name == "halfvec"
    dtype = np.dtype(">f2" if half else ">f4")

    class _Raw(Loader):  # the vector's bytes as they arrive: decoded in bulk below, not one object per row
        format = Format.BINARY

        def load(self, data: Any) -> bytes:
            return bytes(data)

    estimate = max(1_000, int(table.estimated_rows * 1.05) + 1_000)  # grown in place if the statistics are stale
    capacity = estimate if limit is None else min(limit, estimate)
    dims = params.get("dims") or table.declared_dims
    X: np.ndarray | None = None
    columns: dict[str, list[Any]] = {k: [] for k in META}
    n = 0
    with run.transaction() as tx:
        oid = tx.execute(sql.SQL("SELECT to_regtype({})::oid AS oid").format(sql.Literal(table.type_name))).rows
        conn = tx.cursor.connection
        with (
            run._translated("embeddings/fetch_rows"),
            conn.cursor(name="okai_fetch_rows", row_factory=tuple_row) as cur,
        ):
            cur.adapters.register_loader(int(oid[0]["oid"]), _Raw)
            cur.itersize = STREAM_BATCH
            cur.execute(statement, params, binary=True)
            while True:
                batch = cur.fetchmany(STREAM_BATCH)
                if not batch:
                    break
                raws = [r[-1] for r in batch]
                width = int.from_bytes(raws[0][:2], "big")
                if X is None:
                    dims = dims or width
                    X = np.empty((capacity, dims), dtype=np.float32)
                size = 4 + dtype.itemsize * X.shape[1]
                if any(len(b) != size for b in raws):
                    raise InvalidInput("the rows hold vectors of several dimensions: pass dims= to pick one")
                while n + len(batch) > X.shape[0]:  # the estimate was low: grow in place where the allocator can
                    X.resize((X.shape[0] * 2, X.shape[1]), refcheck=False)
                block = np.frombuffer(b"".join(raws), dtype=np.uint8).reshape(len(raws), size)[:, 4:]
                X[n : n + len(batch)] = block.copy().view(dtype)  # one batch decoded at once
                for key, values in zip(META, zip(*batch, strict=True), strict=False):
                    columns[key].extend(values)
                n += len(batch)
    if X is None:
        X = np.zeros((0, dims or 0), dtype=np.float32)
    elif n < X.shape[0]:
        X.resize((n, X.shape[1]), refcheck=False)  # shrinks in place: never a second copy of the matrix
    columns["id"] = [str(v) for v in columns["id"]]  # only the ids need converting: the rest go in as they are
    frame = pd.DataFrame(columns, columns=list(META))
    return frame, X


#: Probe rows per statement: each statement stays well inside the runner's statement_timeout.
PROBE_BATCH = 200


def probe_neighbours(
    run: Runner, table: VectorTable, ids: list[str], k: int, *, group: GroupBy = None
) -> list[dict[str, Any]]:
    """Each probe row's ``k`` nearest rows through the vector index (``near_neighbours.sql``), in batches of
    :data:`PROBE_BATCH` probes a statement, with ``hnsw.ef_search`` at least ``k``.

    Example:
        >>> probe_neighbours(run, t, ["2b0e..."], 10)[0]["cosine_similarity"]       # doctest: +SKIP
        0.93
    """
    if table.store is not None:  # exact search on a SQLite / in-memory store
        return source_rows(run, table, "near_neighbours", {"ids": ids, "k": k}, group)
    if uses_citus(run):  # a distributed table refuses near_neighbours' LATERAL ... LIMIT: one statement a probe
        return probe_neighbours_by_probe(run, table, ids, k, group=group)
    out: list[dict[str, Any]] = []
    with run.transaction(settings={"hnsw.ef_search": str(max(40, k))}, vectors=True) as tx:
        for start in range(0, len(ids), PROBE_BATCH):
            batch = ids[start : start + PROBE_BATCH]
            out += tx.query(
                "embeddings", "near_neighbours", {"ids": batch, "k": k}, identifiers=table.identifiers(group)
            ).rows
    return out
