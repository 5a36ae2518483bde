"""The shipped demo dataset (``demo.npz``) as typed Python objects, read without torch.

``demo.npz`` holds float16 embeddings (all-MiniLM-L6-v2, 384 dimensions) and one JSON document of metadata;
``scripts/make_demo_dataset.py`` regenerates it. Ids are fixed (uuid5), so loading the dataset twice writes
the same rows, and the labels (planted duplicates, paraphrases and defects) name memories by those ids.

Example:
    >>> from okai_insight.data import demo_dataset
    >>> ds = demo_dataset()
    >>> ds.model_name, ds.dimension, ds.embeddings.shape[1]
    ('sentence-transformers/all-MiniLM-L6-v2', 384, 384)
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from okai_insight.errors import ConfigurationError
from okai_insight.models import Goal, GoalStatus, KnowledgeItem, Memory, Objective, UserState

#: Namespace of every id in the demo dataset: ``uuid5(DEMO_NAMESPACE, "okai-demo/<kind>/<key>")``.
DEMO_NAMESPACE = uuid.UUID("6f6b6169-2d69-6e73-6967-687430646d6f")
_MODEL_LABELS = ("model", "second_model", "zero", "null")

Matrix = npt.NDArray[np.float32]


def demo_id(kind: str, key: str | int) -> uuid.UUID:
    """The fixed id of a demo row.

    Example:
        >>> demo_id("account", "eliza") == demo_id("account", "eliza")
        True
    """
    return uuid.uuid5(DEMO_NAMESPACE, f"okai-demo/{kind}/{key}")


@dataclass(frozen=True)
class DemoAccount:
    """A user or agent of the demo."""

    key: str
    id: uuid.UUID
    name: str
    username: str
    email: str
    details: dict[str, Any]
    is_agent: bool


@dataclass(frozen=True)
class DemoRoom:
    """A room: a topic room with an agent and users, or an agent's own room holding its documents."""

    key: str
    id: uuid.UUID
    name: str
    topic: str
    agent_id: uuid.UUID
    source: str
    member_ids: tuple[uuid.UUID, ...]
    states: dict[uuid.UUID, UserState]
    is_agent_room: bool


@dataclass(frozen=True)
class LabelledPair:
    """A planted pair of memories: ``kind`` is ``exact``, ``near`` or ``paraphrase``.

    ``similarity`` is their cosine similarity and ``rank`` the partner's rank among all memories of the same
    type nearest to ``a`` (1 = nearest), both computed from the shipped embeddings.
    """

    a: uuid.UUID
    b: uuid.UUID
    kind: str
    similarity: float
    rank: int


@dataclass(frozen=True)
class DemoQuery:
    """A query text with its precomputed embedding and the topic it is about."""

    text: str
    topic: str
    embedding: Matrix = field(repr=False, compare=False)


@dataclass(frozen=True)
class DemoLog:
    """An audit log entry the demo writes (``DatabaseAdapter.log``)."""

    room_id: uuid.UUID
    user_id: uuid.UUID
    type: str
    body: dict[str, Any]


@dataclass(frozen=True)
class DemoDefects:
    """The planted defects, by memory id.

    * ``second_model_ids``: memories embedded by a second model (a stand-in: MiniLM under a fixed orthogonal
      rotation, norms 3.2-4.8) — all of ``second_model_agent_ids``' memories, plus one agent's memories during
      ``second_model_window`` (agent id, first and last created_at of the window);
    * ``zero_vector_ids``: zero embeddings (ElizaOS's document placeholders and an embedding-provider outage);
    * ``null_embedding_ids``: memories stored without an embedding;
    * ``drift``: (room id, time from which the room's subject shifts).
    """

    second_model: str
    second_model_agent_ids: tuple[uuid.UUID, ...]
    second_model_window: tuple[uuid.UUID, dt.datetime, dt.datetime]
    second_model_ids: tuple[uuid.UUID, ...]
    zero_vector_ids: tuple[uuid.UUID, ...]
    zero_document_ids: tuple[uuid.UUID, ...]
    zero_outage_ids: tuple[uuid.UUID, ...]
    null_embedding_ids: tuple[uuid.UUID, ...]
    drift: tuple[tuple[uuid.UUID, dt.datetime], ...]


