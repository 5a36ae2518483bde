"""The SQLite adapter with sqlite-vec 0.1.9 (``sqlite:///relative.db``, ``sqlite:////absolute/path.db``).

* The spec's schema in SQLite's dialect (see ``_sqlite_schema``): JSON checked with ``json_valid``,
  ``UNIQUE(userId, roomId)`` on participants, recorded migrations, the embedding dimension stored in the file.
* Real vector search: ``vec0`` virtual tables with cosine distance, kept in step with ``memories`` and
  ``knowledge`` by triggers inside the writing transaction; KNN with the room/agent/type/unique filters pushed
  into the index, so results are the true nearest rows (see ``_sqlite_search``).
* WAL mode, foreign keys on, one connection per thread and one writer at a time (``_sqlite_pool``): safe for
  several threads of one process, and for several processes through SQLite's own locking.
* Extension loading through ``sqlean.py`` or ``apsw`` (``_sqlite_driver``); add ``?driver=apsw`` to the URL
  to choose one. Without either: a :class:`~okai_insight.errors.ConfigurationError` naming
  ``pip install "okai-insight[sqlite]"``.

Semantics are the PostgreSQL adapter's, method for method: the same validation, typed errors and return values.

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect("sqlite:///agent.db", dimension=384)   # doctest: +SKIP
    >>> room = db.create_room()                                          # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from okai_insight import _json as okai_json
from okai_insight.adapters import _rows as rows_
from okai_insight.adapters._checked import CheckedGoal, CheckedKnowledge, CheckedMemory, MemoryBatch
from okai_insight.adapters._sqlite_driver import Connection, pick_driver
from okai_insight.adapters._sqlite_functions import (
    blob,
    from_blob,
    id_text,
    levenshtein_within,
    now_text,
    to_datetime,
    to_uuid,
    ts_text,
)
from okai_insight.adapters._sqlite_pool import ConnectionPool
from okai_insight.adapters._sqlite_schema import check_dimension, migrate
from okai_insight.adapters._sqlite_search import (
    KNOWLEDGE_COLUMNS,
    MEMORY_COLUMNS,
    MemoryQuery,
    ids_param,
    knn_knowledge,
    knn_memories,
)
from okai_insight.adapters.base import CacheQuery, KeysetPaging, MemoryPage, MemorySearch
from okai_insight.errors import ConfigurationError, DuplicateId, NotFound
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

T = TypeVar("T")

#: How long a writer waits for the write lock when ``Settings.adapter_lock_timeout_ms`` is 0 (off): SQLite has
#: no endless busy wait, so about 24 days.
BUSY_TIMEOUT_MS_OFF = 2**31 - 1


def parse_sqlite_url(url: str) -> tuple[str, str | None]:
    """The file path and optional driver of a ``sqlite://`` URL (SQLAlchemy's form: three slashes and a relative
    path, four for an absolute one; ``~`` is expanded).

    Example:
        >>> parse_sqlite_url("sqlite:///agent.db")
        ('agent.db', None)
        >>> parse_sqlite_url("sqlite:////var/lib/agent.db?driver=apsw")
        ('/var/lib/agent.db', 'apsw')
    """
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "sqlite" or not url.startswith("sqlite:///"):
        raise ConfigurationError(
            f"a SQLite URL looks like sqlite:///relative/path.db or sqlite:////abs/path.db, got {url!r}"
        )
    path = urllib.parse.unquote(url[len("sqlite:///") :].split("?", 1)[0])
    if not path or path == ":memory:":
        raise ConfigurationError("a SQLite URL needs a file path; for a database in memory use memory://")
    query = urllib.parse.parse_qs(parsed.query)
    unknown = set(query) - {"driver"}
    if unknown:
        raise ConfigurationError(f"unknown SQLite URL parameter(s): {', '.join(sorted(unknown))} (only driver=)")
    driver = query.get("driver", [None])[-1]
    return os.path.expanduser(path), driver


class SqliteAdapter(KeysetPaging):
    """okai-insight's data layer on one SQLite file; see the module docstring for its design.

    Example:
        >>> with SqliteAdapter("sqlite:///agent.db", dimension=384) as db:   # doctest: +SKIP
        ...     db.init()
        ...     room = db.create_room()
    """

    def __init__(self, url: str, *, settings: Settings | None = None, dimension: int | None = None) -> None:
        self.url = url
        self.settings = settings or Settings.from_env()
        #: An explicit dimension must match the file's recorded one (migrate refuses otherwise); None adopts it.
        self._explicit_dimension = None if dimension is None else check_dimension(dimension)
        self._requested_dimension = self._explicit_dimension or self.settings.embedding_dimension
        self.embedding_dimension = self._requested_dimension
        self._pool: ConnectionPool | None = None
        self.profile = None  # the PostgreSQL schema profile has no SQLite counterpart
        self.driver_name: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------
    def _target(self) -> tuple[str, str, str | None]:
        """(what the driver opens, the write-lock key, the driver name)."""
        path, driver = parse_sqlite_url(self.url)
        return path, os.path.realpath(path), driver

    def _journal_mode(self) -> str:
        return "WAL"

    def init(self) -> None:
        if self._pool is not None:
            return
        target, key, driver_name = self._target()
        driver = pick_driver(driver_name)
        pool = ConnectionPool(
            target,
            driver=driver,
            lock_key=key,
            # A writer waits for another's lock as long as a PostgreSQL statement waits for a row lock: LockTimeout.
            busy_timeout_ms=self.settings.adapter_lock_timeout_ms or BUSY_TIMEOUT_MS_OFF,
            setup=self._setup_connection,
        )
        conn = pool.connection()
        mode = self._journal_mode()
        got = conn.query(f"PRAGMA journal_mode = {mode}")[0][0]
        if str(got).upper() != mode:
            pool.close()
            raise ConfigurationError(f"SQLite would not switch {target!r} to {mode} journal mode (got {got!r})")
        if mode == "WAL":
            conn.query("PRAGMA synchronous = NORMAL")  # durable across application crashes; WAL's usual setting
        try:
            with pool._lock:
                self.embedding_dimension = migrate(
                    conn, dimension=self._explicit_dimension, default_dimension=self._requested_dimension
                )
        except BaseException:
            pool.close()
            raise
        self._pool = pool
        self.driver_name = driver.name

    @staticmethod
    def _setup_connection(conn: Connection) -> None:
        conn.create_function("okai_levenshtein", 3, levenshtein_within)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @property
    def pool(self) -> ConnectionPool:
        """The per-thread connection set (raises ConnectionFailed before init or after close).

        Example:
            >>> db.pool.driver.name                            # doctest: +SKIP
            'sqlean'
        """
        if self._pool is None:
            from okai_insight.errors import ConnectionFailed

            raise ConnectionFailed("the adapter is not initialised or is closed: call init() or okai_insight.connect()")
        return self._pool

    def _read(self, fn: Callable[[Connection], T]) -> T:
        return self.pool.transaction(fn)

    def _write(self, fn: Callable[[Connection], T]) -> T:
        return self.pool.transaction(fn, write=True)

    # -- accounts -------------------------------------------------------------------------------------------
    def _do_get_account_by_id(self, user_id: uuid.UUID) -> Account | None:
        rows = self._read(
            lambda c: c.query_named(
                'SELECT "id", "name", "username", "email", "avatarUrl", "details", "createdAt" '
                'FROM accounts WHERE "id" = ?',
                (str(user_id),),
            )
        )
        return rows_.account(rows[0], to_datetime, _json) if rows else None

    def _do_create_account(self, account: Account) -> bool:
        values = (
            str(account.id),
            account.name,
            account.username,
            account.email,
            account.avatar_url,
            okai_json.dumps(account.details),
            now_text(),
        )
        # ON CONFLICT DO NOTHING covers the id, username and email: any of them taken means False, as in PostgreSQL.
        return self._write(
            lambda c: (
                c.run(
                    'INSERT INTO accounts ("id", "name", "username", "email", "avatarUrl", "details", "createdAt") '
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    values,
                )
                > 0
            )
        )

    def _do_get_actor_details(self, room_id: uuid.UUID) -> list[Actor]:
        rows = self._read(
            lambda c: c.query_named(
                'SELECT a."id", a."name", a."username", a."details" FROM participants AS p '
                'JOIN accounts AS a ON a."id" = p."userId" WHERE p."roomId" = ? '
                'ORDER BY a."name" IS NULL, a."name", a."id"',
                (str(room_id),),
            )
        )
        return [_actor(**r) for r in rows]

    # -- memories -------------------------------------------------------------------------------------------
    def _memories(self, query: str, params: Any) -> list[Memory]:
        return [_memory(**r) for r in self._read(lambda c: c.query_named(query, params))]

    def _do_get_memories(self, page: MemoryPage) -> list[Memory]:
        params: dict[str, Any] = {
            "type": page.type,
            "room": str(page.room_id),
            "agent": id_text(page.agent_id),
            "start": _ts(page.start),
            "end": _ts(page.end),
            "limit": -1 if page.limit is None else page.limit,
        }
        where = [
            MemoryQuery(type=page.type, k=1, room=params["room"], agent=params["agent"], unique=page.unique).where("m")
        ]
        if page.start is not None:
            where.append('m."createdAt" >= :start')
        if page.end is not None:
            where.append('m."createdAt" <= :end')
        if page.before is not None:
            params["before_ts"], params["before_id"] = ts_text(page.before[0]), str(page.before[1])
            where.append('(m."createdAt", m."id") < (:before_ts, :before_id)')
        query = (
            f"SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE {' AND '.join(where)} "
            'ORDER BY m."createdAt" DESC, m."id" DESC LIMIT :limit'
        )
        return self._memories(query, params)

    def _do_get_memory_by_id(self, memory_id: uuid.UUID) -> Memory | None:
        found = self._memories(f'SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE m."id" = ?', (str(memory_id),))
        return found[0] if found else None

    def _do_get_memories_by_ids(self, ids: list[uuid.UUID], memory_type: str | None) -> list[Memory]:
        query = (
            f'SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE m."id" IN (SELECT value FROM json_each(:ids)) '
            'AND (:type IS NULL OR m."type" = :type) ORDER BY m."createdAt" DESC, m."id"'
        )
        return self._memories(query, {"ids": ids_param(ids), "type": memory_type})

    def _do_get_memories_by_room_ids(
        self, room_ids: list[uuid.UUID], memory_type: str, agent_id: uuid.UUID | None, limit: int | None
    ) -> list[Memory]:
        params = {
            "type": memory_type,
            "rooms": ids_param(room_ids),
            "agent": id_text(agent_id),
            "limit": -1 if limit is None else limit,
        }
        query = (
            f'SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE m."type" = :type '
            'AND m."roomId" IN (SELECT value FROM json_each(:rooms)) AND (:agent IS NULL OR m."agentId" = :agent) '
            'ORDER BY m."createdAt" DESC, m."id" DESC LIMIT :limit'
        )
        return self._memories(query, params)

    def _do_get_cached_embeddings(self, query: CacheQuery) -> list[CachedEmbedding]:
        params = query.params()
        # ElizaOS stores the text at content.<sub_name> when field_name is "content"; both layouts are read.
        statement = """
            SELECT embedding, score FROM (
                SELECT embedding, okai_levenshtein(:input, content_text, :threshold) AS score
                FROM (
                    SELECT m."embedding" AS embedding,
                           substr(CAST(COALESCE(m."content" -> :field ->> :sub, m."content" ->> :sub) AS TEXT), 1, 255)
                               AS content_text
                    FROM memories AS m
                    WHERE m."type" = :type AND m."embedding" IS NOT NULL
                )
                WHERE content_text IS NOT NULL
            )
            WHERE score IS NOT NULL
            ORDER BY score
            LIMIT :k
        """
        rows = self._read(lambda c: c.query_named(statement, params))
        return [CachedEmbedding(from_blob(r["embedding"]), int(r["score"])) for r in rows]  # type: ignore[arg-type]

    def _do_log(self, body: dict[str, Any], user_id: uuid.UUID, room_id: uuid.UUID, type: str) -> None:
        values = (str(uuid.uuid4()), okai_json.dumps(body), str(user_id), str(room_id), type, now_text())
        self._write(
            lambda c: c.run(
                'INSERT INTO logs ("id", "body", "userId", "roomId", "type", "createdAt") VALUES (?, ?, ?, ?, ?, ?)',
                values,
            )
        )

    def _do_search_memories(self, q: Embedding, search: MemorySearch) -> list[Memory]:
        mq = MemoryQuery(
            type=search.type,
            room=id_text(search.room_id),
            agent=id_text(search.agent_id),
            unique=search.unique,
            k=search.k,
        )
        threshold = -1.0 if search.threshold is None else search.threshold
        cap = self.settings.exact_search_max_rows
        hits = self._read(lambda c: knn_memories(c, q, mq, threshold=threshold, exact_cap=cap))
        return [_memory(**row, similarity=sim) for row, sim in hits]

    _INSERT_MEMORY = (
        'INSERT INTO memories ("id", "type", "createdAt", "content", "embedding", "userId", "agentId", "roomId", '
        '"isUnique") VALUES (:id, :type, :created_at, :content, :embedding, :user_id, :agent_id, :room_id, :unique)'
    )

    def _do_create_memory(self, memory: CheckedMemory, unique: bool) -> uuid.UUID:
        row = _memory_params(memory, now_text())
        emb = memory.embedding
        if unique and emb is not None and np.any(emb):
            similar = self._do_search_memories(
                emb,
                MemorySearch(
                    type=memory.type,
                    room_id=memory.room_id,
                    agent_id=None,
                    threshold=self.settings.duplicate_threshold,
                    k=1,
                    unique=False,
                ),
            )
            row["unique"] = int(not similar)

        def write(c: Connection) -> None:
            if c.query('SELECT 1 FROM memories WHERE "id" = ?', (row["id"],)):
                raise DuplicateId(f"a memory with id {row['id']} already exists")
            c.run(self._INSERT_MEMORY, row)

        self._write(write)
        return memory.id

    def _do_create_memories(self, batch: MemoryBatch) -> list[uuid.UUID]:
        now = now_text()
        rows = [_memory_params(m, now) for m in batch]
        ids = [r["id"] for r in rows]

        def write(c: Connection) -> None:
            taken = c.query(
                'SELECT "id" FROM memories WHERE "id" IN (SELECT value FROM json_each(?)) LIMIT 1', (json.dumps(ids),)
            )
            if taken:
                raise DuplicateId(f"a memory in the batch already exists: {taken[0][0]}")
            c.run_many(self._INSERT_MEMORY, rows)

        self._write(write)
        return batch.ids

    def _do_remove_memory(self, memory_id: uuid.UUID, memory_type: str) -> bool:
        params = (str(memory_id), memory_type)
        return self._write(lambda c: c.run('DELETE FROM memories WHERE "id" = ? AND "type" = ?', params) > 0)

    def _do_remove_all_memories(self, room_id: uuid.UUID, memory_type: str) -> int:
        params = (str(room_id), memory_type)
        return self._write(lambda c: c.run('DELETE FROM memories WHERE "roomId" = ? AND "type" = ?', params))

    def _do_count_memories(self, room_id: uuid.UUID, memory_type: str, unique: bool) -> int:
        rid = str(room_id)
        mq = MemoryQuery(type=memory_type, k=1, room=rid, unique=unique)
        rows = self._read(
            lambda c: c.query_named(
                f"SELECT count(*) AS n FROM memories AS m WHERE {mq.where('m')}", {"type": mq.type, "room": rid}
            )
        )
        return int(rows[0]["n"])

    # -- goals ----------------------------------------------------------------------------------------------
    _GOAL_COLUMNS = '"id", "roomId", "userId", "name", "status", "objectives", "description", "createdAt"'

    def _do_get_goals(
        self, room_id: uuid.UUID, user_id: uuid.UUID | None, only_in_progress: bool, limit: int
    ) -> list[Goal]:
        params = {"room": str(room_id), "user": id_text(user_id), "limit": limit, "in_progress": int(only_in_progress)}
        rows = self._read(
            lambda c: c.query_named(
                f'SELECT {self._GOAL_COLUMNS} FROM goals WHERE "roomId" = :room '
                'AND (:user IS NULL OR "userId" = :user) '
                "AND (NOT :in_progress OR \"status\" = 'IN_PROGRESS') "
                'ORDER BY "createdAt", "id" LIMIT :limit',
                params,
            )
        )
        return [_goal(**r) for r in rows]

    def _do_update_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> None:
        gid = str(goal_id)
        values = (goal.name, goal.status.value, goal.description, json.dumps(goal.objectives), gid)
        updated = self._write(
            lambda c: c.run(
                'UPDATE goals SET "name" = ?, "status" = ?, "description" = ?, "objectives" = ? WHERE "id" = ?',
                values,
            )
        )
        if not updated:
            raise NotFound(f"goal {gid} does not exist")

    def _do_update_goal_status(self, goal_id: uuid.UUID, status: GoalStatus) -> None:
        gid = str(goal_id)
        if not self._write(lambda c: c.run('UPDATE goals SET "status" = ? WHERE "id" = ?', (status.value, gid))):
            raise NotFound(f"goal {gid} does not exist")

    def _do_create_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> uuid.UUID:
        values = (
            str(goal_id),
            goal.name,
            goal.status.value,
            goal.description,
            json.dumps(goal.objectives),
            str(goal.room_id),
            id_text(goal.user_id),
            now_text(),
        )

        def insert(c: Connection) -> None:
            n = c.run(
                'INSERT INTO goals ("id", "name", "status", "description", "objectives", "roomId", "userId", '
                '"createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO NOTHING',
                values,
            )
            if n == 0:
                raise DuplicateId(f"a goal with id {goal_id} already exists")

        self._write(insert)
        return goal_id

    def _do_remove_goal(self, goal_id: uuid.UUID) -> bool:
        return self._write(lambda c: c.run('DELETE FROM goals WHERE "id" = ?', (str(goal_id),)) > 0)

    def _do_remove_all_goals(self, room_id: uuid.UUID) -> int:
        return self._write(lambda c: c.run('DELETE FROM goals WHERE "roomId" = ?', (str(room_id),)))

    # -- rooms and participants -----------------------------------------------------------------------------
    def _do_get_room(self, room_id: uuid.UUID) -> uuid.UUID | None:
        rows = self._read(lambda c: c.query('SELECT 1 FROM rooms WHERE "id" = ?', (str(room_id),)))
        return room_id if rows else None

    def _do_create_room(self, room_id: uuid.UUID) -> uuid.UUID:
        def insert(c: Connection) -> None:
            n = c.run(
                'INSERT INTO rooms ("id", "createdAt") VALUES (?, ?) ON CONFLICT ("id") DO NOTHING',
                (str(room_id), now_text()),
            )
            if n == 0:
                raise DuplicateId(f"room {room_id} already exists")

        self._write(insert)
        return room_id

    def _do_remove_room(self, room_id: uuid.UUID) -> None:
        rid = str(room_id)

        def delete(c: Connection) -> bool:
            for table in ("memories", "participants", "goals", "logs"):
                c.run(f'DELETE FROM {table} WHERE "roomId" = ?', (rid,))  # fixed names, not input
            return c.run('DELETE FROM rooms WHERE "id" = ?', (rid,)) > 0

        if not self._write(delete):
            raise NotFound(f"room {rid} does not exist")

    def _ids(self, query: str, params: Any) -> list[uuid.UUID]:
        """The single id column of ``query``'s rows."""
        return [_uuid(value) for (value,) in self._read(lambda c: c.query(query, params))]

    def _do_get_rooms_for_participant(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        return self._ids('SELECT "roomId" FROM participants WHERE "userId" = ? ORDER BY "roomId"', (str(user_id),))

    def _do_get_rooms_for_participants(self, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        return self._ids(
            'SELECT DISTINCT "roomId" FROM participants WHERE "userId" IN (SELECT value FROM json_each(?)) '
            'ORDER BY "roomId"',
            (ids_param(user_ids),),
        )

    def _do_add_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        values = (str(uuid.uuid4()), str(user_id), str(room_id), now_text())
        return self._write(
            lambda c: (
                c.run(
                    'INSERT INTO participants ("id", "userId", "roomId", "joinedAt") VALUES (?, ?, ?, ?) '
                    "ON CONFLICT DO NOTHING",
                    values,
                )
                > 0
            )
        )

    def _do_remove_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        params = (str(user_id), str(room_id))
        return self._write(lambda c: c.run('DELETE FROM participants WHERE "userId" = ? AND "roomId" = ?', params) > 0)

    def _do_get_participants_for_account(self, user_id: uuid.UUID) -> list[Participant]:
        rows = self._read(
            lambda c: c.query_named(
                'SELECT "id", "userId", "roomId", "userState", "last_message_read", "joinedAt" FROM participants '
                'WHERE "userId" = ? ORDER BY "roomId"',
                (str(user_id),),
            )
        )
        return [rows_.participant(r, to_datetime) for r in rows]

    def _do_get_participants_for_room(self, room_id: uuid.UUID) -> list[uuid.UUID]:
        return self._ids('SELECT "userId" FROM participants WHERE "roomId" = ? ORDER BY "userId"', (str(room_id),))

    def _do_get_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID) -> UserState | None:
        rows = self._read(
            lambda c: c.query_named(
                'SELECT "userState" FROM participants WHERE "roomId" = ? AND "userId" = ?', (str(room_id), str(user_id))
            )
        )
        return UserState(rows[0]["userState"]) if rows and rows[0]["userState"] else None

    def _do_set_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID, state: str | None) -> None:
        n = self._write(
            lambda c: c.run(
                'UPDATE participants SET "userState" = ? WHERE "roomId" = ? AND "userId" = ?',
                (state, str(room_id), str(user_id)),
            )
        )
        if not n:
            raise NotFound(f"account {user_id} does not take part in room {room_id}")

    # -- relationships --------------------------------------------------------------------------------------
    def _do_create_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> bool:
        a, b = str(user_a), str(user_b)
        self._write(
            lambda c: c.run(
                'INSERT INTO relationships ("id", "userA", "userB", "userId", "createdAt") VALUES (?, ?, ?, ?, ?)',
                (str(uuid.uuid4()), a, b, a, now_text()),
            )
        )
        return True

    _REL_COLUMNS = '"id", "userA", "userB", "userId", "status", "createdAt"'

    def _do_get_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> Relationship | None:
        rows = self._read(
            lambda c: c.query_named(
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE ("userA" = :a AND "userB" = :b) OR ("userA" = :b AND "userB" = :a) '
                'ORDER BY "createdAt", "id" LIMIT 1',
                {"a": str(user_a), "b": str(user_b)},
            )
        )
        return rows_.relationship(rows[0], to_datetime) if rows else None

    def _do_get_relationships(self, user_id: uuid.UUID) -> list[Relationship]:
        rows = self._read(
            lambda c: c.query_named(
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE "userA" = :u OR "userB" = :u ORDER BY "createdAt", "id"',
                {"u": str(user_id)},
            )
        )
        return [rows_.relationship(r, to_datetime) for r in rows]

    # -- knowledge ------------------------------------------------------------------------------------------
    def _do_get_knowledge(self, agent_id: uuid.UUID, id: uuid.UUID | None, limit: int | None) -> list[KnowledgeItem]:
        params = {"agent": str(agent_id), "id": id_text(id), "limit": -1 if limit is None else limit}
        rows = self._read(
            lambda c: c.query_named(
                f"SELECT {KNOWLEDGE_COLUMNS} FROM knowledge AS k "
                'WHERE (k."agentId" = :agent OR k."isShared") AND (:id IS NULL OR k."id" = :id) '
                'ORDER BY k."createdAt" DESC, k."id" LIMIT :limit',
                params,
            )
        )
        return [_knowledge(**r) for r in rows]

    def _do_search_knowledge(self, agent_id: uuid.UUID, q: Embedding, threshold: float, k: int) -> list[KnowledgeItem]:
        hits = self._read(lambda c: knn_knowledge(c, q, agent=str(agent_id), k=k, threshold=threshold))
        return [_knowledge(**row, similarity=sim) for row, sim in hits]

    def _do_create_knowledge(self, knowledge: CheckedKnowledge) -> None:
        values = (
            str(knowledge.id),
            id_text(knowledge.agent_id),
            okai_json.dumps(knowledge.content),
            blob(knowledge.embedding),
            int(knowledge.is_main),
            id_text(knowledge.original_id),
            knowledge.chunk_index,
            int(knowledge.is_shared),
            now_text(),  # like PostgreSQL's column default: the item's own created_at is not taken
        )

        def insert(c: Connection) -> None:
            n = c.run(
                'INSERT INTO knowledge ("id", "agentId", "content", "embedding", "isMain", "originalId", '
                '"chunkIndex", "isShared", "createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO NOTHING',
                values,
            )
            if n == 0:
                raise DuplicateId(f"knowledge item {values[0]} already exists")

        self._write(insert)

    def _do_remove_knowledge(self, knowledge_id: uuid.UUID) -> bool:
        kid = str(knowledge_id)
        return self._write(lambda c: c.run('DELETE FROM knowledge WHERE "id" = ? OR "originalId" = ?', (kid, kid)) > 0)

    def _do_clear_knowledge(self, agent_id: uuid.UUID, shared: bool) -> int:
        params = (str(agent_id), int(shared))
        return self._write(lambda c: c.run('DELETE FROM knowledge WHERE "agentId" = ? OR (? AND "isShared")', params))

    # -- cache ----------------------------------------------------------------------------------------------
    def _do_get_cache(self, key: str, agent_id: uuid.UUID) -> str | None:
        params = (key, str(agent_id))
        rows = self._read(
            lambda c: c.query_named('SELECT "value" FROM cache WHERE "key" = ? AND "agentId" = ?', params)
        )
        if not rows or rows[0]["value"] is None:
            return None
        value = okai_json.loads(rows[0]["value"])
        # okai-insight stores the string as a JSON string; a row holding another JSON document is returned as JSON.
        return value if isinstance(value, str) else okai_json.dumps(value)

    def _do_set_cache(self, key: str, agent_id: uuid.UUID, value: str) -> bool:
        params = (key, str(agent_id), json.dumps(value), now_text())
        self._write(
            lambda c: c.run(
                'INSERT INTO cache ("key", "agentId", "value", "createdAt") VALUES (?, ?, ?, ?) '
                'ON CONFLICT ("key", "agentId") DO UPDATE SET "value" = excluded."value", '
                '"createdAt" = excluded."createdAt"',
                params,
            )
        )
        return True

    def _do_delete_cache(self, key: str, agent_id: uuid.UUID) -> bool:
        params = (key, str(agent_id))
        return self._write(lambda c: c.run('DELETE FROM cache WHERE "key" = ? AND "agentId" = ?', params) > 0)


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def _json(value: Any) -> Any:
    return None if value is None else okai_json.loads(value)


