// The panel route (/plugins/token-dashboard/, prefix) proxying GET/HEAD to the sidecar's web side.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, beforeEach, describe, test } from "node:test";

import { PANEL_PATH, panelHandler, register } from "../../plugin/index.js";
import { makeClient } from "../../plugin/rpc.js";
import { freePort, makeApi, makeStateDir, startFakeSidecar, useStateDir } from "./helpers.mjs";

const TOKEN = "panel-token";
const BIG = "x".repeat(1024 * 1024 + 7);

let state;
let sidecar;
let gateway; // a stand-in gateway: every request goes to `route`
let gatewayPort;
let route;
let restoreStateDir;

async function sidecarGet(req, res) {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.writeHead(401, { "content-type": "text/plain" });
    res.end("no token");
    return;
  }
  const url = new URL(req.url, "http://sidecar");
  if (url.pathname === "/") {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", etag: '"v1"',
      "x-internal": "dropped" });
    res.end("<!doctype html><title>tokendash</title>");
  } else if (url.pathname === "/assets/app.js") {
    res.writeHead(200, { "content-type": "text/javascript", "last-modified": "Tue, 01 Dec 2026 10:00:00 GMT" });
    res.end(`console.log(${JSON.stringify(url.search)});`);
  } else if (url.pathname === "/api/summary") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ path: url.pathname, query: Object.fromEntries(url.searchParams), rawSearch: url.search }));
  } else if (url.pathname === "/big") {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(BIG);
  } else if (url.pathname === "/empty") {
    res.writeHead(204);
    res.end();
  } else {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end(`no ${url.pathname}`);
  }
}

before(async () => {
  state = makeStateDir();
  state.writeToken(TOKEN);
  restoreStateDir = useStateDir(state.dir);
  sidecar = await startFakeSidecar({ token: TOKEN, get: sidecarGet });
  gateway = http.createServer(async (req, res) => {
    try {
      const handled = await route(req, res);
      if (handled !== true && !res.writableEnded) {
        res.statusCode = 599;
        res.end("handler did not return true");
      }
    } catch (err) {
      if (!res.headersSent) res.statusCode = 598;
      res.end(String(err));
    }
  });
  await new Promise((r) => gateway.listen(0, "127.0.0.1", r));
  gatewayPort = gateway.address().port;
});

after(async () => {
  gateway?.closeAllConnections();
  await new Promise((r) => (gateway ? gateway.close(r) : r()));
  await sidecar?.close();
  restoreStateDir?.();
  state?.remove();
});

beforeEach(() => {
  route = panelHandler(makeClient({ port: sidecar.port, home: state.home, timeoutMs: 2000 }));
  sidecar.requests.length = 0;
});

const at = (p, init) => fetch(`http://127.0.0.1:${gatewayPort}${p}`, { ...init, signal: AbortSignal.timeout(5000) });

describe("GET", () => {
  test("the panel root → the sidecar's / with the bearer token; status, content-type and body copied", async () => {
    const res = await at(PANEL_PATH);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.equal(res.headers.get("etag"), '"v1"');
    assert.equal(res.headers.get("x-internal"), null, "only the listed headers are copied");
    assert.equal(await res.text(), "<!doctype html><title>tokendash</title>");
    const [up] = sidecar.requests;
    assert.equal(up.method, "GET");
    assert.equal(up.url, "/");
    assert.equal(up.headers.authorization, `Bearer ${TOKEN}`);
  });

  test("path and query below the panel path go through", async () => {
    const res = await at(`${PANEL_PATH}api/summary?days=7&agent=a%20b&x=1&x=2`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const body = await res.json();
    assert.equal(body.path, "/api/summary");
    assert.equal(body.rawSearch, "?days=7&agent=a%20b&x=1&x=2");
    assert.equal(sidecar.requests[0].url, "/api/summary?days=7&agent=a%20b&x=1&x=2");
    const js = await at(`${PANEL_PATH}assets/app.js?v=3`);
    assert.equal(js.headers.get("last-modified"), "Tue, 01 Dec 2026 10:00:00 GMT");
    assert.equal(await js.text(), 'console.log("?v=3");');
  });

  test("an upstream 404 keeps its status and body", async () => {
    const res = await at(`${PANEL_PATH}nope`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(await res.text(), "no /nope");
  });

  test("an upstream 204 without a body", async () => {
    const res = await at(`${PANEL_PATH}empty`);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), "");
  });

  test("a 1 MiB body arrives whole", async () => {
    const res = await at(`${PANEL_PATH}big`);
    assert.equal(res.status, 200);
    const body = await res.text();
    assert.equal(body.length, BIG.length);
    assert.equal(body, BIG);
  });

  test("dot segments cannot leave the panel path", async () => {
    // Raw request paths (fetch would normalise them itself): the handler's URL parser resolves "..",
    // also spelt %2e%2e; a path that ends up outside the panel path is served the panel root.
    for (const raw of [`${PANEL_PATH}../../rpc`, `${PANEL_PATH}%2e%2e/%2e%2e/rpc`, `${PANEL_PATH}../token-dashboard-x/a`]) {
      sidecar.requests.length = 0;
      const status = await new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port: gatewayPort, path: raw }, (r) => {
          r.resume();
          r.on("end", () => resolve(r.statusCode));
        });
        req.on("error", reject);
      });
      assert.equal(status, 200, raw);
      assert.deepEqual(sidecar.requests.map((r) => [r.method, r.url]), [["GET", "/"]], raw);
    }
  });
});

describe("other methods and failures", () => {
  test("HEAD → status and content-type, no body", async () => {
    const res = await at(PANEL_PATH, { method: "HEAD" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(await res.text(), "");
    const raw = await new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port: gatewayPort, path: PANEL_PATH, method: "HEAD" }, (r) => {
        let n = 0;
        r.on("data", (d) => { n += d.length; });
        r.on("end", () => resolve({ status: r.statusCode, bytes: n }));
      });
      req.on("error", reject);
      req.end();
    });
    assert.deepEqual(raw, { status: 200, bytes: 0 });
  });

  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    test(`${method} → 405 with allow: GET, HEAD, the sidecar not asked`, async () => {
      const res = await at(`${PANEL_PATH}api/summary`, { method, body: method === "DELETE" ? undefined : "{}" });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "GET, HEAD");
      await res.arrayBuffer();
      assert.equal(sidecar.requests.length, 0);
    });
  }

  test("sidecar down → 503 text saying so", async () => {
    route = panelHandler(makeClient({ port: await freePort(), home: state.home, timeoutMs: 1000 }));
    const res = await at(PANEL_PATH);
    assert.equal(res.status, 503);
    assert.match(res.headers.get("content-type"), /^text\/plain/);
    assert.match(await res.text(), /sidecar is not running/);
  });

  test("the registered route's handler reads the token from the state dir", async () => {
    const rec = makeApi({ mode: "full", pluginConfig: { sidecar: { httpPort: sidecar.port } } });
    register(rec.api);
    route = rec.of("registerHttpRoute")[0].args[0].handler;
    const res = await at(`${PANEL_PATH}api/summary?days=1`);
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).query, { days: "1" });
    assert.equal(sidecar.requests[0].headers.authorization, `Bearer ${TOKEN}`);
  });
});
