"""2-D projection of embeddings: PCA, then UMAP fitted on a keyed subsample, the rest placed by neighbours.

The method (chosen for 100k x 384 in well under a minute on 2 cores):

1. L2-normalise the rows (so Euclidean distances order pairs as cosine similarity does), then PCA to
   ``pca_components`` (50) dimensions: the covariance's eigenvectors (a randomized SVD above 2,048 dimensions),
   fitted on at most ``pca_fit_rows`` rows.
2. UMAP (umap-learn, ``n_neighbors`` 15, ``n_epochs`` 200, fixed ``random_state``) on a random subsample of
   ``fit_rows`` (10,000) rows of the PCA space, given an exact k-NN graph computed with scikit-learn
   (``precomputed_knn``: skips UMAP's NN-descent and its numba compilation).
3. Every other row is placed at the inverse-distance-weighted mean of the 2-D positions of its ``place_neighbours``
   (5) nearest subsample rows in the PCA space (a k-NN regression of the UMAP map; much cheaper than
   ``UMAP.transform``, and faithful where the subsample is dense). The neighbours are searched by cells
   (:func:`place`: k-means cells of the subsample, each row compared with the ball of subsample rows nearest its
   cell's centre only, one matrix product per cell): 1M rows in ~6 s on 2 cores, 94-98 % of them placed exactly
   where the exhaustive search places them, the others next to it.

With ``n <= fit_rows`` step 3 does nothing: every row is fitted by UMAP. Results are cached by a hash of the input
matrix and every parameter: in memory (the last 8) and, with ``cache_dir``, on disk as ``.npy``.

Example:
    >>> import numpy as np
    >>> Y = project(np.random.default_rng(0).normal(size=(300, 16)), progress=False)    # doctest: +SKIP
    >>> Y.shape  # doctest: +SKIP
    (300, 2)
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from okai_insight.errors import ConfigurationError, InvalidInput

_MEMORY: OrderedDict[str, np.ndarray] = OrderedDict()
_MEMORY_SIZE = 8
#: Rows normalised and PCA-transformed at a time (bounds the temporary copy to ~77 MB at 384 dimensions).
_BLOCK = 50_000


def cache_key(X: np.ndarray, params: dict[str, Any]) -> str:
    """A hash of the matrix (shape, dtype, bytes) and the parameters.

    Example:
        >>> cache_key(np.zeros((2, 2)), {"a": 1}) == cache_key(np.zeros((2, 2)), {"a": 1})
        True
    """
    h = hashlib.sha256()
    arr = np.ascontiguousarray(X)
    h.update(repr((arr.shape, str(arr.dtype), sorted(params.items()))).encode())
    h.update(arr.data.cast("B"))  # the buffer itself: tobytes() would copy the whole matrix once more
    return h.hexdigest()[:32]


def clear_cache() -> None:
    """Forget the in-memory projections."""
    _MEMORY.clear()


_JIT_CACHED = False


def _cache_jit() -> None:
    """Let numba keep UMAP's compiled functions on disk (``enable_caching``, what ``@njit(cache=True)`` does; numba's
    own cache place: the package's ``__pycache__`` when writable, else the user's cache directory or
    ``NUMBA_CACHE_DIR``), so a later process loads them instead of compiling them again. umap-learn caches one of
    its functions; compiling the others is ~8 s of a first projection in every new process (measured: UMAP on
    10,000 rows 13.2 s in a fresh process, 6.1 s in the next one with the cache). Best effort: a function numba
    cannot cache, or a read-only place, keeps compiling in memory as before.

    Example:
        >>> _cache_jit()                                                                    # doctest: +SKIP
    """
    global _JIT_CACHED
    if _JIT_CACHED:
        return
    _JIT_CACHED = True
    import sys

    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - umap-learn depends on numba
        return
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "umap" or name.startswith("umap.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, CPUDispatcher) and type(getattr(value, "_cache", None)).__name__ == "NullCache":
                try:
                    value.enable_caching()
                except Exception:  # no place to write, or a function numba cannot cache: compiled in memory
                    continue


def _umap(n_neighbors: int, n_epochs: int, seed: int, knn: tuple[np.ndarray, np.ndarray]) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import umap
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ConfigurationError(
            "the embedding explorer needs umap-learn and scikit-learn: pip install 'okai-insight[notebook]'"
        ) from exc
    _cache_jit()
    return umap.UMAP(
        n_components=2,
        n_neighbors=n_neighbors,
        n_epochs=n_epochs,
        random_state=seed,
        low_memory=True,
        n_jobs=1,
        precomputed_knn=(knn[0], knn[1], None),
    )


def project(
    X: np.ndarray,
    *,
    pca_components: int = 50,
    pca_fit_rows: int = 20_000,
    fit_rows: int = 10_000,
    n_neighbors: int = 15,
    n_epochs: int = 200,
    place_neighbours: int = 5,
    seed: int = 0,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    progress: bool | Callable[[int, int, str], None] = True,
) -> np.ndarray:
    """Project rows of ``X`` to 2-D (see the module docstring); returns an ``(n, 2)`` float32 array.

    ``progress``: a tqdm bar (True), none (False), or a function called with ``(done, total, label)`` after
    each of the 3 steps (PCA, UMAP, placing the rest), e.g. to move a widget's progress bar.

    Example:
        >>> project(np.eye(3), progress=False).shape                                        # doctest: +SKIP
        (3, 2)
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[0] == 0:
        raise InvalidInput(f"project needs a non-empty 2-D matrix, got shape {X.shape}")
    # a block at a time: a boolean copy of a million-row matrix would be 384 MB more at the peak
    if not all(np.isfinite(X[start : start + _BLOCK]).all() for start in range(0, X.shape[0], _BLOCK)):
        raise InvalidInput("the matrix holds NaN or infinite values")
    if fit_rows < 2 or pca_components < 2 or n_neighbors < 2 or n_epochs < 1 or place_neighbours < 1:
        raise InvalidInput("fit_rows, pca_components and n_neighbors must be >= 2, n_epochs and place_neighbours >= 1")
    params = {
        "pca": pca_components,
        "pca_fit": pca_fit_rows,
        "fit": fit_rows,
        "nn": n_neighbors,
        "epochs": n_epochs,
        "place": place_neighbours,
        "seed": seed,
        "v": 4,
    }
    key = cache_key(X, params)
    if cache and key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key].copy()
    path = Path(cache_dir) / f"projection-{key}.npy" if cache_dir is not None else None
    Y: np.ndarray
    if path is not None and path.is_file():
        Y = np.load(path)
    else:
        Y = _compute(X, params, progress)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, Y)
    if cache:
        _MEMORY[key] = Y.copy()
        while len(_MEMORY) > _MEMORY_SIZE:
            _MEMORY.popitem(last=False)
    return Y


