// Gateway methods, /tokens and /burn, the token_usage tool and the CLI actions against a fake sidecar
// (JSON-RPC at POST /rpc with the bearer token from <stateDir>/token-dashboard/token).
import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";

import { asText, gatewayError, register, tokensCall } from "../../plugin/index.js";
import { SidecarError, SidecarUnavailable } from "../../plugin/rpc.js";
import { freePort, makeApi, makeProgram, makeStateDir, startFakeSidecar, useStateDir } from "./helpers.mjs";

const TOKEN = "test-token-0123456789";
const READ = ["status", "cached", "providers", "burn", "usage", "budgets", "budget.check", "alerts", "health"];
const WRITE = ["record", "refresh"];

let state;
let sidecar;
let reply; // (method, params) => { result } | { error }; reset before each test
let restoreStateDir;

before(async () => {
  state = makeStateDir();
  state.writeToken(TOKEN);
  // The service has not started in this process, so the plugin finds the token through the env.
  restoreStateDir = useStateDir(state.dir);
  sidecar = await startFakeSidecar({ token: TOKEN, rpc: (m, p) => reply(m, p) });
});

after(async () => {
  await sidecar?.close();
  restoreStateDir?.();
  state?.remove();
});

beforeEach(() => {
  reply = (method, params) => ({ result: { method, params } });
  sidecar.requests.length = 0;
  state.writeToken(TOKEN);
});

/** register() in full mode against `port` (default: the fake sidecar). */
function plugin(port = sidecar.port, pluginConfig = {}) {
  const rec = makeApi({ mode: "full", pluginConfig: { ...pluginConfig, sidecar: { httpPort: port } } });
  register(rec.api);
  return rec;
}

/** Call a gateway method handler the way the gateway does; return the single respond() call. */
async function invoke(rec, name, params) {
  const { handler } = rec.methods().get(`token-dashboard.${name}`);
  const responses = [];
  await handler({ req: { id: "r1" }, params, client: null, respond: (...a) => responses.push(a), context: {} });
  assert.equal(responses.length, 1, "respond() called exactly once");
  return responses[0];
}

