// Shared stand-ins for the plugin tests: a recording OpenClaw `api`, a recording Commander `program`,
// an in-process fake sidecar (JSON-RPC at POST /rpc, GET /healthz, bearer token) and temp dirs.
// Not a test file itself (CI runs tests/plugin/*.test.mjs).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

export const FIXTURE_SIDECAR = new URL("./fake-sidecar.mjs", import.meta.url).pathname;

/** A logger that records every call; `calls` stays empty when nothing was logged. */
export function makeLogger() {
  const calls = [];
  const logger = {};
  for (const level of ["debug", "info", "warn", "error"]) {
    logger[level] = (...args) => calls.push({ level, args });
  }
  return { logger, calls };
}

/** The OpenClaw plugin `api` stand-in: every register*() / on() call is recorded in `calls` (in order). */
export function makeApi({ mode = "full", pluginConfig, rootDir } = {}) {
  const calls = [];
  const rec = (kind) => (...args) => { calls.push({ kind, args }); };
  const { logger, calls: logs } = makeLogger();
  const api = {
    id: "token-dashboard",
    name: "Token Dashboard",
    source: "test",
    rootDir,
    registrationMode: mode,
    config: {},
    pluginConfig,
    logger,
    registerCli: rec("registerCli"),
    registerGatewayMethod: rec("registerGatewayMethod"),
    registerCommand: rec("registerCommand"),
    registerTool: rec("registerTool"),
    registerHttpRoute: rec("registerHttpRoute"),
    registerService: rec("registerService"),
    registerHook: rec("registerHook"),
    registerProvider: rec("registerProvider"),
    on: rec("on"),
    session: { controls: { registerControlUiDescriptor: rec("registerControlUiDescriptor") } },
  };
  const of = (kind) => calls.filter((c) => c.kind === kind);
  return {
    api,
    calls,
    logs,
    of,
    methods: () => new Map(of("registerGatewayMethod").map((c) => [c.args[0], { handler: c.args[1], opts: c.args[2] }])),
    command: (name) => of("registerCommand").map((c) => c.args[0]).find((c) => c.name === name),
    tool: (name) => of("registerTool").map((c) => c.args[0]).find((t) => t.name === name),
    hooks: (name) => of("on").filter((c) => c.args[0] === name).map((c) => ({ handler: c.args[1], opts: c.args[2] })),
    service: () => of("registerService")[0]?.args[0],
  };
}

/** A Commander-shaped stand-in: `.command(name)` returns a child; the other builders chain and record. */
export function makeProgram(name = "openclaw") {
  const cmd = {
    name,
    desc: undefined,
    options: [],
    args: [],
    actionFn: undefined,
    children: [],
    command(childName) {
      const child = makeProgram(childName);
      cmd.children.push(child);
      return child;
    },
    description(d) { cmd.desc = d; return cmd; },
    option(flags, description, dflt) { cmd.options.push({ flags, description, dflt }); return cmd; },
    argument(spec, description, dflt) { cmd.args.push({ spec, description, dflt }); return cmd; },
    action(fn) { cmd.actionFn = fn; return cmd; },
    child(childName) { return cmd.children.find((c) => c.name === childName); },
  };
  return cmd;
}

/** A fresh OpenClaw state dir; `writeToken` puts <stateDir>/token-dashboard/token where the plugin reads it. */
export function makeStateDir() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tokendash-plugin-test-"));
  return {
    dir,
    home: path.join(dir, "token-dashboard"),
    writeToken(token) {
      mkdirSync(path.join(dir, "token-dashboard"), { recursive: true });
      writeFileSync(path.join(dir, "token-dashboard", "token"), `${token}\n`);
    },
    remove() { rmSync(dir, { recursive: true, force: true }); },
  };
}

function listen(server, port = 0) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

function close(server) {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A 127.0.0.1 port nobody listens on (listened on, then closed). */
/** Point OPENCLAW_STATE_DIR at ``dir`` (where the plugin finds the sidecar's token); returns the undo. */
export function useStateDir(dir) {
  const saved = process.env.OPENCLAW_STATE_DIR;
  process.env.OPENCLAW_STATE_DIR = dir;
  return () => {
    if (saved === undefined) delete process.env.OPENCLAW_STATE_DIR;
    else process.env.OPENCLAW_STATE_DIR = saved;
  };
}

export async function freePort() {
  const s = http.createServer();
  const port = await listen(s);
  await close(s);
  return port;
}

/**
 * An in-process fake sidecar. `rpc(method, params)` returns `{ result }` or `{ error }` (default: echo the
 * params); `get(req, res)` answers any other GET (default 404). Every request is recorded in `requests`.
 * `mode: "html"` answers /rpc with a non-JSON body.
 */
export async function startFakeSidecar({ token, rpc, get, mode } = {}) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const entry = { method: req.method, url: req.url, headers: req.headers, body };
    requests.push(entry);
    if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
      return;
    }
    if (req.url === "/rpc" && req.method === "POST") {
      if (mode === "html") {
        res.writeHead(502, { "content-type": "text/html" });
        res.end("<html><body>Bad gateway</body></html>");
        return;
      }
      const send = (status, obj) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(obj));
      };
      let msg;
      try {
        msg = JSON.parse(body);
      } catch {
        send(400, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
        return;
      }
      entry.rpc = msg;
      if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
        send(401, { jsonrpc: "2.0", id: msg.id, error: { code: -32001, message: "unauthorized" } });
        return;
      }
      const out = rpc ? await rpc(msg.method, msg.params) : { result: { echo: msg.params } };
      send(200, { jsonrpc: "2.0", id: msg.id, ...out });
      return;
    }
    if (get && (req.method === "GET" || req.method === "HEAD")) {
      await get(req, res, entry);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  const port = await listen(server);
  return {
    port,
    requests,
    rpcCalls: () => requests.filter((r) => r.rpc).map((r) => r.rpc),
    close: () => close(server),
  };
}

/** Resolve after `ms`. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value or `ms` passes (then throw). */
export async function until(fn, ms = 3000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** True while a process with this pid exists (process.kill(pid, 0) throws ESRCH once it is gone). */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if (err.code === "ESRCH") return false;
    throw err;
  }
}
