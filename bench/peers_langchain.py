"""langchain-postgres as a peer of okai-insight (issue 17 item 5): ``PGVector`` and ``PGVectorStore``, on the same
data and the same embedded server as ``bench/peers.py``, each with its own best settings.

- **Ingest**: each store's own batch API (``add_embeddings``, batches of 1,000) into its table without a vector
  index (the faster way for either), timed over the first ``ingest_rows`` rows (``PGVectorStore`` inserts and
  commits row by row: 100k rows would take most of an hour here); the rest of the rows go in by binary COPY into
  the store's own table (not timed, like ElizaOS's base rows), then its HNSW index is built once (``PGVector``: ``CREATE INDEX ... USING hnsw
  (embedding vector_cosine_ops)`` on its ``langchain_pg_embedding``, which needs ``embedding_length``;
  ``PGVectorStore``: its own ``apply_vector_index(HNSWIndex())``). Timed: the rows, not the build.
- **Search**: ``similarity_search_with_score_by_vector(q, k=10)`` at ``hnsw.ef_search`` = okai-insight's
  (``PGVector`` has no option for it: the database's setting, ``ALTER DATABASE ... SET``; ``PGVectorStore``:
  ``HNSWQueryOptions(ef_search=...)``); the room-filtered search passes the room as its metadata filter
  (``PGVector``: ``{"room": {"$eq": room}}`` on its JSONB; ``PGVectorStore``: a ``room`` metadata column).
- **Plans**: the SQL each runs is captured from SQLAlchemy (``before_cursor_execute``) and EXPLAINed.

Example:
    >>> r = run_pgvector(admin_url, data, truth, room_truth, room, ef=100)   # doctest: +SKIP
    >>> r.search.recall > 0.9                                               # doctest: +SKIP
    True
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.types.json import Json, Jsonb

from bench._data import Dataset
from bench._server import create_database
from bench._stats import Latency, recall_at_k, summarise

BATCH = 1_000
ROOM_KEY = "room"


@dataclass
class StoreResult:
    """One langchain-postgres store: ingest rows/s, index build seconds, search and filtered search, plans."""

    label: str
    ingest_rows_s: float = 0.0
    build_s: float = 0.0
    search_recall: float = 0.0
    search: Latency | None = None
    filtered_recall: float = 0.0
    filtered_rows: float = 0.0  #: rows returned on average by the filtered search (10 asked)
    filtered: Latency | None = None
    plans: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Precomputed:
    """The ``Embeddings`` both stores require at construction; the benchmark only passes vectors it computed,
    so a call to embed text is a bug in the benchmark and says so."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("the benchmark passes precomputed embeddings; nothing should embed text")

    def embed_query(self, text: str) -> list[float]:
        raise RuntimeError("the benchmark passes precomputed embeddings; nothing should embed text")


def _socket_url(url: str, driver: str) -> str:
    """``postgresql://postgres:@/db?host=/sock`` -> SQLAlchemy's ``postgresql+DRIVER://postgres@/db?host=/sock``."""
    return url.replace("postgresql://postgres:@", f"postgresql+{driver}://postgres@", 1)


def _capture(sync_engine: Any, sink: list[tuple[str, Any]]) -> None:
    from sqlalchemy import event

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "ORDER BY" in statement and ("<=>" in statement or "cosine_distance" in statement):
            sink.append((statement, parameters))


def _explain(url: str, statement: str, params: Any, ef: int) -> str:
    """The scan nodes of ``statement`` as captured (psycopg's %(name)s or asyncpg's $n placeholders)."""
    with psycopg.connect(url, autocommit=True) as conn, psycopg.ClientCursor(conn) as cur:
        conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef),))
        if isinstance(params, dict):
            lines = [r[0] for r in cur.execute("EXPLAIN " + statement, params).fetchall()]
        else:
            text = statement.replace("%", "%%")
            for n in range(len(params), 0, -1):  # $n may appear more than once: name each parameter
                text = text.replace(f"${n}", f"%(p{n})s")
            named = {f"p{n}": v for n, v in enumerate(params, 1)}
            lines = [r[0] for r in cur.execute("EXPLAIN " + text, named).fetchall()]
    scans = [ln.strip().lstrip("-> ").split("  ")[0] for ln in lines if "Scan" in ln]
    return "; ".join(dict.fromkeys(scans)) or "?"