describe("gateway methods", () => {
  for (const name of [...READ, ...WRITE]) {
    test(`${name}: params go through untouched, the result comes back untouched`, async () => {
      const params = { days: 7, groupBy: ["provider", "model"], filters: { agent: ["main", "ü"] }, nested: { a: [1, null, { b: false }] },
        format: "text" };
      const result = { text: "Today $1.23", rows: [{ provider: "openai", costUsd: 0.5, tokens: 12 }], empty: {}, n: null };
      reply = () => ({ result });
      const [ok, payload, error] = await invoke(plugin(), name, params);
      assert.equal(ok, true);
      assert.deepEqual(payload, result);
      assert.equal(error, undefined);
      const [call] = sidecar.rpcCalls();
      assert.equal(call.jsonrpc, "2.0");
      assert.equal(call.method, `token-dashboard.${name}`);
      assert.deepEqual(call.params, params);
      const [req] = sidecar.requests.filter((r) => r.rpc);
      assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
      assert.match(req.headers["content-type"], /^application\/json/);
    });
  }

  test("missing params are sent as {}", async () => {
    const [ok, payload] = await invoke(plugin(), "status", undefined);
    assert.equal(ok, true);
    assert.deepEqual(payload, { method: "token-dashboard.status", params: {} });
  });

  test("a result of null, false or a string comes back as it is", async () => {
    for (const result of [null, false, 0, "plain", []]) {
      reply = () => ({ result });
      const [ok, payload] = await invoke(plugin(), "health", {});
      assert.equal(ok, true);
      assert.deepEqual(payload, result);
    }
  });

  test("the token is read again on each call (the sidecar writes a new one when it restarts)", async () => {
    const rec = plugin();
    await invoke(rec, "status", {});
    state.writeToken("second-token");
    await invoke(rec, "status", {});
    const auths = sidecar.requests.filter((r) => r.rpc).map((r) => r.headers.authorization);
    assert.deepEqual(auths, [`Bearer ${TOKEN}`, "Bearer second-token"]);
  });

  for (const code of [-32602, -32601, -32600]) {
    test(`JSON-RPC error ${code} → INVALID_REQUEST with the sidecar's message`, async () => {
      reply = () => ({ error: { code, message: "days must be a positive integer", data: { field: "days" } } });
      const response = await invoke(plugin(), "usage", { days: -1 });
      assert.equal(response[0], false);
      assert.equal(response[1], undefined);
      assert.equal(response[2].code, "INVALID_REQUEST");
      assert.equal(response[2].message, "days must be a positive integer");
    });
  }

  test("another JSON-RPC error (-32000) → UNAVAILABLE naming tokendash", async () => {
    reply = () => ({ error: { code: -32000, message: "database is locked" } });
    const [ok, payload, error] = await invoke(plugin(), "status", {});
    assert.equal(ok, false);
    assert.equal(payload, undefined);
    assert.equal(error.code, "UNAVAILABLE");
    assert.match(error.message, /tokendash/);
    assert.match(error.message, /database is locked/);
  });

  test("sidecar not listening → UNAVAILABLE, retryable, saying the sidecar is not running", async () => {
    const port = await freePort();
    for (const name of ["status", "record"]) {
      const [ok, payload, error] = await invoke(plugin(port), name, {});
      assert.equal(ok, false);
      assert.equal(payload, undefined);
      assert.equal(error.code, "UNAVAILABLE");
      assert.equal(error.retryable, true);
      assert.match(error.message, /sidecar is not running/);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    }
  });

  test("sidecar answering non-JSON → UNAVAILABLE", async () => {
    const html = await startFakeSidecar({ mode: "html" });
    try {
      const [ok, payload, error] = await invoke(plugin(html.port), "status", {});
      assert.equal(ok, false);
      assert.equal(payload, undefined);
      assert.equal(error.code, "UNAVAILABLE");
      assert.equal(error.retryable, true);
      assert.match(error.message, /HTTP 502/);
    } finally {
      await html.close();
    }
  });

  test("no token file → the call is made without a token and the sidecar's refusal comes back", async () => {
    state.remove();
    try {
      const [ok, , error] = await invoke(plugin(), "status", {});
      assert.equal(ok, false);
      assert.equal(error.code, "UNAVAILABLE");
      assert.match(error.message, /unauthorized/);
      assert.match(sidecar.requests.find((r) => r.rpc).headers.authorization, /^Bearer\s*$/);
    } finally {
      state = makeStateDir();
      process.env.OPENCLAW_STATE_DIR = state.dir;
      state.writeToken(TOKEN);
    }
  });
});

describe("gatewayError and asText", () => {
  test("maps the error classes", () => {
    assert.deepEqual(gatewayError(new SidecarError(-32602, "bad")), { code: "INVALID_REQUEST", message: "bad" });
    assert.deepEqual(gatewayError(new SidecarUnavailable("down")), { code: "UNAVAILABLE", message: "down", retryable: true });
    assert.equal(gatewayError(new Error("boom")).code, "UNAVAILABLE");
    assert.equal(gatewayError(undefined).code, "UNAVAILABLE");
  });

  test("text when the sidecar has one, else a JSON block", () => {
    assert.equal(asText({ text: "hello", other: 1 }), "hello");
    assert.equal(asText({ text: "" }), "");
    assert.equal(asText({ a: 1 }), '```json\n{\n  "a": 1\n}\n```');
    assert.equal(asText(null), "```json\nnull\n```");
  });
});

describe("tokensCall", () => {
  const status = { method: "status", params: { format: "text" } };
  for (const args of [undefined, null, "", "   ", "today", "week", "month", " today  "]) {
    test(`${JSON.stringify(args)} → status text`, () => assert.deepEqual(tokensCall(args), status));
  }
  test("burn and providers → text", () => {
    assert.deepEqual(tokensCall("burn"), { method: "burn", params: { format: "text" } });
    assert.deepEqual(tokensCall("providers"), { method: "providers", params: { format: "text" } });
  });
  test("budgets, alerts, health → their text", () => {
    for (const m of ["budgets", "alerts", "health"]) {
      assert.deepEqual(tokensCall(m), { method: m, params: { format: "text" } });
    }
  });
  test("agent <id> → usage for that agent by model", () => {
    assert.deepEqual(tokensCall("agent coder"),
      { method: "usage", params: { groupBy: ["agent", "model"], filters: { agent: ["coder"] } } });
    assert.deepEqual(tokensCall("  agent   ops-bot  "),
      { method: "usage", params: { groupBy: ["agent", "model"], filters: { agent: ["ops-bot"] } } });
  });
  test("agent without an id → usage error", () => {
    const r = tokensCall("agent");
    assert.equal(r.method, undefined);
    assert.match(r.error, /agent <id>/);
  });
  for (const word of ["yesterday", "frobnicate", "Burn", "--json"]) {
    test(`unknown word ${word} → error naming it`, () => {
      const r = tokensCall(word);
      assert.equal(r.method, undefined);
      assert.ok(r.error.includes(JSON.stringify(word)), r.error);
    });
  }
});

