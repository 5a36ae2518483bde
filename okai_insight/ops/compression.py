"""Compressing embeddings to half precision (pgvector ``halfvec``): measure the recall cost, then convert.

:func:`halfvec_impact` measures, on the database's own vectors, what storing the embeddings of memories older
than ``older_than_days`` (0: all) as ``halfvec`` would cost and save: recall@k of exact cosine searches where those
embeddings are rounded to half precision (``embedding::halfvec::vector``, exactly the stored value) against the
full-precision answer, and the bytes saved (2 bytes a dimension instead of 4). Queries are stored embeddings with
a little noise added, so they look like the agent's own queries.

:func:`compress_to_halfvec` converts the ``embedding`` column to ``halfvec(N)`` and rebuilds the HNSW index with
``halfvec_cosine_ops``; the adapter reads the new type from the schema profile and casts its queries. It refuses
when the measured recall is below ``min_recall``. The conversion rewrites the table under an ACCESS EXCLUSIVE lock:
run it in a maintenance window. It converts every row: a column has one type for the whole table, so "compress only
the inactive memories" would need a second halfvec column (or table) for the old rows that the adapter searches
together with the first; that is not built, and ``compress_to_halfvec(older_than_days=N)`` is refused rather than
silently converting everything. ``older_than_days`` scopes only the measurement.

Example:
    >>> from okai_insight.ops.compression import halfvec_impact, compress_to_halfvec
    >>> halfvec_impact(url, older_than_days=90).recall_at_k            # doctest: +SKIP
    0.998
    >>> compress_to_halfvec(url, min_recall=0.99).bytes_saved         # doctest: +SKIP
    1536000
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from okai_insight.errors import FeatureNotAvailable, InvalidInput
from okai_insight.ops._connection import connect


@dataclass(frozen=True)
class CompressionImpact:
    """Recall and space of storing the selected embeddings as halfvec."""

    rows_affected: int
    rows_total: int
    dimensions: int
    bytes_saved: int
    recall_at_k: float
    k: int
    queries: int
    duration_ms: float


def _column(conn: psycopg.Connection[Any]) -> tuple[str, int]:
    row = conn.execute(
        "SELECT t.typname, a.atttypmod FROM pg_attribute AS a JOIN pg_type AS t ON t.oid = a.atttypid "
        "WHERE a.attrelid = to_regclass('memories') AND a.attname = 'embedding' AND NOT a.attisdropped"
    ).fetchone()
    if row is None:
        raise FeatureNotAvailable("this database has no memories.embedding column (run okai-insight init)")
    return str(row[0]), int(row[1])


def halfvec_impact(
    url: str, *, older_than_days: int = 0, queries: int = 50, k: int = 10, seed: int = 0
) -> CompressionImpact:
    """Measure recall@k and bytes saved if embeddings older than ``older_than_days`` (0: all) were halfvec.

    Example:
        >>> halfvec_impact(url, queries=20).recall_at_k > 0.95                  # doctest: +SKIP
        True
    """
    for name, value, low in (("older_than_days", older_than_days, 0), ("queries", queries, 1), ("k", k, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidInput(f"{name} must be an integer >= {low}, got {value!r}")
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    with connect(url, vectors=True) as conn:
        conn.read_only = True
        kind, dim = _column(conn)
        if kind != "vector":
            raise InvalidInput(f"memories.embedding is already {kind}")
        counts = conn.execute(
            'SELECT count(*), count(*) FILTER (WHERE "createdAt" < now() - make_interval(days => %s)) '
            "FROM memories WHERE embedding IS NOT NULL",
            (older_than_days,),
        ).fetchone()
        total, affected = (int(counts[0]), int(counts[1])) if counts else (0, 0)
        if total == 0:
            raise FeatureNotAvailable("no embeddings to measure")
        samples = [
            r[0]
            for r in conn.execute(
                "SELECT embedding FROM memories WHERE embedding IS NOT NULL ORDER BY random() LIMIT %s", (queries,)
            )
        ]
        conn.execute("SET LOCAL enable_indexscan = off")  # exact answers on both sides
        conn.execute("SET LOCAL enable_bitmapscan = off")
        hits = 0
        for sample in samples:
            v = np.asarray(sample.to_numpy(), dtype=np.float32)
            q = v + rng.normal(0, float(np.linalg.norm(v)) * 0.05 / np.sqrt(dim), dim).astype(np.float32)
            exact = conn.execute(
                'SELECT "id" FROM memories WHERE embedding IS NOT NULL ORDER BY embedding <=> %s::vector LIMIT %s',
                (q, k),
            ).fetchall()
            half = conn.execute(
                'SELECT "id" FROM memories WHERE embedding IS NOT NULL ORDER BY '
                '(CASE WHEN "createdAt" < now() - make_interval(days => %s) '
                "THEN embedding::halfvec::vector ELSE embedding END) <=> %s::vector LIMIT %s",
                (older_than_days, q, k),
            ).fetchall()
            hits += len({r[0] for r in exact} & {r[0] for r in half})
        conn.rollback()
    return CompressionImpact(
        affected,
        total,
        dim,
        affected * 2 * dim,
        hits / (len(samples) * min(k, total)),
        k,
        len(samples),
        (time.perf_counter() - started) * 1000,
    )


@dataclass(frozen=True)
class CompressionResult:
    """A finished conversion: the impact measured before it, and the table's size before and after."""

    impact: CompressionImpact
    table_bytes_before: int
    table_bytes_after: int

    @property
    def bytes_saved(self) -> int:
        """Total relation size saved (table, TOAST and indexes).

        Example:
            >>> CompressionResult(None, 10, 4).bytes_saved                      # doctest: +SKIP
            6
        """
        return self.table_bytes_before - self.table_bytes_after