def _search_loop(
    search: Any, queries: np.ndarray, truth: list[list[uuid.UUID]], **kwargs: Any
) -> tuple[float, float, Latency]:
    for q in queries[:10]:
        search(q.tolist(), k=10, **kwargs)
    found, times = [], []
    for q in queries:
        vec = q.tolist()  # what a caller holds: a list of floats (both stores take one)
        t = time.perf_counter()
        docs = search(vec, k=10, **kwargs)
        times.append((time.perf_counter() - t) * 1000)
        found.append([uuid.UUID(str(d.id)) for d, _ in docs])
    returned = sum(len(f) for f in found) / max(1, len(found))
    return recall_at_k(truth, found), returned, summarise(times)


def _measure_searches(
    out: StoreResult,
    store: Any,
    captured: list[tuple[str, Any]],
    url: str,
    data: Dataset,
    truth: list[list[uuid.UUID]],
    room_truth: list[list[uuid.UUID]],
    room: uuid.UUID,
    ef: int,
) -> None:
    """Both stores' searches, measured the same way: top-10 and room-filtered (recall, rows returned, latency),
    each followed by the plan of the statement it last sent (``captured``)."""
    out.search_recall, _, out.search = _search_loop(store.similarity_search_with_score_by_vector, data.queries, truth)
    stmt, params = captured[-1]
    out.plans["search"] = _explain(url, stmt, params, ef)
    out.filtered_recall, out.filtered_rows, out.filtered = _search_loop(
        store.similarity_search_with_score_by_vector,
        data.queries,
        room_truth,
        filter={ROOM_KEY: {"$eq": str(room)}},
    )
    stmt, params = captured[-1]
    out.plans["filtered"] = _explain(url, stmt, params, ef)


def _meta(data: Dataset, i: int) -> dict[str, Any]:
    return {ROOM_KEY: str(data.rooms[data.room_of_row[i]]), "source": "bench"}


def _docs(data: Dataset, rows: range) -> tuple[list[str], list[list[float]], list[dict[str, Any]], list[str]]:
    texts = [data.texts[i] for i in rows]
    vectors = data.embeddings[rows.start : rows.stop].tolist()
    metas = [_meta(data, i) for i in rows]
    ids = [str(data.ids[i]) for i in rows]
    return texts, vectors, metas, ids


