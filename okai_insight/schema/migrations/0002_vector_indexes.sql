-- okai-insight schema, version 2: the HNSW indexes (cosine) that serve ORDER BY embedding <=> q LIMIT k.
-- Not applied above 4000 dimensions, where pgvector has no HNSW support; searches are then exact.
CREATE INDEX idx_memories_embedding ON memories USING hnsw ("embedding" {vector_ops});
CREATE INDEX idx_knowledge_embedding ON knowledge USING hnsw ("embedding" {vector_ops});
