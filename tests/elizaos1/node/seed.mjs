// Writes a real ElizaOS 1.x database with the plugin's OWN adapter (@elizaos/plugin-sql 1.7.2), for tests/elizaos1.
//
// Usage: node seed.mjs job.json
//   job = {"target": "postgres", "url": "postgresql://...", "out": "summary.json"}
//       | {"target": "pglite", "dataDir": "/path/to/dir", "out": "summary.json"}
//       optional "memories": 300 (per room pair of the first agent), "secondAgent": true
//
// The schema comes from the plugin's own migrator (adapter.runPluginMigrations([plugin])), exactly as an agent's
// start creates it; nothing here writes DDL. The data is deterministic (a seeded PRNG, fixed timestamps, ids from
// core's stringToUuid), so two runs give the same rows except for the columns ElizaOS fills with now() (agents'
// created_at, logs', participants' and relationships' created_at, the random ids of embeddings and logs).
// The summary (counts, the searches' results) goes to job.out: stdout belongs to ElizaOS's logger.
import { readFileSync, writeFileSync } from "node:fs";

process.env.LOG_LEVEL = process.env.LOG_LEVEL || "error";
const { stringToUuid } = await import("@elizaos/core");
const sqlPlugin = await import("@elizaos/plugin-sql");
const plugin = sqlPlugin.default;
const { createDatabaseAdapter } = sqlPlugin;

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const N_MEMORIES = job.memories ?? 300;

// mulberry32: a tiny seeded PRNG, so the fixture is the same on every machine.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(20240601);
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

function unit(v) {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}
// Topics: a few cluster centres, memories are a centre plus noise (so searches find real neighbours).
function centres(k, dim) {
  return Array.from({ length: k }, () => unit(Array.from({ length: dim }, gauss)));
}
function near(centre, noise) {
  return unit(centre.map((x) => x + noise * gauss()));
}

const BASE = Date.UTC(2025, 0, 1, 12, 0, 0);
const minutes = (m) => BASE + m * 60000;

