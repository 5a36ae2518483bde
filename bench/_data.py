"""Synthetic but realistic agent memories: clustered embeddings with low intrinsic dimension, rooms, text.

Uniform random vectors have no neighbourhood structure (every point is about equally far from every other), so
neither recall nor index behaviour measured on them says anything about real embeddings. Sentence embeddings
(MiniLM, 384 dims) sit on a few dozen effective dimensions, grouped by topic. We generate:

* ``clusters`` topic centres, random directions on the unit sphere, with Zipf-like sizes (a few big topics, a long
  tail of small ones);
* each point = centre + a random low-rank deviation (``rank`` latent factors in a per-topic subspace) + a little
  isotropic noise, normalised to unit length. Nearest neighbours then have cosine similarity ~0.8-0.9 and random
  pairs ~0.0-0.1, as with MiniLM on chat text;
* queries drawn from the same mixture but not stored ("queries near the data").

Rooms are assigned independently of topics (the hard case for filtered HNSW search: a room's rows are spread over
the whole graph).

Example:
    >>> data = make_dataset(rows=1000, dim=32, queries=10, rooms=10, seed=1)
    >>> data.embeddings.shape, data.queries.shape, float(abs(1 - (data.embeddings[0] ** 2).sum())) < 1e-5
    ((1000, 32), (10, 32), True)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]

_WORDS = [
    "agent",
    "memory",
    "user",
    "asked",
    "about",
    "the",
    "weather",
    "price",
    "token",
    "wallet",
    "trade",
    "swap",
    "launch",
    "community",
    "update",
    "meeting",
    "tomorrow",
    "yesterday",
    "thanks",
    "please",
    "help",
    "error",
    "fixed",
    "deploy",
    "twitter",
    "discord",
    "telegram",
    "message",
    "reply",
    "thread",
    "market",
    "bullish",
    "bearish",
    "chart",
    "volume",
    "liquidity",
    "pool",
    "staking",
    "reward",
    "governance",
    "proposal",
    "vote",
    "idea",
    "plan",
]


@dataclass(frozen=True)
class Dataset:
    """Rows to store and queries to run, with what a memory row needs besides its embedding."""

    embeddings: F32
    queries: F32
    room_of_row: npt.NDArray[np.int64]
    rooms: list[uuid.UUID]
    users: list[uuid.UUID]
    user_of_row: npt.NDArray[np.int64]
    agent: uuid.UUID
    ids: list[uuid.UUID]
    texts: list[str]


def _unit(x: F32) -> F32:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: F32 = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def mixture(n: int, centres: F32, bases: F32, weights: npt.NDArray[np.float64], rng: np.random.Generator) -> F32:
    """``n`` unit vectors from the topic mixture (see the module docstring).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> c, b, w = topics(4, 8, 2, rng)
        >>> mixture(5, c, b, w, rng).shape
        (5, 8)
    """
    k, dim = centres.shape
    rank = bases.shape[1]
    topic = rng.choice(k, size=n, p=weights)
    latent = rng.standard_normal((n, rank)).astype(np.float32) * np.float32(0.55 / np.sqrt(rank))
    out = rng.standard_normal((n, dim)).astype(np.float32) * np.float32(0.12 / np.sqrt(dim))
    out += centres[topic]
    for t in np.unique(topic):
        members = np.flatnonzero(topic == t)
        out[members] += latent[members] @ bases[t]
    return _unit(out)


def topics(k: int, dim: int, rank: int, rng: np.random.Generator) -> tuple[F32, F32, npt.NDArray[np.float64]]:
    """Topic centres (k, dim), per-topic orthonormal bases (k, rank, dim) and Zipf-like topic weights.

    Example:
        >>> c, b, w = topics(3, 16, 4, np.random.default_rng(0))
        >>> c.shape, b.shape, round(float(w.sum()), 6)
        ((3, 16), (3, 4, 16), 1.0)
    """
    centres = _unit(rng.standard_normal((k, dim)).astype(np.float32))
    raw = rng.standard_normal((k, dim, rank)).astype(np.float32)
    q, _ = np.linalg.qr(raw)  # (k, dim, rank), orthonormal columns
    bases = np.ascontiguousarray(np.transpose(q, (0, 2, 1))).astype(np.float32)
    weights = 1.0 / np.arange(1, k + 1) ** 0.8
    return centres, bases, weights / weights.sum()


def make_dataset(*, rows: int, dim: int, queries: int, rooms: int = 100, users: int = 50, seed: int = 42) -> Dataset:
    """Build the benchmark's rows and queries, deterministically from ``seed``.

    Example:
        >>> d = make_dataset(rows=200, dim=16, queries=5, rooms=4, seed=0)
        >>> len(d.ids), len(d.rooms), int(d.room_of_row.max()) < 4
        (200, 4, True)
    """
    rng = np.random.default_rng(seed)
    k = max(8, min(1000, rows // 100))
    centres, bases, weights = topics(k, dim, min(24, dim), rng)
    embeddings = np.empty((rows, dim), dtype=np.float32)
    for start in range(0, rows, 50_000):
        stop = min(rows, start + 50_000)
        embeddings[start:stop] = mixture(stop - start, centres, bases, weights, rng)
    query_vectors = mixture(queries, centres, bases, weights, rng)
    lengths = rng.integers(6, 30, size=rows).tolist()
    picks = rng.integers(0, len(_WORDS), size=sum(lengths)).tolist()
    texts, at = [], 0
    for n in lengths:
        texts.append(" ".join([_WORDS[i] for i in picks[at : at + n]]))
        at += n
    blob = np.random.default_rng(seed + 1).bytes(16 * rows)
    ids = [uuid.UUID(bytes=blob[16 * i : 16 * i + 16], version=4) for i in range(rows)]
    return Dataset(
        embeddings=embeddings,
        queries=query_vectors,
        room_of_row=rng.integers(0, rooms, size=rows),
        rooms=[uuid.UUID(int=0x5000 + i) for i in range(rooms)],
        users=[uuid.UUID(int=0x1000 + i) for i in range(users)],
        user_of_row=rng.integers(0, users, size=rows),
        agent=uuid.UUID(int=0xA6E7),
        ids=ids,
        texts=texts,
    )


def exact_top_k(data: F32, queries: F32, k: int = 10) -> npt.NDArray[np.int64]:
    """Row indices of each query's k nearest rows by cosine distance (rows and queries are unit vectors).

    Example:
        >>> x = np.eye(3, dtype=np.float32)
        >>> exact_top_k(x, x[:1], k=2)[0].tolist()[0]
        0
    """
    out = np.empty((len(queries), min(k, len(data))), dtype=np.int64)
    for start in range(0, len(queries), 256):
        sims = queries[start : start + 256] @ data.T
        part = np.argpartition(-sims, kth=min(k, len(data)) - 1, axis=1)[:, :k]
        order = np.take_along_axis(sims, part, axis=1).argsort(axis=1)[:, ::-1]
        out[start : start + 256] = np.take_along_axis(part, order, axis=1)
    return out


def neighbourhood(data: F32, queries: F32, k: int = 10) -> dict[str, float]:
    """Median cosine similarity of each query's 1st and k-th neighbour, and the median local intrinsic dimension
    (Levina-Bickel maximum likelihood over the k nearest): how clustered and how "hard" the data is.

    Example:
        >>> d = make_dataset(rows=500, dim=16, queries=20, seed=0)
        >>> sorted(neighbourhood(d.embeddings, d.queries))
        ['lid', 'nn1_similarity', 'nnk_similarity']
    """
    sims = queries @ data.T
    top = np.sort(np.partition(sims, -k, axis=1)[:, -k:], axis=1)[:, ::-1]
    dist = np.sqrt(np.maximum(1e-12, 2 - 2 * top.astype(np.float64)))
    lid = -1 / np.mean(np.log(dist[:, : k - 1] / dist[:, k - 1 : k]), axis=1)
    return {
        "nn1_similarity": float(np.median(top[:, 0])),
        "nnk_similarity": float(np.median(top[:, k - 1])),
        "lid": float(np.median(lid)),
    }
