// Starts miniflare with worker.mjs and an in-memory D1 on 127.0.0.1, prints its URL on one line, and
// shuts down on SIGTERM/SIGINT or when stdin closes. The test suite (tests/d1_support.py) runs it.
import { Miniflare } from "miniflare";

const mf = new Miniflare({
  modules: true,
  scriptPath: new URL("./worker.mjs", import.meta.url).pathname,
  d1Databases: { DB: "agentlog-test-db" },
  d1Persist: false,
  bindings: { TOKEN: process.env.D1_TOKEN ?? "test-token" },
  host: "127.0.0.1",
  port: 0,
});
const url = await mf.ready;
process.stdout.write(url.href.replace(/\/$/, "") + "\n");
let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