def _ts(value: dt.datetime | None) -> str | None:
    """A checked timestamp as stored (see ts_text)."""
    return None if value is None else ts_text(value)


def _memory_params(m: CheckedMemory, now: str) -> dict[str, Any]:
    """A checked memory as ``_INSERT_MEMORY``'s parameters; ``now`` when it has no created_at."""
    return {
        "id": str(m.id),
        "type": m.type,
        "created_at": now if m.created_at is None else ts_text(m.created_at),
        "content": m.content,
        "embedding": blob(m.embedding),
        "user_id": id_text(m.user_id),
        "agent_id": id_text(m.agent_id),
        "room_id": id_text(m.room_id),
        "unique": int(m.unique),
    }


# Row builders keyed by the columns' names (Connection.query_named), stored text decoded to okai's types.
def _memory(
    *,
    id: str,
    type: str,
    createdAt: str,
    content: str,
    embedding: bytes | None,
    userId: str | None,
    agentId: str | None,
    roomId: str | None,
    isUnique: int,
    distance: float | None = None,  # the search's own ranking column; similarity is re-scored in _sqlite_search
    similarity: float | None = None,
) -> Memory:
    return Memory(
        id=_uuid(id),
        type=type,
        created_at=to_datetime(createdAt),
        content=okai_json.loads(content),
        embedding=from_blob(embedding),
        user_id=to_uuid(userId),
        agent_id=to_uuid(agentId),
        room_id=to_uuid(roomId),
        unique=bool(isUnique),
        similarity=similarity,
    )


