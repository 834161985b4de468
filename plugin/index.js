// tokendash as an OpenClaw plugin (SPEC §10): a thin shell around the Python sidecar. Counts, prices,
// rules and text all come from the sidecar; this file only wires OpenClaw's surfaces to it.
// register() starts nothing and logs nothing: it runs several times, in several processes.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  PLUGIN_ID, SidecarError, SidecarUnavailable, httpPort, makeClient, openclawStateDir, sidecarHome,
} from "./rpc.js";
import { makeSupervisor, pythonFor, sidecarEnv } from "./supervisor.js";

export const READ_METHODS = ["status", "cached", "providers", "burn", "usage", "budgets", "budget.check", "alerts",
  "health"];
export const WRITE_METHODS = ["record", "refresh"];
export const PANEL_PATH = `/plugins/${PLUGIN_ID}/`;
export const CLI_SUBCOMMANDS = ["status", "providers", "burn", "report", "budgets", "alerts", "health"];
const CLI_DESCRIPTOR = { name: "tokens", description: "Token and cost dashboard (tokendash)", hasSubcommands: true };

/** JSON-RPC error code → OpenClaw gateway error code. */
export function gatewayError(err) {
  if (err instanceof SidecarError && [-32600, -32601, -32602].includes(err.code)) {
    return { code: "INVALID_REQUEST", message: err.message };
  }
  if (err instanceof SidecarUnavailable) return { code: "UNAVAILABLE", message: err.message, retryable: true };
  return { code: "UNAVAILABLE", message: `tokendash: ${err?.message ?? String(err)}` };
}

/** `/tokens` arguments (SPEC §10) → the sidecar call whose answer is printed. */
export function tokensCall(args) {
  const words = String(args ?? "").trim().split(/\s+/).filter(Boolean);
  const [first, second] = words;
  switch (first) {
    case undefined:
    case "today":
    case "week":
    case "month":
      return { method: "status", params: { format: "text" } };
    case "burn":
      return { method: "burn", params: { format: "text" } };
    case "providers":
    case "budgets":
    case "alerts":
    case "health":
      return { method: first, params: { format: "text" } };
    case "agent":
      if (!second) return { error: "usage: /tokens agent <id>" };
      return { method: "usage", params: { groupBy: ["agent", "model"], filters: { agent: [second] } } };
    default:
      return { error: `unknown argument ${JSON.stringify(first)}; use providers, burn, budgets, alerts, health, `
        + "today, week, month or agent <id>" };
  }
}

/** The sidecar's text when it has one, else its JSON answer as a block. */
export function asText(result) {
  if (result && typeof result.text === "string") return result.text;
  return "```json\n" + JSON.stringify(result, null, 2) + "\n```";
}

/** `llm_output` (one per run, usage summed over its calls) → a `record` event, or null without usage. */
export function runRecord(event, ctx) {
  const u = event?.usage;
  if (!u || !event.provider || !event.model || !event.runId) return null;
  const n = (v) => (Number.isInteger(v) && v >= 0 ? v : 0);
  const agent = ctx?.agentId ?? "main";
  const rec = {
    idempotencyKey: `openclaw-run:${agent}:${event.sessionId ?? ctx?.sessionId ?? ""}:${event.runId}`,
    timestamp: new Date().toISOString(),
    provider: event.provider,
    model: event.model,
    agent,
    input: n(u.input),
    output: n(u.output),
    cacheRead: n(u.cacheRead),
    cacheWrite: n(u.cacheWrite),
  };
  if (ctx?.sessionKey) rec.session = ctx.sessionKey;
  if (ctx?.channel) rec.channel = ctx.channel;
  const cost = u.cost?.total;
  if (typeof cost === "number" && Number.isFinite(cost) && cost >= 0) rec.costUsd = cost;
  return rec;
}

