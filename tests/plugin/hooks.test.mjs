// llm_output → record (runRecord) and the before_agent_run budget gate, against a fake sidecar.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";

import { BUDGET_CHECK_TIMEOUT_MS, budgetGate, register, runRecord, unchecked } from "../../plugin/index.js";
import { makeClient } from "../../plugin/rpc.js";
import { freePort, makeApi, makeLogger, makeStateDir, sleep, startFakeSidecar, useStateDir } from "./helpers.mjs";

const TOKEN = "hook-token";

const EVENT = {
  runId: "run-42",
  sessionId: "sess-event",
  provider: "anthropic",
  model: "claude-sonnet-4-5",
  assistantTexts: ["hi"],
  usage: { input: 1200, output: 345, cacheRead: 5000, cacheWrite: 64, total: 6609, cost: { total: 0.0421 } },
};
const CTX = { agentId: "coder", sessionKey: "agent:coder:main", sessionId: "sess-ctx", channel: "telegram", runId: "run-42" };

describe("runRecord", () => {
  test("a full event → the record event", () => {
    const t0 = Date.now();
    const rec = runRecord(EVENT, CTX);
    const { timestamp, ...rest } = rec;
    assert.deepEqual(rest, {
      idempotencyKey: "openclaw-run:coder:sess-event:run-42",
      provider: "anthropic",
      model: "claude-sonnet-4-5",
      agent: "coder",
      input: 1200,
      output: 345,
      cacheRead: 5000,
      cacheWrite: 64,
      session: "agent:coder:main",
      channel: "telegram",
      costUsd: 0.0421,
    });
    assert.equal(new Date(timestamp).toISOString(), timestamp, "an ISO timestamp");
    assert.ok(Date.parse(timestamp) >= t0 - 1000 && Date.parse(timestamp) <= Date.now() + 1000);
  });

  test("session id from the event, else from ctx, else empty; agent from ctx, else main", () => {
    assert.equal(runRecord(EVENT, CTX).idempotencyKey, "openclaw-run:coder:sess-event:run-42");
    const noEventSession = { ...EVENT, sessionId: undefined };
    assert.equal(runRecord(noEventSession, CTX).idempotencyKey, "openclaw-run:coder:sess-ctx:run-42");
    assert.equal(runRecord(noEventSession, { agentId: "ops" }).idempotencyKey, "openclaw-run:ops::run-42");
    const bare = runRecord(noEventSession, undefined);
    assert.equal(bare.idempotencyKey, "openclaw-run:main::run-42");
    assert.equal(bare.agent, "main");
  });

  test("the same run gives the same idempotency key (a retry is counted once)", () => {
    assert.equal(runRecord(EVENT, CTX).idempotencyKey, runRecord({ ...EVENT }, { ...CTX }).idempotencyKey);
    assert.notEqual(runRecord(EVENT, CTX).idempotencyKey, runRecord({ ...EVENT, runId: "run-43" }, CTX).idempotencyKey);
  });

  test("no session or channel keys without sessionKey or channel", () => {
    const rec = runRecord(EVENT, { agentId: "coder" });
    assert.equal("session" in rec, false);
    assert.equal("channel" in rec, false);
  });

  test("costUsd only for a finite cost.total ≥ 0", () => {
    const cost = (total) => runRecord({ ...EVENT, usage: { ...EVENT.usage, cost: { total } } }, CTX);
    assert.equal(cost(0).costUsd, 0);
    assert.equal(cost(12.5).costUsd, 12.5);
    for (const bad of [-0.01, NaN, Infinity, -Infinity, "0.5", null, undefined]) {
      assert.equal("costUsd" in cost(bad), false, String(bad));
    }
    const { cost: _c, ...noCost } = EVENT.usage;
    assert.equal("costUsd" in runRecord({ ...EVENT, usage: noCost }, CTX), false);
  });

  test("negative, fractional, non-numeric or missing counts become 0", () => {
    const rec = runRecord({ ...EVENT, usage: { input: -5, output: 2.5, cacheRead: "100", cacheWrite: NaN } }, CTX);
    assert.deepEqual([rec.input, rec.output, rec.cacheRead, rec.cacheWrite], [0, 0, 0, 0]);
    const some = runRecord({ ...EVENT, usage: { output: 7 } }, CTX);
    assert.deepEqual([some.input, some.output, some.cacheRead, some.cacheWrite], [0, 7, 0, 0]);
    const big = runRecord({ ...EVENT, usage: { input: Number.MAX_SAFE_INTEGER, output: Infinity } }, CTX);
    assert.equal(big.input, Number.MAX_SAFE_INTEGER);
    assert.equal(big.output, 0);
  });

  test("null without usage, provider, model or runId", () => {
    for (const key of ["usage", "provider", "model", "runId"]) {
      const { [key]: _drop, ...ev } = EVENT;
      assert.equal(runRecord(ev, CTX), null, `without ${key}`);
      assert.equal(runRecord({ ...EVENT, [key]: "" }, CTX), null, `with an empty ${key}`);
    }
    assert.equal(runRecord({ ...EVENT, usage: null }, CTX), null);
    assert.equal(runRecord(undefined, CTX), null);
    assert.equal(runRecord(null, undefined), null);
  });
});