describe("/tokens and /burn", () => {
  const run = (rec, name, args) => rec.command(name).handler({ args, commandBody: `/${name} ${args ?? ""}`, channel: "test",
    isAuthorizedSender: true, config: {} });

  test("/tokens returns the sidecar's text", async () => {
    reply = (method, params) => ({ result: { text: `${method} ${JSON.stringify(params)}` } });
    const out = await run(plugin(), "tokens", "");
    assert.deepEqual(out, { text: 'token-dashboard.status {"format":"text"}' });
    assert.deepEqual(await run(plugin(), "tokens", "week"), out);
  });

  test("/tokens maps its argument to the sidecar call", async () => {
    const rec = plugin();
    for (const [args, method, params] of [
      ["burn", "burn", { format: "text" }],
      ["providers", "providers", { format: "text" }],
      ["budgets", "budgets", { format: "text" }],
      ["alerts", "alerts", { format: "text" }],
      ["health", "health", { format: "text" }],
      ["agent main", "usage", { groupBy: ["agent", "model"], filters: { agent: ["main"] } }],
    ]) {
      sidecar.requests.length = 0;
      await run(rec, "tokens", args);
      const calls = sidecar.rpcCalls();
      assert.equal(calls.length, 1, args);
      assert.equal(calls[0].method, `token-dashboard.${method}`, args);
      assert.deepEqual(calls[0].params, params, args);
    }
  });

  test("/tokens without text in the answer → a JSON block", async () => {
    reply = () => ({ result: { budgets: [{ id: "daily", spentUsd: 1.5 }] } });
    const out = await run(plugin(), "tokens", "budgets");
    assert.equal(out.isError, undefined);
    assert.ok(out.text.startsWith("```json\n"));
    assert.ok(out.text.endsWith("\n```"));
    assert.deepEqual(JSON.parse(out.text.slice(8, -4)), { budgets: [{ id: "daily", spentUsd: 1.5 }] });
  });

  test("/tokens agent (no id) and unknown words → isError, no sidecar call", async () => {
    const rec = plugin();
    for (const args of ["agent", "nonsense", "agnet main"]) {
      const out = await run(rec, "tokens", args);
      assert.equal(out.isError, true, args);
      assert.equal(typeof out.text, "string");
      assert.ok(out.text.length > 0);
    }
    assert.equal(sidecar.rpcCalls().length, 0);
  });

  test("/tokens while the sidecar is down → isError with the UNAVAILABLE message", async () => {
    const out = await run(plugin(await freePort()), "tokens", "");
    assert.equal(out.isError, true);
    assert.match(out.text, /sidecar is not running/);
  });

  test("/tokens with an invalid-request answer → isError with the sidecar's message", async () => {
    reply = () => ({ error: { code: -32602, message: "unknown agent" } });
    assert.deepEqual(await run(plugin(), "tokens", "agent ghost"), { text: "unknown agent", isError: true });
  });

  test("/burn asks burn as text", async () => {
    reply = () => ({ result: { text: "openai: $2.00/h, runway 3 d" } });
    assert.deepEqual(await run(plugin(), "burn", ""), { text: "openai: $2.00/h, runway 3 d" });
    const [call] = sidecar.rpcCalls();
    assert.equal(call.method, "token-dashboard.burn");
    assert.deepEqual(call.params, { format: "text" });
    const down = await run(plugin(await freePort()), "burn", "");
    assert.equal(down.isError, true);
    assert.match(down.text, /not running/);
  });
});

