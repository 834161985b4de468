// A gateway WebSocket client (protocol v4, openclaw-plugin-api.md §12.2) on Node 24's built-in WebSocket.
//
//   node ws.mjs <port> <token> [calls.json]
//
// Connects as a loopback backend client, then runs the calls in calls.json (a list of
// {method, params?, repeat?, intervalMs?, each?}) one after the other on the same connection. Prints one
// JSON object: {hello: <hello-ok payload>, results: [{method, ok, payload?, error?, ms: [per-call wall
// times], calls?: [{ok, at (epoch ms), error?}] with each: true}]} (the last call's answer).
import { readFileSync } from "node:fs";

const [port, token, callsFile] = process.argv.slice(2);
const calls = callsFile ? JSON.parse(readFileSync(callsFile, "utf8")) : [];
const ws = new WebSocket(`ws://127.0.0.1:${port}`);
const waiting = new Map();
let nextId = 1;

function request(method, params) {
  const id = `r${nextId++}`;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    ws.send(JSON.stringify({ type: "req", id, method, params: params ?? {} }));
  });
}

const hello = new Promise((resolve, reject) => {
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(String(ev.data));
    if (msg.type === "event" && msg.event === "connect.challenge") {
      ws.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: {
        minProtocol: 4, maxProtocol: 4,
        client: { id: "gateway-client", version: "0.0.1", platform: "linux", mode: "backend" },
        role: "operator", scopes: ["operator.read", "operator.write"], auth: { token } } }));
    } else if (msg.type === "res" && msg.id === "c1") {
      if (msg.ok) resolve(msg.payload);
      else reject(new Error(`connect refused: ${JSON.stringify(msg.error)}`));
    } else if (msg.type === "res" && waiting.has(msg.id)) {
      const done = waiting.get(msg.id);
      waiting.delete(msg.id);
      done(msg);
    }
  });
  ws.addEventListener("error", () => reject(new Error(`cannot connect to ws://127.0.0.1:${port}`)));
});

const timer = setTimeout(() => {
  console.error("ws.mjs: timed out");
  process.exit(2);
}, 120000);
try {
  const helloOk = await hello;
  const results = [];
  for (const c of calls) {
    const ms = [];
    const each = [];
    let last;
    for (let i = 0; i < (c.repeat ?? 1); i++) {
      if (i && c.intervalMs) await new Promise((r) => setTimeout(r, c.intervalMs));
      const t0 = performance.now();
      last = await request(c.method, c.params);
      ms.push(performance.now() - t0);
      if (c.each) each.push({ ok: last.ok, at: Date.now(), error: last.error });
    }
    const r = { method: c.method, ok: last.ok, payload: last.payload, error: last.error, ms };
    if (c.each) r.calls = each;
    results.push(r);
  }
  console.log(JSON.stringify({ hello: helloOk, results }));
} finally {
  clearTimeout(timer);
  ws.close();
}
