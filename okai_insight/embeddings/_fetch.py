"""Read embeddings with their metadata into numpy / pandas: one keyed sample, through the safe transaction.

Example:
    >>> with using(url) as run:                                                    # doctest: +SKIP
    ...     t = read_table(run, "memories")
    ...     frame, X = fetch(run, t, Filters(room_id=room), limit=1000)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
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


#: The nil uuid: what fetch_packed.sql sends for a NULL agent / room / user / world (its NULL mask says which).
_NIL = bytes(16)
#: Bits of fetch_packed.sql's NULL mask.
_NULL_BITS = {"agent_id": 1, "room_id": 2, "user_id": 4, "world_id": 8, "created_at": 16}
#: timestamptz_send counts microseconds from 2000-01-01 UTC; numpy from 1970-01-01.
_PG_EPOCH_US = 946_684_800_000_000


def _id_is_uuid(tx: Any, table: VectorTable) -> bool:
    """Whether the table's ``id`` is a uuid (packed as 16 bytes) rather than text or a number (read as text)."""
    statement = sql.SQL("SELECT pg_typeof(id)::text AS t FROM {} LIMIT 1").format(table.identifiers()["table"])
    rows = tx.execute(statement).rows
    return not rows or rows[0]["t"] == "uuid"


def _stream(
    run: Runner, table: VectorTable, params: dict[str, Any], group: GroupBy, limit: int | None
) -> tuple[Any, np.ndarray]:
    """A big read, columnar, without holding it twice (``fetch_packed.sql``): a server-side cursor fetches
    :data:`STREAM_BATCH` rows at a time in binary (each FETCH a statement of its own, inside the statement
    timeout), each row's fixed-width parts (id, agent, room, user, world, createdAt, vector) packed by the server
    into ONE ``bytea``. A batch is decoded at once with numpy: the vectors straight into one preallocated float32
    matrix, the ids into text, agent / room / user / world into small dictionaries of codes (a few thousand uuids,
    categorical columns), createdAt into int64 microseconds; only the type, the text preview (computed by SQL,
    never the whole content) and the group arrive as Python strings. Without a ``limit`` the keyed
    ``ORDER BY md5(id || seed)`` is left out: it would sort every row with its vector (gigabytes at a million rows
    of 384 dimensions) to return them all anyway, so the rows come in the table's order.

    Example:
        >>> frame, X = _stream(run, t, params, None, None)                    # doctest: +SKIP
        >>> X.shape, frame["room_id"].dtype                                   # doctest: +SKIP
        ((1000000, 384), CategoricalDtype(categories=[UUID('...'), ...], ordered=False, ...))
    """
    from psycopg.rows import tuple_row

    from okai_insight.query_files import load_sql
    from okai_insight.runner import _statement_text, tagged

    text = _statement_text(load_sql("embeddings", "fetch_packed"))
    if limit is None:
        text = text.replace("ORDER BY md5(id::text || %(seed)s::text)", "")
    half = table.type_name == "halfvec"
    dtype = np.dtype(">f2" if half else ">f4")
    estimate = max(1_000, int(table.estimated_rows * 1.05) + 1_000)  # grown in place if the statistics are stale
    capacity = estimate if limit is None else min(limit, estimate)
    dims = params.get("dims") or table.declared_dims
    X: np.ndarray | None = None
    packs: list[np.ndarray] = []  # per batch: the fixed-width metadata bytes (ids, uuids, mask, time): ~90 B a row
    strings: dict[str, list[Any]] = {"id": [], "type": [], "text_preview": [], "group": []}
    n = 0
    with run.transaction() as tx:
        uuid_ids = _id_is_uuid(tx, table)
        ident = {
            **table.identifiers(group),
            # no group: the same text on every row, filled in here rather than read a million times
            **({"group": sql.SQL("NULL::text")} if group is None else {}),
            "id_send": sql.SQL("uuid_send(id)" if uuid_ids else "''::bytea"),
            "id_text": sql.SQL("NULL::text" if uuid_ids else "id::text"),
            "vector_send": sql.SQL("halfvec_send" if half else "vector_send"),
        }
        statement = tagged(sql.SQL(text).format(**ident))  # type: ignore[arg-type]  # trusted file
        meta = (16 if uuid_ids else 0) + 4 * 16 + 4 + 8
        conn = tx.cursor.connection
        with (
            run._translated("embeddings/fetch_packed"),
            conn.cursor(name="okai_fetch_packed", row_factory=tuple_row) as cur,
        ):
            cur.itersize = STREAM_BATCH
            cur.execute(statement, params, binary=True)
            for batch in _prefetched(cur, pause_gc=True):
                packed, ids, types, previews, groups = zip(*batch, strict=True)
                width = len(packed[0])
                if X is None:
                    dims = dims or (width - meta - 4) // dtype.itemsize
                    X = np.empty((capacity, dims), dtype=np.float32)
                size = meta + 4 + dtype.itemsize * X.shape[1]
                buf = b"".join(packed)
                if len(buf) != size * len(packed) or set(map(len, packed)) != {size}:
                    raise InvalidInput("the rows hold vectors of several dimensions: pass dims= to pick one")
                block = np.frombuffer(buf, dtype=np.uint8).reshape(len(packed), size)
                while n + len(batch) > X.shape[0]:  # the estimate was low: grow in place where the allocator can
                    X.resize((X.shape[0] * 2, X.shape[1]), refcheck=False)
                X[n : n + len(batch)] = block[:, meta + 4 :].view(dtype)  # one batch decoded at once
                packs.append(block[:, :meta].copy())
                if not uuid_ids:
                    strings["id"].extend(ids)
                strings["type"].extend(types)
                strings["text_preview"].extend(previews)
                strings["group"].extend(groups)
                n += len(batch)
    if X is None:
        X = np.zeros((0, dims or 0), dtype=np.float32)
    elif n < X.shape[0]:
        X.resize((n, X.shape[1]), refcheck=False)  # shrinks in place: never a second copy of the matrix
    fixed = np.concatenate(packs) if packs else np.zeros((0, (16 if uuid_ids else 0) + 84), dtype=np.uint8)
    return _frame(fixed, strings, uuid_ids, group), X


