"""The demo agent dataset in a database: ``load(db)`` through the adapter contract, and ``run_demo`` (the
``okai-insight demo`` command and ``make demo``).

With no URL the demo lives in its own database, ``okai_demo`` (:data:`DEMO_DATABASE`), on the embedded server:
``demo_url()`` creates it. The user's own database (the embedded ``okai``, or ``OKAI_DATABASE_URL``) is never
written by the demo, nor read by the report when it has no URL.

Loading uses only :class:`~okai_insight.adapters.base.DatabaseAdapter` methods, so it works on every adapter.
It is idempotent: ids are fixed (uuid5), rows that exist are skipped, and a marker in the agent's cache makes a
second load of the same rows a no-op. The embeddings (all-MiniLM-L6-v2) ship precomputed: no torch needed.

Example:
    >>> import okai_insight
    >>> from okai_insight.demo import load
    >>> with okai_insight.connect() as db:                     # doctest: +SKIP
    ...     report = load(db)
    >>> report.created["memories"]                             # doctest: +SKIP
    1979
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO, TypeVar

from tqdm import tqdm

from okai_insight._redact import redact
from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.data import DemoDataset, DemoLog, demo_dataset
from okai_insight.errors import DimensionMismatch, DuplicateId, FeatureNotAvailable, InvalidInput
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings

__all__ = ["DEMO_DATABASE", "DemoSummary", "LoadReport", "demo_counts", "demo_url", "load", "load_wide", "run_demo"]

#: The embedded server's database that holds the demo: apart from ``okai``, the user's own default database.
DEMO_DATABASE = "okai_demo"
_MARKER_KEY = "okai-insight/demo"
_BATCH = 250
T = TypeVar("T")


@dataclass
class LoadReport:
    """What :func:`load` did: rows ``created`` and rows that were ``already_there``, per kind.

    ``unavailable`` names the parts the database could not take (e.g. ``knowledge`` on an old ElizaOS schema);
    ``skipped`` is True when the marker said these rows were loaded before.
    """

    rows: int
    created: dict[str, int] = field(default_factory=dict)
    already_there: dict[str, int] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)
    skipped: bool = False
    elapsed_s: float = 0.0

    def _count(self, kind: str, created: bool, n: int = 1) -> None:
        target = self.created if created else self.already_there
        target[kind] = target.get(kind, 0) + n


def load(
    db: DatabaseAdapter,
    *,
    rows: int | None = None,
    progress: bool = True,
    dataset: DemoDataset | None = None,
) -> LoadReport:
    """Load the demo dataset (or its oldest ``rows`` memories) into ``db``; idempotent.

    Accounts, rooms, participants and their states, memories (bulk, per type), goals, relationships, logs,
    knowledge items and a cache marker are written through the adapter contract. Rows that already exist are
    left alone, so a second call writes nothing and a call with more ``rows`` adds only the missing ones.

    Raises :class:`~okai_insight.errors.DimensionMismatch` when the database's embedding dimension is not the
    dataset's (384), before anything is written.

    Example:
        >>> report = load(db, rows=500, progress=False)        # doctest: +SKIP
        >>> report.created.get("memories"), load(db, rows=500).skipped  # doctest: +SKIP
        (500, True)
    """
    started = time.perf_counter()
    if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 0):
        raise InvalidInput(f"rows must be a whole number >= 0, got {rows!r}")
    ds = dataset or demo_dataset()
    n = ds.rows_to_load(rows)
    if db.embedding_dimension != ds.dimension:
        raise DimensionMismatch(
            expected=db.embedding_dimension,
            got=ds.dimension,
            where="this database (the demo needs a 384-dimension schema: use an empty database)",
        )
    report = LoadReport(rows=n)
    anchor = ds.agents[0].id
    marker = f"v{ds.version}:{n}"
    if _loaded_rows(db, anchor, ds.version) >= n and db.get_account_by_id(anchor) is not None:
        report.skipped = True
        report.elapsed_s = time.perf_counter() - started
        return report

    total = len(ds.accounts) + len(ds.rooms) + n + len(ds.goals) + len(ds.relationships) + len(ds.knowledge)
    with tqdm(total=total, desc="loading demo", unit="row", disable=not progress, leave=False) as bar:
        _load_accounts(db, ds, report, bar)
        _load_rooms(db, ds, report, bar)
        _load_memories(db, ds, n, report, bar)
        _load_goals(db, ds, report, bar)
        _load_relationships(db, ds, report, bar)
        _optional(report, "knowledge", lambda: _load_knowledge(db, ds, report, bar))
    if _loaded_rows(db, anchor, ds.version) < n:
        _optional(report, "cache", lambda: db.set_cache(key=_MARKER_KEY, agent_id=anchor, value=marker))
    report.elapsed_s = time.perf_counter() - started
    return report


def _loaded_rows(db: DatabaseAdapter, anchor: uuid.UUID, version: int) -> int:
    try:
        value = db.get_cache(key=_MARKER_KEY, agent_id=anchor)
    except FeatureNotAvailable:
        return -1
    if not value or not value.startswith(f"v{version}:"):
        return -1
    return int(value.split(":", 1)[1])


def _optional(report: LoadReport, what: str, fn: Callable[[], Any]) -> None:
    try:
        fn()
    except FeatureNotAvailable:
        report.unavailable.append(what)


def _load_accounts(db: DatabaseAdapter, ds: DemoDataset, report: LoadReport, bar: tqdm[Any]) -> None:
    for a in ds.accounts:
        exists = db.get_account_by_id(a.id) is not None
        if not exists:
            db.create_account(Account(id=a.id, name=a.name, username=a.username, email=a.email, details=a.details))
        report._count("accounts", not exists)
        bar.update()


def _load_rooms(db: DatabaseAdapter, ds: DemoDataset, report: LoadReport, bar: tqdm[Any]) -> None:
    logs: dict[uuid.UUID, list[DemoLog]] = {}
    for entry in ds.logs:
        logs.setdefault(entry.room_id, []).append(entry)
    for room in ds.rooms:
        exists = db.get_room(room.id) is not None
        if not exists:
            db.create_room(room.id)
        report._count("rooms", not exists)
        for member in room.member_ids:
            report._count("participants", db.add_participant(member, room.id))
        for member, state in room.states.items():
            db.set_participant_user_state(room.id, member, state)
        if not exists:  # the contract cannot read logs back: a room's logs are written when the room is new
            for entry in logs.get(room.id, []):
                try:
                    db.log(body=entry.body, user_id=entry.user_id, room_id=entry.room_id, type=entry.type)
                except FeatureNotAvailable:
                    if "logs" not in report.unavailable:
                        report.unavailable.append("logs")
                    break
                report._count("logs", True)
        bar.update()


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _load_memories(db: DatabaseAdapter, ds: DemoDataset, n: int, report: LoadReport, bar: tqdm[Any]) -> None:
    existing: set[uuid.UUID] = set()
    for chunk in _chunks(ds.ids[:n], 500):
        existing.update(m.id for m in db.get_memories_by_ids(list(chunk)) if m.id is not None)
    bar.update(len(existing))
    report._count("memories", False, len(existing))
    by_type: dict[str, list[Memory]] = {}
    for i in range(n):
        if ds.ids[i] not in existing:
            by_type.setdefault(ds.types[i], []).append(ds.memory(i))
    # Documents before fragments and messages before replies: time order inside each type.
    for kind in sorted(by_type):
        for batch in _chunks(by_type[kind], _BATCH):
            db.create_memories(batch, kind)
            report._count("memories", True, len(batch))
            report._count(f"memories:{kind}", True, len(batch))
            bar.update(len(batch))


def _load_goals(db: DatabaseAdapter, ds: DemoDataset, report: LoadReport, bar: tqdm[Any]) -> None:
    for goal in ds.goals:
        try:
            db.create_goal(goal)
            report._count("goals", True)
        except DuplicateId:
            report._count("goals", False)
        bar.update()


def _load_relationships(db: DatabaseAdapter, ds: DemoDataset, report: LoadReport, bar: tqdm[Any]) -> None:
    for a, b in ds.relationships:
        exists = db.get_relationship(a, b) is not None
        if not exists:
            db.create_relationship(a, b)
        report._count("relationships", not exists)
        bar.update()


def _load_knowledge(db: DatabaseAdapter, ds: DemoDataset, report: LoadReport, bar: tqdm[Any]) -> None:
    for item in ds.knowledge:
        owner = item.agent_id or ds.agents[0].id
        exists = bool(db.get_knowledge(agent_id=owner, id=item.id))
        if not exists:
            db.create_knowledge(item)
        report._count("knowledge", not exists)
        bar.update()


def load_wide(db: DatabaseAdapter, *, dataset: DemoDataset | None = None) -> int:
    """Load the small 768-dimension set (a second model of another dimension) into a 768-dimension database.

    The rows go to their own agent (``atlas``) and room; returns how many memories were created (0 when they
    are already there). A 384-dimension schema refuses them: that is the point of the planted defect.

    Example:
        >>> with okai_insight.connect(url, dimension=768) as wide_db:  # doctest: +SKIP
        ...     load_wide(wide_db)
        150
    """
    ds = dataset or demo_dataset()
    dim = ds.wide_embeddings.shape[1]
    if db.embedding_dimension != dim:
        raise DimensionMismatch(expected=db.embedding_dimension, got=dim, where="this database (use a 768 schema)")
    from okai_insight.data import demo_id

    agent = demo_id("account", "atlas")
    room = demo_id("room", "atlas-archive")
    if db.get_account_by_id(agent) is None:
        db.create_account(
            Account(
                id=agent,
                name="Atlas",
                username="atlas",
                email="atlas@agents.example.org",
                details={"kind": "agent", "embeddingModel": ds.wide_model},
            )
        )
    if db.get_room(room) is None:
        db.create_room(room)
    db.add_participant(agent, room)
    have = {m.id for m in db.get_memories_by_ids(list(ds.wide_ids))}
    new = [
        Memory(
            id=mid,
            user_id=agent,
            agent_id=agent,
            room_id=room,
            content={"text": text, "source": "archive"},
            embedding=ds.wide_embeddings[i],
            created_at=ds.start,
        )
        for i, (mid, text) in enumerate(zip(ds.wide_ids, ds.wide_texts, strict=True))
        if mid not in have
    ]
    if new:
        db.create_memories(new, "messages")
    return len(new)


def demo_counts(db: DatabaseAdapter, *, dataset: DemoDataset | None = None) -> dict[str, int]:
    """The demo's rows found in ``db``, per table (memories per type), read through the adapter contract.

    Logs are not counted: the contract has no method that reads them.

    Example:
        >>> demo_counts(db)["memories:messages"]                 # doctest: +SKIP
        1831
    """
    ds = dataset or demo_dataset()
    rooms = [r for r in ds.rooms if db.get_room(r.id) is not None]
    counts = {
        "accounts": sum(db.get_account_by_id(a.id) is not None for a in ds.accounts),
        "rooms": len(rooms),
        "participants": sum(len(db.get_participants_for_room(r.id)) for r in rooms),
    }
    for kind in sorted(set(ds.types)):
        counts[f"memories:{kind}"] = sum(db.count_memories(r.id, unique=False, table_name=kind) for r in rooms)
    goal_ids = {g.id for g in ds.goals}
    counts["goals"] = sum(
        g.id in goal_ids for r in rooms for g in db.get_goals(r.id, only_in_progress=False, count=1000)
    )
    rel = {x.id for a in ds.accounts for x in db.get_relationships(a.id)}
    counts["relationships"] = len(rel)
    try:
        items = {k.id for a in ds.agents for k in db.get_knowledge(agent_id=a.id)}
        counts["knowledge"] = len(items & {k.id for k in ds.knowledge})
    except FeatureNotAvailable:
        pass
    return counts


def demo_url(settings: Settings | None = None) -> str:
    """The URL of the demo's own database on the embedded server: the server is started (or reused) and
    :data:`DEMO_DATABASE` created if missing. Nothing is written to the server's ``okai`` database.

    ``OKAI_DATABASE_URL`` is not consulted: it names the user's database, which the demo must not write to.

    Example:
        >>> demo_url()                                           # doctest: +SKIP
        'postgresql://postgres:@/okai_demo?host=...'
    """
    from okai_insight.embedded import EmbeddedServer

    s = settings or Settings.from_env()
    return EmbeddedServer(s.data_dir + "/pgdata" if s.data_dir else None, database=DEMO_DATABASE).start()


# -- the demo command -------------------------------------------------------------------------------------------
@dataclass
class DemoSummary:
    """What :func:`run_demo` did: where, what it loaded, what the searches returned."""

    url: str
    load: LoadReport
    counts: dict[str, int]
    searches: list[tuple[str, list[Memory]]]
    elapsed_s: float


#: The queries the demo runs (indexes into ``DemoDataset.queries``): a clean hit, a paraphrase, and a room
#: whose memories came from a second embedding model (the query cannot find them).
DEMO_QUERIES = (0, 1, 7)


def run_demo(
    url: str | None = None,
    *,
    rows: int | None = None,
    out: TextIO | None = None,
    progress: bool = True,
) -> DemoSummary:
    """``okai-insight demo``: connect (no URL: the demo's own database on the embedded PostgreSQL,
    :func:`demo_url`), load the demo dataset, run semantic searches with precomputed query embeddings, and print
    what it did.

    Example:
        >>> summary = run_demo()                                # doctest: +SKIP
        >>> summary.counts["memories:messages"]                  # doctest: +SKIP
        1831
    """
    import okai_insight

    stream = out or sys.stdout
    started = time.perf_counter()
    target = url or demo_url()  # never OKAI_DATABASE_URL: that is the user's database, and loading writes
    ds = demo_dataset()

    def say(text: str = "") -> None:
        print(text, file=stream)

    say(f"okai-insight demo: {redact(target)}{'' if url else f'  (embedded PostgreSQL, database {DEMO_DATABASE})'}")
    with okai_insight.connect(target) as db:
        report = load(db, rows=rows, progress=progress)
        counts = demo_counts(db)
        if "logs" in report.created:
            counts["logs (written now)"] = report.created["logs"]
        searches = [
            (
                ds.queries[i].text,
                db.search_memories_by_embedding(ds.queries[i].embedding, table_name="messages", count=3),
            )
            for i in DEMO_QUERIES
        ]
    _print_load(say, ds, report, counts)
    _print_searches(say, ds, searches)
    say()
    next_url = "" if url is None else f" {redact(target)}"
    doctor_url = redact(target)
    say(f"Next: `okai-insight report{next_url}` (or `okai-insight doctor '{doctor_url}'`) reports what is wrong")
    say("with this database (try it: the demo plants duplicates, zero vectors and a second embedding model).")
    elapsed = time.perf_counter() - started
    say(f"Done in {elapsed:.1f} s.")
    return DemoSummary(target, report, counts, searches, elapsed)


def _print_load(say: Callable[..., None], ds: DemoDataset, report: LoadReport, counts: dict[str, int]) -> None:
    short = ds.model_name.rsplit("/", 1)[-1]
    if report.skipped:
        say(f"The demo dataset is already loaded ({report.rows} memories); nothing written.")
    else:
        made = report.created.get("memories", 0)
        say(
            f"Loaded the demo dataset ({short}, {ds.dimension} dimensions): {made} new memories "
            f"in {report.elapsed_s:.1f} s."
        )
    if report.unavailable:
        say(f"This database has no {', '.join(report.unavailable)} table: those parts were skipped.")
    say()
    width = max(len(k) for k in counts)
    say(f"  {'table'.ljust(width)}  rows")
    for key, value in counts.items():
        say(f"  {key.ljust(width)}  {value:>5}")


def _print_searches(say: Callable[..., None], ds: DemoDataset, searches: list[tuple[str, list[Memory]]]) -> None:
    rooms = {r.id: r for r in ds.rooms}
    say()
    say("Semantic search over messages (cosine similarity; query embeddings precomputed, no model needed):")
    for n, (text, hits) in enumerate(searches, 1):
        query = next(q for q in ds.queries if q.text == text)
        say(f"  {n}. {text!r}")
        if not hits:
            say("     (no results)")
        for hit in hits:
            room = rooms.get(hit.room_id) if hit.room_id else None
            preview = str(hit.content.get("text", ""))
            preview = preview if len(preview) <= 70 else preview[:67] + "..."
            say(f"     {hit.similarity or 0:.3f}  {(room.name if room else '?'):<18}  {preview}")
        wanted = next((r for r in ds.rooms if r.topic == query.topic), None)
        if wanted is not None and all(h.room_id != wanted.id for h in hits):
            say(
                f"     -> nothing from {wanted.name!r}, the room about this: its memories were embedded by "
                "another model, so a MiniLM query cannot see them."
            )
