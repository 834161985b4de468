// What register() registers in each registration mode (SPEC §10; plugin API reference §3-§10, §18).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import plugin, { CLI_SUBCOMMANDS, PANEL_PATH, READ_METHODS, WRITE_METHODS, register } from "../../plugin/index.js";
import { makeApi, makeProgram } from "./helpers.mjs";

const READ = ["status", "cached", "providers", "burn", "usage", "budgets", "budget.check", "alerts", "health"]
  .map((m) => `token-dashboard.${m}`);
const WRITE = ["record", "refresh"].map((m) => `token-dashboard.${m}`);
// Registrations that start or expose something only the gateway's "full" registration may have.
const FULL_ONLY = ["registerCommand", "registerHttpRoute", "registerControlUiDescriptor", "registerService"];

/** Kinds of live resources (servers, sockets, timers, child processes) this process holds. */
const resources = () => process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap").sort();

function registered(opts) {
  const rec = makeApi(opts);
  const before = resources();
  const ret = register(rec.api);
  assert.equal(ret, undefined, "register() is synchronous and returns nothing");
  assert.deepEqual(resources(), before, "register() starts nothing (no server, socket, timer or process)");
  return rec;
}

test("the default export is the plugin entry with id token-dashboard", () => {
  assert.equal(plugin.id, "token-dashboard");
  assert.equal(typeof plugin.name, "string");
  assert.equal(plugin.register, register);
  assert.deepEqual(READ_METHODS.map((m) => `token-dashboard.${m}`), READ);
  assert.deepEqual(WRITE_METHODS.map((m) => `token-dashboard.${m}`), WRITE);
  assert.equal(PANEL_PATH, "/plugins/token-dashboard/");
});

for (const mode of ["cli-metadata", "discovery", "tool-discovery", "setup-only"]) {
  test(`mode ${mode}: the CLI first, nothing started, exposed or logged`, () => {
    const rec = registered({ mode });
    assert.equal(rec.calls[0]?.kind, "registerCli", "the CLI is registered first, before the mode guard");
    assert.equal(rec.of("registerCli").length, 1);
    for (const kind of FULL_ONLY) assert.equal(rec.of(kind).length, 0, `${kind} only in full mode`);
    assert.deepEqual(rec.logs, [], "the logger records zero calls");
    // By design (plugin/index.js register(): OpenClaw 2026.9.6 fires hooks on the later "discovery"
    // registration and looks tools up in "tool-discovery"), methods, the tool and the llm_output hook
    // are registered in every mode; they start nothing. Anything else is a surprise.
    const allowed = new Set(["registerCli", "registerGatewayMethod", "registerTool", "on"]);
    for (const c of rec.calls) assert.ok(allowed.has(c.kind), `unexpected ${c.kind} in mode ${mode}`);
  });
}