def _copy_rest(url: str, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Binary COPY of the untimed rows into a store's own table, typed from the catalog."""
    from okai_insight.adapters._pg_vector import register_vector_types

    if not rows:
        return
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector_types(conn)
        found: dict[str, str] = dict(
            conn.execute(
                "SELECT a.attname, t.typname FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid "
                "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
                (table,),
            ).fetchall()
        )
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        with conn.transaction(), conn.cursor().copy(statement) as cp:
            cp.set_types([found[c] for c in columns])
            for r in rows:
                cp.write_row(r)


def ensure_langchain() -> None:
    """A clear failure when langchain-postgres is missing (``make bench`` installs it; see the bench extra).

    Example:
        >>> ensure_langchain()                            # doctest: +SKIP
    """
    try:
        import langchain_postgres  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(
            "the langchain-postgres peer needs `pip install '.[bench]'` and then "
            "`pip install --no-deps langchain-postgres==0.0.19` (it declares pgvector<0.4; it runs on pgvector 0.5)"
        ) from exc


def run_pgvector(
    admin_url: str,
    data: Dataset,
    truth: list[list[uuid.UUID]],
    room_truth: list[list[uuid.UUID]],
    room: uuid.UUID,
    *,
    rows: int,
    ingest_rows: int,
    ef: int,
) -> StoreResult:
    """langchain-postgres ``PGVector`` (psycopg 3 through SQLAlchemy, JSONB metadata).

    Example:
        >>> run_pgvector(admin_url, data, truth, room_truth, room, rows=1000, ef=100).ingest_rows_s > 0  # doctest: +SKIP
        True
    """
    from langchain_postgres import PGVector

    out = StoreResult("langchain-postgres PGVector")
    url = create_database(admin_url, "bench_lc_pgvector")
    dim = data.embeddings.shape[1]
    store = PGVector(
        embeddings=Precomputed(),  # type: ignore[arg-type]
        connection=_socket_url(url, "psycopg"),
        collection_name="bench",
        embedding_length=dim,  # a typed vector(dim) column: without it no HNSW index can be built
        use_jsonb=True,
    )
    captured: list[tuple[str, Any]] = []
    _capture(store._engine, captured)
    try:
        timed = min(rows, ingest_rows)
        t = time.perf_counter()
        for lo in range(0, timed, BATCH):
            texts, vectors, metas, ids = _docs(data, range(lo, min(timed, lo + BATCH)))
            store.add_embeddings(texts, vectors, metas, ids)
        out.ingest_rows_s = timed / (time.perf_counter() - t)
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SELECT uuid FROM langchain_pg_collection WHERE name = 'bench'").fetchone()
        assert row is not None
        rest = [
            (str(data.ids[i]), row[0], data.embeddings[i], data.texts[i], Jsonb(_meta(data, i)))
            for i in range(timed, rows)
        ]
        _copy_rest(url, "langchain_pg_embedding", ["id", "collection_id", "embedding", "document", "cmetadata"], rest)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            t = time.perf_counter()
            conn.execute("CREATE INDEX ON langchain_pg_embedding USING hnsw (embedding vector_cosine_ops)")
            out.build_s = time.perf_counter() - t
            conn.execute("VACUUM ANALYZE langchain_pg_embedding")
            # PGVector has no ef_search option: the database's setting is how its user sets it.
            conn.execute(
                sql.SQL("ALTER DATABASE {} SET hnsw.ef_search = {}").format(
                    sql.Identifier("bench_lc_pgvector"), sql.Literal(ef)
                )
            )
        store._engine.dispose()  # type: ignore[union-attr]  # new sessions pick the database's ef_search up
        _measure_searches(out, store, captured, url, data, truth, room_truth, room, ef)
    finally:
        store._engine.dispose()  # type: ignore[union-attr]
    return out


def run_pgvectorstore(
    admin_url: str,
    data: Dataset,
    truth: list[list[uuid.UUID]],
    room_truth: list[list[uuid.UUID]],
    room: uuid.UUID,
    *,
    rows: int,
    ingest_rows: int,
    ef: int,
) -> StoreResult:
    """langchain-postgres ``PGVectorStore`` (v2: asyncpg through SQLAlchemy, a table of its own with a ``room``
    metadata column, its own HNSW index and ``HNSWQueryOptions``).

    Example:
        >>> run_pgvectorstore(admin_url, data, truth, room_truth, room, rows=1000, ef=100).search_recall > 0  # doctest: +SKIP
        True
    """
    from langchain_postgres import Column, PGEngine, PGVectorStore
    from langchain_postgres.v2.indexes import HNSWIndex, HNSWQueryOptions

    out = StoreResult("langchain-postgres PGVectorStore")
    url = create_database(admin_url, "bench_lc_store")
    dim = data.embeddings.shape[1]
    engine = PGEngine.from_connection_string(url=_socket_url(url, "asyncpg"))
    captured: list[tuple[str, Any]] = []
    _capture(engine._pool.sync_engine, captured)
    try:
        engine.init_vectorstore_table("bench", dim, metadata_columns=[Column(ROOM_KEY, "TEXT")])
        store = PGVectorStore.create_sync(
            engine,
            Precomputed(),  # type: ignore[arg-type]
            "bench",
            metadata_columns=[ROOM_KEY],
            index_query_options=HNSWQueryOptions(ef_search=ef),
        )
        timed = min(rows, ingest_rows)
        t = time.perf_counter()
        for lo in range(0, timed, BATCH):
            texts, vectors, metas, ids = _docs(data, range(lo, min(timed, lo + BATCH)))
            store.add_embeddings(texts, vectors, metas, ids)
        out.ingest_rows_s = timed / (time.perf_counter() - t)
        rest = [
            (
                data.ids[i],
                data.texts[i],
                data.embeddings[i],
                str(data.rooms[data.room_of_row[i]]),
                Json({"source": "bench"}),
            )
            for i in range(timed, rows)
        ]
        _copy_rest(url, "bench", ["langchain_id", "content", "embedding", ROOM_KEY, "langchain_metadata"], rest)
        t = time.perf_counter()
        store.apply_vector_index(HNSWIndex())  # its own statement and defaults (m 16, ef_construction 64)
        out.build_s = time.perf_counter() - t
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE bench")
        _measure_searches(out, store, captured, url, data, truth, room_truth, room, ef)
    finally:
        engine._run_as_sync(engine._pool.dispose())
    return out