#: Why an age filter cannot scope the conversion; the CLI and the library refuse with these words.
WHOLE_COLUMN_ONLY = (
    "the conversion changes the type of memories.embedding, and a column has one type for every row: it cannot "
    "compress only embeddings older than {days} days (that needs a second halfvec column searched together with "
    "the first, which is not built). --older-than-days / older_than_days scopes only the measurement; to convert "
    "every row, run the conversion without it after measuring with 0"
)


def compress_to_halfvec(
    url: str, *, min_recall: float = 0.99, queries: int = 50, k: int = 10, older_than_days: int = 0
) -> CompressionResult:
    """Convert ``memories.embedding`` to ``halfvec(N)`` and rebuild its HNSW index, if recall@k stays at or above
    ``min_recall`` (measured first with :func:`halfvec_impact` over every row, since every row is converted).

    ``older_than_days`` other than 0 is refused with :class:`InvalidInput` before connecting: the column's type is
    per table, so only the whole column can be converted (see the module docstring).

    Example:
        >>> compress_to_halfvec(url).impact.recall_at_k >= 0.99                  # doctest: +SKIP
        True
        >>> compress_to_halfvec("postgresql://localhost/agents", older_than_days=90)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        okai_insight.errors.InvalidInput: the conversion changes the type of memories.embedding, and a column has ...
    """
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int) or older_than_days < 0:
        raise InvalidInput(f"older_than_days must be an integer >= 0, got {older_than_days!r}")
    if older_than_days:
        raise InvalidInput(WHOLE_COLUMN_ONLY.format(days=older_than_days))
    if not 0 < min_recall <= 1:
        raise InvalidInput(f"min_recall must be in (0, 1], got {min_recall}")
    impact = halfvec_impact(url, queries=queries, k=k)
    if impact.recall_at_k < min_recall:
        raise InvalidInput(
            f"halfvec would lower recall@{k} to {impact.recall_at_k:.3f}, below min_recall {min_recall}: not converted"
        )
    with connect(url, vectors=True) as conn:
        conn.autocommit = True
        size = conn.execute("SELECT pg_total_relation_size('memories')").fetchone()
        before = int(size[0]) if size else 0
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '5s'")
            conn.execute("DROP INDEX IF EXISTS idx_memories_embedding")
            conn.execute(
                f"ALTER TABLE memories ALTER COLUMN embedding TYPE halfvec({impact.dimensions}) "
                f"USING embedding::halfvec({impact.dimensions})"
            )
            conn.execute("CREATE INDEX idx_memories_embedding ON memories USING hnsw (embedding halfvec_cosine_ops)")
        conn.execute("VACUUM (ANALYZE) memories")
        size = conn.execute("SELECT pg_total_relation_size('memories')").fetchone()
    return CompressionResult(impact, before, int(size[0]) if size else 0)
