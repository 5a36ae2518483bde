"""Several statements in one safe transaction, for the checks one statement cannot express.

The diagnostics runner runs each statement in its own rolled-back READ ONLY transaction. The recall tuner must
``SET LOCAL`` planner and pgvector settings (``enable_indexscan``, ``hnsw.ef_search``, ``hnsw.iterative_scan``)
for a batch of searches, and the embedding checks read vectors as numpy arrays. :func:`read_only` gives them the
same guarantees on the runner's connection: ``BEGIN TRANSACTION READ ONLY``, ``statement_timeout`` and
``lock_timeout`` set for this transaction only, and ``ROLLBACK`` whatever happens. Vectors come back as float32
numpy arrays (pgvector's binary loaders, registered on this cursor only: the caller's connection is untouched).

Example:
    >>> with using(url) as run, read_only(run, {"hnsw.ef_search": "100"}) as tx:      # doctest: +SKIP
    ...     rows = tx.query("knn_search", {...}, identifiers={...})
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg.types import TypeInfo

from okai_insight.diagnostics._runner import QueryResult, Runner
from okai_insight.diagnostics._sql import load_sql
from okai_insight.errors import InvalidInput

CONCERN = "embeddings"


class Transaction:
    """One open READ ONLY transaction: run ``queries/embeddings/<name>.sql`` files, timed.

    Example:
        >>> tx.query("table_info", {"table": "memories", "column": "embedding"}).rows   # doctest: +SKIP
    """

    def __init__(self, run: Runner, cursor: psycopg.Cursor[dict[str, Any]]) -> None:
        self.run = run
        self.cursor = cursor
        #: Wall-clock milliseconds of the last statement (execute + fetch), as a client sees it.
        self.last_ms = 0.0

    def query(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        identifiers: Mapping[str, sql.Composable] | None = None,
    ) -> QueryResult:
        """Run one SQL file of ``queries/embeddings`` and return its rows."""
        text = load_sql(CONCERN, name)
        statement = sql.SQL(text).format(**(identifiers or {}))  # type: ignore[arg-type]
        return self.execute(statement, params, label=f"{CONCERN}/{name}")

    def execute(
        self, statement: sql.Composed | sql.SQL, params: Mapping[str, Any] | None = None, *, label: str = "query"
    ) -> QueryResult:
        """Run one composed statement inside the transaction (never prepared: plans see the real values)."""
        start = time.perf_counter()
        try:
            self.cursor.execute(statement, params if params is not None else {}, prepare=False)
            columns = tuple(d.name for d in self.cursor.description or ())
            rows = self.cursor.fetchall() if self.cursor.description else []
        except psycopg.Error as exc:
            raise self.run._translate(exc, label) from exc
        self.last_ms = (time.perf_counter() - start) * 1000
        return QueryResult(list(rows), columns)


def _register_vectors(cur: psycopg.Cursor[Any]) -> None:
    from pgvector.psycopg.halfvec import register_halfvec_info
    from pgvector.psycopg.vector import register_vector_info

    for name, register in (("vector", register_vector_info), ("halfvec", register_halfvec_info)):
        info = TypeInfo.fetch(cur.connection, name)
        if info is not None:
            register(cur, info)  # type: ignore[arg-type]  # adapters of this cursor only


@contextmanager
def read_only(run: Runner, settings: Mapping[str, str] | None = None) -> Iterator[Transaction]:
    """A READ ONLY transaction on the runner's connection with the runner's timeouts and ``settings`` applied
    with ``SET LOCAL`` semantics; always rolled back.

    Example:
        >>> with read_only(run, {"enable_indexscan": "off"}) as tx:                     # doctest: +SKIP
        ...     tx.query("knn_search", params, identifiers=ids)
    """
    conn = run.connection
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise InvalidInput(
            "the connection is inside a transaction; embedding checks need an idle connection "
            "(commit or roll back first, or pass a URL)"
        )
    saved_autocommit = conn.autocommit
    if not saved_autocommit:
        conn.autocommit = True
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            _register_vectors(cur)
            cur.execute("BEGIN TRANSACTION READ ONLY")
            try:
                s = run.settings
                values = {
                    "statement_timeout": f"{int(s.statement_timeout_ms)}ms",
                    "lock_timeout": f"{int(s.lock_timeout_ms)}ms",
                    **dict(settings or {}),
                }
                for key, value in values.items():
                    try:
                        cur.execute("SELECT set_config(%s, %s, true)", (key, str(value)), prepare=False)
                    except psycopg.Error as exc:
                        raise run._translate(exc, f"SET LOCAL {key}") from exc
                yield Transaction(run, cur)
            finally:
                if not conn.closed and conn.info.transaction_status != TransactionStatus.UNKNOWN:  # type: ignore[comparison-overlap]
                    conn.execute("ROLLBACK")
    finally:
        if not conn.closed and conn.autocommit != saved_autocommit:
            conn.autocommit = saved_autocommit
