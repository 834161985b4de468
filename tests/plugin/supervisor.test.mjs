// plugin/supervisor.js: pythonFor, sidecarEnv and makeSupervisor with real child processes
// (node running tests/plugin/fake-sidecar.mjs, which serves /healthz on FAKE_PORT).
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";

import { makeClient } from "../../plugin/rpc.js";
import { BACKOFF_MS, makeSupervisor, pythonFor, sidecarEnv } from "../../plugin/supervisor.js";
import { FIXTURE_SIDECAR, alive, freePort, makeLogger, makeStateDir, sleep, until } from "./helpers.mjs";

let tmp;
const supervisors = [];
const pids = new Set();

before(() => {
  tmp = makeStateDir();
});

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.stop();
});

after(() => {
  // Safety net: nothing this file started may outlive it.
  for (const pid of pids) {
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
  tmp?.remove();
});

describe("pythonFor", () => {
  test("cfg.sidecar.python first", () => {
    assert.equal(pythonFor({ sidecar: { python: "/opt/py/bin/python3.12" } }, tmp.dir), "/opt/py/bin/python3.12");
  });

  test("then <rootDir>/.venv/bin/python when it exists", () => {
    const root = path.join(tmp.dir, "plugin-root");
    mkdirSync(path.join(root, ".venv", "bin"), { recursive: true });
    const venv = path.join(root, ".venv", "bin", "python");
    writeFileSync(venv, "#!/bin/sh\n");
    chmodSync(venv, 0o755);
    assert.equal(pythonFor({}, root), venv);
    assert.equal(pythonFor({ sidecar: {} }, root), venv);
    assert.equal(pythonFor({ sidecar: { python: "python3.11" } }, root), "python3.11");
  });

  test("else python3", () => {
    assert.equal(pythonFor({}, path.join(tmp.dir, "no-such-root")), "python3");
    assert.equal(pythonFor({}, undefined), "python3");
    assert.equal(pythonFor(undefined, undefined), "python3");
    assert.equal(pythonFor({ sidecar: { python: "" } }, undefined), "python3");
  });
});

describe("sidecarEnv", () => {
  const where = { home: "/state/token-dashboard", stateDir: "/state", baseEnv: { PATH: "/usr/bin", HOME: "/root" } };

  test("defaults: home, state dir, loopback addresses, the base env kept", () => {
    const env = sidecarEnv({}, where);
    assert.equal(env.TOKENDASH_HOME, "/state/token-dashboard");
    assert.equal(env.OPENCLAW_STATE_DIR, "/state");
    assert.equal(env.TOKENDASH_HTTP_ADDR, "127.0.0.1:18790");
    assert.equal(env.TOKENDASH_GRPC_ADDR, "127.0.0.1:18791");
    assert.equal(env.PYTHONUNBUFFERED, "1");
    assert.equal(env.PATH, "/usr/bin");
    assert.equal(env.HOME, "/root");
    for (const k of ["TOKENDASH_BUDGETS", "TOKENDASH_ALERT_THRESHOLDS", "TOKENDASH_GATEWAY_URL", "OPENCLAW_GATEWAY_TOKEN",
      "TOKENDASH_DATABASE_URL", "TOKENDASH_CURRENCY"]) {
      assert.equal(k in env, false, `${k} unset without a setting`);
    }
    assert.deepEqual(where.baseEnv, { PATH: "/usr/bin", HOME: "/root" }, "the base env is not modified");
    assert.equal(sidecarEnv(undefined, where).TOKENDASH_HTTP_ADDR, "127.0.0.1:18790");
  });

  test("ports: http and grpc addresses, grpcPort 0 → off", () => {
    const env = sidecarEnv({ sidecar: { httpPort: 19001, grpcPort: 19002 } }, where);
    assert.equal(env.TOKENDASH_HTTP_ADDR, "127.0.0.1:19001");
    assert.equal(env.TOKENDASH_GRPC_ADDR, "127.0.0.1:19002");
    assert.equal(sidecarEnv({ sidecar: { grpcPort: 0 } }, where).TOKENDASH_GRPC_ADDR, "off");
  });

  test("objects and arrays as JSON, scalars as strings", () => {
    const budgets = [{ id: "daily", scope: { agent: "coder" }, period: "day", limitUsd: 5 }];
    const alertThresholds = { balanceUsd: 10, budgetPercent: [80, 100] };
    const env = sidecarEnv({
      budgets, alertThresholds, enabledProviders: ["openai", "anthropic"], enforcement: { mode: "block", failClosed: true },
      webhooks: [{ url: "http://127.0.0.1:9/hook" }], sources: { transcripts: true },
      pollIntervalMinutes: 15, historyRetentionDays: 400, currency: "EUR", timezone: "Europe/Berlin",
      sidecar: { databaseUrl: "postgresql+psycopg://u@127.0.0.1/td" },
    }, where);
    assert.deepEqual(JSON.parse(env.TOKENDASH_BUDGETS), budgets);
    assert.deepEqual(JSON.parse(env.TOKENDASH_ALERT_THRESHOLDS), alertThresholds);
    assert.deepEqual(JSON.parse(env.TOKENDASH_ENABLED_PROVIDERS), ["openai", "anthropic"]);
    assert.deepEqual(JSON.parse(env.TOKENDASH_ENFORCEMENT), { mode: "block", failClosed: true });
    assert.deepEqual(JSON.parse(env.TOKENDASH_WEBHOOKS), [{ url: "http://127.0.0.1:9/hook" }]);
    assert.deepEqual(JSON.parse(env.TOKENDASH_SOURCES), { transcripts: true });
    assert.equal(env.TOKENDASH_POLL_INTERVAL_MINUTES, "15");
    assert.equal(env.TOKENDASH_HISTORY_RETENTION_DAYS, "400");
    assert.equal(env.TOKENDASH_CURRENCY, "EUR");
    assert.equal(env.TOKENDASH_TIMEZONE, "Europe/Berlin");
    assert.equal(env.TOKENDASH_DATABASE_URL, "postgresql+psycopg://u@127.0.0.1/td");
    assert.deepEqual(JSON.parse(sidecarEnv({ budgets: [] }, where).TOKENDASH_BUDGETS), []);
    assert.equal("TOKENDASH_BUDGETS" in sidecarEnv({ budgets: null }, where), false);
  });

  test("gateway port and token from the gateway config", () => {
    const env = sidecarEnv({}, { ...where, gatewayConfig: { port: 18789, auth: { mode: "token", token: "gw-secret" } } });
    assert.equal(env.TOKENDASH_GATEWAY_URL, "http://127.0.0.1:18789");
    assert.equal(env.OPENCLAW_GATEWAY_TOKEN, "gw-secret");
    const none = sidecarEnv({}, { ...where, gatewayConfig: { auth: { token: "" } } });
    assert.equal("TOKENDASH_GATEWAY_URL" in none, false);
    assert.equal("OPENCLAW_GATEWAY_TOKEN" in none, false);
    const secretRef = sidecarEnv({}, { ...where, gatewayConfig: { port: 1, auth: { token: { source: "env", id: "X" } } } });
    assert.equal("OPENCLAW_GATEWAY_TOKEN" in secretRef, false, "only a plain string token is passed on");
  });

  test("an inherited TOKENDASH_TOKEN does not reach the sidecar", () => {
    const env = sidecarEnv({}, { ...where, baseEnv: { ...where.baseEnv, TOKENDASH_TOKEN: "from-the-shell" } });
    assert.equal("TOKENDASH_TOKEN" in env, false);
  });
});

describe("makeSupervisor", () => {
  /** A supervisor of the fake sidecar on a fresh port; logs, exits and pids are recorded. */
  async function supervise({ env = {}, command = process.execPath, args = [FIXTURE_SIDECAR], listenPort, ...opts } = {}) {
    const port = await freePort();
    const client = makeClient({ port, home: tmp.home, timeoutMs: 1000 });
    const { logger, calls: logs } = makeLogger();
    const exits = [];
    const sup = makeSupervisor({
      command,
      args,
      env: { PATH: process.env.PATH, FAKE_PORT: String(listenPort ?? port), ...env },
      cwd: path.join(tmp.dir, `cwd-${port}`),
      client,
      logger,
      onExit: (code, sig) => exits.push({ code, sig }),
      backoff: [150, 400],
      readyTimeoutMs: 5000,
      killAfterMs: 5000,
      ...opts,
    });
    supervisors.push(sup);
    const track = () => { if (sup.pid) pids.add(sup.pid); return sup.pid; };
    const listening = () => logs.filter((l) => l.level === "info" && /fake sidecar listening/.test(l.args[0])).length;
    return { sup, client, logs, exits, track, listening, port };
  }

  test("the default backoff never shrinks", () => {
    assert.ok(BACKOFF_MS.length > 1);
    assert.ok(BACKOFF_MS.every((v, i) => i === 0 || v >= BACKOFF_MS[i - 1]));
  });

  test("start resolves once /healthz answers; stdout and stderr go to the logger", async () => {
    const { sup, client, logs, track } = await supervise({ env: { FAKE_DELAY_MS: "400" } });
    assert.equal(sup.pid, null);
    const t0 = Date.now();
    await sup.start();
    const took = Date.now() - t0;
    const pid = track();
    assert.ok(took >= 350, `start waited for the listener (${took} ms)`);
    assert.ok(Number.isInteger(pid) && alive(pid));
    assert.equal(await client.healthy(500), true);
    await until(() => logs.some((l) => l.level === "info" && /^tokendash: fake sidecar listening/.test(l.args[0])), 2000,
      "the stdout line");
    assert.ok(logs.some((l) => l.level === "warn" && /^tokendash: fake sidecar starting/.test(l.args[0])));
    assert.equal(logs.filter((l) => l.level === "error").length, 0);
  });

  test("the child runs in cwd with the given env", async () => {
    const { sup, client, track } = await supervise({ env: { TOKENDASH_CURRENCY: "EUR" } });
    await sup.start();
    track();
    const got = await client.call("token-dashboard.status", {});
    assert.equal(got.pid, sup.pid);
    assert.equal(got.env.TOKENDASH_CURRENCY, "EUR");
    assert.match(got.cwd, /cwd-\d+$/);
  });

  test("a child killed with SIGKILL is restarted after the first backoff step and answers again", async () => {
    const { sup, client, logs, exits, track } = await supervise();
    await sup.start();
    const first = track();
    const t0 = Date.now();
    process.kill(first, "SIGKILL");
    await until(async () => sup.pid && sup.pid !== first && (await client.healthy(300)), 4000, "the restarted sidecar");
    const took = Date.now() - t0;
    const second = track();
    assert.ok(took >= 140, `restarted after the first backoff step, not before (${took} ms)`);
    assert.ok(took < 3000, `restarted soon (${took} ms)`);
    assert.equal(alive(first), false);
    assert.deepEqual(exits, [{ code: null, sig: "SIGKILL" }]);
    assert.ok(logs.some((l) => l.level === "warn" && /exited \(code=null signal=SIGKILL\); restarting in 150 ms/.test(l.args[0])));

    // Healthy again resets the backoff: a second crash waits the first step again.
    await sleep(400);
    process.kill(second, "SIGKILL");
    await until(async () => sup.pid && sup.pid !== second && (await client.healthy(300)), 4000, "the second restart");
    track();
    const waits = logs.map((l) => /restarting in (\d+) ms/.exec(l.args[0])?.[1]).filter(Boolean);
    assert.deepEqual(waits, ["150", "150"]);
  });

  test("a child that keeps dying waits longer each time", async () => {
    const dying = path.join(tmp.dir, "dying");
    const { sup, logs, exits, track } = await supervise({ env: { FAKE_EXIT_IF: dying }, backoff: [50, 100, 150] });
    await sup.start();
    writeFileSync(dying, "");
    process.kill(track(), "SIGKILL");
    await until(() => exits.length >= 5, 3000, "five exits");
    await sup.stop();
    assert.ok(exits.slice(1).every((e) => e.code === 3 && e.sig === null));
    const waits = logs.map((l) => /restarting in (\d+) ms/.exec(l.args[0])?.[1]).filter(Boolean).map(Number);
    assert.deepEqual(waits.slice(0, 4), [50, 100, 150, 150]);
  });

  test("a child that dies while starting fails the start at once, with no relaunch", async () => {
    const { sup, logs, exits } = await supervise({ env: { FAKE_EXIT: "3" }, backoff: [50], readyTimeoutMs: 2000 });
    const t0 = Date.now();
    await assert.rejects(sup.start(), /did not answer/);
    assert.ok(Date.now() - t0 < 1500, "without waiting for the ready timeout");
    await sleep(300);
    assert.equal(exits.length, 1);
    assert.equal(logs.filter((l) => /restarting in/.test(l.args[0])).length, 0);
  });

  test("stop sends SIGTERM, nothing remains and nothing restarts", async () => {
    const { sup, exits, track, listening } = await supervise();
    await sup.start();
    const pid = track();
    await sup.stop();
    assert.equal(sup.pid, null);
    assert.equal(alive(pid), false);
    await until(() => exits.length === 1, 2000, "onExit");
    assert.deepEqual(exits, [{ code: null, sig: "SIGTERM" }]);
    assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
    await sleep(500);
    assert.equal(exits.length, 1, "no restart after stop");
    assert.equal(listening(), 1);
    await assert.doesNotReject(sup.stop(), "a second stop is harmless");
  });

  test("a child that ignores SIGTERM gets SIGKILL after killAfterMs", async () => {
    const { sup, exits, track } = await supervise({ env: { FAKE_IGNORE_TERM: "1" }, killAfterMs: 300 });
    await sup.start();
    const pid = track();
    const t0 = Date.now();
    await sup.stop();
    const took = Date.now() - t0;
    assert.ok(took >= 280, `waited killAfterMs before SIGKILL (${took} ms)`);
    assert.ok(took < 3000, `then killed at once (${took} ms)`);
    assert.equal(alive(pid), false);
    // stop() resolves on "exit"; onExit is called on "close", once the child's pipes are drained too.
    await until(() => exits.length === 1, 2000, "onExit");
    assert.deepEqual(exits, [{ code: null, sig: "SIGKILL" }]);
    assert.equal(alive(pid), false);
  });

  test("stop during the backoff wait cancels the restart", async () => {
    const { sup, exits, track, listening } = await supervise({ backoff: [300] });
    await sup.start();
    const pid = track();
    process.kill(pid, "SIGKILL");
    await until(() => exits.length === 1, 2000, "the exit");
    await sup.stop();
    await sleep(600);
    assert.equal(sup.pid, null);
    assert.equal(listening(), 1, "no second launch");
    assert.equal(exits.length, 1);
  });

  test("start after stop launches a new child (service restart on reload)", async () => {
    const { sup, client, track } = await supervise();
    await sup.start();
    const first = track();
    await sup.stop();
    await sup.start();
    const second = track();
    assert.notEqual(second, first);
    assert.equal(await client.healthy(500), true);
    assert.equal(alive(first), false);
  });

  test("stop before start is harmless", async () => {
    const { sup } = await supervise();
    await assert.doesNotReject(sup.stop());
  });

  test("a command that does not exist makes start reject", async () => {
    const missing = path.join(tmp.dir, "no-such-python");
    const { sup, logs } = await supervise({ command: missing, args: ["-m", "tokendash", "serve"], readyTimeoutMs: 3000 });
    const t0 = Date.now();
    await assert.rejects(sup.start(), /did not answer/);
    assert.ok(Date.now() - t0 < 2500, "rejects without waiting for the ready timeout");
    assert.ok(logs.some((l) => l.level === "error" && l.args[0].includes(`cannot start ${missing}`)
      && /ENOENT/.test(l.args[0])));
  });

  test("a rejected start does not keep relaunching", async () => {
    const missing = path.join(tmp.dir, "no-such-python");
    const { sup, logs } = await supervise({ command: missing, args: [], backoff: [50], readyTimeoutMs: 1000 });
    await assert.rejects(sup.start());
    await sleep(300);
    assert.equal(logs.filter((l) => l.level === "error").length, 1, "one launch attempt only");
  });

  test("a start that times out leaves no child behind", async () => {
    // The fake listens on another port than the one the supervisor polls: never healthy.
    const { sup, track } = await supervise({ listenPort: await freePort(), readyTimeoutMs: 600 });
    const started = sup.start();
    await until(() => sup.pid, 2000, "the child");
    const pid = track();
    await assert.rejects(started, /did not answer/);
    assert.equal(alive(pid), false);
  });
});
