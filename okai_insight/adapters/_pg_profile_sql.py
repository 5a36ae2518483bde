"""The PostgreSQL adapter's SQL texts (:class:`ProfileSql`), composed once per schema profile with ``psycopg.sql``.

Column names differ between okai-insight's schema and ElizaOS's (``"isUnique"``/``"unique"``,
``"joinedAt"``/``"createdAt"``), so identifiers are composed, never pasted; every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from okai_insight.schema import SchemaProfile


@dataclass(frozen=True)
class MemoryQueryShape:
    """Which optional filters a memory query has (not their values: those are bound parameters); each
    combination is its own (prepared) statement."""

    room: bool = False
    agent: bool = False
    unique: bool = False
    rooms: bool = False


class ProfileSql:
    """SQL for one schema profile."""

    def __init__(self, profile: SchemaProfile) -> None:
        self.profile = profile
        self.unique = sql.Identifier(profile.unique_column)
        vt = sql.SQL(profile.vector_type)
        #: the query vector, cast to the column's type (binary vector params cast to halfvec when needed)
        self.query_vector = sql.SQL("%(q)s::{}").format(vt) if profile.vector_type != "vector" else sql.SQL("%(q)s")
        self.memory_columns = sql.SQL(
            'm."id", m."type", m."createdAt", m."content", m."embedding", m."userId", m."agentId", m."roomId", '
            "m.{} AS is_unique"
        ).format(self.unique)
        self._texts: dict[tuple[object, ...], str] = {}
        #: ON CONFLICT's target: the primary key, which on a partitioned table leads with the partition key.
        self.memory_key = sql.SQL("({})").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in (profile.partition_key, "id") if c is not None)
        )

    def text(self, name: str, *args: object) -> str:
        """The statement ``name(*args)`` as text, composed once and then reused: the hot paths (searches, counts)
        would otherwise rebuild and re-serialise the same SQL on every call.

        Example:
            >>> ProfileSql(SchemaProfile(flavor="okai")).text("count_bounded", MemoryQueryShape(room=True))[:26]
            'SELECT count(*) AS n FROM '
        """
        key = (name, *args)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = getattr(self, name)(*args).as_string(None)
        return found

    def memory_where(self, f: MemoryQueryShape) -> sql.Composed:
        parts: list[sql.Composable] = [sql.SQL('m."type" = %(type)s')]
        if f.room:
            parts.append(sql.SQL('m."roomId" = %(room_id)s'))
        if f.rooms:
            parts.append(sql.SQL('m."roomId" = ANY(%(room_ids)s)'))
        if f.agent:
            parts.append(sql.SQL('m."agentId" = %(agent_id)s'))
        if f.unique:
            parts.append(sql.SQL("m.{}").format(self.unique))
        return sql.SQL(" AND ").join(parts)

    def search_index(self, f: MemoryQueryShape) -> sql.Composed:
        """Nearest first through the HNSW index: ORDER BY distance ascending with LIMIT, matching operator.

        The threshold is applied outside the LIMIT: rows passing it are a prefix of the nearest-first list, so
        this equals filtering first, and the index keeps serving the ORDER BY. Zero vectors (ElizaOS's
        placeholders) have a NaN cosine distance, which PostgreSQL sorts above every number: they are dropped.
        With ``hnsw.iterative_scan = relaxed_order`` the index returns rows only roughly in order, yet the planner
        takes the inner ORDER BY as the output's order and skips a final sort on ``distance`` — even through a
        MATERIALIZED CTE, as pgvector's README suggests, since PostgreSQL 17 passes a CTE's order on (seen here
        on 18: rows 1000 and 1001 of a 1500-row search swapped). Sorting on ``distance + 0``, an expression no
        input is ordered by, makes the final sort happen.
        """
        return sql.SQL(
            "WITH nearest AS MATERIALIZED ("
            'SELECT {cols}, m."embedding" <=> {q} AS distance FROM memories AS m '
            'WHERE {where} AND m."embedding" IS NOT NULL '
            'ORDER BY m."embedding" <=> {q} LIMIT %(k)s'
            ") SELECT * FROM nearest WHERE distance <> 'NaN'::float8 AND 1 - distance >= %(threshold)s "
            "ORDER BY distance + 0"
        ).format(cols=self.memory_columns, q=self.query_vector, where=self.memory_where(f))

    def search_nearest(self, f: MemoryQueryShape) -> sql.Composed:
        """The HNSW search the adapter's searches send: the statement a psycopg user writes, nothing around it.

        Unlike :meth:`search_index` (kept for the EXISTS of :meth:`near_duplicate`) it leaves three things to the
        client, which does them on the k rows it reads anyway (``postgres._nearest_first``): dropping NaN
        distances (zero vectors), the threshold (rows passing it are a prefix of the nearest-first list, so
        filtering after the LIMIT equals filtering before), and the final order (``relaxed_order`` returns rows
        only roughly in order). The materialised CTE and its outer sort cost the server 15-20 % of an unfiltered
        top-10 search (backend CPU per call, 10k x 384, ef_search 40 and 100; /proc/<pid>/stat, perf6 2026-12-05);
        sorting ten rows in Python costs about a microsecond.

        Example:
            >>> ProfileSql(SchemaProfile(flavor="okai")).text("search_nearest", MemoryQueryShape())[:9]
            'SELECT m.'
        """
        return sql.SQL(
            'SELECT {cols}, m."embedding" <=> {q} AS distance FROM memories AS m '
            'WHERE {where} AND m."embedding" IS NOT NULL '
            'ORDER BY m."embedding" <=> {q} LIMIT %(k)s'
        ).format(cols=self.memory_columns, q=self.query_vector, where=self.memory_where(f))

    def search_exact(self, f: MemoryQueryShape) -> sql.Composed:
        """Exact nearest first over a small filtered set, read through the btree indexes (recall 1.0).

        ``+ 0`` makes the sort key an expression the HNSW index cannot serve, so the planner filters through the
        btree indexes and sorts the few rows left, instead of walking the graph and discarding most of it.
        """
        return sql.SQL(
            "SELECT * FROM ("
            'SELECT {cols}, m."embedding" <=> {q} AS distance FROM memories AS m '
            'WHERE {where} AND m."embedding" IS NOT NULL '
            'ORDER BY (m."embedding" <=> {q}) + 0 LIMIT %(k)s'
            ") AS nearest WHERE distance <> 'NaN'::float8 AND 1 - distance >= %(threshold)s ORDER BY distance"
        ).format(cols=self.memory_columns, q=self.query_vector, where=self.memory_where(f))

    def search_exact_counted(self, f: MemoryQueryShape) -> sql.Composed:
        """The filtered set's exact nearest rows and its size, bounded, in one pass: a filtered search's first
        statement. Each row carries ``filtered_rows``, how many rows with an embedding the filter keeps, counted
        no further than %(cap)s (the caller's limit + 1); above the limit the rows are not the exact answer (only
        the first %(cap)s rows were compared) and the caller searches through the HNSW index instead.

        One scan of the filtered rows through the btree indexes computes every distance; the count is a window
        over (key, distance) pairs and the top k of those are joined back to their rows, so the wide rows are
        read once and never materialised. Against the raw exact query (``ORDER BY (embedding <=> q) + 0``): 1.02x
        its latency, where counting first through an index-only scan and then searching cost 1.18x (a 1 % room,
        100k x 384, pinned, 3 x 200 queries, 2026-12-05). NaN distances, the threshold and the final order are
        left to the client, as in :meth:`search_nearest`. No ORDER BY on the distance in the scan itself, so no
        plan, custom or generic, can walk the HNSW graph for it.

        Example:
            >>> ProfileSql(SchemaProfile(flavor="okai")).text("search_exact_counted", MemoryQueryShape(room=True))[:9]
            'SELECT m.'
        """
        key = [sql.Identifier(c) for c in (self.profile.partition_key, "id") if c is not None]
        return sql.SQL(
            "SELECT {cols}, c.distance, c.n AS filtered_rows FROM ("
            "SELECT s.*, count(*) OVER () AS n FROM ("
            'SELECT {inner}, m."embedding" <=> {q} AS distance FROM memories AS m '
            'WHERE {where} AND m."embedding" IS NOT NULL LIMIT %(cap)s'
            ") AS s ORDER BY s.distance LIMIT %(k)s"
            ") AS c JOIN memories AS m ON {join}"
        ).format(
            cols=self.memory_columns,
            inner=sql.SQL(", ").join(sql.SQL("m.{}").format(k) for k in key),
            q=self.query_vector,
            where=self.memory_where(f),
            join=sql.SQL(" AND ").join(sql.SQL("m.{k} = c.{k}").format(k=k) for k in key),
        )

    def count_bounded(self, f: MemoryQueryShape) -> sql.Composed:
        """How many rows a filter keeps, counting no further than %(cap)s (cheap on any table size).

        Rows without an embedding are counted too: the count only chooses between exact and index search, and
        leaving the embedding out lets PostgreSQL count from the (type, room) index alone (an index-only scan)
        instead of reading every row of the room, which cost as much as the exact search itself (measured). Used
        for sets already known to be large (:meth:`search_exact_counted` counts only rows with an embedding, so
        near the limit a set this count calls large may still be searched exactly by that statement: both answers
        are valid, the exact one better).
        """
        return sql.SQL(
            "SELECT count(*) AS n FROM (SELECT 1 FROM memories AS m WHERE {where} LIMIT %(cap)s) AS bounded"
        ).format(where=self.memory_where(f))

    def get_memories(self, f: MemoryQueryShape, *, start: bool, end: bool, before: bool, limit: bool) -> sql.Composed:
        parts: list[sql.Composable] = [self.memory_where(f)]
        if start:
            parts.append(sql.SQL('m."createdAt" >= %(start)s'))
        if end:
            parts.append(sql.SQL('m."createdAt" <= %(end)s'))
        if before:
            parts.append(sql.SQL('(m."createdAt", m."id") < (%(before_ts)s, %(before_id)s)'))
        query = sql.SQL(
            'SELECT {cols} FROM memories AS m WHERE {where} ORDER BY m."createdAt" DESC, m."id" DESC'
        ).format(cols=self.memory_columns, where=sql.SQL(" AND ").join(parts))
        if limit:
            query = query + sql.SQL(" LIMIT %(limit)s")
        return query

    def insert_memory(self, checked: MemoryQueryShape | None = None) -> sql.Composed:
        """One memory; ``checked`` decides its unique flag inside the same statement (see near_duplicate)."""
        flag = sql.SQL("%(unique)s") if checked is None else sql.SQL("NOT ({})").format(self.near_duplicate(checked))
        # Citus refuses a subquery inside VALUES of a distributed table; as INSERT ... SELECT it runs the check on
        # the coordinator (fanning out over the shards) and routes the row to its agent's shard.
        values = "SELECT {row}" if checked is not None and self.profile.distributed else "VALUES ({row})"
        row = (
            "%(id)s, %(type)s, COALESCE(%(created_at)s, CURRENT_TIMESTAMP), "
            "%(content)s, {q}, %(user_id)s, %(agent_id)s, %(room_id)s, {flag}"
        )
        return sql.SQL(
            'INSERT INTO memories ("id", "type", "createdAt", "content", "embedding", "userId", "agentId", '
            '"roomId", {unique}) ' + values.format(row=row) + " "
            'ON CONFLICT {key} DO NOTHING RETURNING "id"'
        ).format(
            unique=self.unique,
            q=sql.SQL("%(embedding)s::{}").format(sql.SQL(self.profile.vector_type)),
            flag=flag,
            key=self.memory_key,
        )

    def near_duplicate(self, f: MemoryQueryShape) -> sql.Composed:
        """Whether the filtered set holds a row within %(threshold)s of %(q)s (with %(k)s = 1), as a boolean.

        The choice a search makes, in SQL, so the INSERT can hold the whole check: unfiltered (the type only),
        through the HNSW index; filtered by room, agent or unique, the set is counted up to %(cap)s rows and a
        smaller set is searched exactly, a larger one through the index. Each branch is guarded by a one-time
        filter on the materialised count, so PostgreSQL runs only the chosen one ("never executed" in EXPLAIN
        ANALYZE for the other). Run it unprepared: a generic plan would cost both branches with a LIMIT of
        unknown size and keep the index branch off the index. Searches themselves send the count and the chosen
        search as two prepared statements, which is faster than planning this on every call.
        """
        if not (f.room or f.agent or f.unique):
            return sql.SQL("EXISTS ({})").format(self.search_index(f))
        return sql.SQL(
            "EXISTS (WITH bounded AS MATERIALIZED ({count}) "
            "SELECT 1 FROM ({exact}) AS e WHERE (SELECT n FROM bounded) < %(cap)s "
            "UNION ALL SELECT 1 FROM ({index}) AS i WHERE (SELECT n FROM bounded) >= %(cap)s)"
        ).format(count=self.count_bounded(f), exact=self.search_exact(f), index=self.search_index(f))

    def copy_memories(self, table: str = "memories") -> sql.Composed:
        return sql.SQL(
            'COPY {} ("id", "type", "createdAt", "content", "embedding", "userId", "agentId", "roomId", {}) '
            "FROM STDIN (FORMAT BINARY)"
        ).format(sql.Identifier(table), self.unique)

    def participants_time(self) -> sql.Composable:
        col = self.profile.participant_time_column
        return sql.SQL("p.{}").format(sql.Identifier(col)) if col else sql.SQL("NULL::timestamptz")

    def participant_columns(self) -> sql.Composed:
        state = sql.SQL('p."userState"') if self.profile.has_user_state else sql.SQL("NULL::text")
        last = sql.SQL('p."last_message_read"') if self.profile.has_last_message_read else sql.SQL("NULL::text")
        # Named as the okai schema names them whatever the profile: rows are read by column name.
        return sql.SQL(
            'p."id", p."userId", p."roomId", {} AS "userState", {} AS last_message_read, {} AS "joinedAt"'
        ).format(state, last, self.participants_time())

    _KNOWLEDGE_WHERE = 'WHERE (k."agentId" = %(agent_id)s OR k."isShared") AND k."embedding" IS NOT NULL '

    def search_knowledge(self, exact: bool = False) -> sql.Composed:
        """Nearest knowledge first; ``exact`` sorts the agent's few rows itself (see :meth:`search_exact`), which
        also keeps recall on ElizaOS databases, whose IVFFlat knowledge index was built on an empty table."""
        order = 'ORDER BY (k."embedding" <=> {q}) + 0' if exact else 'ORDER BY k."embedding" <=> {q}'
        return sql.SQL(
            "WITH nearest AS MATERIALIZED ("
            'SELECT k."id", k."agentId", k."content", k."embedding", k."createdAt", k."isMain", k."originalId", '
            'k."chunkIndex", k."isShared", k."embedding" <=> {q} AS distance FROM knowledge AS k '
            + self._KNOWLEDGE_WHERE
            + order
            + " LIMIT %(k)s"
            ") SELECT * FROM nearest WHERE distance <> 'NaN'::float8 AND 1 - distance >= %(threshold)s "
            "ORDER BY distance + 0"
        ).format(q=self.query_vector)

    def count_knowledge_bounded(self) -> sql.Composed:
        """How many knowledge rows an agent can search, counting no further than %(cap)s."""
        return sql.SQL(
            "SELECT count(*) FROM (SELECT 1 FROM knowledge AS k " + self._KNOWLEDGE_WHERE + "LIMIT %(cap)s) AS bounded"
        ).format()