async function seedAgent(spec) {
  const agentId = stringToUuid(`okai-fixture-agent-${spec.name}`);
  const config = job.target === "postgres" ? { postgresUrl: job.url } : { dataDir: job.dataDir };
  const db = createDatabaseAdapter(config, agentId);
  await db.init();
  // What the runtime does at every start: the plugin's Drizzle migrator creates or updates the schema.
  await db.runPluginMigrations([{ name: plugin.name, schema: plugin.schema }], { verbose: false, force: false, dryRun: false });
  await db.ensureEmbeddingDimension(spec.dim);

  await db.createAgent({ id: agentId, name: spec.name, username: spec.name.toLowerCase(), bio: [`${spec.name}, a fixture agent`], createdAt: minutes(0), updatedAt: minutes(0) });
  const worldId = stringToUuid(`okai-fixture-world-${spec.name}`);
  await db.createWorld({ id: worldId, name: `${spec.name}'s world`, agentId, serverId: "fixture-server" });

  const users = Array.from({ length: 5 }, (_, i) => ({
    id: stringToUuid(`okai-fixture-user-${spec.name}-${i}`),
    names: [`user${i}`, `User ${i}`],
    agentId,
    metadata: { source: "fixture" },
  }));
  await db.createEntities([{ id: agentId, names: [spec.name], agentId, metadata: {} }, ...users]);

  const rooms = ["general", "support"].slice(0, spec.rooms).map((name) => ({
    id: stringToUuid(`okai-fixture-room-${spec.name}-${name}`),
    name,
    agentId,
    source: "discord",
    type: "GROUP",
    worldId,
    channelId: `chan-${name}`,
  }));
  await db.createRooms(rooms);
  for (const [r, room] of rooms.entries()) {
    const members = [agentId, ...users.filter((_, i) => (i + r) % 2 === 0 || i === 0).map((u) => u.id)];
    await db.addParticipantsRoom(members, room.id);
    await db.setParticipantUserState(room.id, members[1], r === 0 ? "FOLLOWED" : "MUTED");
  }

  const topics = centres(8, spec.dim);
  const written = { messages: 0, documents: 0, knowledge: 0, duplicates: 0, zeros: 0, nonFinite: 0 };
  const vectors = [];
  const zeroIds = [];
  for (let i = 0; i < spec.memories; i++) {
    const room = rooms[i % rooms.length];
    const user = users[i % users.length];
    const entityId = i % 4 === 0 ? agentId : user.id;
    let embedding;
    if (i > 0 && i % 23 === 0) {
      // An exact duplicate of an earlier vector (a repeated message).
      embedding = vectors[Math.floor(rand() * vectors.length)];
      written.duplicates += 1;
    } else if (i % 61 === 7) {
      embedding = new Array(spec.dim).fill(0); // a failed embedding stored as zeros
      written.zeros += 1;
    } else if (i % 97 === 11) {
      embedding = new Array(spec.dim).fill(0);
      embedding[3] = Number.NaN; // ElizaOS turns non-finite values into 0: a zero vector again
      written.nonFinite += 1;
    } else {
      embedding = near(topics[i % topics.length], 0.03);
    }
    vectors.push(embedding);
    const id = stringToUuid(`okai-fixture-memory-${spec.name}-${i}`);
    if (embedding.every((x) => !Number.isFinite(x) || x === 0)) zeroIds.push(id);
    await db.createMemory(
      {
        id,
        entityId,
        agentId,
        roomId: room.id,
        worldId,
        content: { text: `memory ${i} about topic ${i % topics.length} in ${room.name}`, source: "discord" },
        metadata: { type: "message", source: "fixture" },
        embedding,
        createdAt: minutes(10 + i),
      },
      "messages",
    );
    written.messages += 1;
  }

  // Knowledge the way ElizaOS stores it: one "documents" memory and its "knowledge" fragments.
  for (let d = 0; d < spec.documents; d++) {
    const documentId = stringToUuid(`okai-fixture-document-${spec.name}-${d}`);
    await db.createMemory(
      {
        id: documentId,
        entityId: agentId,
        agentId,
        roomId: rooms[0].id,
        worldId,
        content: { text: `document ${d}: a manual` },
        metadata: { type: "document", source: "knowledge", title: `manual-${d}.md`, timestamp: minutes(5000 + d) },
        createdAt: minutes(5000 + d),
      },
      "documents",
    );
    written.documents += 1;
    for (let f = 0; f < 4; f++) {
      await db.createMemory(
        {
          id: stringToUuid(`okai-fixture-fragment-${spec.name}-${d}-${f}`),
          entityId: agentId,
          agentId,
          roomId: rooms[0].id,
          worldId,
          content: { text: `document ${d}, fragment ${f}` },
          metadata: { type: "fragment", documentId, position: f, timestamp: minutes(5000 + d) },
          embedding: near(topics[(d + f) % topics.length], 0.02),
          createdAt: minutes(5000 + d),
        },
        "knowledge",
      );
      written.knowledge += 1;
    }
  }

  for (let l = 0; l < spec.logs; l++) {
    await db.log({ body: { action: "REPLY", step: l, ok: l % 5 !== 0 }, entityId: users[l % users.length].id, roomId: rooms[l % rooms.length].id, type: l % 3 === 0 ? "action" : "useModel" });
  }
  for (let c = 0; c < spec.cache; c++) {
    await db.setCache(`fixture/${spec.name}/${c}`, { value: c, when: minutes(c) });
  }
  await db.createRelationship({ sourceEntityId: users[0].id, targetEntityId: users[1].id, tags: ["friend"], metadata: { since: 2025 } });
  await db.createRelationship({ sourceEntityId: agentId, targetEntityId: users[2].id, tags: ["knows"], metadata: {} });

  // ElizaOS's searches, as the runtime runs them (the plugin's searchMemories).
  const searches = [];
  const probe = async (label, params) => {
    const rows = await db.searchMemories({ tableName: "messages", count: 10, ...params });
    searches.push({
      label,
      ids: rows.map((r) => r.id),
      similarity: rows.map((r) => (Number.isFinite(Number(r.similarity)) ? Number(r.similarity) : String(r.similarity))),
    });
  };
  await probe("topic0-room0", { embedding: near(topics[0], 0.01), roomId: rooms[0].id, match_threshold: 0.5 });
  await probe("topic1-any-room", { embedding: near(topics[1], 0.01), match_threshold: 0.5 });
  await probe("topic2-strict", { embedding: near(topics[2], 0.01), match_threshold: 0.95 });
  await probe("zero-query", { embedding: new Array(spec.dim).fill(0), count: 5 });

  const summary = {
    agentId,
    name: spec.name,
    dimension: spec.dim,
    column: `dim_${spec.dim}`,
    worldId,
    rooms: rooms.map((r) => r.id),
    users: users.map((u) => u.id),
    written,
    zeroVectorMemoryIds: zeroIds,
    counts: {
      messagesByRoom: await Promise.all(rooms.map((r) => db.countMemories(r.id, false, "messages"))),
    },
    searches,
  };
  return { db, summary };
}

const specs = [{ name: "Ada", dim: 384, rooms: 2, memories: N_MEMORIES, documents: 3, logs: 20, cache: 5 }];
if (job.secondAgent) specs.push({ name: "Grace", dim: 768, rooms: 1, memories: 12, documents: 0, logs: 2, cache: 1 });

const started = Date.now();
const agents = [];
let last;
for (const spec of specs) {
  const { db, summary } = await seedAgent(spec);
  agents.push(summary);
  last = db;
}
await last.close();
writeFileSync(job.out, JSON.stringify({ target: job.target, agents, elapsedMs: Date.now() - started }, null, 2));
process.exit(0);
