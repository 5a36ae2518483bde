"""The SQLite schema: the spec's tables in SQLite's dialect, sqlite-vec indexes, and recorded migrations.

* UUIDs are canonical lower-case TEXT (their text order is PostgreSQL's uuid order); timestamps are UTC TEXT
  ``YYYY-MM-DD HH:MM:SS.ffffff`` (fixed width, so text order is time order); JSON is TEXT checked by
  ``json_valid``; embeddings are little-endian float32 BLOBs of exactly ``4 * dimension`` bytes.
* Foreign keys are ``DEFERRABLE INITIALLY DEFERRED``: a violation surfaces at COMMIT, which is how the adapter
  tells it from the statement-level constraints (unique, check, not null) without reading error messages.
* Version 2 adds the ``vec0`` virtual tables (cosine distance) and triggers that keep them in step with
  ``memories`` and ``knowledge`` inside the writing transaction. Zero vectors are stored but not indexed: cosine
  similarity to them is undefined, as in pgvector's HNSW index.
* :func:`migrate` applies pending versions once each under ``BEGIN IMMEDIATE`` (one writer at a time across
  processes) and records them in ``okai_schema_version``; the embedding dimension lives in ``okai_settings``.

Example:
    >>> from okai_insight.adapters._sqlite_schema import migrate
    >>> migrate(conn, dimension=384)                           # doctest: +SKIP
    384
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from okai_insight.adapters._sqlite_driver import Connection
from okai_insight.errors import InvalidDimension, SchemaDimensionMismatch, SchemaError

#: sqlite-vec 0.1's largest vec0 dimension.
VEC0_MAX_DIM = 8192
#: vec0's largest ``k`` in one KNN query.
VEC0_MAX_K = 4096

#: A timestamp default that matches the adapter's fixed-width format (microseconds; SQLite keeps milliseconds).
NOW = "(strftime('%Y-%m-%d %H:%M:%f000', 'now'))"


@dataclass(frozen=True)
class Migration:
    """One schema step: its version, name and SQL (``{dim}`` and ``{bytes}`` are filled in)."""

    version: int
    name: str
    template: str


_CORE = f"""
CREATE TABLE accounts (
    "id" TEXT PRIMARY KEY NOT NULL,
    "createdAt" TEXT NOT NULL DEFAULT {NOW},
    "name" TEXT,
    "username" TEXT UNIQUE,
    "email" TEXT NOT NULL UNIQUE,
    "avatarUrl" TEXT,
    "details" TEXT DEFAULT '{{{{}}}}' CHECK ("details" IS NULL OR json_valid("details"))
);

CREATE TABLE rooms (
    "id" TEXT PRIMARY KEY NOT NULL,
    "createdAt" TEXT NOT NULL DEFAULT {NOW}
);

CREATE TABLE memories (
    "id" TEXT PRIMARY KEY NOT NULL,
    "type" TEXT NOT NULL,
    "createdAt" TEXT NOT NULL DEFAULT {NOW},
    "content" TEXT NOT NULL CHECK (json_valid("content")),
    "embedding" BLOB CHECK ("embedding" IS NULL OR length("embedding") = {{bytes}}),
    "userId" TEXT REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "agentId" TEXT REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "roomId" TEXT REFERENCES rooms("id") DEFERRABLE INITIALLY DEFERRED,
    "isUnique" INTEGER NOT NULL DEFAULT 1 CHECK ("isUnique" IN (0, 1))
);

CREATE TABLE goals (
    "id" TEXT PRIMARY KEY NOT NULL,
    "createdAt" TEXT NOT NULL DEFAULT {NOW},
    "userId" TEXT REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "name" TEXT,
    "status" TEXT,
    "description" TEXT,
    "roomId" TEXT REFERENCES rooms("id") DEFERRABLE INITIALLY DEFERRED,
    "objectives" TEXT NOT NULL DEFAULT '[]' CHECK (json_valid("objectives"))
);

CREATE TABLE participants (
    "id" TEXT PRIMARY KEY NOT NULL,
    "userId" TEXT REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "roomId" TEXT REFERENCES rooms("id") DEFERRABLE INITIALLY DEFERRED,
    "joinedAt" TEXT NOT NULL DEFAULT {NOW},
    "userState" TEXT CHECK ("userState" IN ('FOLLOWED', 'MUTED')),
    "last_message_read" TEXT,
    UNIQUE ("userId", "roomId")
);

