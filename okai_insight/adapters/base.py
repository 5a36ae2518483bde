"""The adapter contract: ElizaOS's ``IDatabaseAdapter`` method set plus its cache methods, in snake_case.

Every adapter (PostgreSQL, SQLite, in-memory, Supabase) implements :class:`DatabaseAdapter` and passes the same
suite in ``tests/contract/``; that suite is the definition of an adapter.

Each contract method is written once, here: it checks and reshapes its input (``okai_insight.validation`` and
``_checked``), then calls the adapter's ``_do_<method>`` with checked values (UUIDs, a checked table name, a
float32 embedding, :class:`~okai_insight.adapters._checked.CheckedMemory` rows...). An adapter only encodes those
for its backend and runs its statements, so one input gets one answer on every adapter (like httpx: the client
builds and validates the request, a transport sends it).

Search semantics, the same on every adapter:

* similarity is cosine similarity, ``1 - cosine_distance(embedding, query)``;
* ``match_threshold`` keeps rows with ``similarity >= match_threshold`` (inclusive);
* results come nearest first, at most ``count`` of them; rows without an embedding never match;
* an embedding whose length differs from the schema's dimension raises
  :class:`~okai_insight.errors.DimensionMismatch` before anything is read or written.

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect("memory://")            # doctest: +SKIP
    >>> room = db.create_room()                            # doctest: +SKIP
    >>> db.search_memories_by_embedding([0.1] * 384, table_name="messages", room_id=room)  # doctest: +SKIP
    []
"""

from __future__ import annotations

import abc
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from okai_insight.adapters._checked import (
    CheckedGoal,
    CheckedKnowledge,
    CheckedMemory,
    MemoryBatch,
    check_account,
    check_goal,
    check_knowledge,
    check_memory,
)
from okai_insight.errors import InvalidInput
from okai_insight.models import (
    Account,
    Actor,
    CachedEmbedding,
    Embedding,
    Goal,
    GoalStatus,
    KnowledgeItem,
    Memory,
    Participant,
    Relationship,
    UserState,
)
from okai_insight.settings import Settings
from okai_insight.validation import (
    check_cache_value,
    check_content,
    check_count,
    check_embedding,
    check_goal_status,
    check_id,
    check_ids,
    check_indexed_text,
    check_optional_id,
    check_table_name,
    check_text,
    check_threshold,
    check_timestamp,
    check_user_state,
)

Vector = Sequence[float] | Any  # a list of floats or a 1-D numpy array
IdLike = uuid.UUID | str

#: fuzzystrmatch's levenshtein() refuses longer arguments; every adapter compares this many characters.
LEVENSHTEIN_MAX_CHARS = 255
#: The most rows one search returns.
MAX_SEARCH_COUNT = 10_000


