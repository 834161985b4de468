// A stand-in sidecar run as a real child process by the supervisor and service tests.
// Listens on 127.0.0.1:<port> (FAKE_PORT, else the port of TOKENDASH_HTTP_ADDR), answers GET /healthz,
// and POST /rpc (bearer token from TOKENDASH_HOME/token when TOKENDASH_HOME is set) with what it was
// started with: its argv, cwd, pid and TOKENDASH_* environment.
// FAKE_IGNORE_TERM=1: ignore SIGTERM (so only SIGKILL ends it). FAKE_EXIT=<code>: exit at once.
// FAKE_DELAY_MS: listen only after that long. Prints one line on stdout once listening, one on stderr at start.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";

if (process.env.FAKE_EXIT) process.exit(Number(process.env.FAKE_EXIT));
// FAKE_EXIT_IF=<path>: exit 3 at once while that file exists (a sidecar that starts dying later).
if (process.env.FAKE_EXIT_IF && existsSync(process.env.FAKE_EXIT_IF)) process.exit(3);
if (process.env.FAKE_IGNORE_TERM === "1") process.on("SIGTERM", () => {});

const port = Number(process.env.FAKE_PORT || (process.env.TOKENDASH_HTTP_ADDR ?? "").split(":").pop());
let token = null;
if (process.env.TOKENDASH_HOME) {
  token = randomBytes(8).toString("hex");
  mkdirSync(process.env.TOKENDASH_HOME, { recursive: true });
  writeFileSync(path.join(process.env.TOKENDASH_HOME, "token"), token);
}

const server = http.createServer(async (req, res) => {
  let body = "";
  for await (const chunk of req) body += chunk;
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok: true, pid: process.pid }));
    return;
  }
  if (req.method === "POST" && req.url === "/rpc") {
    const msg = JSON.parse(body);
    res.writeHead(200, { "content-type": "application/json" });
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      res.end(JSON.stringify({ jsonrpc: "2.0", id: msg.id, error: { code: -32001, message: "unauthorized" } }));
      return;
    }
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("TOKENDASH_")
      || k === "OPENCLAW_STATE_DIR" || k === "OPENCLAW_GATEWAY_TOKEN"));
    res.end(JSON.stringify({ jsonrpc: "2.0", id: msg.id,
      result: { method: msg.method, pid: process.pid, argv: process.argv.slice(2), cwd: process.cwd(), env } }));
    return;
  }
  res.writeHead(404);
  res.end();
});
process.stderr.write(`fake sidecar starting (pid ${process.pid})\n`);
setTimeout(() => {
  server.listen(port, "127.0.0.1", () => process.stdout.write(`fake sidecar listening on ${port}\n`));
}, Number(process.env.FAKE_DELAY_MS || 0));