describe("token_usage tool", () => {
  test("execute returns the cached text and the answer as details", async () => {
    reply = () => ({ result: { text: "Today: $3.10", today: { costUsd: 3.1 } } });
    const out = await plugin().tool("token_usage").execute("call-1", {});
    assert.deepEqual(out, { content: [{ type: "text", text: "Today: $3.10" }],
      details: { text: "Today: $3.10", today: { costUsd: 3.1 } } });
    const [call] = sidecar.rpcCalls();
    assert.equal(call.method, "token-dashboard.cached");
    assert.deepEqual(call.params, { format: "text" });
  });

  test("execute while the sidecar is down → the message as text, the error as details", async () => {
    const out = await plugin(await freePort()).tool("token_usage").execute("call-2", {});
    assert.equal(out.content[0].type, "text");
    assert.match(out.content[0].text, /not running/);
    assert.equal(out.details.error.code, "UNAVAILABLE");
  });
});

describe("CLI actions (openclaw tokens …)", () => {
  let out;
  let errs;
  let realWrite;
  let realError;
  let savedExitCode;

  beforeEach(() => {
    out = [];
    errs = [];
    realWrite = process.stdout.write;
    realError = console.error;
    savedExitCode = process.exitCode;
    // Capture only the plugin's string output; the test runner's own (binary) messages pass through.
    process.stdout.write = function (chunk, ...rest) {
      if (typeof chunk === "string") {
        out.push(chunk);
        return true;
      }
      return realWrite.call(this, chunk, ...rest);
    };
    console.error = (...a) => errs.push(a.join(" "));
  });

  afterEach(() => {
    process.stdout.write = realWrite;
    console.error = realError;
    process.exitCode = savedExitCode;
  });

  function cli(port = sidecar.port) {
    const rec = makeApi({ mode: "cli-metadata", pluginConfig: { sidecar: { httpPort: port } } });
    register(rec.api);
    const program = makeProgram();
    rec.of("registerCli")[0].args[0]({ program, parentPath: [], config: {}, logger: rec.api.logger });
    return program.child("tokens");
  }

  test("status --json prints the sidecar's JSON answer on one line", async () => {
    reply = (method, params) => ({ result: { method, params, spend: { today: 1 } } });
    await cli().child("status").actionFn({ json: true });
    assert.equal(out.length, 1);
    assert.ok(out[0].endsWith("\n"));
    assert.deepEqual(JSON.parse(out[0]), { method: "token-dashboard.status", params: {}, spend: { today: 1 } });
    assert.equal(process.exitCode, savedExitCode);
  });

  test("status without --json prints the text answer", async () => {
    reply = (method, params) => ({ result: { text: `${method}:${params.format}` } });
    await cli().child("status").actionFn({});
    await cli().child("providers").actionFn({});
    await cli().child("burn").actionFn({});
    assert.deepEqual(out, ["token-dashboard.status:text\n", "token-dashboard.providers:text\n", "token-dashboard.burn:text\n"]);
  });

  test("report maps the grain and the dates to usage", async () => {
    const tokens = cli();
    await tokens.child("report").actionFn("weekly", { since: "2026-11-01", until: "2026-11-30", json: true });
    await tokens.child("report").actionFn("daily", { json: true });
    await tokens.child("report").actionFn("session", {});
    const calls = sidecar.rpcCalls();
    assert.deepEqual(calls.map((c) => [c.method, c.params]), [
      ["token-dashboard.usage", { groupBy: ["week"], since: "2026-11-01", until: "2026-11-30" }],
      ["token-dashboard.usage", { groupBy: ["day"] }],
      ["token-dashboard.usage", { groupBy: ["session"] }],
    ]);
  });

  test("budgets, alerts, health call their method (text without --json)", async () => {
    const tokens = cli();
    for (const name of ["budgets", "alerts", "health"]) await tokens.child(name).actionFn({ json: true });
    for (const name of ["budgets", "alerts", "health"]) await tokens.child(name).actionFn({});
    assert.deepEqual(sidecar.rpcCalls().map((c) => [c.method, c.params]), [
      ["token-dashboard.budgets", {}], ["token-dashboard.alerts", {}], ["token-dashboard.health", {}],
      ["token-dashboard.budgets", { format: "text" }], ["token-dashboard.alerts", { format: "text" }],
      ["token-dashboard.health", { format: "text" }],
    ]);
  });

  test("sidecar down → message on stderr, exit code 1, nothing on stdout", async () => {
    await cli(await freePort()).child("status").actionFn({ json: true });
    assert.deepEqual(out, []);
    assert.equal(errs.length, 1);
    assert.match(errs[0], /^openclaw tokens: .*not running/);
    assert.equal(process.exitCode, 1);
  });
});