class DatabaseAdapter(abc.ABC):
    """What every okai-insight adapter provides. Use as a context manager to close it.

    Example:
        >>> with okai_insight.connect("memory://") as db:      # doctest: +SKIP
        ...     db.create_room()
    """

    #: The embedding dimension of this database's memories (set by :meth:`init`).
    embedding_dimension: int
    #: okai-insight's configuration (memory table names, thresholds, timeouts).
    settings: Settings

    def __enter__(self) -> DatabaseAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lifecycle ------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def init(self) -> None:
        """Create or migrate the schema (or attach to an existing ElizaOS one) and ready the adapter.

        Safe when several processes call it at once; applies each migration once.

        Example:
            >>> db.init()                                      # doctest: +SKIP
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. Idempotent.

        Example:
            >>> db.close()                                     # doctest: +SKIP
        """

    # -- hooks shared by every call -------------------------------------------------------------------------
    def _require(self, feature: str) -> None:  # noqa: B027 - a hook: most adapters have every table
        """Raise FeatureNotAvailable when this database lacks ``feature``'s table ("cache", "knowledge", "logs");
        checked before the call's input. Every table exists on okai-insight's own schemas: nothing to check."""

    def _knowledge_dimension(self) -> int:
        """The dimension knowledge embeddings are checked against (ElizaOS schemas may differ from memories')."""
        return self.embedding_dimension

    def _memory_type(self, table_name: Any) -> str:
        """A memory table name (the stored ``type``), checked against ``Settings.memory_tables``."""
        return check_table_name(table_name, self.settings.memory_tables)

    # -- accounts -------------------------------------------------------------------------------------------
    def get_account_by_id(self, user_id: IdLike) -> Account | None:
        """The account with this id, or None.

        Example:
            >>> db.get_account_by_id(agent_id).name            # doctest: +SKIP
            'Eliza'
        """
        return self._do_get_account_by_id(check_id(user_id, "user_id"))

    def create_account(self, account: Account) -> bool:
        """Insert an account; False when its id, username or email is already taken.

        Example:
            >>> db.create_account(Account(id=uuid.uuid4(), name="Eliza", email="eliza@example.org"))  # doctest: +SKIP
            True
        """
        return self._do_create_account(check_account(account))

    def get_actor_details(self, room_id: IdLike) -> list[Actor]:
        """The accounts taking part in a room, ordered by name.

        Example:
            >>> [a.name for a in db.get_actor_details(room_id)]  # doctest: +SKIP
            ['Eliza', 'Sam']
        """
        return self._do_get_actor_details(check_id(room_id, "room_id"))

    # -- memories -------------------------------------------------------------------------------------------
    def get_memories(
        self,
        room_id: IdLike,
        table_name: str,
        *,
        count: int | None = None,
        unique: bool = False,
        agent_id: IdLike | None = None,
        start: dt.datetime | int | None = None,
        end: dt.datetime | int | None = None,
        before: tuple[dt.datetime, IdLike] | None = None,
    ) -> list[Memory]:
        """A room's memories of one type, newest first.

        ``start``/``end`` bound ``created_at`` (datetimes or ElizaOS's epoch milliseconds). ``before`` is a keyset
        cursor ``(created_at, id)`` of the last row of the previous page: pass it to get the next page.

        Example:
            >>> page = db.get_memories(room_id, "messages", count=50)                      # doctest: +SKIP
            >>> more = db.get_memories(room_id, "messages", count=50,
            ...                        before=(page[-1].created_at, page[-1].id))           # doctest: +SKIP
        """
        memory_type = self._memory_type(table_name)
        rid = check_id(room_id, "room_id")
        aid = check_optional_id(agent_id, "agent_id")
        first, last = check_timestamp(start, "start"), check_timestamp(end, "end")
        limit = None if count is None else check_count(count)
        cursor = None
        if before is not None:
            if not isinstance(before, tuple) or len(before) != 2:
                raise InvalidInput("before must be a (created_at, id) tuple from the previous page's last row")
            ts = check_timestamp(before[0], "before[0]")
            if ts is None:
                raise InvalidInput("before[0] must be a datetime or epoch milliseconds, got None")
            cursor = (ts, check_id(before[1], "before[1]"))
        page = MemoryPage(memory_type, rid, aid, bool(unique), first, last, cursor, limit)
        return self._do_get_memories(page)

    def get_memory_by_id(self, memory_id: IdLike) -> Memory | None:
        """One memory, or None.

        Example:
            >>> db.get_memory_by_id(memory_id).content["text"]  # doctest: +SKIP
            'hello'
        """
        return self._do_get_memory_by_id(check_id(memory_id, "memory_id"))

    def get_memories_by_ids(self, memory_ids: Sequence[IdLike], table_name: str | None = None) -> list[Memory]:
        """Memories with these ids (optionally of one type); an empty list gives [].

        Example:
            >>> db.get_memories_by_ids([])                     # doctest: +SKIP
            []
        """
        ids = check_ids(memory_ids, "memory_ids")
        if not ids:
            return []
        return self._do_get_memories_by_ids(ids, None if table_name is None else self._memory_type(table_name))

    def get_memories_by_room_ids(
        self,
        room_ids: Sequence[IdLike],
        table_name: str,
        *,
        agent_id: IdLike | None = None,
        limit: int | None = None,
    ) -> list[Memory]:
        """Memories of one type in any of the rooms, newest first; an empty list gives [].

        Example:
            >>> db.get_memories_by_room_ids([room_a, room_b], "messages", limit=20)  # doctest: +SKIP
        """
        rooms = check_ids(room_ids, "room_ids")
        memory_type = self._memory_type(table_name)
        aid = check_optional_id(agent_id, "agent_id")
        n = None if limit is None else check_count(limit, "limit")
        if not rooms:
            return []
        return self._do_get_memories_by_room_ids(rooms, memory_type, aid, n)

    def get_cached_embeddings(
        self,
        *,
        query_table_name: str,
        query_threshold: int,
        query_input: str,
        query_field_name: str,
        query_field_sub_name: str,
        query_match_count: int,
    ) -> list[CachedEmbedding]:
        """Embeddings of memories whose ``content[field][sub_field]`` text is within ``query_threshold``
        Levenshtein edits of ``query_input``, closest first (ElizaOS reuses them instead of re-embedding).

        Texts are compared on their first 255 characters (fuzzystrmatch's limit), so long inputs still work.

        Example:
            >>> db.get_cached_embeddings(query_table_name="messages", query_threshold=2, query_input="hello",
            ...     query_field_name="content", query_field_sub_name="text", query_match_count=5)  # doctest: +SKIP
        """
        query = CacheQuery(
            type=self._memory_type(query_table_name),
            threshold=check_count(query_threshold, "query_threshold", maximum=LEVENSHTEIN_MAX_CHARS),
            input=(check_text(query_input, "query_input") or "")[:LEVENSHTEIN_MAX_CHARS],
            field=check_text(query_field_name, "query_field_name", max_chars=200) or "",
            sub_field=check_text(query_field_sub_name, "query_field_sub_name", max_chars=200) or "",
            k=check_count(query_match_count, "query_match_count"),
        )
        return self._do_get_cached_embeddings(query)

    def log(self, *, body: dict[str, Any], user_id: IdLike, room_id: IdLike, type: str) -> None:
        """Append an audit log entry (table ``logs``).

        Example:
            >>> db.log(body={"action": "reply"}, user_id=agent_id, room_id=room_id, type="action")  # doctest: +SKIP
        """
        self._require("logs")
        self._do_log(
            check_content(body, "body"),
            check_id(user_id, "user_id"),
            check_id(room_id, "room_id"),
            check_text(type, "type", max_chars=200) or "",
        )

    def search_memories(
        self,
        *,
        table_name: str,
        room_id: IdLike,
        embedding: Vector,
        match_threshold: float,
        match_count: int,
        unique: bool = False,
        agent_id: IdLike | None = None,
    ) -> list[Memory]:
        """ElizaOS's ``searchMemories``: a room-scoped :meth:`search_memories_by_embedding`.

        Example:
            >>> db.search_memories(table_name="messages", room_id=room_id, embedding=q,
            ...                    match_threshold=0.8, match_count=10)  # doctest: +SKIP
        """
        return self.search_memories_by_embedding(
            embedding,
            table_name=table_name,
            match_threshold=match_threshold,
            count=match_count,
            room_id=room_id,
            agent_id=agent_id,
            unique=unique,
        )

    def search_memories_by_embedding(
        self,
        embedding: Vector,
        *,
        table_name: str,
        match_threshold: float | None = None,
        count: int = 10,
        room_id: IdLike | None = None,
        agent_id: IdLike | None = None,
        unique: bool = False,
    ) -> list[Memory]:
        """The ``count`` memories nearest to ``embedding`` by cosine similarity, nearest first.

        Rows with ``similarity >= match_threshold`` are kept; ``similarity`` is set on each result.
        Filters (room, agent, unique) keep their recall: small filtered sets are searched exactly, large ones
        through the vector index with iterative scans.

        Example:
            >>> hits = db.search_memories_by_embedding(q, table_name="messages", match_threshold=0.8, count=5)  # doctest: +SKIP
            >>> [round(h.similarity, 2) for h in hits]          # doctest: +SKIP
            [0.97, 0.91]
        """
        q = check_embedding(embedding, self.embedding_dimension, allow_zero=False)
        search = MemorySearch(
            type=self._memory_type(table_name),
            room_id=check_optional_id(room_id, "room_id"),
            agent_id=check_optional_id(agent_id, "agent_id"),
            threshold=None if match_threshold is None else check_threshold(match_threshold),
            k=check_count(count, "count", minimum=1, maximum=MAX_SEARCH_COUNT),
            unique=bool(unique),
        )
        return self._do_search_memories(q, search)

    def create_memory(self, memory: Memory, table_name: str, unique: bool = False) -> uuid.UUID:
        """Store a memory under ``table_name`` and return its id (generated when the memory has none).

        With ``unique=True`` and an embedding, the memory is marked not unique when one with cosine similarity
        >= ``Settings.duplicate_threshold`` (0.95) already exists in its room, as ElizaOS does.

        Example:
            >>> db.create_memory(Memory(room_id=room_id, user_id=user_id, agent_id=agent_id,
            ...                         content={"text": "hi"}, embedding=vec), "messages", unique=True)  # doctest: +SKIP
        """
        checked = self._check_memory(memory, self._memory_type(table_name), self.embedding_dimension)
        return self._do_create_memory(checked, bool(unique))

    def _check_memory(self, memory: Any, memory_type: str, dimension: int, **known: Any) -> CheckedMemory:
        """Check one memory to store (:func:`check_memory`); an adapter adds its own rules by extending this."""
        return check_memory(memory, memory_type, dimension, **known)

    def create_memories(self, memories: Sequence[Memory], table_name: str) -> list[uuid.UUID]:
        """Store many memories at once (PostgreSQL: binary COPY) and return their ids.

        Each memory keeps its own ``unique`` flag: no near-duplicate check runs (use :meth:`create_memory`).
        Every row is validated before the first is written, so a bad one leaves the table unchanged.

        Example:
            >>> ids = db.create_memories([Memory(room_id=room_id, content={"text": t}, embedding=e)
            ...                           for t, e in zip(texts, vectors)], "messages")  # doctest: +SKIP
        """
        batch = MemoryBatch(memories, self._memory_type(table_name), self.embedding_dimension, self._check_memory)
        if not len(batch):
            return []
        return self._do_create_memories(batch)

    def remove_memory(self, memory_id: IdLike, table_name: str) -> bool:
        """Delete one memory of this type; False when there was none.

        Example:
            >>> db.remove_memory(memory_id, "messages")         # doctest: +SKIP
            True
        """
        return self._do_remove_memory(check_id(memory_id, "memory_id"), self._memory_type(table_name))

    def remove_all_memories(self, room_id: IdLike, table_name: str) -> int:
        """Delete a room's memories of one type; returns how many.

        Example:
            >>> db.remove_all_memories(room_id, "messages")     # doctest: +SKIP
            12
        """
        return self._do_remove_all_memories(check_id(room_id, "room_id"), self._memory_type(table_name))

    def count_memories(self, room_id: IdLike, unique: bool = True, table_name: str = "") -> int:
        """How many memories of one type a room holds (only unique ones when ``unique``); table_name is required.

        Example:
            >>> db.count_memories(room_id, unique=False, table_name="messages")  # doctest: +SKIP
            12
        """
        return self._do_count_memories(check_id(room_id, "room_id"), self._memory_type(table_name), bool(unique))

    # -- goals ----------------------------------------------------------------------------------------------
    def get_goals(
        self,
        room_id: IdLike,
        *,
        user_id: IdLike | None = None,
        only_in_progress: bool = True,
        count: int = 5,
        agent_id: IdLike | None = None,
    ) -> list[Goal]:
        """A room's goals (only IN_PROGRESS ones by default), oldest first, at most ``count``.

        Example:
            >>> [g.name for g in db.get_goals(room_id)]          # doctest: +SKIP
            ['Learn the user name']
        """
        rid = check_id(room_id, "room_id")
        uid = check_optional_id(user_id, "user_id")
        limit = check_count(count)
        check_optional_id(agent_id, "agent_id")  # ElizaOS accepts it; goals have no agent column
        return self._do_get_goals(rid, uid, bool(only_in_progress), limit)

    def update_goal(self, goal: Goal) -> None:
        """Replace a goal's name, description, status and objectives; NotFound if it does not exist.

        Example:
            >>> db.update_goal(dataclasses.replace(goal, status=GoalStatus.DONE))  # doctest: +SKIP
        """
        checked = check_goal(goal)
        self._do_update_goal(check_id(goal.id, "goal.id"), checked)

    def update_goal_status(self, goal_id: IdLike, status: GoalStatus | str) -> None:
        """Set a goal's status; NotFound if it does not exist.

        Example:
            >>> db.update_goal_status(goal_id, "DONE")           # doctest: +SKIP
        """
        self._do_update_goal_status(check_id(goal_id, "goal_id"), check_goal_status(status))

    def create_goal(self, goal: Goal) -> uuid.UUID:
        """Store a goal and return its id.

        Example:
            >>> db.create_goal(Goal(room_id=room_id, user_id=user_id, name="Greet"))  # doctest: +SKIP
        """
        checked = check_goal(goal)
        gid = check_id(goal.id, "goal.id") if goal.id is not None else uuid.uuid4()
        return self._do_create_goal(gid, checked)

    def remove_goal(self, goal_id: IdLike) -> bool:
        """Delete a goal; False when there was none.

        Example:
            >>> db.remove_goal(goal_id)                          # doctest: +SKIP
            True
        """
        return self._do_remove_goal(check_id(goal_id, "goal_id"))

    def remove_all_goals(self, room_id: IdLike) -> int:
        """Delete a room's goals; returns how many.

        Example:
            >>> db.remove_all_goals(room_id)                     # doctest: +SKIP
            2
        """
        return self._do_remove_all_goals(check_id(room_id, "room_id"))

    # -- rooms and participants -----------------------------------------------------------------------------
    def get_room(self, room_id: IdLike) -> uuid.UUID | None:
        """The room's id if it exists, else None.

        Example:
            >>> db.get_room(room_id) == room_id                 # doctest: +SKIP
            True
        """
        return self._do_get_room(check_id(room_id, "room_id"))

    def create_room(self, room_id: IdLike | None = None) -> uuid.UUID:
        """Create a room (with a new id unless one is given) and return its id.

        Example:
            >>> room_id = db.create_room()                       # doctest: +SKIP
        """
        return self._do_create_room(check_id(room_id, "room_id") if room_id is not None else uuid.uuid4())

    def remove_room(self, room_id: IdLike) -> None:
        """Delete a room with its memories, participants, goals and logs; NotFound if it does not exist.

        Example:
            >>> db.remove_room(room_id)                          # doctest: +SKIP
        """
        self._do_remove_room(check_id(room_id, "room_id"))

    def get_rooms_for_participant(self, user_id: IdLike) -> list[uuid.UUID]:
        """The rooms an account takes part in.

        Example:
            >>> db.get_rooms_for_participant(user_id)            # doctest: +SKIP
        """
        return self._do_get_rooms_for_participant(check_id(user_id, "user_id"))

    def get_rooms_for_participants(self, user_ids: Sequence[IdLike]) -> list[uuid.UUID]:
        """The rooms any of these accounts take part in (each once); an empty list gives [].

        Example:
            >>> db.get_rooms_for_participants([user_id, agent_id])  # doctest: +SKIP
        """
        ids = check_ids(user_ids, "user_ids")
        return self._do_get_rooms_for_participants(ids) if ids else []

    def add_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        """Add an account to a room; False when it already takes part.

        Example:
            >>> db.add_participant(user_id, room_id)             # doctest: +SKIP
            True
        """
        return self._do_add_participant(check_id(user_id, "user_id"), check_id(room_id, "room_id"))

    def remove_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        """Remove an account from a room; False when it was not in it.

        Example:
            >>> db.remove_participant(user_id, room_id)          # doctest: +SKIP
            True
        """
        return self._do_remove_participant(check_id(user_id, "user_id"), check_id(room_id, "room_id"))

    def get_participants_for_account(self, user_id: IdLike) -> list[Participant]:
        """An account's room memberships.

        Example:
            >>> [p.room_id for p in db.get_participants_for_account(user_id)]  # doctest: +SKIP
        """
        return self._do_get_participants_for_account(check_id(user_id, "user_id"))

    def get_participants_for_room(self, room_id: IdLike) -> list[uuid.UUID]:
        """The account ids taking part in a room.

        Example:
            >>> db.get_participants_for_room(room_id)            # doctest: +SKIP
        """
        return self._do_get_participants_for_room(check_id(room_id, "room_id"))

    def get_participant_user_state(self, room_id: IdLike, user_id: IdLike) -> UserState | None:
        """FOLLOWED, MUTED or None.

        Example:
            >>> db.get_participant_user_state(room_id, user_id)  # doctest: +SKIP
            <UserState.FOLLOWED: 'FOLLOWED'>
        """
        return self._do_get_participant_user_state(check_id(room_id, "room_id"), check_id(user_id, "user_id"))

    def set_participant_user_state(self, room_id: IdLike, user_id: IdLike, state: UserState | str | None) -> None:
        """Set (or clear, with None) a participant's state; NotFound when the account is not in the room.

        Example:
            >>> db.set_participant_user_state(room_id, user_id, "MUTED")  # doctest: +SKIP
        """
        rid, uid = check_id(room_id, "room_id"), check_id(user_id, "user_id")
        self._do_set_participant_user_state(rid, uid, check_user_state(state))

    # -- relationships --------------------------------------------------------------------------------------
    def create_relationship(self, user_a: IdLike, user_b: IdLike) -> bool:
        """Connect two accounts; True on success.

        Example:
            >>> db.create_relationship(user_id, agent_id)        # doctest: +SKIP
            True
        """
        return self._do_create_relationship(check_id(user_a, "user_a"), check_id(user_b, "user_b"))

    def get_relationship(self, user_a: IdLike, user_b: IdLike) -> Relationship | None:
        """The relationship between two accounts in either direction, or None.

        Example:
            >>> db.get_relationship(agent_id, user_id).user_a == user_id  # doctest: +SKIP
            True
        """
        return self._do_get_relationship(check_id(user_a, "user_a"), check_id(user_b, "user_b"))

    def get_relationships(self, user_id: IdLike) -> list[Relationship]:
        """Every relationship an account is part of.

        Example:
            >>> len(db.get_relationships(user_id))               # doctest: +SKIP
            1
        """
        return self._do_get_relationships(check_id(user_id, "user_id"))

    # -- knowledge ------------------------------------------------------------------------------------------
    def get_knowledge(
        self, *, agent_id: IdLike, id: IdLike | None = None, limit: int | None = None
    ) -> list[KnowledgeItem]:
        """An agent's knowledge (its own and shared items), or one item by id, newest first.

        Example:
            >>> db.get_knowledge(agent_id=agent_id, limit=10)    # doctest: +SKIP
        """
        self._require("knowledge")
        aid, kid = check_id(agent_id, "agent_id"), check_optional_id(id, "id")
        return self._do_get_knowledge(aid, kid, None if limit is None else check_count(limit, "limit"))

    def search_knowledge(
        self,
        *,
        agent_id: IdLike,
        embedding: Vector,
        match_threshold: float,
        match_count: int,
        search_text: str | None = None,
    ) -> list[KnowledgeItem]:
        """The agent's (and shared) knowledge nearest to ``embedding``, with the memory search semantics.

        Example:
            >>> db.search_knowledge(agent_id=agent_id, embedding=q, match_threshold=0.5, match_count=3)  # doctest: +SKIP
        """
        self._require("knowledge")
        check_text(search_text, "search_text", optional=True)
        aid = check_id(agent_id, "agent_id")
        q = check_embedding(embedding, self._knowledge_dimension(), allow_zero=False)
        threshold = check_threshold(match_threshold)
        k = check_count(match_count, "match_count", minimum=1, maximum=MAX_SEARCH_COUNT)
        return self._do_search_knowledge(aid, q, threshold, k)

    def create_knowledge(self, knowledge: KnowledgeItem) -> None:
        """Store a knowledge item (shared items have no agent).

        Example:
            >>> db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=agent_id,
            ...                                   content={"text": "fact"}, embedding=vec))  # doctest: +SKIP
        """
        self._require("knowledge")
        self._do_create_knowledge(check_knowledge(knowledge, self._knowledge_dimension()))

    def remove_knowledge(self, knowledge_id: IdLike) -> bool:
        """Delete a knowledge item and its chunks; False when there was none.

        Example:
            >>> db.remove_knowledge(item_id)                     # doctest: +SKIP
            True
        """
        self._require("knowledge")
        return self._do_remove_knowledge(check_id(knowledge_id, "knowledge_id"))

    def clear_knowledge(self, agent_id: IdLike, shared: bool = False) -> int:
        """Delete an agent's knowledge (and the shared items too when ``shared``); returns how many.

        Example:
            >>> db.clear_knowledge(agent_id)                     # doctest: +SKIP
            3
        """
        self._require("knowledge")
        return self._do_clear_knowledge(check_id(agent_id, "agent_id"), bool(shared))

    # -- cache ----------------------------------------------------------------------------------------------
    def _cache_key(self, key: Any, agent_id: Any) -> tuple[str, uuid.UUID]:
        self._require("cache")
        return check_indexed_text(key, "key") or "", check_id(agent_id, "agent_id")

    def get_cache(self, *, key: str, agent_id: IdLike) -> str | None:
        """A cached value, or None.

        Example:
            >>> db.get_cache(key="profile", agent_id=agent_id)   # doctest: +SKIP
            '{"name": "Sam"}'
        """
        return self._do_get_cache(*self._cache_key(key, agent_id))

    def set_cache(self, *, key: str, agent_id: IdLike, value: str) -> bool:
        """Store or overwrite a cached value; True on success.

        Example:
            >>> db.set_cache(key="profile", agent_id=agent_id, value='{"name": "Sam"}')  # doctest: +SKIP
            True
        """
        k, a = self._cache_key(key, agent_id)
        return self._do_set_cache(k, a, check_cache_value(value))

    def delete_cache(self, *, key: str, agent_id: IdLike) -> bool:
        """Delete a cached value; False when there was none.

        Example:
            >>> db.delete_cache(key="profile", agent_id=agent_id)  # doctest: +SKIP
            True
        """
        return self._do_delete_cache(*self._cache_key(key, agent_id))

    # -- what each adapter implements: encoding and statements, on checked input ----------------------------
    @abc.abstractmethod
    def _do_get_account_by_id(self, user_id: uuid.UUID) -> Account | None: ...
    @abc.abstractmethod
    def _do_create_account(self, account: Account) -> bool: ...
    @abc.abstractmethod
    def _do_get_actor_details(self, room_id: uuid.UUID) -> list[Actor]: ...
    @abc.abstractmethod
    def _do_get_memories(self, page: MemoryPage) -> list[Memory]: ...
    @abc.abstractmethod
    def _do_get_memory_by_id(self, memory_id: uuid.UUID) -> Memory | None: ...
    @abc.abstractmethod
    def _do_get_memories_by_ids(self, ids: list[uuid.UUID], memory_type: str | None) -> list[Memory]: ...
    @abc.abstractmethod
    def _do_get_memories_by_room_ids(
        self, room_ids: list[uuid.UUID], memory_type: str, agent_id: uuid.UUID | None, limit: int | None
    ) -> list[Memory]: ...
    @abc.abstractmethod
    def _do_get_cached_embeddings(self, query: CacheQuery) -> list[CachedEmbedding]: ...
    @abc.abstractmethod
    def _do_log(self, body: dict[str, Any], user_id: uuid.UUID, room_id: uuid.UUID, type: str) -> None: ...
    @abc.abstractmethod
    def _do_search_memories(self, q: Embedding, search: MemorySearch) -> list[Memory]: ...
    @abc.abstractmethod
    def _do_create_memory(self, memory: CheckedMemory, unique: bool) -> uuid.UUID: ...
    @abc.abstractmethod
    def _do_create_memories(self, batch: MemoryBatch) -> list[uuid.UUID]: ...
    @abc.abstractmethod
    def _do_remove_memory(self, memory_id: uuid.UUID, memory_type: str) -> bool: ...
    @abc.abstractmethod
    def _do_remove_all_memories(self, room_id: uuid.UUID, memory_type: str) -> int: ...
    @abc.abstractmethod
    def _do_count_memories(self, room_id: uuid.UUID, memory_type: str, unique: bool) -> int: ...
    @abc.abstractmethod
    def _do_get_goals(
        self, room_id: uuid.UUID, user_id: uuid.UUID | None, only_in_progress: bool, limit: int
    ) -> list[Goal]: ...
    @abc.abstractmethod
    def _do_update_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> None: ...
    @abc.abstractmethod
    def _do_update_goal_status(self, goal_id: uuid.UUID, status: GoalStatus) -> None: ...
    @abc.abstractmethod
    def _do_create_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> uuid.UUID: ...
    @abc.abstractmethod
    def _do_remove_goal(self, goal_id: uuid.UUID) -> bool: ...
    @abc.abstractmethod
    def _do_remove_all_goals(self, room_id: uuid.UUID) -> int: ...
    @abc.abstractmethod
    def _do_get_room(self, room_id: uuid.UUID) -> uuid.UUID | None: ...
    @abc.abstractmethod
    def _do_create_room(self, room_id: uuid.UUID) -> uuid.UUID: ...
    @abc.abstractmethod
    def _do_remove_room(self, room_id: uuid.UUID) -> None: ...
    @abc.abstractmethod
    def _do_get_rooms_for_participant(self, user_id: uuid.UUID) -> list[uuid.UUID]: ...
    @abc.abstractmethod
    def _do_get_rooms_for_participants(self, user_ids: list[uuid.UUID]) -> list[uuid.UUID]: ...
    @abc.abstractmethod
    def _do_add_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool: ...
    @abc.abstractmethod
    def _do_remove_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool: ...
    @abc.abstractmethod
    def _do_get_participants_for_account(self, user_id: uuid.UUID) -> list[Participant]: ...
    @abc.abstractmethod
    def _do_get_participants_for_room(self, room_id: uuid.UUID) -> list[uuid.UUID]: ...
    @abc.abstractmethod
    def _do_get_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID) -> UserState | None: ...
    @abc.abstractmethod
    def _do_set_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID, state: str | None) -> None: ...
    @abc.abstractmethod
    def _do_create_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> bool: ...
    @abc.abstractmethod
    def _do_get_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> Relationship | None: ...
    @abc.abstractmethod
    def _do_get_relationships(self, user_id: uuid.UUID) -> list[Relationship]: ...
    @abc.abstractmethod
    def _do_get_knowledge(
        self, agent_id: uuid.UUID, id: uuid.UUID | None, limit: int | None
    ) -> list[KnowledgeItem]: ...
    @abc.abstractmethod
    def _do_search_knowledge(
        self, agent_id: uuid.UUID, q: Embedding, threshold: float, k: int
    ) -> list[KnowledgeItem]: ...
    @abc.abstractmethod
    def _do_create_knowledge(self, knowledge: CheckedKnowledge) -> None: ...
    @abc.abstractmethod
    def _do_remove_knowledge(self, knowledge_id: uuid.UUID) -> bool: ...
    @abc.abstractmethod
    def _do_clear_knowledge(self, agent_id: uuid.UUID, shared: bool) -> int: ...
    @abc.abstractmethod
    def _do_get_cache(self, key: str, agent_id: uuid.UUID) -> str | None: ...
    @abc.abstractmethod
    def _do_set_cache(self, key: str, agent_id: uuid.UUID, value: str) -> bool: ...
    @abc.abstractmethod
    def _do_delete_cache(self, key: str, agent_id: uuid.UUID) -> bool: ...


