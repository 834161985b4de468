// The registered service end to end with a stand-in interpreter: start() launches
// `<python> -m tokendash serve` in <stateDir>/token-dashboard with the settings in its environment, the
// gateway methods reach it with the token it wrote, and stop() leaves no process behind.
import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";

import { register } from "../../plugin/index.js";
import { FIXTURE_SIDECAR, alive, freePort, makeApi, makeLogger, makeStateDir, until, useStateDir } from "./helpers.mjs";

let state;
let decoy;
let python;
let port;
let service;
let restoreStateDir;
const pids = new Set();

const BUDGETS = [{ id: "daily", period: "day", limitUsd: 5 }];

before(async () => {
  state = makeStateDir();
  decoy = makeStateDir();
  // The CLI's way to the state dir points elsewhere: the service's ctx.stateDir must win.
  restoreStateDir = useStateDir(decoy.dir);
  python = path.join(state.dir, "python-standin");
  writeFileSync(python, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FIXTURE_SIDECAR)} "$@"\n`);
  chmodSync(python, 0o755);
  port = await freePort();
});

after(async () => {
  await service?.stop();
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  restoreStateDir?.();
  state?.remove();
  decoy?.remove();
});

async function call(rec, name, params = {}) {
  const out = [];
  await rec.methods().get(`token-dashboard.${name}`).handler({ params, respond: (...a) => out.push(a) });
  assert.equal(out.length, 1);
  return out[0];
}

test("service start → sidecar up with its settings; methods reach it; stop → gone", async () => {
  const full = makeApi({ mode: "full", pluginConfig: {
    sidecar: { python, httpPort: port, grpcPort: 0 }, budgets: BUDGETS, currency: "EUR",
  } });
  register(full.api);
  service = full.service();
  const { logger, calls: serviceLogs } = makeLogger();

  // Before start: the sidecar is not running.
  const [okBefore, , errBefore] = await call(full, "status");
  assert.equal(okBefore, false);
  assert.equal(errBefore.code, "UNAVAILABLE");

  await service.start({ stateDir: state.dir, config: { gateway: { port: 18789, auth: { token: "gw-secret" } } }, logger,
    workspaceDir: state.dir });

  const home = path.join(state.dir, "token-dashboard");
  assert.ok(existsSync(path.join(home, "token")), "the sidecar wrote its token under <stateDir>/token-dashboard");
  const [ok, result, err] = await call(full, "status", { days: 1 });
  assert.equal(err, undefined);
  assert.equal(ok, true);
  pids.add(result.pid);
  assert.equal(result.method, "token-dashboard.status");
  assert.deepEqual(result.argv, ["-m", "tokendash", "serve"]);
  assert.equal(result.cwd, home);
  assert.equal(result.env.TOKENDASH_HOME, home);
  assert.equal(result.env.OPENCLAW_STATE_DIR, state.dir);
  assert.equal(result.env.TOKENDASH_HTTP_ADDR, `127.0.0.1:${port}`);
  assert.equal(result.env.TOKENDASH_GRPC_ADDR, "off");
  assert.deepEqual(JSON.parse(result.env.TOKENDASH_BUDGETS), BUDGETS);
  assert.equal(result.env.TOKENDASH_CURRENCY, "EUR");
  assert.equal(result.env.TOKENDASH_GATEWAY_URL, "http://127.0.0.1:18789");
  assert.equal(result.env.OPENCLAW_GATEWAY_TOKEN, "gw-secret");
  assert.equal(readFileSync(path.join(home, "token"), "utf8").length > 0, true);

  // Another registration in the same process (OpenClaw's later "discovery" one) finds the same sidecar.
  const discovery = makeApi({ mode: "discovery", pluginConfig: { sidecar: { python, httpPort: port, grpcPort: 0 } } });
  register(discovery.api);
  const [ok2, again] = await call(discovery, "health");
  assert.equal(ok2, true);
  assert.equal(again.pid, result.pid);

  await until(() => serviceLogs.some((l) => l.level === "info" && /fake sidecar listening/.test(l.args[0])), 2000,
    "the sidecar's stdout in the service logger");
  assert.deepEqual(full.logs, [], "register()'s logger stays silent");
  assert.deepEqual(discovery.logs, []);

  await service.stop();
  service = null;
  assert.equal(alive(result.pid), false, "no process outlives stop()");
  const [okAfter, , errAfter] = await call(full, "status");
  assert.equal(okAfter, false);
  assert.equal(errAfter.code, "UNAVAILABLE");
  assert.match(errAfter.message, /not running/);
});

test("stop without start is harmless", async () => {
  const rec = makeApi({ mode: "full", pluginConfig: { sidecar: { python, httpPort: port } } });
  register(rec.api);
  await assert.doesNotReject(rec.service().stop({ stateDir: state.dir, logger: makeLogger().logger }));
});