function registerCli(api, cfg) {
  api.registerCli(({ program }) => {
    const root = program.command("tokens").description(CLI_DESCRIPTOR.description);
    // A separate process: no gateway, so the sidecar is reached directly with the token file.
    const client = () => makeClient({ port: httpPort(cfg), home: sidecarHome(openclawStateDir()) });
    const call = (name, params) => client().call(`${PLUGIN_ID}.${name}`, params);
    const run = (method, params, textMethod) => async (opts) => {
      try {
        // Straight to stdout: with machineOutput OpenClaw sends console output to stderr.
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(await call(method, params))}\n`);
        } else {
          process.stdout.write(`${asText(await call(textMethod ?? method, textMethod ? { format: "text" } : params))}\n`);
        }
      } catch (err) {
        console.error(`openclaw tokens: ${err.message}`);
        process.exitCode = 1;
      }
    };
    root.command("status").description("Spend, balances, burn rate, budgets").option("--json", "JSON output")
      .action((opts) => run("status", {}, "status")(opts));
    root.command("providers").description("Provider APIs and local sources").option("--json", "JSON output")
      .action((opts) => run("providers", {}, "providers")(opts));
    root.command("burn").description("Burn rate and runway").option("--json", "JSON output")
      .action((opts) => run("burn", {}, "burn")(opts));
    root.command("report").description("Usage report").argument("[grain]", "daily|weekly|monthly|session", "daily")
      .option("--since <date>", "first day").option("--until <date>", "last day").option("--json", "JSON output")
      .action((grain, opts) => {
        const by = { daily: "day", weekly: "week", monthly: "month", session: "session" }[grain] ?? grain;
        const params = { groupBy: [by] };
        if (opts.since) params.since = opts.since;
        if (opts.until) params.until = opts.until;
        return run("usage", params)(opts);
      });
    for (const name of ["budgets", "alerts", "health"]) {
      root.command(name).description(`tokendash ${name}`).option("--json", "JSON output")
        .action((opts) => run(name, {}, name)(opts));
    }
  }, {
    descriptors: [{ ...CLI_DESCRIPTOR, machineOutput: ({ argv }) => argv.includes("--json") }],
  });
}

function registerMethods(api, client) {
  for (const name of [...READ_METHODS, ...WRITE_METHODS]) {
    const method = `${PLUGIN_ID}.${name}`;
    const scope = WRITE_METHODS.includes(name) ? "operator.write" : "operator.read";
    api.registerGatewayMethod(method, async ({ params, respond }) => {
      try {
        respond(true, await client.call(method, params ?? {}));
      } catch (err) {
        respond(false, undefined, gatewayError(err));
      }
    }, { scope });
  }
}

function registerCommands(api, client) {
  const show = async (call) => {
    if (call.error) return { text: call.error, isError: true };
    try {
      return { text: asText(await client.call(`${PLUGIN_ID}.${call.method}`, call.params)) };
    } catch (err) {
      return { text: gatewayError(err).message, isError: true };
    }
  };
  api.registerCommand({
    name: "tokens",
    description: "Token spend: /tokens [providers|burn|budgets|alerts|health|today|week|month|agent <id>]",
    acceptsArgs: true,
    handler: (ctx) => show(tokensCall(ctx.args)),
  });
  api.registerCommand({
    name: "burn",
    description: "Burn rate and runway per provider",
    acceptsArgs: false,
    handler: () => show({ method: "burn", params: { format: "text" } }),
  });
}

function registerTool(api, client) {
  api.registerTool({
    name: "token_usage",
    label: "Token usage",
    description: "What has been spent on AI providers (tokens and cost, today/week/month, by provider, model "
      + "and agent), with balances, burn rate and budgets.",
    parameters: { type: "object", additionalProperties: false, properties: {} },
    async execute(_id, _params) {
      try {
        const result = await client.call(`${PLUGIN_ID}.cached`, { format: "text" });
        return { content: [{ type: "text", text: result.text ?? "" }], details: result };
      } catch (err) {
        const e = gatewayError(err);
        return { content: [{ type: "text", text: e.message }], details: { error: e } };
      }
    },
  });
}

/** The panel: GET/HEAD under /plugins/token-dashboard/ proxied to the sidecar's web side. */
export function panelHandler(client) {
  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway");
    const rest = url.pathname.startsWith(PANEL_PATH) ? url.pathname.slice(PANEL_PATH.length - 1) : "/";
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.statusCode = 405;
      res.setHeader("allow", "GET, HEAD");
      res.end();
      return true;
    }
    let upstream;
    try {
      upstream = await client.get(rest + url.search);
    } catch (err) {
      res.statusCode = 503;
      res.setHeader("content-type", "text/plain; charset=utf-8");
      res.end(gatewayError(err).message);
      return true;
    }
    res.statusCode = upstream.status;
    for (const h of ["content-type", "cache-control", "etag", "last-modified"]) {
      const v = upstream.headers.get(h);
      if (v) res.setHeader(h, v);
    }
    if (req.method === "HEAD" || !upstream.body) {
      await upstream.body?.cancel(); // free the sidecar connection now, not at garbage collection
      res.end();
    } else {
      await pipeline(Readable.fromWeb(upstream.body), res);
    }
    return true;
  };
}

function registerPanel(api, client) {
  api.registerHttpRoute({ path: PANEL_PATH, auth: "gateway", match: "prefix", handler: panelHandler(client) });
  api.session.controls.registerControlUiDescriptor({
    surface: "tab", id: "tokens", label: "Tokens", description: "Token and cost dashboard",
    icon: "barChart", group: "control", slug: "tokens", path: PANEL_PATH, requiredScopes: ["operator.read"],
  });
}

function registerHooks(api, client, cfg) {
  if (cfg.recordRuns !== false) {
    api.on("llm_output", async (event, ctx) => {
      const rec = runRecord(event, ctx);
      if (!rec) return;
      try {
        await client.call(`${PLUGIN_ID}.record`, { events: [rec] });
      } catch (err) {
        api.logger?.warn?.(`token-dashboard: run ${event.runId} not recorded: ${err.message}`);
      }
    });
  }
  registerBudgetGate(api, client, cfg.enforcement ?? {});
}

/** Within OpenClaw's 15 s hook budget (after which it blocks the run whatever we would say). */
export const BUDGET_CHECK_TIMEOUT_MS = 2000;

/** Runs let through unchecked since the last answered check (reported with the next one, which raises
 *  the sidecar's `error:enforcement` alert). */
export const unchecked = { runs: 0, since: null };

/** before_agent_run → the answer of `budget.check` (the sidecar decides) as OpenClaw's hook decision. */
export async function budgetGate(client, ctx, failClosed, logger) {
  try {
    const params = { agentId: ctx?.agentId ?? "main", provider: ctx?.modelProviderId, model: ctx?.modelId };
    if (unchecked.runs) Object.assign(params, { uncheckedRuns: unchecked.runs, uncheckedSince: unchecked.since });
    const r = await client.call(`${PLUGIN_ID}.budget.check`, params, BUDGET_CHECK_TIMEOUT_MS);
    unchecked.runs = 0;
    unchecked.since = null;
    if (r?.allow !== false) return { outcome: "pass" };
    return { outcome: "block", reason: "budget-exceeded", message: `Token budget reached: ${r.reason}`,
      category: "cost_limit", metadata: { budgetIds: r.budgetIds ?? [] } };
  } catch (err) {
    if (failClosed) {
      return { outcome: "block", reason: "budget-check-unavailable", category: "cost_limit",
        message: "The token budget could not be checked (the tokendash sidecar did not answer) and "
          + "enforcement.failClosed is set. Try again in a moment." };
    }
    unchecked.runs += 1;
    unchecked.since ??= new Date().toISOString();
    logger?.warn?.(`token-dashboard: budget not checked, the run goes through: ${err.message}`);
    return { outcome: "pass" };
  }
}

function registerBudgetGate(api, client, enforcement) {
  // "warn" needs no gate: the sidecar raises the budget alert by itself; "off" does nothing.
  if (enforcement.mode !== "block") return;
  api.on("before_agent_run", (_event, ctx) => budgetGate(client, ctx, enforcement.failClosed === true, api.logger),
    { timeoutMs: BUDGET_CHECK_TIMEOUT_MS + 3000 });
}

function registerSidecar(api, client, cfg) {
  let sup = null;
  api.registerService({
    id: `${PLUGIN_ID}-sidecar`,
    // A settings change restarts the sidecar with the new environment.
    reload: { configPrefixes: [`plugins.entries.${PLUGIN_ID}.config`] },
    start: async (ctx) => {
      runtime.stateDir = ctx.stateDir;
      const home = sidecarHome(ctx.stateDir);
      sup = makeSupervisor({
        command: pythonFor(cfg, api.rootDir),
        args: ["-m", "tokendash", "serve"],
        env: sidecarEnv(cfg, { home, stateDir: ctx.stateDir, gatewayConfig: ctx.config?.gateway }),
        cwd: home,
        client,
        logger: ctx.logger,
      });
      await sup.start();
    },
    stop: async () => {
      const s = sup;
      sup = null;
      await s?.stop();
    },
  });
}

// The sidecar's state dir, learnt when the service starts; shared by every registration in this process.
const runtime = { stateDir: null };

export function register(api) {
  const cfg = api.pluginConfig ?? {};
  registerCli(api, cfg);
  const client = makeClient({ port: httpPort(cfg), home: () => sidecarHome(runtime.stateDir ?? openclawStateDir()) });
  // Registered in every mode, since they start nothing and OpenClaw uses more than the "full"
  // registration: on 2026.9.6 hooks fire on the handlers of the later "discovery" registration, the
  // manifest's dashboard bindings are checked against each registration's methods, and agents find
  // tools in a "tool-discovery" registration.
  registerMethods(api, client);
  registerTool(api, client);
  registerHooks(api, client, cfg);
  if (api.registrationMode !== "full") return;
  registerCommands(api, client);
  registerPanel(api, client);
  registerSidecar(api, client, cfg);
}

export default {
  id: PLUGIN_ID,
  name: "Token Dashboard",
  description: "Every token and dollar spent by local coding agents and AI providers (tokendash sidecar).",
  register,
};