class KeysetPaging(DatabaseAdapter):
    """``iter_memories`` for the adapters that offer it (PostgreSQL, SQLite, in-memory): not part of the contract,
    built on its ``get_memories``."""

    def iter_memories(
        self: DatabaseAdapter, room_id: IdLike, table_name: str, *, page_size: int = 1000
    ) -> Iterator[Memory]:
        """Every memory of a room and type, newest first, fetched page by page (keyset pagination).

        Example:
            >>> sum(1 for _ in db.iter_memories(room_id, "messages"))   # doctest: +SKIP
            1200
        """
        before: tuple[dt.datetime, IdLike] | None = None
        while True:
            page = self.get_memories(room_id, table_name, count=page_size, before=before)
            yield from page
            if len(page) < page_size:
                return
            last = page[-1]
            assert last.created_at is not None and last.id is not None
            before = (last.created_at, last.id)


@dataclass(frozen=True, slots=True)
class MemoryPage:
    """A checked ``get_memories`` call: ``before`` is the keyset cursor ``(created_at, id)``, ``limit`` None for all."""

    type: str
    room_id: uuid.UUID
    agent_id: uuid.UUID | None
    unique: bool
    start: dt.datetime | None
    end: dt.datetime | None
    before: tuple[dt.datetime, uuid.UUID] | None
    limit: int | None


@dataclass(frozen=True, slots=True)
class MemorySearch:
    """A checked memory search (the query vector travels beside it); ``threshold`` None keeps every row."""

    type: str
    room_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    threshold: float | None
    k: int
    unique: bool


@dataclass(frozen=True, slots=True)
class CacheQuery:
    """A checked ``get_cached_embeddings`` call: texts within ``threshold`` edits of ``input`` (its first 255
    characters) at ``content[field][sub_field]``, at most ``k``."""

    type: str
    threshold: int
    input: str
    field: str
    sub_field: str
    k: int

    def params(self) -> dict[str, Any]:
        """The query as named SQL parameters: type, threshold, input, field, sub, k."""
        return {
            "type": self.type,
            "threshold": self.threshold,
            "input": self.input,
            "field": self.field,
            "sub": self.sub_field,
            "k": self.k,
        }


__all__ = [
    "CacheQuery",
    "DatabaseAdapter",
    "GoalStatus",
    "IdLike",
    "KeysetPaging",
    "MemoryPage",
    "MemorySearch",
    "Vector",
]
