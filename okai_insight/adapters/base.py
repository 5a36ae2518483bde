"""The adapter contract: ElizaOS's ``IDatabaseAdapter`` method set plus its cache methods, in snake_case.

Every adapter (PostgreSQL, SQLite, in-memory, Supabase) implements :class:`DatabaseAdapter` and passes the same
suite in ``tests/contract/``; that suite is the definition of an adapter.

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
from collections.abc import Sequence
from typing import Any

from okai_insight.models import (
    Account,
    Actor,
    CachedEmbedding,
    Goal,
    GoalStatus,
    KnowledgeItem,
    Memory,
    Participant,
    Relationship,
    UserState,
)

Vector = Sequence[float] | Any  # a list of floats or a 1-D numpy array
IdLike = uuid.UUID | str


class DatabaseAdapter(abc.ABC):
    """What every okai-insight adapter provides. Use as a context manager to close it.

    Example:
        >>> with okai_insight.connect("memory://") as db:      # doctest: +SKIP
        ...     db.create_room()
    """

    #: The embedding dimension of this database's memories (set by :meth:`init`).
    embedding_dimension: int

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

    # -- accounts -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_account_by_id(self, user_id: IdLike) -> Account | None:
        """The account with this id, or None.

        Example:
            >>> db.get_account_by_id(agent_id).name            # doctest: +SKIP
            'Eliza'
        """

    @abc.abstractmethod
    def create_account(self, account: Account) -> bool:
        """Insert an account; False when its id, username or email is already taken.

        Example:
            >>> db.create_account(Account(id=uuid.uuid4(), name="Eliza", email="eliza@example.org"))  # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def get_actor_details(self, room_id: IdLike) -> list[Actor]:
        """The accounts taking part in a room, ordered by name.

        Example:
            >>> [a.name for a in db.get_actor_details(room_id)]  # doctest: +SKIP
            ['Eliza', 'Sam']
        """

    # -- memories -------------------------------------------------------------------------------------------
    @abc.abstractmethod
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

    @abc.abstractmethod
    def get_memory_by_id(self, memory_id: IdLike) -> Memory | None:
        """One memory, or None.

        Example:
            >>> db.get_memory_by_id(memory_id).content["text"]  # doctest: +SKIP
            'hello'
        """

    @abc.abstractmethod
    def get_memories_by_ids(self, memory_ids: Sequence[IdLike], table_name: str | None = None) -> list[Memory]:
        """Memories with these ids (optionally of one type); an empty list gives [].

        Example:
            >>> db.get_memories_by_ids([])                     # doctest: +SKIP
            []
        """

    @abc.abstractmethod
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

    @abc.abstractmethod
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

    @abc.abstractmethod
    def log(self, *, body: dict[str, Any], user_id: IdLike, room_id: IdLike, type: str) -> None:
        """Append an audit log entry (table ``logs``).

        Example:
            >>> db.log(body={"action": "reply"}, user_id=agent_id, room_id=room_id, type="action")  # doctest: +SKIP
        """

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

    @abc.abstractmethod
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

    @abc.abstractmethod
    def create_memory(self, memory: Memory, table_name: str, unique: bool = False) -> uuid.UUID:
        """Store a memory under ``table_name`` and return its id (generated when the memory has none).

        With ``unique=True`` and an embedding, the memory is marked not unique when one with cosine similarity
        >= ``Settings.duplicate_threshold`` (0.95) already exists in its room, as ElizaOS does.

        Example:
            >>> db.create_memory(Memory(room_id=room_id, user_id=user_id, agent_id=agent_id,
            ...                         content={"text": "hi"}, embedding=vec), "messages", unique=True)  # doctest: +SKIP
        """

    @abc.abstractmethod
    def create_memories(self, memories: Sequence[Memory], table_name: str) -> list[uuid.UUID]:
        """Store many memories at once (PostgreSQL: binary COPY) and return their ids.

        Each memory keeps its own ``unique`` flag: no near-duplicate check runs (use :meth:`create_memory`).
        Every row is validated before the first is written, so a bad one leaves the table unchanged.

        Example:
            >>> ids = db.create_memories([Memory(room_id=room_id, content={"text": t}, embedding=e)
            ...                           for t, e in zip(texts, vectors)], "messages")  # doctest: +SKIP
        """

    @abc.abstractmethod
    def remove_memory(self, memory_id: IdLike, table_name: str) -> bool:
        """Delete one memory of this type; False when there was none.

        Example:
            >>> db.remove_memory(memory_id, "messages")         # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def remove_all_memories(self, room_id: IdLike, table_name: str) -> int:
        """Delete a room's memories of one type; returns how many.

        Example:
            >>> db.remove_all_memories(room_id, "messages")     # doctest: +SKIP
            12
        """

    @abc.abstractmethod
    def count_memories(self, room_id: IdLike, unique: bool = True, table_name: str = "") -> int:
        """How many memories of one type a room holds (only unique ones when ``unique``); table_name is required.

        Example:
            >>> db.count_memories(room_id, unique=False, table_name="messages")  # doctest: +SKIP
            12
        """

    # -- goals ----------------------------------------------------------------------------------------------
    @abc.abstractmethod
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

    @abc.abstractmethod
    def update_goal(self, goal: Goal) -> None:
        """Replace a goal's name, description, status and objectives; NotFound if it does not exist.

        Example:
            >>> db.update_goal(dataclasses.replace(goal, status=GoalStatus.DONE))  # doctest: +SKIP
        """

    @abc.abstractmethod
    def update_goal_status(self, goal_id: IdLike, status: GoalStatus | str) -> None:
        """Set a goal's status; NotFound if it does not exist.

        Example:
            >>> db.update_goal_status(goal_id, "DONE")           # doctest: +SKIP
        """

    @abc.abstractmethod
    def create_goal(self, goal: Goal) -> uuid.UUID:
        """Store a goal and return its id.

        Example:
            >>> db.create_goal(Goal(room_id=room_id, user_id=user_id, name="Greet"))  # doctest: +SKIP
        """

    @abc.abstractmethod
    def remove_goal(self, goal_id: IdLike) -> bool:
        """Delete a goal; False when there was none.

        Example:
            >>> db.remove_goal(goal_id)                          # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def remove_all_goals(self, room_id: IdLike) -> int:
        """Delete a room's goals; returns how many.

        Example:
            >>> db.remove_all_goals(room_id)                     # doctest: +SKIP
            2
        """

    # -- rooms and participants -----------------------------------------------------------------------------
    @abc.abstractmethod
    def get_room(self, room_id: IdLike) -> uuid.UUID | None:
        """The room's id if it exists, else None.

        Example:
            >>> db.get_room(room_id) == room_id                 # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def create_room(self, room_id: IdLike | None = None) -> uuid.UUID:
        """Create a room (with a new id unless one is given) and return its id.

        Example:
            >>> room_id = db.create_room()                       # doctest: +SKIP
        """

    @abc.abstractmethod
    def remove_room(self, room_id: IdLike) -> None:
        """Delete a room with its memories, participants, goals and logs; NotFound if it does not exist.

        Example:
            >>> db.remove_room(room_id)                          # doctest: +SKIP
        """

    @abc.abstractmethod
    def get_rooms_for_participant(self, user_id: IdLike) -> list[uuid.UUID]:
        """The rooms an account takes part in.

        Example:
            >>> db.get_rooms_for_participant(user_id)            # doctest: +SKIP
        """

    @abc.abstractmethod
    def get_rooms_for_participants(self, user_ids: Sequence[IdLike]) -> list[uuid.UUID]:
        """The rooms any of these accounts take part in (each once); an empty list gives [].

        Example:
            >>> db.get_rooms_for_participants([user_id, agent_id])  # doctest: +SKIP
        """

    @abc.abstractmethod
    def add_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        """Add an account to a room; False when it already takes part.

        Example:
            >>> db.add_participant(user_id, room_id)             # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def remove_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        """Remove an account from a room; False when it was not in it.

        Example:
            >>> db.remove_participant(user_id, room_id)          # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def get_participants_for_account(self, user_id: IdLike) -> list[Participant]:
        """An account's room memberships.

        Example:
            >>> [p.room_id for p in db.get_participants_for_account(user_id)]  # doctest: +SKIP
        """

    @abc.abstractmethod
    def get_participants_for_room(self, room_id: IdLike) -> list[uuid.UUID]:
        """The account ids taking part in a room.

        Example:
            >>> db.get_participants_for_room(room_id)            # doctest: +SKIP
        """

    @abc.abstractmethod
    def get_participant_user_state(self, room_id: IdLike, user_id: IdLike) -> UserState | None:
        """FOLLOWED, MUTED or None.

        Example:
            >>> db.get_participant_user_state(room_id, user_id)  # doctest: +SKIP
            <UserState.FOLLOWED: 'FOLLOWED'>
        """

    @abc.abstractmethod
    def set_participant_user_state(self, room_id: IdLike, user_id: IdLike, state: UserState | str | None) -> None:
        """Set (or clear, with None) a participant's state; NotFound when the account is not in the room.

        Example:
            >>> db.set_participant_user_state(room_id, user_id, "MUTED")  # doctest: +SKIP
        """

    # -- relationships --------------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_relationship(self, user_a: IdLike, user_b: IdLike) -> bool:
        """Connect two accounts; True on success.

        Example:
            >>> db.create_relationship(user_id, agent_id)        # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def get_relationship(self, user_a: IdLike, user_b: IdLike) -> Relationship | None:
        """The relationship between two accounts in either direction, or None.

        Example:
            >>> db.get_relationship(agent_id, user_id).user_a == user_id  # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def get_relationships(self, user_id: IdLike) -> list[Relationship]:
        """Every relationship an account is part of.

        Example:
            >>> len(db.get_relationships(user_id))               # doctest: +SKIP
            1
        """

    # -- knowledge ------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_knowledge(
        self, *, agent_id: IdLike, id: IdLike | None = None, limit: int | None = None
    ) -> list[KnowledgeItem]:
        """An agent's knowledge (its own and shared items), or one item by id, newest first.

        Example:
            >>> db.get_knowledge(agent_id=agent_id, limit=10)    # doctest: +SKIP
        """

    @abc.abstractmethod
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

    @abc.abstractmethod
    def create_knowledge(self, knowledge: KnowledgeItem) -> None:
        """Store a knowledge item (shared items have no agent).

        Example:
            >>> db.create_knowledge(KnowledgeItem(id=uuid.uuid4(), agent_id=agent_id,
            ...                                   content={"text": "fact"}, embedding=vec))  # doctest: +SKIP
        """

    @abc.abstractmethod
    def remove_knowledge(self, knowledge_id: IdLike) -> bool:
        """Delete a knowledge item and its chunks; False when there was none.

        Example:
            >>> db.remove_knowledge(item_id)                     # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def clear_knowledge(self, agent_id: IdLike, shared: bool = False) -> int:
        """Delete an agent's knowledge (and the shared items too when ``shared``); returns how many.

        Example:
            >>> db.clear_knowledge(agent_id)                     # doctest: +SKIP
            3
        """

    # -- cache ----------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def get_cache(self, *, key: str, agent_id: IdLike) -> str | None:
        """A cached value, or None.

        Example:
            >>> db.get_cache(key="profile", agent_id=agent_id)   # doctest: +SKIP
            '{"name": "Sam"}'
        """

    @abc.abstractmethod
    def set_cache(self, *, key: str, agent_id: IdLike, value: str) -> bool:
        """Store or overwrite a cached value; True on success.

        Example:
            >>> db.set_cache(key="profile", agent_id=agent_id, value='{"name": "Sam"}')  # doctest: +SKIP
            True
        """

    @abc.abstractmethod
    def delete_cache(self, *, key: str, agent_id: IdLike) -> bool:
        """Delete a cached value; False when there was none.

        Example:
            >>> db.delete_cache(key="profile", agent_id=agent_id)  # doctest: +SKIP
            True
        """


__all__ = ["DatabaseAdapter", "GoalStatus", "IdLike", "Vector"]
