// okai-insight's PGlite server: @electric-sql/pglite-socket 0.0.22's server, serving clients ONE AFTER ANOTHER.
//
// Why not pglite-socket's own script: with --max-connections=1 it answers a connection that arrives before the
// previous client's socket 'close' event has been handled with the raw text "Too many connections\n" (libpq reads
// its first byte: "expected authentication request from server, but received T"), and Node's net server drops
// further connections outright (server.maxConnections). A client that closes and reconnects at once (psycopg, the
// diagnostics runner) always wins that race. Newer pglite-socket releases need PGlite 0.4+, not ElizaOS 1.x's 0.3.
//
// Here a new connection waits (up to --wait-ms) until the previous client has gone, then the shared backend is
// reset (ROLLBACK of an open transaction, DISCARD ALL: prepared statements, temp tables, SETs and advisory locks
// of the previous client never reach the next one, as a connection pooler's reset query does), then it is served.
// A client still waiting after --wait-ms gets a PostgreSQL FATAL error (53300) instead of raw text.
//
// Usage: node serve.mjs --db=DIR --path=SOCKET [--extensions=vector,fuzzystrmatch] [--wait-ms=30000]
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    db: { type: "string" },
    path: { type: "string" },
    extensions: { type: "string", default: "" },
    "wait-ms": { type: "string", default: "30000" },
  },
});
if (!values.db || !values.path) {
  console.error("usage: node serve.mjs --db=DIR --path=SOCKET [--extensions=a,b] [--wait-ms=N]");
  process.exit(2);
}
const waitMs = Number.parseInt(values["wait-ms"], 10);

async function loadExtensions(names) {
  const loaded = {};
  for (const name of names.split(",").map((s) => s.trim()).filter(Boolean)) {
    const module = name === "vector"
      ? await import("@electric-sql/pglite/vector")
      : await import(`@electric-sql/pglite/contrib/${name}`);
    loaded[name] = module[name];
  }
  return loaded;
}

/** A PostgreSQL ErrorResponse (FATAL): what libpq shows as the reason a connection was refused. */
function fatal(code, message) {
  const fields = Buffer.concat(
    [["S", "FATAL"], ["V", "FATAL"], ["C", code], ["M", message]].map(([k, v]) =>
      Buffer.concat([Buffer.from(k), Buffer.from(v + "\0")])
    ).concat([Buffer.from("\0")]),
  );
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}

const READY = "okai-pglite: accepting connections";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class SequentialServer extends PGLiteSocketServer {
  constructor(options) {
    // maxConnections here only sizes Node's accept limit: this class admits one client at a time itself.
    super({ ...options, maxConnections: 64 });
    this.admission = Promise.resolve();
  }

  handleConnection(socket) {
    let gone = false;
    socket.once("close", () => { gone = true; });
    socket.on("error", () => { gone = true; });
    // One admission at a time, in arrival order, so two waiting clients can never both see a free slot.
    this.admission = this.admission.then(() => this.admit(socket, () => gone)).catch((error) => {
      console.error("admission failed:", error);
      socket.destroy();
    });
    return this.admission;
  }

  async admit(socket, isGone) {
    const deadline = Date.now() + waitMs;
    while (this.handlers.size > 0 && this.active && !isGone()) {
      if (Date.now() > deadline) {
        socket.end(fatal("53300", "PGlite serves one connection at a time and another client is still connected"));
        return;
      }
      await sleep(5);
    }
    if (isGone() || !this.active) {
      socket.destroy(); // the client gave up while waiting: attaching it would leave a handler that never closes
      return;
    }
    await this.resetSession();
    if (isGone()) {
      socket.destroy();
      return;
    }
    socket.removeAllListeners("close");
    socket.removeAllListeners("error");
    await super.handleConnection(socket);
  }

  async resetSession() {
    try {
      if (this.db.isInTransaction()) await this.db.exec("ROLLBACK");
      await this.db.exec("DISCARD ALL");
      // DISCARD ALL's RESET ALL falls back to the single-user backend's boot values (search_path = pg_catalog),
      // not to what PGlite set when it opened: put PGlite's own session settings back.
      for (const { name, setting } of this.baseline) {
        await this.db.query("SELECT set_config($1, $2, false)", [name, setting]);
      }
    } catch (error) {
      console.error("resetting the session between clients failed:", error);
    }
  }
}

const db = new PGlite(values.db, { extensions: await loadExtensions(values.extensions) });
await db.waitReady;
const server = new SequentialServer({ db, path: values.path });
// What PGlite itself SET when it opened (search_path = public): every client starts from this.
server.baseline = (await db.query("SELECT name, setting FROM pg_settings WHERE source = 'session'")).rows;
let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  await db.close(); // a clean close: PGlite checkpoints its directory
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
await server.start();
console.log(READY); // okai_insight.pglite waits for this line: the socket file exists before it accepts