CREATE TABLE relationships (
    "id" TEXT PRIMARY KEY NOT NULL,
    "createdAt" TEXT NOT NULL DEFAULT {NOW},
    "userA" TEXT NOT NULL REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "userB" TEXT NOT NULL REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "status" TEXT,
    "userId" TEXT NOT NULL REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE logs (
    "id" TEXT PRIMARY KEY NOT NULL,
    "createdAt" TEXT DEFAULT {NOW},
    "userId" TEXT NOT NULL REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "body" TEXT NOT NULL CHECK (json_valid("body")),
    "type" TEXT NOT NULL,
    "roomId" TEXT NOT NULL REFERENCES rooms("id") DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE cache (
    "key" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "value" TEXT DEFAULT '{{{{}}}}' CHECK ("value" IS NULL OR json_valid("value")),
    "createdAt" TEXT DEFAULT {NOW},
    "expiresAt" TEXT,
    PRIMARY KEY ("key", "agentId")
);

CREATE TABLE knowledge (
    "id" TEXT PRIMARY KEY NOT NULL,
    "agentId" TEXT REFERENCES accounts("id") DEFERRABLE INITIALLY DEFERRED,
    "content" TEXT NOT NULL CHECK (json_valid("content")),
    "embedding" BLOB CHECK ("embedding" IS NULL OR length("embedding") = {{bytes}}),
    "createdAt" TEXT DEFAULT {NOW},
    "isMain" INTEGER DEFAULT 0,
    "originalId" TEXT REFERENCES knowledge("id") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    "chunkIndex" INTEGER,
    "isShared" INTEGER DEFAULT 0,
    CHECK (("isShared" = 1 AND "agentId" IS NULL) OR ("isShared" = 0 AND "agentId" IS NOT NULL))
);

CREATE INDEX idx_memories_type_room ON memories ("type", "roomId", "createdAt");
CREATE INDEX idx_memories_room ON memories ("roomId");
CREATE INDEX idx_memories_agent ON memories ("agentId");
CREATE INDEX idx_participants_room ON participants ("roomId");
CREATE INDEX idx_goals_room ON goals ("roomId");
CREATE INDEX idx_logs_room ON logs ("roomId");
CREATE INDEX idx_relationships_users ON relationships ("userA", "userB");
CREATE INDEX idx_relationships_user_b ON relationships ("userB");
CREATE INDEX idx_knowledge_agent ON knowledge ("agentId", "createdAt");
CREATE INDEX idx_knowledge_original ON knowledge ("originalId");
"""

# vec0 metadata TEXT columns cannot hold NULL: a missing room or agent is indexed as ''.
# vec0 takes no quoted column names (hence snake_case) and its TEXT metadata columns no NULL: a missing room or
# agent is indexed as ''.
_VECTOR_INDEXES = """
CREATE VIRTUAL TABLE vec_memories USING vec0(
    id TEXT PRIMARY KEY,
    type TEXT,
    room_id TEXT,
    agent_id TEXT,
    is_unique INTEGER,
    embedding FLOAT[{dim}] distance_metric=cosine
);

CREATE VIRTUAL TABLE vec_knowledge USING vec0(
    id TEXT PRIMARY KEY,
    agent_id TEXT,
    is_shared INTEGER,
    embedding FLOAT[{dim}] distance_metric=cosine
);

CREATE TRIGGER vec_memories_insert AFTER INSERT ON memories
WHEN NEW."embedding" IS NOT NULL AND NEW."embedding" != zeroblob(length(NEW."embedding"))
BEGIN
    INSERT INTO vec_memories (id, type, room_id, agent_id, is_unique, embedding)
    VALUES (NEW."id", NEW."type", COALESCE(NEW."roomId", ''), COALESCE(NEW."agentId", ''), NEW."isUnique",
            NEW."embedding");
END;

CREATE TRIGGER vec_memories_delete AFTER DELETE ON memories
BEGIN
    DELETE FROM vec_memories WHERE id = OLD."id";
END;

CREATE TRIGGER vec_memories_update AFTER UPDATE ON memories
BEGIN
    DELETE FROM vec_memories WHERE id = OLD."id";
    INSERT INTO vec_memories (id, type, room_id, agent_id, is_unique, embedding)
    SELECT NEW."id", NEW."type", COALESCE(NEW."roomId", ''), COALESCE(NEW."agentId", ''), NEW."isUnique",
           NEW."embedding"
    WHERE NEW."embedding" IS NOT NULL AND NEW."embedding" != zeroblob(length(NEW."embedding"));
END;

CREATE TRIGGER vec_knowledge_insert AFTER INSERT ON knowledge
WHEN NEW."embedding" IS NOT NULL AND NEW."embedding" != zeroblob(length(NEW."embedding"))
BEGIN
    INSERT INTO vec_knowledge (id, agent_id, is_shared, embedding)
    VALUES (NEW."id", COALESCE(NEW."agentId", ''), NEW."isShared", NEW."embedding");
END;

CREATE TRIGGER vec_knowledge_delete AFTER DELETE ON knowledge
BEGIN
    DELETE FROM vec_knowledge WHERE id = OLD."id";
END;

CREATE TRIGGER vec_knowledge_update AFTER UPDATE ON knowledge
BEGIN
    DELETE FROM vec_knowledge WHERE id = OLD."id";
    INSERT INTO vec_knowledge (id, agent_id, is_shared, embedding)
    SELECT NEW."id", COALESCE(NEW."agentId", ''), NEW."isShared", NEW."embedding"
    WHERE NEW."embedding" IS NOT NULL AND NEW."embedding" != zeroblob(length(NEW."embedding"));
END;

INSERT INTO vec_memories (id, type, room_id, agent_id, is_unique, embedding)
SELECT "id", "type", COALESCE("roomId", ''), COALESCE("agentId", ''), "isUnique", "embedding" FROM memories
WHERE "embedding" IS NOT NULL AND "embedding" != zeroblob(length("embedding"));

INSERT INTO vec_knowledge (id, agent_id, is_shared, embedding)
SELECT "id", COALESCE("agentId", ''), "isShared", "embedding" FROM knowledge
WHERE "embedding" IS NOT NULL AND "embedding" != zeroblob(length("embedding"));
"""

# Version 3 makes the memory index cheaper to write and to search (measured: docs/benchmarks.md, "SQLite and
# in-memory"): the memory type becomes vec0's partition key, so a KNN scan reads only that type's chunks; room and
# agent become small integer metadata (vec0 stores TEXT longer than 12 bytes, like a uuid, in a side table, one
# extra write per row and column) through okai_vec_keys, whose INTEGER PRIMARY KEY survives VACUUM. '' is the key
# of a missing room or agent.
_VECTOR_KEYS = """
DROP TRIGGER vec_memories_insert;
DROP TRIGGER vec_memories_update;
DROP TRIGGER vec_memories_delete;
DROP TABLE vec_memories;

CREATE TABLE okai_vec_keys (
    "key" INTEGER PRIMARY KEY,
    "id" TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE vec_memories USING vec0(
    id TEXT PRIMARY KEY,
    type TEXT PARTITION KEY,
    room_key INTEGER,
    agent_key INTEGER,
    is_unique INTEGER,
    embedding FLOAT[{dim}] distance_metric=cosine
);

CREATE TRIGGER vec_memories_insert AFTER INSERT ON memories
WHEN NEW."embedding" IS NOT NULL AND NEW."embedding" != zeroblob(length(NEW."embedding"))
BEGIN
    INSERT OR IGNORE INTO okai_vec_keys ("id") VALUES (COALESCE(NEW."roomId", '')), (COALESCE(NEW."agentId", ''));
    INSERT INTO vec_memories (id, type, room_key, agent_key, is_unique, embedding)
    VALUES (NEW."id", NEW."type",
            (SELECT "key" FROM okai_vec_keys WHERE "id" = COALESCE(NEW."roomId", '')),
            (SELECT "key" FROM okai_vec_keys WHERE "id" = COALESCE(NEW."agentId", '')),
            NEW."isUnique", NEW."embedding");
END;

CREATE TRIGGER vec_memories_delete AFTER DELETE ON memories
BEGIN
    DELETE FROM vec_memories WHERE id = OLD."id";
END;

CREATE TRIGGER vec_memories_update AFTER UPDATE ON memories
BEGIN
    DELETE FROM vec_memories WHERE id = OLD."id";
    INSERT OR IGNORE INTO okai_vec_keys ("id") VALUES (COALESCE(NEW."roomId", '')), (COALESCE(NEW."agentId", ''));
    INSERT INTO vec_memories (id, type, room_key, agent_key, is_unique, embedding)
    SELECT NEW."id", NEW."type",
           (SELECT "key" FROM okai_vec_keys WHERE "id" = COALESCE(NEW."roomId", '')),
           (SELECT "key" FROM okai_vec_keys WHERE "id" = COALESCE(NEW."agentId", '')),
           NEW."isUnique", NEW."embedding"
    WHERE NEW."embedding" IS NOT NULL AND NEW."embedding" != zeroblob(length(NEW."embedding"));
END;

INSERT OR IGNORE INTO okai_vec_keys ("id")
SELECT COALESCE("roomId", '') FROM memories
UNION
SELECT COALESCE("agentId", '') FROM memories;

INSERT INTO vec_memories (id, type, room_key, agent_key, is_unique, embedding)
SELECT m."id", m."type", r."key", a."key", m."isUnique", m."embedding"
FROM memories AS m
JOIN okai_vec_keys AS r ON r."id" = COALESCE(m."roomId", '')
JOIN okai_vec_keys AS a ON a."id" = COALESCE(m."agentId", '')
WHERE m."embedding" IS NOT NULL AND m."embedding" != zeroblob(length(m."embedding"));
"""

MIGRATIONS = (
    Migration(1, "core", _CORE),
    Migration(2, "vector_indexes", _VECTOR_INDEXES),
    Migration(3, "vector_index_keys", _VECTOR_KEYS),
)


def check_dimension(dimension: object) -> int:
    """Refuse a dimension vec0 cannot index (:class:`InvalidDimension`, before anything is created).

    Example:
        >>> check_dimension(384)
        384
    """
    if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= VEC0_MAX_DIM:
        raise InvalidDimension(
            f"embedding dimension must be an integer from 1 to {VEC0_MAX_DIM} (sqlite-vec's vec0 limit), "
            f"got {dimension!r}"
        )
    return dimension


def _check_request(requested: int | None, recorded: int | None) -> None:
    if requested is not None and recorded is not None and requested != recorded:
        raise SchemaDimensionMismatch(requested=requested, stored=recorded)


def _tables(conn: Connection) -> set[str]:
    return {r[0] for r in conn.query("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def _state(conn: Connection) -> tuple[set[int], int | None]:
    tables = _tables(conn)
    if "okai_schema_version" not in tables:
        if "memories" in tables:
            raise SchemaError(
                "this SQLite file has a memories table but no okai_schema_version: it was not created by "
                "okai-insight (an ElizaOS database?); open it with its own tools or copy it into a new database"
            )
        return set(), None
    applied = {int(r[0]) for r in conn.query("SELECT version FROM okai_schema_version")}
    row = conn.query("SELECT value FROM okai_settings WHERE key = 'embedding_dimension'")
    return applied, (int(json.loads(row[0][0])) if row else None)


def migrate(conn: Connection, *, dimension: int | None = None, default_dimension: int = 384) -> int:
    """Bring the database to the latest schema and return its embedding dimension.

    ``dimension`` is an explicit request: a new file gets it, and a file that records another dimension is refused
    with :class:`SchemaDimensionMismatch` before anything is written. ``None`` adopts the recorded dimension, or
    creates the schema with ``default_dimension``.

    Safe to call from several threads or processes at once: the fast path reads two small tables; pending steps
    run in one ``BEGIN IMMEDIATE`` transaction that re-reads what is applied once it holds the write lock.

    Example:
        >>> migrate(conn, dimension=8)                         # doctest: +SKIP
        8
    """
    if dimension is not None:
        check_dimension(dimension)
    latest = MIGRATIONS[-1].version
    applied, recorded = _state(conn)
    _check_request(dimension, recorded)
    if latest in applied and recorded is not None:
        return recorded
    chosen = check_dimension(default_dimension if dimension is None else dimension)
    conn.run("BEGIN IMMEDIATE")
    try:
        conn.script(
            "CREATE TABLE IF NOT EXISTS okai_schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            f"applied_at TEXT NOT NULL DEFAULT {NOW});"
            "CREATE TABLE IF NOT EXISTS okai_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        )
        applied, recorded = _state(conn)
        _check_request(dimension, recorded)  # another process may have created the schema meanwhile
        if recorded is None:
            conn.run("INSERT INTO okai_settings (key, value) VALUES ('embedding_dimension', ?)", (json.dumps(chosen),))
            recorded = chosen
        for step in MIGRATIONS:
            if step.version in applied:
                continue
            conn.script(step.template.format(dim=recorded, bytes=4 * recorded))
            conn.run("INSERT INTO okai_schema_version (version, name) VALUES (?, ?)", (step.version, step.name))
        conn.run("COMMIT")
    except BaseException:
        conn.rollback()
        raise
    return recorded


__all__ = ["MIGRATIONS", "VEC0_MAX_DIM", "VEC0_MAX_K", "Migration", "check_dimension", "migrate"]