def _knowledge(
    *,
    id: str,
    agentId: str | None,
    content: str,
    embedding: bytes | None,
    createdAt: str | None,
    isMain: int,
    originalId: str | None,
    chunkIndex: int | None,
    isShared: int,
    similarity: float | None = None,
) -> KnowledgeItem:
    return KnowledgeItem(
        id=_uuid(id),
        agent_id=to_uuid(agentId),
        content=okai_json.loads(content),
        embedding=from_blob(embedding),
        created_at=to_datetime(createdAt),
        is_main=bool(isMain),
        original_id=to_uuid(originalId),
        chunk_index=chunkIndex,
        is_shared=bool(isShared),
        similarity=similarity,
    )


def _goal(
    *,
    id: str,
    roomId: str,
    userId: str | None,
    name: str | None,
    status: Any,
    objectives: str | None,
    description: str | None,
    createdAt: str | None,
) -> Goal:
    return Goal.from_stored(
        id=_uuid(id),
        room_id=_uuid(roomId),
        user_id=to_uuid(userId),
        name=name,
        status=status,
        objectives=_json(objectives),
        description=description,
        created_at=to_datetime(createdAt),
    )


def _actor(*, id: str, name: str | None, username: str | None, details: str | None) -> Actor:
    return Actor(_uuid(id), name, username, _json(details) or {})


__all__ = ["SqliteAdapter", "parse_sqlite_url"]
