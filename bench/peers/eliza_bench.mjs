// Drive the real ElizaOS PostgreSQL adapter (@elizaos/adapter-postgres@0.1.9, installed in ./node) for bench/peers.py.
//
// Usage: node bench/peers/eliza_bench.mjs <job.json>
//
// job.json (written by bench/peers.py):
//   {"phase": "init" | "create" | "search", "socketDir": "/tmp/...", "database": "bench_eliza", "user": "postgres",
//    "dim": 384, "vectors": "/tmp/.../rows.f32", "meta": "/tmp/.../rows.json", "warmup": 10, "output": "/tmp/...json"}
//
// * init: the adapter's own init() (applies its schema.sql: tables, the HNSW cosine index, the btree indexes).
// * create: createMemory(memory, "messages") once per row of `vectors` (float32, row-major), with ids, users, rooms
//   and texts from `meta`; each call timed.
// * search: searchMemoriesByEmbedding(q, {tableName: "messages", count: 10}) once per row of `vectors`, after
//   `warmup` untimed calls; each call timed, the returned ids kept.
//
// The results go to `output` as JSON ({"phase", "times_ms": [...], "ids": [[...]], "total_s"}): the adapter logs to
// stdout through pino, so stdout is not a clean channel. Connection: node-postgres over the server's Unix socket
// (host = the socket directory).
//
// Example:
//   node bench/peers/eliza_bench.mjs /tmp/job.json && cat /tmp/out.json
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
// The package exports only an "import" condition, so resolve its entry point from its package.json by hand.
const pkgDir = path.join(here, "node", "node_modules", "@elizaos", "adapter-postgres");
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
const entry = path.join(pkgDir, pkg.exports["."].import.default);
const { PostgresDatabaseAdapter } = await import(pathToFileURL(entry).href);

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

const db = new PostgresDatabaseAdapter({ host: job.socketDir, database: job.database, user: job.user, max: 20 });
const result = { phase: job.phase, times_ms: [], ids: [], total_s: 0 };
const started = process.hrtime.bigint();
try {
  if (job.phase === "init") {
    await db.init();
  } else if (job.phase === "create") {
    const vectors = readVectors(job.vectors, job.dim);
    const meta = JSON.parse(fs.readFileSync(job.meta, "utf8"));
    for (let i = 0; i < vectors.length; i++) {
      const memory = {
        id: meta.ids[i],
        userId: meta.users[i],
        agentId: meta.agent,
        roomId: meta.rooms[i],
        content: { text: meta.texts[i], source: "bench" },
        embedding: vectors[i],
      };
      const t = process.hrtime.bigint();
      await db.createMemory(memory, "messages");
      result.times_ms.push(ms(t));
    }
  } else if (job.phase === "search") {
    const vectors = readVectors(job.vectors, job.dim);
    for (let i = 0; i < Math.min(job.warmup ?? 0, vectors.length); i++) {
      await db.searchMemoriesByEmbedding(vectors[i], { tableName: "messages", count: 10 });
    }
    for (const q of vectors) {
      const t = process.hrtime.bigint();
      const rows = await db.searchMemoriesByEmbedding(q, { tableName: "messages", count: 10 });
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