class _Steps:
    """The 3 steps of a projection, reported to a tqdm bar or to a ``(done, total, label)`` function."""

    LABELS = ("PCA", "UMAP", "placing the rest")

    def __init__(self, progress: bool | Callable[[int, int, str], None]) -> None:
        from tqdm.auto import tqdm

        self.done = 0
        self.report = progress if callable(progress) else None
        self.bar = tqdm(total=3, desc="projecting", unit="step", disable=progress is not True, leave=False)
        if self.report is not None:
            self.report(0, 3, self.LABELS[0])

    def update(self, n: int = 1) -> None:
        self.done = min(3, self.done + n)
        self.bar.update(n)
        if self.report is not None:
            self.report(self.done, 3, self.LABELS[self.done] if self.done < 3 else "done")

    def close(self) -> None:
        self.bar.close()


def _compute(X: np.ndarray, p: dict[str, Any], progress: bool | Callable[[int, int, str], None]) -> np.ndarray:
    from threadpoolctl import threadpool_limits

    # One BLAS thread: on 2 shared cores OpenBLAS's threads made the PCA 3-5x and placement's small products up to
    # 30x slower (measured under load 2-3); the one big product left (the PCA transform) loses ~0.5 s at 1M rows.
    with threadpool_limits(limits=1, user_api="blas"):
        return _projected(X, p, progress)