describe("hooks against the sidecar", () => {
  let state;
  let sidecar;
  let reply;
  let restoreStateDir;

  before(async () => {
    state = makeStateDir();
    state.writeToken(TOKEN);
    restoreStateDir = useStateDir(state.dir);
    sidecar = await startFakeSidecar({ token: TOKEN, rpc: (m, p) => reply(m, p) });
  });

  after(async () => {
    await sidecar?.close();
    restoreStateDir?.();
    state?.remove();
  });

  beforeEach(() => {
    reply = () => ({ result: { accepted: 1 } });
    sidecar.requests.length = 0;
  });

  function plugin(port, pluginConfig = {}) {
    const rec = makeApi({ mode: "full", pluginConfig: { ...pluginConfig, sidecar: { httpPort: port ?? sidecar.port } } });
    register(rec.api);
    return rec;
  }

  describe("llm_output", () => {
    test("posts exactly one record call per event, with the bearer token", async () => {
      const rec = plugin();
      const [{ handler }] = rec.hooks("llm_output");
      await handler(EVENT, CTX);
      const calls = sidecar.rpcCalls();
      assert.equal(calls.length, 1);
      assert.equal(calls[0].method, "token-dashboard.record");
      assert.equal(calls[0].params.events.length, 1);
      const { timestamp, ...sent } = calls[0].params.events[0];
      const { timestamp: _t, ...expected } = runRecord(EVENT, CTX);
      assert.deepEqual(sent, expected);
      assert.equal(typeof timestamp, "string");
      assert.equal(sidecar.requests.find((r) => r.rpc).headers.authorization, `Bearer ${TOKEN}`);
      await handler({ ...EVENT, runId: "run-43" }, CTX);
      assert.equal(sidecar.rpcCalls().length, 2, "one call per event");
      assert.deepEqual(rec.logs, []);
    });

    test("no usage → no call", async () => {
      const rec = plugin();
      const [{ handler }] = rec.hooks("llm_output");
      await handler({ ...EVENT, usage: undefined }, CTX);
      assert.equal(sidecar.rpcCalls().length, 0);
      assert.deepEqual(rec.logs, []);
    });

    test("sidecar down → swallowed, one warning naming the run", async () => {
      const rec = plugin(await freePort());
      const [{ handler }] = rec.hooks("llm_output");
      await assert.doesNotReject(handler(EVENT, CTX));
      assert.equal(rec.logs.length, 1);
      assert.equal(rec.logs[0].level, "warn");
      assert.match(rec.logs[0].args[0], /run-42/);
      assert.match(rec.logs[0].args[0], /not running/);
    });

    test("a JSON-RPC error from record → swallowed with a warning", async () => {
      reply = () => ({ error: { code: -32602, message: "bad event" } });
      const rec = plugin();
      const [{ handler }] = rec.hooks("llm_output");
      await assert.doesNotReject(handler(EVENT, CTX));
      assert.equal(sidecar.rpcCalls().length, 1);
      assert.deepEqual(rec.logs.map((l) => l.level), ["warn"]);
      assert.match(rec.logs[0].args[0], /bad event/);
    });

    test("a logger-less api does not turn a failure into a throw", async () => {
      const rec = makeApi({ mode: "full", pluginConfig: { sidecar: { httpPort: await freePort() } } });
      delete rec.api.logger;
      register(rec.api);
      await assert.doesNotReject(rec.hooks("llm_output")[0].handler(EVENT, CTX));
    });
  });

  describe("before_agent_run budget gate", () => {
    const GATE_CTX = { agentId: "coder", modelProviderId: "openai", modelId: "gpt-5.4", sessionKey: "agent:coder:main" };
    const client = (port) => makeClient({ port: port ?? sidecar.port, home: state.home });
    beforeEach(() => {
      unchecked.runs = 0;
      unchecked.since = null;
    });

    test("runs let through unchecked are reported with the next answered check, once", async () => {
      const down = await freePort();
      await budgetGate(client(down), GATE_CTX, false);
      await budgetGate(client(down), GATE_CTX, false);
      await budgetGate(client(down), GATE_CTX, true); // blocked, not let through: not counted
      assert.equal(unchecked.runs, 2);
      const since = unchecked.since;
      assert.ok(Date.parse(since) <= Date.now());
      reply = () => ({ result: { allow: true } });
      await budgetGate(client(), GATE_CTX, false);
      await budgetGate(client(), GATE_CTX, false);
      const [first, second] = sidecar.rpcCalls();
      assert.deepEqual(first.params, { agentId: "coder", provider: "openai", model: "gpt-5.4", uncheckedRuns: 2,
        uncheckedSince: since });
      assert.deepEqual(second.params, { agentId: "coder", provider: "openai", model: "gpt-5.4" });
    });

    test("asks budget.check with agent, provider and model; allow → pass", async () => {
      reply = () => ({ result: { allow: true } });
      const { logger, calls } = makeLogger();
      assert.deepEqual(await budgetGate(client(), GATE_CTX, false, logger), { outcome: "pass" });
      const [call] = sidecar.rpcCalls();
      assert.equal(call.method, "token-dashboard.budget.check");
      assert.deepEqual(call.params, { agentId: "coder", provider: "openai", model: "gpt-5.4" });
      assert.deepEqual(calls, []);
    });

    test("allow false → block with the sidecar's reason and budget ids", async () => {
      reply = () => ({ result: { allow: false, reason: "daily budget $5.00 reached", budgetIds: ["daily"] } });
      const out = await budgetGate(client(), GATE_CTX, false);
      assert.equal(out.outcome, "block");
      assert.equal(out.category, "cost_limit");
      assert.equal(typeof out.reason, "string");
      assert.match(out.message, /daily budget \$5\.00 reached/);
      assert.deepEqual(out.metadata, { budgetIds: ["daily"] });
    });

    test("sidecar down → pass with a warning, or block when failClosed", async () => {
      const port = await freePort();
      const { logger, calls } = makeLogger();
      assert.deepEqual(await budgetGate(client(port), GATE_CTX, false, logger), { outcome: "pass" });
      assert.deepEqual(calls.map((c) => c.level), ["warn"]);
      const closed = await budgetGate(client(port), GATE_CTX, true, logger);
      assert.equal(closed.outcome, "block");
      assert.equal(closed.category, "cost_limit");
      assert.ok(closed.message.length > 0);
    });

    test(`a sidecar slower than ${BUDGET_CHECK_TIMEOUT_MS} ms → the run goes through in time`, async () => {
      reply = async () => {
        await sleep(BUDGET_CHECK_TIMEOUT_MS + 400);
        return { result: { allow: false, reason: "late" } };
      };
      const t0 = Date.now();
      const out = await budgetGate(client(), GATE_CTX, false);
      const took = Date.now() - t0;
      assert.deepEqual(out, { outcome: "pass" });
      assert.ok(took < BUDGET_CHECK_TIMEOUT_MS + 1000, `answered in ${took} ms`);
    });

    test("the registered hook uses enforcement.failClosed", async () => {
      const port = await freePort();
      const closed = plugin(port, { enforcement: { mode: "block", failClosed: true } }).hooks("before_agent_run")[0];
      assert.equal((await closed.handler({ prompt: "hi", messages: [] }, GATE_CTX)).outcome, "block");
      const open = plugin(port, { enforcement: { mode: "block" } });
      const decision = await open.hooks("before_agent_run")[0].handler({ prompt: "hi", messages: [] }, GATE_CTX);
      assert.deepEqual(decision, { outcome: "pass" });
      assert.deepEqual(open.logs.map((l) => l.level), ["warn"]);
    });
  });
});