class DemoDataset:
    """The demo agent dataset: accounts, rooms, memories with embeddings, goals, logs, knowledge and labels.

    Memory columns are parallel sequences in time order (``ids[i]``, ``texts[i]``, ``embeddings[i]``...).
    ``embeddings`` is float32 as an adapter returns it; rows without an embedding are zero there and False in
    ``has_embedding``. ``embedding_models[i]`` says which model made row i: ``model`` (all-MiniLM-L6-v2),
    ``second_model``, ``zero`` (placeholder) or ``null``.

    Example:
        >>> ds = DemoDataset.load()
        >>> pair = next(p for p in ds.pairs if p.kind == "paraphrase" and p.rank == 1)
        >>> ds.texts[ds.index(pair.a)] != ds.texts[ds.index(pair.b)]
        True
    """

    def __init__(self, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        self.version: int = int(meta["version"])
        self.model_name: str = meta["model"]
        self.dimension: int = int(meta["dimension"])
        self.start = dt.datetime.fromisoformat(meta["start"])
        self.end = dt.datetime.fromisoformat(meta["end"])
        self.accounts = tuple(
            DemoAccount(
                key=a["key"],
                id=demo_id("account", a["key"]),
                name=a["name"],
                username=a["username"],
                email=a["email"],
                details=a["details"],
                is_agent=a["details"].get("kind") == "agent",
            )
            for a in meta["accounts"]
        )
        acc = [a.id for a in self.accounts]
        self.rooms = tuple(
            DemoRoom(
                key=r["key"],
                id=acc[r["agent"]] if r["agent_room"] else demo_id("room", r["key"]),
                name=r["name"],
                topic=r["topic"],
                agent_id=acc[r["agent"]],
                source=r["source"],
                member_ids=tuple(acc[m] for m in r["members"]),
                states={acc[int(k)]: UserState(v) for k, v in r["states"].items()},
                is_agent_room=r["agent_room"],
            )
            for r in meta["rooms"]
        )
        self._room_by_id = {r.id: r for r in self.rooms}
        m = meta["memories"]
        n = len(m["text"])
        self.ids = tuple(demo_id("memory", i) for i in range(n))
        self.types: tuple[str, ...] = tuple(m["type"])
        self.texts: tuple[str, ...] = tuple(m["text"])
        self.room_ids = tuple(self.rooms[r].id for r in m["room"])
        self.agent_ids = tuple(acc[a] for a in m["agent"])
        self.user_ids = tuple(acc[u] for u in m["user"])
        self.created_at = tuple(self.start + dt.timedelta(seconds=t) for t in m["t"])
        self.unique: tuple[bool, ...] = tuple(m["unique"])
        self.parents: tuple[int, ...] = tuple(m["parent"])
        self.embedding_models: tuple[str, ...] = tuple(_MODEL_LABELS[c] for c in m["model"])
        self._titles: dict[int, str] = {int(k): v for k, v in m["title"].items()}
        self.embeddings: Matrix = np.asarray(arrays["embeddings"], dtype=np.float32)
        self.has_embedding = np.asarray(arrays["has_embedding"], dtype=bool)
        self._index = {mid: i for i, mid in enumerate(self.ids)}
        self.pairs = tuple(
            LabelledPair(self.ids[p["a"]], self.ids[p["b"]], p["kind"], float(p["similarity"]), int(p["rank"]))
            for p in meta["pairs"]
        )
        self.defects = self._defects(meta["defects"], acc)
        q_emb = np.asarray(arrays["query_embeddings"], dtype=np.float32)
        self.queries = tuple(DemoQuery(q["text"], q["topic"], q_emb[i]) for i, q in enumerate(meta["queries"]))
        self.goals = tuple(self._goal(g, acc) for g in meta["goals"])
        self.relationships = tuple((acc[a], acc[b]) for a, b in meta["relationships"])
        self.logs = tuple(
            DemoLog(
                room_id=self.rooms[entry["room"]].id,
                user_id=acc[entry["user"]],
                type=entry["type"],
                body={
                    **{k: v for k, v in entry["body"].items() if k != "memory"},
                    "memoryId": str(self.ids[entry["body"]["memory"]]),
                },
            )
            for entry in meta["logs"]
        )
        k_emb = np.asarray(arrays["knowledge_embeddings"], dtype=np.float32)
        self.knowledge = tuple(
            self._knowledge(i, k, k_emb[i], acc, meta["knowledge"]) for i, k in enumerate(meta["knowledge"])
        )
        wide_rows = meta["wide"]["rows"]
        self.wide_model: str = meta["wide"]["model"]
        self.wide_texts: tuple[str, ...] = tuple(self.texts[i] for i in wide_rows)
        self.wide_ids = tuple(demo_id("wide-memory", i) for i in range(len(wide_rows)))
        self.wide_embeddings: Matrix = np.asarray(arrays["wide_embeddings"], dtype=np.float32)

    # -- reading --------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> DemoDataset:
        """Read ``demo.npz`` (the packaged one by default).

        Example:
            >>> len(DemoDataset.load()) > 1000
            True
        """
        try:
            if path is None:
                with resources.files("okai_insight.data").joinpath("demo.npz").open("rb") as fh:
                    return cls._read(fh)
            with open(path, "rb") as fh:
                return cls._read(fh)
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"the demo dataset is missing ({exc.filename or 'okai_insight/data/demo.npz'}): reinstall "
                "okai-insight or run scripts/make_demo_dataset.py"
            ) from None

    @classmethod
    def _read(cls, fh: Any) -> DemoDataset:
        with np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("meta").tobytes().decode())
        return cls(arrays, meta)

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        counts = ", ".join(f"{t} {n}" for t, n in sorted(Counter(self.types).items()))
        return f"<DemoDataset {self.model_name} {self.dimension}d: {counts}>"

    # -- lookups --------------------------------------------------------------------------------------------
    def index(self, memory_id: uuid.UUID) -> int:
        """The row of a memory id.

        Example:
            >>> ds.index(ds.ids[5])                                    # doctest: +SKIP
            5
        """
        return self._index[memory_id]

    def account(self, key: str) -> DemoAccount:
        """An account by key (``"eliza"``, ``"mayac"``...).

        Example:
            >>> demo_dataset().account("eliza").name
            'Eliza'
        """
        for a in self.accounts:
            if a.key == key:
                return a
        raise KeyError(key)

    def room(self, key: str) -> DemoRoom:
        """A room by key (its topic, e.g. ``"cooking"``; an agent's own room is ``"<agent>-knowledge"``).

        Example:
            >>> demo_dataset().room("cooking").name
            'Kitchen table'
        """
        for r in self.rooms:
            if r.key == key:
                return r
        raise KeyError(key)

    @property
    def agents(self) -> tuple[DemoAccount, ...]:
        """The agent accounts.

        Example:
            >>> [a.name for a in demo_dataset().agents][:2]
            ['Eliza', 'Sage']
        """
        return tuple(a for a in self.accounts if a.is_agent)

    def type_counts(self, rows: int | None = None) -> dict[str, int]:
        """How many memories of each type the first ``rows`` rows (default all) hold.

        Example:
            >>> demo_dataset().type_counts(rows=0)
            {}
        """
        return dict(sorted(Counter(self.types[: self.rows_to_load(rows)]).items()))

    def rows_to_load(self, rows: int | None) -> int:
        """How many memories a ``rows`` limit means: all for None, at most the dataset's size.

        Example:
            >>> demo_dataset().rows_to_load(10**9) == len(demo_dataset())
            True
        """
        return len(self) if rows is None else max(0, min(int(rows), len(self)))

    # -- as adapter models ----------------------------------------------------------------------------------
    def memory(self, i: int) -> Memory:
        """Row ``i`` as a :class:`~okai_insight.models.Memory` ready for ``create_memories``.

        Example:
            >>> demo_dataset().memory(0).type in ("messages", "documents", "facts", "fragments")
            True
        """
        content: dict[str, Any] = {"text": self.texts[i]}
        kind = self.types[i]
        parent = self.parents[i]
        if kind == "messages":
            content["source"] = self._room_by_id[self.room_ids[i]].source
            if parent >= 0:
                content["inReplyTo"] = str(self.ids[parent])
            if self.user_ids[i] == self.agent_ids[i]:
                content["action"] = "NONE"
        elif kind == "fragments":
            content["source"] = str(self.ids[parent])
        elif kind == "documents":
            content["title"] = self._titles.get(i, "")
            content["source"] = "knowledge"
        return Memory(
            id=self.ids[i],
            user_id=self.user_ids[i],
            agent_id=self.agent_ids[i],
            room_id=self.room_ids[i],
            content=content,
            embedding=self.embeddings[i] if self.has_embedding[i] else None,
            created_at=self.created_at[i],
            unique=self.unique[i],
            type=kind,
        )

    def memories(self, rows: int | None = None) -> list[Memory]:
        """The first ``rows`` memories (oldest first; default all) as models.

        Example:
            >>> len(demo_dataset().memories(rows=10))
            10
        """
        return [self.memory(i) for i in range(self.rows_to_load(rows))]

    def to_pandas(self) -> Any:
        """The memories as a pandas DataFrame (no embeddings): id, type, room, agent, user, created_at, text,
        unique, embedding_model.

        Example:
            >>> int(demo_dataset().to_pandas().groupby("type").size()["documents"])
            8
        """
        import pandas as pd

        rooms = {r.id: r.name for r in self.rooms}
        names = {a.id: a.name for a in self.accounts}
        return pd.DataFrame(
            {
                "id": [str(i) for i in self.ids],
                "type": self.types,
                "room": [rooms[r] for r in self.room_ids],
                "agent": [names[a] for a in self.agent_ids],
                "user": [names[u] for u in self.user_ids],
                "created_at": pd.to_datetime(list(self.created_at), utc=True),
                "text": self.texts,
                "unique": self.unique,
                "embedding_model": self.embedding_models,
            }
        )

    # -- builders -------------------------------------------------------------------------------------------
    def _defects(self, d: dict[str, Any], acc: list[uuid.UUID]) -> DemoDefects:
        sm = d["second_model"]
        first, last = sm["window"]["days"]
        window = (
            acc[sm["window"]["agent"]],
            self.start + dt.timedelta(days=first),
            self.start + dt.timedelta(days=last + 1),
        )
        z = d["zero_vectors"]
        return DemoDefects(
            second_model=sm["model"],
            second_model_agent_ids=tuple(acc[a] for a in sm["agents"]),
            second_model_window=window,
            second_model_ids=tuple(self.ids[i] for i in sm["rows"]),
            zero_vector_ids=tuple(self.ids[i] for i in z["rows"]),
            zero_document_ids=tuple(self.ids[i] for i in z["documents"]),
            zero_outage_ids=tuple(self.ids[i] for i in z["outage"]),
            null_embedding_ids=tuple(self.ids[i] for i in d["null_embeddings"]),
            drift=tuple((self.rooms[x["room"]].id, self.start + dt.timedelta(days=x["from_day"])) for x in d["drift"]),
        )

    def _goal(self, g: dict[str, Any], acc: list[uuid.UUID]) -> Goal:
        return Goal(
            id=demo_id("goal", g["key"]),
            room_id=self.rooms[g["room"]].id,
            user_id=acc[g["user"]],
            name=g["name"],
            description=g["description"],
            status=GoalStatus(g["status"]),
            objectives=tuple(Objective(o["description"], bool(o["completed"]), o["id"]) for o in g["objectives"]),
        )

    @staticmethod
    def _knowledge(
        i: int, k: dict[str, Any], embedding: Matrix, acc: list[uuid.UUID], all_items: list[dict[str, Any]]
    ) -> KnowledgeItem:
        original = None if k["original"] < 0 else demo_id("knowledge", all_items[k["original"]]["key"])
        metadata: dict[str, Any] = {"title": k["title"], "source": "okai-demo"}
        if not k["is_main"]:
            metadata.update(isChunk=True, originalId=str(original), chunkIndex=k["chunk_index"])
        return KnowledgeItem(
            id=demo_id("knowledge", k["key"]),
            content={"text": k["text"], "metadata": metadata},
            agent_id=None if k["agent"] is None else acc[k["agent"]],
            embedding=embedding,
            is_main=bool(k["is_main"]),
            original_id=original,
            chunk_index=k["chunk_index"],
            is_shared=bool(k["shared"]),
        )


@functools.lru_cache(maxsize=1)
def demo_dataset() -> DemoDataset:
    """The packaged demo dataset, read once per process.

    Example:
        >>> demo_dataset().model_name
        'sentence-transformers/all-MiniLM-L6-v2'
    """
    return DemoDataset.load()