describe("mode full", () => {
  test("registers every surface and logs nothing", () => {
    const rec = registered({ mode: "full" });
    assert.equal(rec.calls[0].kind, "registerCli");
    assert.equal(rec.of("registerCli").length, 1);
    assert.deepEqual(rec.logs, []);
  });

  test("gateway methods: 9 operator.read and 2 operator.write", () => {
    const rec = registered({ mode: "full" });
    const methods = rec.methods();
    assert.equal(rec.of("registerGatewayMethod").length, 11, "each method registered once");
    assert.deepEqual([...methods.keys()].sort(), [...READ, ...WRITE].sort());
    for (const name of READ) assert.deepEqual(methods.get(name).opts, { scope: "operator.read" }, name);
    for (const name of WRITE) assert.deepEqual(methods.get(name).opts, { scope: "operator.write" }, name);
    for (const { handler } of methods.values()) assert.equal(typeof handler, "function");
  });

  test("commands /tokens (acceptsArgs) and /burn", () => {
    const rec = registered({ mode: "full" });
    const cmds = rec.of("registerCommand").map((c) => c.args[0]);
    assert.deepEqual(cmds.map((c) => c.name).sort(), ["burn", "tokens"]);
    const tokens = rec.command("tokens");
    assert.equal(tokens.acceptsArgs, true);
    assert.equal(typeof tokens.handler, "function");
    assert.ok(tokens.description.length > 0);
    const burn = rec.command("burn");
    assert.notEqual(burn.acceptsArgs, true);
    assert.equal(typeof burn.handler, "function");
    for (const c of cmds) assert.ok(!c.name.startsWith("/"), "names without the slash");
  });

  test("tool token_usage with execute(), not handler", () => {
    const rec = registered({ mode: "full" });
    assert.equal(rec.of("registerTool").length, 1);
    const tool = rec.tool("token_usage");
    assert.ok(tool, "token_usage registered");
    assert.equal(typeof tool.execute, "function");
    assert.equal(tool.handler, undefined);
    assert.equal(tool.parameters?.type, "object");
    assert.ok(tool.description.length > 0);
  });

  test("HTTP route /plugins/token-dashboard/ (gateway auth, prefix) and a Control UI tab pointing at it", () => {
    const rec = registered({ mode: "full" });
    const routes = rec.of("registerHttpRoute").map((c) => c.args[0]);
    assert.equal(routes.length, 1);
    const [route] = routes;
    assert.equal(route.path, "/plugins/token-dashboard/");
    assert.equal(route.auth, "gateway");
    assert.equal(route.match, "prefix");
    assert.equal(typeof route.handler, "function");
    const tabs = rec.of("registerControlUiDescriptor").map((c) => c.args[0]);
    assert.equal(tabs.length, 1);
    assert.equal(tabs[0].surface, "tab");
    assert.equal(tabs[0].path, route.path);
    assert.equal(typeof tabs[0].id, "string");
    assert.equal(typeof tabs[0].label, "string");
  });

  test("llm_output hook by default, none with recordRuns false", () => {
    const on = registered({ mode: "full" });
    assert.equal(on.hooks("llm_output").length, 1);
    assert.equal(typeof on.hooks("llm_output")[0].handler, "function");
    assert.equal(on.of("registerHook").length, 0, "typed hooks go through api.on, never registerHook");
    const off = registered({ mode: "full", pluginConfig: { recordRuns: false } });
    assert.equal(off.hooks("llm_output").length, 0);
    const explicitOn = registered({ mode: "full", pluginConfig: { recordRuns: true } });
    assert.equal(explicitOn.hooks("llm_output").length, 1);
  });

  test("before_agent_run gate only when enforcement.mode is block", () => {
    assert.equal(registered({ mode: "full" }).hooks("before_agent_run").length, 0);
    assert.equal(registered({ mode: "full", pluginConfig: { enforcement: { mode: "warn" } } })
      .hooks("before_agent_run").length, 0);
    const gate = registered({ mode: "full", pluginConfig: { enforcement: { mode: "block" } } })
      .hooks("before_agent_run");
    assert.equal(gate.length, 1);
    assert.equal(typeof gate[0].handler, "function");
    assert.ok(gate[0].opts?.timeoutMs > 0 && gate[0].opts.timeoutMs < 15000,
      "a timeout within OpenClaw's 15 s fail-closed budget");
  });

  test("one service with start and stop", () => {
    const rec = registered({ mode: "full" });
    assert.equal(rec.of("registerService").length, 1);
    const svc = rec.service();
    assert.equal(typeof svc.id, "string");
    assert.equal(typeof svc.start, "function");
    assert.equal(typeof svc.stop, "function");
  });
});

describe("CLI registrar", () => {
  function cli() {
    const rec = registered({ mode: "cli-metadata" });
    const [registrar, opts] = rec.of("registerCli")[0].args;
    const program = makeProgram();
    registrar({ program, parentPath: [], config: {}, logger: rec.api.logger });
    return { program, opts, rec };
  }

  test("defines `tokens` with status, providers, burn, report, budgets, alerts, health, each with --json", () => {
    const { program, rec } = cli();
    assert.deepEqual(program.children.map((c) => c.name), ["tokens"]);
    const tokens = program.child("tokens");
    assert.ok(tokens.desc);
    const subs = tokens.children.map((c) => c.name);
    assert.deepEqual([...subs].sort(), ["alerts", "budgets", "burn", "health", "providers", "report", "status"]);
    assert.deepEqual([...CLI_SUBCOMMANDS].sort(), [...subs].sort());
    for (const sub of tokens.children) {
      assert.ok(sub.options.some((o) => o.flags === "--json"), `${sub.name} accepts --json`);
      assert.equal(typeof sub.actionFn, "function", `${sub.name} has an action`);
      assert.ok(sub.desc, `${sub.name} has a description`);
    }
    const report = tokens.child("report");
    assert.equal(report.args.length, 1);
    assert.match(report.args[0].spec, /^\[grain\]$/);
    assert.ok(report.options.some((o) => o.flags.startsWith("--since")));
    assert.ok(report.options.some((o) => o.flags.startsWith("--until")));
    assert.deepEqual(rec.logs, [], "defining the CLI logs nothing");
  });

  test("descriptors cover `tokens` and machineOutput is true exactly for --json", () => {
    const { opts } = cli();
    assert.equal(opts.descriptors.length, 1);
    const [d] = opts.descriptors;
    assert.equal(d.name, "tokens");
    assert.equal(d.hasSubcommands, true);
    assert.equal(typeof d.description, "string");
    assert.equal(d.machineOutput({ argv: ["node", "openclaw", "tokens", "status", "--json"], stdoutIsTTY: false }), true);
    assert.equal(d.machineOutput({ argv: ["node", "openclaw", "tokens", "status"], stdoutIsTTY: true }), false);
    assert.equal(d.machineOutput({ argv: ["node", "openclaw", "tokens", "report", "weekly", "--json"], stdoutIsTTY: true }),
      true);
  });
});
