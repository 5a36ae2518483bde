"""Create a database the way ElizaOS 0.1.9's PostgreSQL adapter does (packages/adapter-postgres/schema.sql).

Differences from okai-insight's schema that the adapter must cope with: ``"unique"`` instead of ``"isUnique"``,
participants' ``"createdAt"`` instead of ``"joinedAt"``, ids without defaults, cascading foreign keys, an IVFFlat
index on knowledge, and the embedding dimension picked by ``app.use_*_embedding`` settings.
"""

from __future__ import annotations

from typing import Any

import psycopg

ELIZAOS_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;

CREATE OR REPLACE FUNCTION get_embedding_dimension()
RETURNS INTEGER AS $$
BEGIN
    IF current_setting('app.use_openai_embedding', TRUE) = 'true' THEN
        RETURN 1536;
    ELSIF current_setting('app.use_ollama_embedding', TRUE) = 'true' THEN
        RETURN 1024;
    ELSIF current_setting('app.use_gaianet_embedding', TRUE) = 'true' THEN
        RETURN 768;
    ELSIF current_setting('app.test_embedding_dimension', TRUE) IS NOT NULL
          AND current_setting('app.test_embedding_dimension', TRUE) <> '' THEN
        RETURN current_setting('app.test_embedding_dimension', TRUE)::int;
    ELSE
        RETURN 384;
    END IF;
END;
$$ LANGUAGE plpgsql;

BEGIN;

CREATE TABLE IF NOT EXISTS accounts (
    "id" UUID PRIMARY KEY,
    "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    "name" TEXT,
    "username" TEXT,
    "email" TEXT NOT NULL,
    "avatarUrl" TEXT,
    "details" JSONB DEFAULT '{}'::jsonb
);