def _prefetched(cur: Any, *, pause_gc: bool = False) -> Iterator[list[Any]]:
    """The cursor's batches of :data:`STREAM_BATCH` rows, each FETCH sent by a reader thread while the caller decodes
    the previous batch: a server-side cursor computes a batch only when asked, so read in turn the server and the
    client wait for each other (at 1M rows the fetch took the sum of both). At most two batches wait decoded-to-be;
    the thread is the only user of the connection until it has finished, and is joined before the caller goes on.
    ``pause_gc``: no cyclic garbage collection meanwhile (a million rows are a million tuples, which trigger
    collections that walk every live object again and again; nothing read here forms a cycle), restored after.

    Example:
        >>> for batch in _prefetched(cur): ...                                # doctest: +SKIP
    """
    import gc
    import queue
    import threading

    ready: queue.Queue[list[Any] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                batch = cur.fetchmany(STREAM_BATCH)
                ready.put(batch or None)
                if not batch:
                    return
        except BaseException as exc:  # re-raised by the caller, in its thread (and its error translation)
            ready.put(exc)

    reader = threading.Thread(target=read, name="okai-fetch", daemon=True)
    collecting = gc.isenabled()
    if pause_gc:
        gc.disable()
    reader.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, BaseException):
                raise item
            if item is None:
                return
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue finish its FETCH and see the stop
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()
        if pause_gc and collecting:
            gc.enable()


def _frame(fixed: np.ndarray, strings: dict[str, list[Any]], uuid_ids: bool, group: GroupBy) -> Any:
    """The metadata frame (:data:`META` columns) from the packed fixed-width bytes and the string columns."""
    import pandas as pd

    at = 0
    columns: dict[str, Any] = {}
    if uuid_ids:
        columns["id"] = uuid_text(fixed[:, :16])
        at = 16
    else:
        columns["id"] = strings["id"]
    mask = fixed[:, at + 64 : at + 68].copy().view(">i4")[:, 0]
    for j, key in enumerate(("agent_id", "room_id", "user_id", "world_id")):
        columns[key] = uuid_categories(fixed[:, at + 16 * j : at + 16 * (j + 1)], (mask & _NULL_BITS[key]) != 0)
    columns["type"] = pd.Categorical(strings["type"])
    us = fixed[:, at + 68 : at + 76].copy().view(">i8")[:, 0].astype(np.int64)
    missing = ((mask & _NULL_BITS["created_at"]) != 0) | (us == np.iinfo(np.int64).max) | (us == np.iinfo(np.int64).min)
    stamps = np.where(missing, np.iinfo(np.int64).min, us + _PG_EPOCH_US)  # -infinity / infinity: no time
    columns["created_at"] = pd.to_datetime(stamps.view("datetime64[us]"), utc=True)
    columns["text_preview"] = strings["text_preview"]
    columns["group"] = strings["group"] if group is not None else np.full(len(fixed), "all")
    return pd.DataFrame(columns, columns=list(META))


def uuid_text(raw: np.ndarray) -> Any:
    """16-byte uuids (an ``(n, 16)`` uint8 array) as their canonical text (``str(uuid.UUID(bytes=...))``), formatted
    in numpy: no uuid object a row.

    Example:
        >>> u = uuid.UUID("12345678-9abc-def0-1234-56789abcdef0")
        >>> list(uuid_text(np.frombuffer(u.bytes, np.uint8).reshape(1, 16))) == [str(u)]
        True
    """
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    n = len(raw)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = hexdigits[raw >> 4]
    digits[:, 1::2] = hexdigits[raw & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for a, b, c in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        out[:, a:b] = digits[:, c : c + b - a]
    return np.ascontiguousarray(out).view("S36")[:, 0].astype(str)


def uuid_categories(raw: np.ndarray, null: np.ndarray) -> Any:
    """A categorical column of ``uuid.UUID`` values (NaN where ``null``) from 16-byte uuids: the distinct values
    found by hashing (a million rows hold a few thousand agents and rooms), one uuid object a distinct value.

    Example:
        >>> a, b = uuid.uuid4(), uuid.uuid4()
        >>> raw = np.frombuffer(a.bytes + b.bytes + a.bytes, np.uint8).reshape(3, 16)
        >>> c = uuid_categories(raw, np.array([False, False, True]))
        >>> list(c[:2]) == [a, b], c.isna().tolist()
        (True, [False, False, True])
    """
    import pandas as pd

    raw = np.ascontiguousarray(raw)
    halves = raw.view(">u8").astype(np.uint64)
    codes, hi = pd.factorize(halves[:, 0])
    lo = np.zeros(len(hi), dtype=np.uint64)
    lo[codes] = halves[:, 1]
    if np.array_equal(lo[codes], halves[:, 1]):
        categories = [uuid.UUID(int=(int(h) << 64) | int(v)) for h, v in zip(hi, lo, strict=True)]
    else:  # two uuids share their first 8 bytes: factorize them whole (a sort, slower)
        whole, codes = np.unique(raw.view("V16")[:, 0], return_inverse=True)
        categories = [uuid.UUID(bytes=v.tobytes()) for v in whole]
    codes = np.where(null, -1, codes.ravel()).astype(np.int32)
    # a uuid only NULL rows had (their nil uuid) is no category
    return pd.Categorical.from_codes(codes, categories=categories).remove_unused_categories()


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