def _projected(X: np.ndarray, p: dict[str, Any], progress: bool | Callable[[int, int, str], None]) -> np.ndarray:
    from sklearn.decomposition import PCA
    from sklearn.neighbors import NearestNeighbors

    n, d = X.shape
    rng = np.random.default_rng(p["seed"])
    steps = _Steps(progress)
    try:
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        k = min(p["pca"], d, n)
        if k < d and n > 2:
            fit_idx = rng.choice(n, size=min(n, p["pca_fit"]), replace=False)
            # the covariance's eigenvectors (d x d: exact, ~0.2 s at 384 dimensions), not a randomized SVD (0.5 s)
            solver = "covariance_eigh" if d <= 2048 else "randomized"
            pca = PCA(n_components=k, svd_solver=solver, random_state=p["seed"]).fit(X[fit_idx] / norms[fit_idx])
            # Normalised and transformed a block at a time: the unit-vector copy of a million-row matrix (1.5 GB
            # at 384 dimensions) never exists whole, only the (n, k) result does.
            Z = np.empty((n, k), dtype=np.float32)
            for start in range(0, n, _BLOCK):
                stop = min(n, start + _BLOCK)
                Z[start:stop] = pca.transform(X[start:stop] / norms[start:stop])
        else:
            U = X / norms
            Z = U - U.mean(axis=0)
        steps.update()
        if n < 4:
            Y = np.zeros((n, 2), dtype=np.float32)
            Y[:, : min(2, Z.shape[1])] = Z[:, :2]
            steps.update(2)
            return Y
        sub = np.sort(rng.choice(n, size=min(n, p["fit"]), replace=False))
        n_neighbors = min(p["nn"], len(sub) - 1)
        # The k-NN graph by exact brute force (BLAS): faster than UMAP's own NN-descent at these sizes and it
        # spares numba compiling NN-descent in every new process. Each row is its own first neighbour, as UMAP
        # expects.
        dist, idx = NearestNeighbors(n_neighbors=n_neighbors).fit(Z[sub]).kneighbors(Z[sub])
        model = _umap(n_neighbors, p["epochs"], p["seed"], (idx, dist.astype(np.float32)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Ysub = model.fit_transform(Z[sub]).astype(np.float32)
        steps.update()
        Y = np.empty((n, 2), dtype=np.float32)
        Y[sub] = Ysub
        rest = np.setdiff1d(np.arange(n), sub, assume_unique=True)
        if rest.size:
            place(Z, rest, Z[sub], Ysub, Y, k=min(p["place"], len(sub)), seed=p["seed"])
        steps.update()
        return Y
    finally:
        steps.close()


#: Placement searches the fitted rows by cells (k-means on them): a row is compared with the
#: :data:`PLACE_CANDIDATES` fitted rows nearest to its cell's centre only, not with all of them.
PLACE_CELLS = 1024
#: Fitted rows a placed row is compared with: the ball of fitted rows nearest to its cell's centre.
PLACE_CANDIDATES = 500
#: Below this many fitted rows the search is exhaustive (cells would not save anything).
PLACE_EXHAUSTIVE = 2_000
#: Fitted rows per cell, at least (fewer cells for a small fit).
_CELL_ROWS = 10


def _nearest(A: np.ndarray, B: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row of ``A``'s ``k`` nearest rows of ``B``: (distances, indices), exact, nearest first, in blocks of
    rows. Ranked by ``|b|^2 - 2 a.b`` in ONE matrix product (``A`` gains a column of ones, ``B`` a column of
    ``|b|^2``); ``|a|^2`` (the same for a whole row) is added back only to the ``k`` distances kept. For a small
    ``k`` the ``k`` smallest are taken by ``k`` passes of ``argmin`` (vectorised; ~3x faster than ``argpartition``,
    which writes an index for every candidate).

    Example:
        >>> d, i = _nearest(np.array([[0.0, 0.0]], np.float32), np.array([[3.0, 4.0], [1.0, 0.0]], np.float32), 2)
        >>> i.tolist(), d.round(3).tolist()
        ([[1, 0]], [[1.0, 5.0]])
    """
    A = np.asarray(A, dtype=np.float32)
    B = np.asarray(B, dtype=np.float32)
    d = A.shape[1]
    BT = np.empty((d + 1, len(B)), dtype=np.float32)
    BT[:d] = B.T
    BT[:d] *= -2.0
    BT[d] = (B * B).sum(axis=1)
    k = min(k, len(B))
    dist = np.empty((len(A), k), dtype=np.float32)
    idx = np.empty((len(A), k), dtype=np.int64)
    step = max(256, 2**23 // max(1, len(B)))  # ~32 MB of float32 distances per block
    a1 = np.empty((min(step, len(A)), d + 1), dtype=np.float32)
    a1[:, d] = 1.0
    for start in range(0, len(A), step):
        a = A[start : start + step]
        m = len(a)
        a1[:m, :d] = a
        D = a1[:m] @ BT
        if k <= 8 and k < D.shape[1]:
            rows = np.arange(m)
            for j in range(k):
                i = D.argmin(axis=1)
                idx[start : start + m, j] = i
                dist[start : start + m, j] = D[rows, i]
                if j < k - 1:
                    D[rows, i] = np.inf
        else:
            part = np.argsort(D, axis=1)[:, :k] if k >= D.shape[1] else np.argpartition(D, k - 1, axis=1)[:, :k]
            keep = np.take_along_axis(D, part, axis=1)
            order = np.argsort(keep, axis=1)
            idx[start : start + m] = np.take_along_axis(part, order, axis=1)
            dist[start : start + m] = np.take_along_axis(keep, order, axis=1)
        dist[start : start + m] += np.einsum("ij,ij->i", a, a)[:, None]
    np.sqrt(np.maximum(dist, 0.0, out=dist), out=dist)
    return dist, idx


def _workers() -> int:
    """Threads for the placement (numpy's matrix products and reductions release the GIL)."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def place(
    Z: np.ndarray,
    rest: np.ndarray,
    Zfit: np.ndarray,
    Yfit: np.ndarray,
    Y: np.ndarray,
    *,
    k: int = 5,
    cells: int = PLACE_CELLS,
    candidates: int = PLACE_CANDIDATES,
    seed: int = 0,
) -> None:
    """Write into ``Y[rest]`` the inverse-distance-weighted mean of the 2-D positions ``Yfit`` of each row's ``k``
    nearest fitted rows ``Zfit`` (PCA space).

    The search is by cells: k-means splits the fitted rows into ``cells`` cells (about ten fitted rows each); a
    row is compared with the ``candidates`` fitted rows nearest to its cell's centre (a ball around the centre,
    which holds the row's own neighbours unless the row lies far out in its cell), one matrix product per cell.
    At 1M rows and 10k fitted rows that is ~1,500 comparisons a row (cells and ball) instead of 10,000, with the
    matrix products single-threaded (small products are several times slower with OpenBLAS's threads) and the
    cells shared among a few threads. On the benchmark's data 98 % of the rows land where the exhaustive search
    puts them, and the others next to it (the worst 1 % within 2 % of the map's radius).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> Zfit = rng.normal(size=(50, 4)).astype(np.float32)
        >>> Y = np.zeros((51, 2), np.float32)
        >>> Z = np.vstack([Zfit, Zfit[:1] + 1e-4])
        >>> place(Z, np.array([50]), Zfit, np.arange(100, dtype=np.float32).reshape(50, 2), Y, k=1)
        >>> Y[50].tolist()
        [0.0, 1.0]
    """
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    Zfit = np.ascontiguousarray(Zfit, dtype=np.float32)
    cells = min(cells, len(Zfit) // _CELL_ROWS)
    workers = _workers()
    pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None

    def each(fn: Callable[[Any], None], items: list[Any]) -> None:
        if pool is None:
            for item in items:
                fn(item)
        else:
            list(pool.map(fn, items))

    with threadpool_limits(limits=1, user_api="blas"):
        try:
            if len(Zfit) < PLACE_EXHAUSTIVE or cells < 2 or candidates >= len(Zfit):
                own = np.zeros(len(rest), dtype=np.int64)
                balls = np.arange(len(Zfit))[None, :]
                cells = 1
            else:
                from sklearn.cluster import KMeans

                # random initial centres: k-means++ would cost ~3 s more at 1,024 cells for a few % more rows
                # placed exactly where the exhaustive search puts them
                km = KMeans(n_clusters=cells, init="random", n_init=1, max_iter=20, random_state=seed).fit(Zfit)
                C = km.cluster_centers_.astype(np.float32)
                balls = np.sort(_nearest(C, Zfit, candidates)[1], axis=1)  # sorted: gathers read Zfit in order
                own = np.empty(len(rest), dtype=np.int64)

                def assign(start: int) -> None:
                    own[start : start + (1 << 16)] = _nearest(Z[rest[start : start + (1 << 16)]], C, 1)[1][:, 0]

                each(assign, list(range(0, len(rest), 1 << 16)))
            order = np.argsort(own, kind="stable")
            bounds = np.searchsorted(own[order], np.arange(cells + 1))

            def one(c: int) -> None:
                rows = rest[order[bounds[c] : bounds[c + 1]]]
                cand = balls[c]
                for start in range(0, len(rows), 1 << 15):
                    r = rows[start : start + (1 << 15)]
                    dist, idx = _nearest(Z[r], Zfit[cand], k)
                    w = 1.0 / np.maximum(dist, 1e-6)
                    w /= w.sum(axis=1, keepdims=True)
                    Y[r] = np.einsum("ij,ijk->ik", w, Yfit[cand[idx]])

            each(one, [c for c in range(cells) if bounds[c + 1] > bounds[c]])
        finally:
            if pool is not None:
                pool.shutdown()
