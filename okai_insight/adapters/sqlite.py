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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from okai_insight import _json as okai_json
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
from okai_insight.adapters.base import DatabaseAdapter, IdLike, Vector
from okai_insight.errors import ConfigurationError, DuplicateId, InvalidInput, NotFound
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
    norms_in_range,
)

T = TypeVar("T")

#: fuzzystrmatch's limit, kept so results match the PostgreSQL adapter.
LEVENSHTEIN_MAX_CHARS = 255
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


class SqliteAdapter(DatabaseAdapter):
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

    def _table(self, value: Any) -> str:
        return check_table_name(value, self.settings.memory_tables)

    def _vec(self, value: Any, *, query: bool = False) -> Embedding:
        return check_embedding(value, self.embedding_dimension, allow_zero=not query)

    # -- accounts -------------------------------------------------------------------------------------------
    def get_account_by_id(self, user_id: IdLike) -> Account | None:
        uid = id_text(check_id(user_id, "user_id"))
        rows = self._read(
            lambda c: c.query(
                'SELECT "id", "name", "username", "email", "avatarUrl", "details", "createdAt" '
                'FROM accounts WHERE "id" = ?',
                (uid,),
            )
        )
        if not rows:
            return None
        r = rows[0]
        return Account(_uuid(r[0]), r[1], r[2], r[3], r[4], _json(r[5]) or {}, to_datetime(r[6]))

    def create_account(self, account: Account) -> bool:
        aid = check_id(account.id, "account.id")
        for name in ("name", "avatar_url"):
            check_text(getattr(account, name), f"account.{name}", optional=True)
        check_indexed_text(account.username, "account.username", optional=True)  # one limit on every adapter
        check_indexed_text(account.email, "account.email")
        details = okai_json.dumps(check_content(account.details or {}, "account.details"))
        values = (str(aid), account.name, account.username, account.email, account.avatar_url, details, now_text())
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

    def get_actor_details(self, room_id: IdLike) -> list[Actor]:
        rid = id_text(check_id(room_id, "room_id"))
        rows = self._read(
            lambda c: c.query(
                'SELECT a."id", a."name", a."username", a."details" FROM participants AS p '
                'JOIN accounts AS a ON a."id" = p."userId" WHERE p."roomId" = ? '
                'ORDER BY a."name" IS NULL, a."name", a."id"',
                (rid,),
            )
        )
        return [Actor(_uuid(r[0]), r[1], r[2], _json(r[3]) or {}) for r in rows]

    # -- memories -------------------------------------------------------------------------------------------
    @staticmethod
    def _memory(row: Sequence[Any], similarity: float | None = None) -> Memory:
        return Memory(
            id=_uuid(row[0]),
            type=row[1],
            created_at=to_datetime(row[2]),
            content=okai_json.loads(row[3]),
            embedding=from_blob(row[4]),
            user_id=to_uuid(row[5]),
            agent_id=to_uuid(row[6]),
            room_id=to_uuid(row[7]),
            unique=bool(row[8]),
            similarity=similarity,
        )

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
        params: dict[str, Any] = {
            "type": self._table(table_name),
            "room": id_text(check_id(room_id, "room_id")),
            "agent": id_text(check_optional_id(agent_id, "agent_id")),
            "start": _timestamp(start, "start"),
            "end": _timestamp(end, "end"),
            "limit": -1 if count is None else check_count(count),
        }
        if before is not None:
            if not isinstance(before, tuple) or len(before) != 2:
                raise InvalidInput("before must be a (created_at, id) tuple from the previous page's last row")
            params["before_ts"] = _timestamp(before[0], "before[0]")
            params["before_id"] = str(check_id(before[1], "before[1]"))
        where = [
            MemoryQuery(type=params["type"], k=1, room=params["room"], agent=params["agent"], unique=unique).where("m")
        ]
        if start is not None:
            where.append('m."createdAt" >= :start')
        if end is not None:
            where.append('m."createdAt" <= :end')
        if before is not None:
            where.append('(m."createdAt", m."id") < (:before_ts, :before_id)')
        query = (
            f"SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE {' AND '.join(where)} "
            'ORDER BY m."createdAt" DESC, m."id" DESC LIMIT :limit'
        )
        return [self._memory(r) for r in self._read(lambda c: c.query(query, params))]

    def iter_memories(self, room_id: IdLike, table_name: str, *, page_size: int = 1000) -> Any:
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

    def get_memory_by_id(self, memory_id: IdLike) -> Memory | None:
        mid = id_text(check_id(memory_id, "memory_id"))
        rows = self._read(lambda c: c.query(f'SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE m."id" = ?', (mid,)))
        return self._memory(rows[0]) if rows else None

    def get_memories_by_ids(self, memory_ids: Sequence[IdLike], table_name: str | None = None) -> list[Memory]:
        ids = check_ids(memory_ids, "memory_ids")
        if not ids:
            return []
        params = {"ids": ids_param(ids), "type": None if table_name is None else self._table(table_name)}
        query = (
            f'SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE m."id" IN (SELECT value FROM json_each(:ids)) '
            'AND (:type IS NULL OR m."type" = :type) ORDER BY m."createdAt" DESC, m."id"'
        )
        return [self._memory(r) for r in self._read(lambda c: c.query(query, params))]

    def get_memories_by_room_ids(
        self,
        room_ids: Sequence[IdLike],
        table_name: str,
        *,
        agent_id: IdLike | None = None,
        limit: int | None = None,
    ) -> list[Memory]:
        rooms = check_ids(room_ids, "room_ids")
        params: dict[str, Any] = {
            "type": self._table(table_name),
            "rooms": ids_param(rooms),
            "agent": id_text(check_optional_id(agent_id, "agent_id")),
            "limit": -1 if limit is None else check_count(limit, "limit"),
        }
        if not rooms:
            return []
        query = (
            f'SELECT {MEMORY_COLUMNS} FROM memories AS m WHERE m."type" = :type '
            'AND m."roomId" IN (SELECT value FROM json_each(:rooms)) AND (:agent IS NULL OR m."agentId" = :agent) '
            'ORDER BY m."createdAt" DESC, m."id" DESC LIMIT :limit'
        )
        return [self._memory(r) for r in self._read(lambda c: c.query(query, params))]

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
        params = {
            "type": self._table(query_table_name),
            "threshold": check_count(query_threshold, "query_threshold", maximum=LEVENSHTEIN_MAX_CHARS),
            "input": (check_text(query_input, "query_input") or "")[:LEVENSHTEIN_MAX_CHARS],
            "field": check_text(query_field_name, "query_field_name", max_chars=200),
            "sub": check_text(query_field_sub_name, "query_field_sub_name", max_chars=200),
            "k": check_count(query_match_count, "query_match_count"),
        }
        # ElizaOS stores the text at content.<sub_name> when field_name is "content"; both layouts are read.
        query = """
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
        rows = self._read(lambda c: c.query(query, params))
        return [CachedEmbedding(from_blob(r[0]), int(r[1])) for r in rows]  # type: ignore[arg-type]

    def log(self, *, body: dict[str, Any], user_id: IdLike, room_id: IdLike, type: str) -> None:
        values = (
            str(uuid.uuid4()),
            okai_json.dumps(check_content(body, "body")),
            str(check_id(user_id, "user_id")),
            str(check_id(room_id, "room_id")),
            check_text(type, "type", max_chars=200),
            now_text(),
        )
        self._write(
            lambda c: c.run(
                'INSERT INTO logs ("id", "body", "userId", "roomId", "type", "createdAt") VALUES (?, ?, ?, ?, ?, ?)',
                values,
            )
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
        q = self._vec(embedding, query=True)
        mq = MemoryQuery(
            type=self._table(table_name),
            room=id_text(check_optional_id(room_id, "room_id")),
            agent=id_text(check_optional_id(agent_id, "agent_id")),
            unique=bool(unique),
            k=check_count(count, "count", minimum=1, maximum=10_000),
        )
        threshold = -1.0 if match_threshold is None else check_threshold(match_threshold)
        cap = self.settings.exact_search_max_rows
        hits = self._read(lambda c: knn_memories(c, q, mq, threshold=threshold, exact_cap=cap))
        return [self._memory(row, similarity=sim) for row, sim in hits]

    def _prepare_memory(self, memory: Memory, table: str, checked_embedding: Any = False) -> dict[str, Any]:
        if not isinstance(memory, Memory):
            raise InvalidInput(f"expected a Memory, got {type(memory).__name__}")
        if checked_embedding is not False:
            emb = checked_embedding  # already checked and encoded by _batch_blobs
        else:
            emb = None if memory.embedding is None else self._vec(memory.embedding)
        created = _timestamp(memory.created_at, "memory.created_at")
        return {
            "id": str(check_id(memory.id, "memory.id") if memory.id is not None else uuid.uuid4()),
            "type": table,
            "created_at": created,
            "content": okai_json.dumps(check_content(memory.content, "memory.content")),
            "embedding": emb,
            "user_id": id_text(check_optional_id(memory.user_id, "memory.user_id")),
            "agent_id": id_text(check_optional_id(memory.agent_id, "memory.agent_id")),
            "room_id": id_text(check_optional_id(memory.room_id, "memory.room_id")),
            "unique": int(bool(memory.unique)),
        }

    _INSERT_MEMORY = (
        'INSERT INTO memories ("id", "type", "createdAt", "content", "embedding", "userId", "agentId", "roomId", '
        '"isUnique") VALUES (:id, :type, :created_at, :content, :embedding, :user_id, :agent_id, :room_id, :unique)'
    )

    def create_memory(self, memory: Memory, table_name: str, unique: bool = False) -> uuid.UUID:
        params = self._prepare_memory(memory, self._table(table_name))
        emb = params["embedding"]
        if unique and emb is not None and np.any(emb):
            similar = self.search_memories_by_embedding(
                emb,
                table_name=params["type"],
                room_id=params["room_id"],
                match_threshold=self.settings.duplicate_threshold,
                count=1,
            )
            params["unique"] = int(not similar)
        row = {**params, "embedding": blob(emb), "created_at": params["created_at"] or now_text()}

        def write(c: Connection) -> None:
            if c.query('SELECT 1 FROM memories WHERE "id" = ?', (row["id"],)):
                raise DuplicateId(f"a memory with id {row['id']} already exists")
            c.run(self._INSERT_MEMORY, row)

        self._write(write)
        return uuid.UUID(row["id"])

    def _batch_blobs(self, memories: Sequence[Memory]) -> list[bytes | None] | None:
        """Every embedding of a batch as stored, checked in one numpy pass; None when some embedding is not a
        plain 1-D numeric array of the right size (each is then checked alone, for the precise error)."""
        dim = self.embedding_dimension
        arrays = []
        for m in memories:
            e = m.embedding if isinstance(m, Memory) else 0
            if e is None:
                continue
            if not (isinstance(e, np.ndarray) and e.shape == (dim,) and e.dtype.kind in "fiu"):
                return None
            arrays.append(e)
        if not arrays:
            return [None] * len(memories)
        matrix = np.stack(arrays).astype("<f4") + np.float32(0.0)  # -0.0 becomes 0.0, as blob() does
        if not (np.isfinite(np.stack(arrays)).all() and np.isfinite(matrix).all() and norms_in_range(matrix)):
            return None
        rows = iter(matrix)
        return [None if m.embedding is None else next(rows).tobytes() for m in memories]

    def create_memories(self, memories: Sequence[Memory], table_name: str) -> list[uuid.UUID]:
        table = self._table(table_name)
        now = now_text()
        blobs = self._batch_blobs(memories)
        rows = []
        for i, m in enumerate(memories):
            if blobs is None:
                p = self._prepare_memory(m, table)
                p["embedding"] = blob(p["embedding"])
            else:
                p = self._prepare_memory(m, table, checked_embedding=blobs[i])
            rows.append({**p, "created_at": p["created_at"] or now})
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        if len(set(ids)) != len(ids):
            raise DuplicateId("the batch holds the same memory id twice")

        def write(c: Connection) -> None:
            taken = c.query(
                'SELECT "id" FROM memories WHERE "id" IN (SELECT value FROM json_each(?)) LIMIT 1', (json.dumps(ids),)
            )
            if taken:
                raise DuplicateId(f"a memory in the batch already exists: {taken[0][0]}")
            c.run_many(self._INSERT_MEMORY, rows)

        self._write(write)
        return [uuid.UUID(i) for i in ids]

    def remove_memory(self, memory_id: IdLike, table_name: str) -> bool:
        params = (str(check_id(memory_id, "memory_id")), self._table(table_name))
        return self._write(lambda c: c.run('DELETE FROM memories WHERE "id" = ? AND "type" = ?', params) > 0)

    def remove_all_memories(self, room_id: IdLike, table_name: str) -> int:
        params = (str(check_id(room_id, "room_id")), self._table(table_name))
        return self._write(lambda c: c.run('DELETE FROM memories WHERE "roomId" = ? AND "type" = ?', params))

    def count_memories(self, room_id: IdLike, unique: bool = True, table_name: str = "") -> int:
        rid = str(check_id(room_id, "room_id"))
        mq = MemoryQuery(type=self._table(table_name), k=1, room=rid, unique=bool(unique))
        rows = self._read(
            lambda c: c.query(
                f"SELECT count(*) FROM memories AS m WHERE {mq.where('m')}", {"type": mq.type, "room": rid}
            )
        )
        return int(rows[0][0])

    # -- goals ----------------------------------------------------------------------------------------------
    _GOAL_COLUMNS = '"id", "roomId", "userId", "name", "status", "objectives", "description", "createdAt"'

    def get_goals(
        self,
        room_id: IdLike,
        *,
        user_id: IdLike | None = None,
        only_in_progress: bool = True,
        count: int = 5,
        agent_id: IdLike | None = None,
    ) -> list[Goal]:
        params = {
            "room": str(check_id(room_id, "room_id")),
            "user": id_text(check_optional_id(user_id, "user_id")),
            "limit": check_count(count),
            "in_progress": int(bool(only_in_progress)),
        }
        check_optional_id(agent_id, "agent_id")  # ElizaOS accepts it; goals have no agent column
        rows = self._read(
            lambda c: c.query(
                f'SELECT {self._GOAL_COLUMNS} FROM goals WHERE "roomId" = :room '
                'AND (:user IS NULL OR "userId" = :user) '
                "AND (NOT :in_progress OR \"status\" = 'IN_PROGRESS') "
                'ORDER BY "createdAt", "id" LIMIT :limit',
                params,
            )
        )
        return [_goal(r) for r in rows]

    def _goal_values(self, goal: Goal) -> tuple[Any, ...]:
        if not isinstance(goal, Goal):
            raise InvalidInput(f"expected a Goal, got {type(goal).__name__}")
        check_text(goal.name, "goal.name")
        check_text(goal.description, "goal.description", optional=True)
        objectives = [
            {
                k: v
                for k, v in {"id": o.id, "description": o.description, "completed": bool(o.completed)}.items()
                if v is not None
            }
            for o in goal.objectives
        ]
        check_content({"objectives": objectives}, "goal")
        return (
            goal.name,
            check_goal_status(goal.status).value,
            goal.description,
            json.dumps(objectives),
            str(check_id(goal.room_id, "goal.room_id")),
            id_text(check_optional_id(goal.user_id, "goal.user_id")),
        )

    def update_goal(self, goal: Goal) -> None:
        gid = str(check_id(goal.id, "goal.id"))
        values = self._goal_values(goal)
        updated = self._write(
            lambda c: c.run(
                'UPDATE goals SET "name" = ?, "status" = ?, "description" = ?, "objectives" = ? WHERE "id" = ?',
                (*values[:4], gid),
            )
        )
        if not updated:
            raise NotFound(f"goal {gid} does not exist")

    def update_goal_status(self, goal_id: IdLike, status: GoalStatus | str) -> None:
        gid = str(check_id(goal_id, "goal_id"))
        value = check_goal_status(status).value
        if not self._write(lambda c: c.run('UPDATE goals SET "status" = ? WHERE "id" = ?', (value, gid))):
            raise NotFound(f"goal {gid} does not exist")

    def create_goal(self, goal: Goal) -> uuid.UUID:
        gid = check_id(goal.id, "goal.id") if goal.id is not None else uuid.uuid4()
        values = self._goal_values(goal)

        def insert(c: Connection) -> None:
            n = c.run(
                'INSERT INTO goals ("id", "name", "status", "description", "objectives", "roomId", "userId", '
                '"createdAt") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("id") DO NOTHING',
                (str(gid), *values, now_text()),
            )
            if n == 0:
                raise DuplicateId(f"a goal with id {gid} already exists")

        self._write(insert)
        return gid

    def remove_goal(self, goal_id: IdLike) -> bool:
        gid = str(check_id(goal_id, "goal_id"))
        return self._write(lambda c: c.run('DELETE FROM goals WHERE "id" = ?', (gid,)) > 0)

    def remove_all_goals(self, room_id: IdLike) -> int:
        rid = str(check_id(room_id, "room_id"))
        return self._write(lambda c: c.run('DELETE FROM goals WHERE "roomId" = ?', (rid,)))

    # -- rooms and participants -----------------------------------------------------------------------------
    def get_room(self, room_id: IdLike) -> uuid.UUID | None:
        rid = str(check_id(room_id, "room_id"))
        rows = self._read(lambda c: c.query('SELECT "id" FROM rooms WHERE "id" = ?', (rid,)))
        return _uuid(rows[0][0]) if rows else None

    def create_room(self, room_id: IdLike | None = None) -> uuid.UUID:
        rid = check_id(room_id, "room_id") if room_id is not None else uuid.uuid4()

        def insert(c: Connection) -> None:
            n = c.run(
                'INSERT INTO rooms ("id", "createdAt") VALUES (?, ?) ON CONFLICT ("id") DO NOTHING',
                (str(rid), now_text()),
            )
            if n == 0:
                raise DuplicateId(f"room {rid} already exists")

        self._write(insert)
        return rid

    def remove_room(self, room_id: IdLike) -> None:
        rid = str(check_id(room_id, "room_id"))

        def delete(c: Connection) -> bool:
            for table in ("memories", "participants", "goals", "logs"):
                c.run(f'DELETE FROM {table} WHERE "roomId" = ?', (rid,))  # fixed names, not input
            return c.run('DELETE FROM rooms WHERE "id" = ?', (rid,)) > 0

        if not self._write(delete):
            raise NotFound(f"room {rid} does not exist")

    def get_rooms_for_participant(self, user_id: IdLike) -> list[uuid.UUID]:
        uid = str(check_id(user_id, "user_id"))
        rows = self._read(
            lambda c: c.query('SELECT "roomId" FROM participants WHERE "userId" = ? ORDER BY "roomId"', (uid,))
        )
        return [_uuid(r[0]) for r in rows]

    def get_rooms_for_participants(self, user_ids: Sequence[IdLike]) -> list[uuid.UUID]:
        ids = check_ids(user_ids, "user_ids")
        if not ids:
            return []
        rows = self._read(
            lambda c: c.query(
                'SELECT DISTINCT "roomId" FROM participants WHERE "userId" IN (SELECT value FROM json_each(?)) '
                'ORDER BY "roomId"',
                (ids_param(ids),),
            )
        )
        return [_uuid(r[0]) for r in rows]

    def add_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        uid, rid = str(check_id(user_id, "user_id")), str(check_id(room_id, "room_id"))
        return self._write(
            lambda c: (
                c.run(
                    'INSERT INTO participants ("id", "userId", "roomId", "joinedAt") VALUES (?, ?, ?, ?) '
                    "ON CONFLICT DO NOTHING",
                    (str(uuid.uuid4()), uid, rid, now_text()),
                )
                > 0
            )
        )

    def remove_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        uid, rid = str(check_id(user_id, "user_id")), str(check_id(room_id, "room_id"))
        return self._write(
            lambda c: c.run('DELETE FROM participants WHERE "userId" = ? AND "roomId" = ?', (uid, rid)) > 0
        )

    def get_participants_for_account(self, user_id: IdLike) -> list[Participant]:
        uid = str(check_id(user_id, "user_id"))
        rows = self._read(
            lambda c: c.query(
                'SELECT "id", "userId", "roomId", "userState", "last_message_read", "joinedAt" FROM participants '
                'WHERE "userId" = ? ORDER BY "roomId"',
                (uid,),
            )
        )
        return [
            Participant(
                _uuid(r[0]), _uuid(r[1]), _uuid(r[2]), UserState(r[3]) if r[3] else None, r[4], to_datetime(r[5])
            )
            for r in rows
        ]

    def get_participants_for_room(self, room_id: IdLike) -> list[uuid.UUID]:
        rid = str(check_id(room_id, "room_id"))
        rows = self._read(
            lambda c: c.query('SELECT "userId" FROM participants WHERE "roomId" = ? ORDER BY "userId"', (rid,))
        )
        return [_uuid(r[0]) for r in rows]

    def get_participant_user_state(self, room_id: IdLike, user_id: IdLike) -> UserState | None:
        rid, uid = str(check_id(room_id, "room_id")), str(check_id(user_id, "user_id"))
        rows = self._read(
            lambda c: c.query('SELECT "userState" FROM participants WHERE "roomId" = ? AND "userId" = ?', (rid, uid))
        )
        return UserState(rows[0][0]) if rows and rows[0][0] else None

    def set_participant_user_state(self, room_id: IdLike, user_id: IdLike, state: UserState | str | None) -> None:
        rid, uid = str(check_id(room_id, "room_id")), str(check_id(user_id, "user_id"))
        value = check_user_state(state)
        n = self._write(
            lambda c: c.run(
                'UPDATE participants SET "userState" = ? WHERE "roomId" = ? AND "userId" = ?', (value, rid, uid)
            )
        )
        if not n:
            raise NotFound(f"account {uid} does not take part in room {rid}")

    # -- relationships --------------------------------------------------------------------------------------
    def create_relationship(self, user_a: IdLike, user_b: IdLike) -> bool:
        a, b = str(check_id(user_a, "user_a")), str(check_id(user_b, "user_b"))
        self._write(
            lambda c: c.run(
                'INSERT INTO relationships ("id", "userA", "userB", "userId", "createdAt") VALUES (?, ?, ?, ?, ?)',
                (str(uuid.uuid4()), a, b, a, now_text()),
            )
        )
        return True

    _REL_COLUMNS = '"id", "userA", "userB", "userId", "status", "createdAt"'

    @staticmethod
    def _relationship(r: Sequence[Any]) -> Relationship:
        return Relationship(_uuid(r[0]), _uuid(r[1]), _uuid(r[2]), _uuid(r[3]), r[4], to_datetime(r[5]))

    def get_relationship(self, user_a: IdLike, user_b: IdLike) -> Relationship | None:
        a, b = str(check_id(user_a, "user_a")), str(check_id(user_b, "user_b"))
        rows = self._read(
            lambda c: c.query(
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE ("userA" = :a AND "userB" = :b) OR ("userA" = :b AND "userB" = :a) '
                'ORDER BY "createdAt", "id" LIMIT 1',
                {"a": a, "b": b},
            )
        )
        return self._relationship(rows[0]) if rows else None

    def get_relationships(self, user_id: IdLike) -> list[Relationship]:
        uid = str(check_id(user_id, "user_id"))
        rows = self._read(
            lambda c: c.query(
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE "userA" = :u OR "userB" = :u ORDER BY "createdAt", "id"',
                {"u": uid},
            )
        )
        return [self._relationship(r) for r in rows]

    # -- knowledge ------------------------------------------------------------------------------------------
    def get_knowledge(
        self, *, agent_id: IdLike, id: IdLike | None = None, limit: int | None = None
    ) -> list[KnowledgeItem]:
        params = {
            "agent": str(check_id(agent_id, "agent_id")),
            "id": id_text(check_optional_id(id, "id")),
            "limit": -1 if limit is None else check_count(limit, "limit"),
        }
        rows = self._read(
            lambda c: c.query(
                f"SELECT {KNOWLEDGE_COLUMNS} FROM knowledge AS k "
                'WHERE (k."agentId" = :agent OR k."isShared") AND (:id IS NULL OR k."id" = :id) '
                'ORDER BY k."createdAt" DESC, k."id" LIMIT :limit',
                params,
            )
        )
        return [_knowledge(r) for r in rows]

    def search_knowledge(
        self,
        *,
        agent_id: IdLike,
        embedding: Vector,
        match_threshold: float,
        match_count: int,
        search_text: str | None = None,
    ) -> list[KnowledgeItem]:
        check_text(search_text, "search_text", optional=True)
        agent = str(check_id(agent_id, "agent_id"))
        q = check_embedding(embedding, self.embedding_dimension, allow_zero=False)
        threshold = check_threshold(match_threshold)
        k = check_count(match_count, "match_count", minimum=1, maximum=10_000)
        hits = self._read(lambda c: knn_knowledge(c, q, agent=agent, k=k, threshold=threshold))
        return [_knowledge(row, similarity=sim) for row, sim in hits]

    def create_knowledge(self, knowledge: KnowledgeItem) -> None:
        if not isinstance(knowledge, KnowledgeItem):
            raise InvalidInput(f"expected a KnowledgeItem, got {type(knowledge).__name__}")
        if knowledge.is_shared == (knowledge.agent_id is not None):
            raise InvalidInput("a shared knowledge item has no agent_id; an agent's own item must have one")
        emb = None if knowledge.embedding is None else check_embedding(knowledge.embedding, self.embedding_dimension)
        values = (
            str(check_id(knowledge.id, "knowledge.id")),
            id_text(check_optional_id(knowledge.agent_id, "knowledge.agent_id")),
            okai_json.dumps(check_content(knowledge.content, "knowledge.content")),
            blob(emb),
            int(bool(knowledge.is_main)),
            id_text(check_optional_id(knowledge.original_id, "knowledge.original_id")),
            knowledge.chunk_index
            if knowledge.chunk_index is None
            else check_count(knowledge.chunk_index, "chunk_index", maximum=10**9),
            int(bool(knowledge.is_shared)),
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

    def remove_knowledge(self, knowledge_id: IdLike) -> bool:
        kid = str(check_id(knowledge_id, "knowledge_id"))
        return self._write(lambda c: c.run('DELETE FROM knowledge WHERE "id" = ? OR "originalId" = ?', (kid, kid)) > 0)

    def clear_knowledge(self, agent_id: IdLike, shared: bool = False) -> int:
        aid = str(check_id(agent_id, "agent_id"))
        return self._write(
            lambda c: c.run('DELETE FROM knowledge WHERE "agentId" = ? OR (? AND "isShared")', (aid, int(bool(shared))))
        )

    # -- cache ----------------------------------------------------------------------------------------------
    @staticmethod
    def _cache_key(key: Any, agent_id: Any) -> tuple[str, str]:
        return check_indexed_text(key, "key") or "", str(check_id(agent_id, "agent_id"))

    def get_cache(self, *, key: str, agent_id: IdLike) -> str | None:
        k, a = self._cache_key(key, agent_id)
        rows = self._read(lambda c: c.query('SELECT "value" FROM cache WHERE "key" = ? AND "agentId" = ?', (k, a)))
        if not rows or rows[0][0] is None:
            return None
        value = okai_json.loads(rows[0][0])
        # okai-insight stores the string as a JSON string; a row holding another JSON document is returned as JSON.
        return value if isinstance(value, str) else okai_json.dumps(value)

    def set_cache(self, *, key: str, agent_id: IdLike, value: str) -> bool:
        k, a = self._cache_key(key, agent_id)
        v = json.dumps(check_cache_value(value))
        self._write(
            lambda c: c.run(
                'INSERT INTO cache ("key", "agentId", "value", "createdAt") VALUES (?, ?, ?, ?) '
                'ON CONFLICT ("key", "agentId") DO UPDATE SET "value" = excluded."value", '
                '"createdAt" = excluded."createdAt"',
                (k, a, v, now_text()),
            )
        )
        return True

    def delete_cache(self, *, key: str, agent_id: IdLike) -> bool:
        k, a = self._cache_key(key, agent_id)
        return self._write(lambda c: c.run('DELETE FROM cache WHERE "key" = ? AND "agentId" = ?', (k, a)) > 0)


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def _json(value: Any) -> Any:
    return None if value is None else okai_json.loads(value)


def _timestamp(value: Any, name: str) -> str | None:
    """A timestamp parameter as stored (see ts_text)."""
    checked = check_timestamp(value, name)
    return None if checked is None else ts_text(checked)


def _goal(r: Sequence[Any]) -> Goal:
    return Goal.from_stored(
        id=_uuid(r[0]),
        room_id=_uuid(r[1]),
        user_id=to_uuid(r[2]),
        name=r[3],
        status=r[4],
        objectives=_json(r[5]),
        description=r[6],
        created_at=to_datetime(r[7]),
    )


def _knowledge(r: Sequence[Any], similarity: float | None = None) -> KnowledgeItem:
    return KnowledgeItem(
        id=_uuid(r[0]),
        agent_id=to_uuid(r[1]),
        content=okai_json.loads(r[2]),
        embedding=from_blob(r[3]),
        created_at=to_datetime(r[4]),
        is_main=bool(r[5]),
        original_id=to_uuid(r[6]),
        chunk_index=r[7],
        is_shared=bool(r[8]),
        similarity=similarity,
    )


__all__ = ["SqliteAdapter", "parse_sqlite_url"]
