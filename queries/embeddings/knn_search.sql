-- knn_search: the k nearest rows to a query vector, optionally within a room or an agent, the way an agent
-- searches (ORDER BY column <op> query LIMIT k, so an HNSW index serves it unless the planner is told not to).
-- The recall tuner runs it with index scans disabled (exact) and at each hnsw.ef_search (approximate).
-- Placeholders: {table}, {column}, {op}, {vtype}, {room}, {agent}.
-- Parameters: q (the query vector), k, room_id, agent_id (NULL: no filter).
-- Shows: id, distance (the operator's value, so recall can count ties with the k-th exact distance as hits).
-- Thresholds: pgvector README (hnsw.ef_search, hnsw.iterative_scan; filtering happens after the index scan).
SELECT id::text AS id, ({column} {op} %(q)s::{vtype})::float8 AS distance
FROM {table}
WHERE (%(room_id)s::uuid IS NULL OR {room} = %(room_id)s::uuid)
    AND (%(agent_id)s::uuid IS NULL OR {agent} = %(agent_id)s::uuid)
ORDER BY {column} {op} %(q)s::{vtype}
LIMIT %(k)s