CREATE TABLE IF NOT EXISTS rooms (
    "id" UUID PRIMARY KEY,
    "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

DO $$
DECLARE
    vector_dim INTEGER;
BEGIN
    vector_dim := get_embedding_dimension();
    EXECUTE format('
        CREATE TABLE IF NOT EXISTS memories (
            "id" UUID PRIMARY KEY,
            "type" TEXT NOT NULL,
            "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
            "content" JSONB NOT NULL,
            "embedding" vector(%s),
            "userId" UUID REFERENCES accounts("id"),
            "agentId" UUID REFERENCES accounts("id"),
            "roomId" UUID REFERENCES rooms("id"),
            "unique" BOOLEAN DEFAULT true NOT NULL,
            CONSTRAINT fk_room FOREIGN KEY ("roomId") REFERENCES rooms("id") ON DELETE CASCADE,
            CONSTRAINT fk_user FOREIGN KEY ("userId") REFERENCES accounts("id") ON DELETE CASCADE,
            CONSTRAINT fk_agent FOREIGN KEY ("agentId") REFERENCES accounts("id") ON DELETE CASCADE
        )', vector_dim);
END $$;

CREATE TABLE IF NOT EXISTS goals (
    "id" UUID PRIMARY KEY,
    "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    "userId" UUID REFERENCES accounts("id"),
    "name" TEXT,
    "status" TEXT,
    "description" TEXT,
    "roomId" UUID REFERENCES rooms("id"),
    "objectives" JSONB DEFAULT '[]'::jsonb NOT NULL,
    CONSTRAINT fk_room FOREIGN KEY ("roomId") REFERENCES rooms("id") ON DELETE CASCADE,
    CONSTRAINT fk_user FOREIGN KEY ("userId") REFERENCES accounts("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS logs (
    "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    "userId" UUID NOT NULL REFERENCES accounts("id"),
    "body" JSONB NOT NULL,
    "type" TEXT NOT NULL,
    "roomId" UUID NOT NULL REFERENCES rooms("id"),
    CONSTRAINT fk_room FOREIGN KEY ("roomId") REFERENCES rooms("id") ON DELETE CASCADE,
    CONSTRAINT fk_user FOREIGN KEY ("userId") REFERENCES accounts("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS participants (
    "id" UUID PRIMARY KEY,
    "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    "userId" UUID REFERENCES accounts("id"),
    "roomId" UUID REFERENCES rooms("id"),
    "userState" TEXT,
    "last_message_read" TEXT,
    UNIQUE("userId", "roomId"),
    CONSTRAINT fk_room FOREIGN KEY ("roomId") REFERENCES rooms("id") ON DELETE CASCADE,
    CONSTRAINT fk_user FOREIGN KEY ("userId") REFERENCES accounts("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS relationships (
    "id" UUID PRIMARY KEY,
    "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
    "userA" UUID NOT NULL REFERENCES accounts("id"),
    "userB" UUID NOT NULL REFERENCES accounts("id"),
    "status" TEXT,
    "userId" UUID NOT NULL REFERENCES accounts("id"),
    CONSTRAINT fk_user_a FOREIGN KEY ("userA") REFERENCES accounts("id") ON DELETE CASCADE,
    CONSTRAINT fk_user_b FOREIGN KEY ("userB") REFERENCES accounts("id") ON DELETE CASCADE,
    CONSTRAINT fk_user FOREIGN KEY ("userId") REFERENCES accounts("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS cache (
    "key" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "value" JSONB DEFAULT '{}'::jsonb,
    "createdAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP,
    PRIMARY KEY ("key", "agentId")
);

DO $$
DECLARE
    vector_dim INTEGER;
BEGIN
    vector_dim := get_embedding_dimension();
    EXECUTE format('
        CREATE TABLE IF NOT EXISTS knowledge (
            "id" UUID PRIMARY KEY,
            "agentId" UUID REFERENCES accounts("id"),
            "content" JSONB NOT NULL,
            "embedding" vector(%s),
            "createdAt" TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
            "isMain" BOOLEAN DEFAULT FALSE,
            "originalId" UUID REFERENCES knowledge("id"),
            "chunkIndex" INTEGER,
            "isShared" BOOLEAN DEFAULT FALSE,
            CHECK(("isShared" = true AND "agentId" IS NULL) OR ("isShared" = false AND "agentId" IS NOT NULL))
        )', vector_dim);
END $$;

CREATE INDEX IF NOT EXISTS idx_memories_embedding ON memories USING hnsw ("embedding" vector_cosine_ops);
CREATE INDEX IF NOT EXISTS idx_memories_type_room ON memories("type", "roomId");
CREATE INDEX IF NOT EXISTS idx_participants_user ON participants("userId");
CREATE INDEX IF NOT EXISTS idx_participants_room ON participants("roomId");
CREATE INDEX IF NOT EXISTS idx_relationships_users ON relationships("userA", "userB");
CREATE INDEX IF NOT EXISTS idx_knowledge_agent ON knowledge("agentId");
CREATE INDEX IF NOT EXISTS idx_knowledge_agent_main ON knowledge("agentId", "isMain");
CREATE INDEX IF NOT EXISTS idx_knowledge_original ON knowledge("originalId");
CREATE INDEX IF NOT EXISTS idx_knowledge_created ON knowledge("agentId", "createdAt");
CREATE INDEX IF NOT EXISTS idx_knowledge_shared ON knowledge("isShared");
CREATE INDEX IF NOT EXISTS idx_knowledge_embedding ON knowledge USING ivfflat (embedding vector_cosine_ops);

COMMIT;
"""


def create_elizaos_schema(conn: psycopg.Connection[Any], *, dimension: int = 384) -> None:
    """Run ElizaOS 0.1.9's schema.sql with the embedding dimension it would pick (``conn`` in autocommit).

    Example:
        >>> create_elizaos_schema(conn, dimension=1536)      # doctest: +SKIP
    """
    settings = {1536: "app.use_openai_embedding", 1024: "app.use_ollama_embedding", 768: "app.use_gaianet_embedding"}
    if dimension in settings:
        conn.execute(f"SET {settings[dimension]} = 'true'")
    elif dimension != 384:
        conn.execute("SELECT set_config('app.test_embedding_dimension', %s, false)", (str(dimension),))
    conn.execute(ELIZAOS_SCHEMA)
