// Drive ElizaOS 1.x's own SQL adapter (@elizaos/plugin-sql 1.7.2 + @elizaos/core 1.7.2, pinned by this directory's
// package-lock.json) for bench/peers.py, like ../eliza_bench.mjs does for 0.1.9.
//
// Usage: node bench/peers/eliza1/eliza1_bench.mjs <job.json>
//
// job.json (written by bench/peers.py):
//   {"phase": "init" | "create" | "search", "url": "postgresql://postgres:@/bench_eliza1?host=/tmp/...",
//    "agent": uuid, "world": uuid, "users": [uuid...], "rooms": [uuid...], "dim": 384,
//    "vectors": "/tmp/.../rows.f32", "meta": "/tmp/.../rows.json", "room": uuid|null, "warmup": 10, "output": "..."}
//
// * init: what an agent's start does (the plugin's Drizzle migrations, ensureEmbeddingDimension), then the agent,
//   its world, the users as entities and the rooms, through the adapter's own create* calls.
// * create: createMemory(memory, "messages") once per row of `vectors` (float32, row-major), `unique` left unset so
//   the plugin runs its 0.95 near-duplicate search first, as the runtime does; each call timed.
// * search: searchMemories({tableName: "messages", embedding, count: 10, roomId}) once per row of `vectors` after
//   `warmup` untimed calls; each call timed, the returned ids kept.
//
// Results go to `output` as JSON ({"phase", "times_ms", "ids", "total_s"}): stdout belongs to ElizaOS's logger.
import fs from "node:fs";

process.env.LOG_LEVEL = process.env.LOG_LEVEL || "error";
const sqlPlugin = await import("@elizaos/plugin-sql");
const plugin = sqlPlugin.default;
const { createDatabaseAdapter } = sqlPlugin;

const job = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

function readVectors(file, dim) {
  const buf = fs.readFileSync(file);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const rows = all.length / dim;
  const out = [];
  for (let i = 0; i < rows; i++) out.push(Array.from(all.subarray(i * dim, (i + 1) * dim)));
  return out;
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

const db = createDatabaseAdapter({ postgresUrl: job.url }, job.agent);
const result = { phase: job.phase, times_ms: [], ids: [], total_s: 0 };
const started = process.hrtime.bigint();
try {
  await db.init();
  if (job.phase === "init") {
    await db.runPluginMigrations([{ name: plugin.name, schema: plugin.schema }], { verbose: false, force: false, dryRun: false });
    await db.ensureEmbeddingDimension(job.dim);
    await db.createAgent({ id: job.agent, name: "bench", username: "bench", bio: ["a benchmark agent"] });
    await db.createWorld({ id: job.world, name: "bench world", agentId: job.agent, serverId: "bench" });
    await db.createEntities([
      { id: job.agent, names: ["bench"], agentId: job.agent, metadata: {} },
      ...job.users.map((id, i) => ({ id, names: [`user${i}`], agentId: job.agent, metadata: {} })),
    ]);
    await db.createRooms(
      job.rooms.map((id, i) => ({ id, name: `room${i}`, agentId: job.agent, source: "bench", type: "GROUP", worldId: job.world })),
    );
  } else if (job.phase === "create") {
    await db.ensureEmbeddingDimension(job.dim);
    const vectors = readVectors(job.vectors, job.dim);
    const meta = JSON.parse(fs.readFileSync(job.meta, "utf8"));
    for (let i = 0; i < vectors.length; i++) {
      const memory = {
        id: meta.ids[i],
        entityId: meta.users[i],
        agentId: job.agent,
        roomId: meta.rooms[i],
        worldId: job.world,
        content: { text: meta.texts[i], source: "bench" },
        embedding: vectors[i],
      };
      const t = process.hrtime.bigint();
      await db.createMemory(memory, "messages");
      result.times_ms.push(ms(t));
    }
  } else if (job.phase === "search") {
    await db.ensureEmbeddingDimension(job.dim);
    const vectors = readVectors(job.vectors, job.dim);
    const params = (q) => ({ tableName: "messages", embedding: q, count: 10, ...(job.room ? { roomId: job.room } : {}) });
    for (let i = 0; i < Math.min(job.warmup ?? 0, vectors.length); i++) await db.searchMemories(params(vectors[i]));
    for (const q of vectors) {
      const t = process.hrtime.bigint();
      const rows = await db.searchMemories(params(q));
      result.times_ms.push(ms(t));
      result.ids.push(rows.map((r) => r.id));
    }
  } else {
    throw new Error(`unknown phase ${job.phase}`);
  }
  result.total_s = ms(started) / 1000;
  fs.writeFileSync(job.output, JSON.stringify(result));
} finally {
  await db.close();
}
process.exit(0);
