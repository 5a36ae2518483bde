"""Planted worlds for the embedding tests: known duplicates, zero / NULL vectors, a second model, topics.

Everything is written straight into a fresh database with psycopg (the test owns it); the checks under test only
read. Two "models" are two unrelated vector spaces: model A's vectors lean on anchor direction ``a``, model B's on
an orthogonal anchor ``b``, so B's rows are far from A's mean direction, as a second real model's are.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from okai_insight.schema import migrate

DIM = 64
TOPICS = [
    "weather rain forecast storm cloud",
    "football match goal score team",
    "recipe pasta sauce garlic oven",
    "python code bug deploy server",
    "travel flight hotel beach passport",
]


@dataclass
class World:
    dim: int
    agents: dict[str, uuid.UUID]
    rooms: list[uuid.UUID]
    ids: list[str] = field(default_factory=list)
    vectors: list[np.ndarray | None] = field(default_factory=list)
    agent_of: list[str] = field(default_factory=list)
    room_of: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    created: list[dt.datetime] = field(default_factory=list)
    exact_dup_pairs: set[frozenset[str]] = field(default_factory=set)
    near_dup_pairs: set[frozenset[str]] = field(default_factory=set)
    second_model_ids: set[str] = field(default_factory=set)
    unnormalised_ids: set[str] = field(default_factory=set)
    same_text_ids: set[str] = field(default_factory=set)
    zero_ids: set[str] = field(default_factory=set)
    null_ids: set[str] = field(default_factory=set)

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """Ids and vectors of the rows with a non-zero vector."""
        keep = [i for i, v in enumerate(self.vectors) if v is not None and np.linalg.norm(v) > 0]
        return [self.ids[i] for i in keep], np.vstack([self.vectors[i] for i in keep]).astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def connect(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    return conn


def build(url: str, *, seed: int = 0, per_topic: int = 40, dim: int = DIM) -> World:
    """The quality / explorer / threshold world on a fresh database (okai schema, HNSW cosine index)."""
    rng = np.random.default_rng(seed)
    with connect(url) as conn:
        migrate(conn, dimension=dim)
        register_vector(conn)
        agents = {}
        for name in ("clean", "mixed", "unnormalised"):
            aid = uuid.uuid4()
            conn.execute(
                'INSERT INTO accounts ("id", "name", "email") VALUES (%s, %s, %s)', (aid, name, f"{aid}@x.org")
            )
            agents[name] = aid
        rooms = []
        for _ in TOPICS:
            rid = uuid.uuid4()
            conn.execute('INSERT INTO rooms ("id") VALUES (%s)', (rid,))
            rooms.append(rid)
        w = World(dim=dim, agents=agents, rooms=rooms)
        basis = np.linalg.qr(rng.normal(size=(dim, dim)))[0].T  # orthonormal rows
        a, b = basis[0], basis[1]
        topic_a = basis[2 : 2 + len(TOPICS)]
        topic_b = basis[2 + len(TOPICS) : 2 + 2 * len(TOPICS)]
        t0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

        def model(anchor: np.ndarray, topics: np.ndarray, c: int) -> np.ndarray:
            return _unit(anchor + 0.9 * topics[c] + 0.35 * rng.normal(size=dim) / np.sqrt(dim) * 4)

        def add(agent: str, room: int, text: str, vec: np.ndarray | None, day: int) -> str:
            mid = str(uuid.uuid4())
            w.ids.append(mid)
            w.vectors.append(None if vec is None else np.asarray(vec, dtype=np.float32))
            w.agent_of.append(agent)
            w.room_of.append(room)
            w.texts.append(text)
            w.created.append(t0 + dt.timedelta(days=day, minutes=len(w.ids)))
            return mid

        def sentence(c: int) -> str:
            words = TOPICS[c].split()
            return " ".join(rng.choice(words, size=6)) + f" #{rng.integers(1_000_000)}"

        for agent in ("clean", "unnormalised"):
            for c in range(len(TOPICS)):
                for j in range(per_topic):
                    add(agent, c, sentence(c), model(a, topic_a, c), day=j % 20)
        # Planted exact duplicates (the same vector and text stored twice) and near duplicates (a paraphrase).
        base = [i for i, ag in enumerate(w.agent_of) if ag == "clean"]
        for i in base[:6]:
            dup = add("clean", w.room_of[i], w.texts[i], w.vectors[i], day=25)
            w.exact_dup_pairs.add(frozenset((w.ids[i], dup)))
        for i in base[10:18]:
            v = w.vectors[i]
            assert v is not None
            near = _unit(v + 0.12 * _unit(rng.normal(size=dim)))
            nid = add("clean", w.room_of[i], w.texts[i].split("#")[0] + "(again)", near, day=26)
            w.near_dup_pairs.add(frozenset((w.ids[i], nid)))
        # Agent "unnormalised": 20 rows from a model that does not normalise (norms around 7).
        for j in range(20):
            c = j % len(TOPICS)
            mid = add("unnormalised", c, sentence(c), 7.0 * model(a, topic_a, c) * (1 + 0.05 * rng.normal()), day=21)
            w.unnormalised_ids.add(mid)
        # Agent "mixed": model A mostly, and 30 rows of model B, 10 of which repeat a model-A row's exact text.
        mixed_a = []
        for c in range(len(TOPICS)):
            for j in range(per_topic):
                mixed_a.append(add("mixed", c, sentence(c), model(a, topic_a, c), day=j % 20))
        for j in range(30):
            c = j % len(TOPICS)
            text = w.texts[w.ids.index(mixed_a[j])] if j < 10 else sentence(c)
            mid = add("mixed", c, text, model(b, topic_b, c), day=22 + j % 5)
            w.second_model_ids.add(mid)
            if j < 10:
                w.same_text_ids.add(mid)
        for j in range(3):
            w.zero_ids.add(add("clean", j, f"failed embedding {j}", np.zeros(dim), day=5))
        for j in range(2):
            w.null_ids.add(add("clean", j, f"not embedded {j}", None, day=6))
        with (
            conn.cursor() as cur,
            cur.copy(
                'COPY memories ("id", "type", "createdAt", "content", "embedding", "userId", "agentId", "roomId") '
                "FROM STDIN"
            ) as copy,
        ):
            for i, mid in enumerate(w.ids):
                v = w.vectors[i]
                vec = None if v is None else "[" + ",".join(f"{x:.7g}" for x in v) + "]"
                agent = agents[w.agent_of[i]]
                content = json.dumps({"text": w.texts[i]})
                copy.write_row((mid, "messages", w.created[i], content, vec, agent, agent, rooms[w.room_of[i]]))
        conn.execute("ANALYZE memories")
        # Read back exactly what PostgreSQL stored (float32), so numpy brute force sees the same numbers.
        stored = {str(r[0]): r[1] for r in conn.execute("SELECT id, embedding FROM memories")}
        w.vectors = [None if stored[m] is None else np.asarray(stored[m].to_numpy(), dtype=np.float32) for m in w.ids]
    return w


def build_mixed_dims(url: str, *, seed: int = 1) -> tuple[set[str], set[str]]:
    """A table ``vectors_any`` with an undeclared vector column: 40 rows of 16 dims and 8 of 12 dims."""
    rng = np.random.default_rng(seed)
    main, odd = set(), set()
    with connect(url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute('CREATE TABLE vectors_any (id uuid PRIMARY KEY, "agentId" uuid, embedding vector)')
        agent = uuid.uuid4()
        for n, d, bucket in ((40, 16, main), (8, 12, odd)):
            for _ in range(n):
                mid = uuid.uuid4()
                v = _unit(rng.normal(size=d))
                conn.execute(
                    "INSERT INTO vectors_any VALUES (%s, %s, %s::vector)",
                    (mid, agent, "[" + ",".join(f"{x:.6f}" for x in v) + "]"),
                )
                bucket.add(str(mid))
        conn.execute("ANALYZE vectors_any")
    return main, odd
