// The sidecar's process: start `<python> -m tokendash serve`, wait for /healthz, bring it back with
// backoff when it dies, stop it with SIGTERM then SIGKILL so that nothing outlives the gateway.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";

export const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const READY_TIMEOUT_MS = 30000;
const KILL_AFTER_MS = 5000;

/** Interpreter: config `sidecar.python`, else the project's virtualenv, else python3. */
export function pythonFor(cfg, rootDir) {
  if (cfg?.sidecar?.python) return cfg.sidecar.python;
  const venv = rootDir ? path.join(rootDir, ".venv", "bin", "python") : null;
  return venv && existsSync(venv) ? venv : "python3";
}

/** Plugin settings (SPEC §3, camelCase) → the sidecar's TOKENDASH_* environment. */
export function sidecarEnv(cfg, { home, stateDir, gatewayConfig, baseEnv = process.env }) {
  const env = { ...baseEnv, TOKENDASH_HOME: home, OPENCLAW_STATE_DIR: stateDir, PYTHONUNBUFFERED: "1" };
  // The plugin's client reads the token the sidecar writes into <home>/token; an inherited one would
  // make the sidecar refuse every call.
  delete env.TOKENDASH_TOKEN;
  const c = cfg ?? {};
  const put = (name, v) => {
    if (v === undefined || v === null) return;
    env[name] = typeof v === "object" ? JSON.stringify(v) : String(v);
  };
  env.TOKENDASH_HTTP_ADDR = `127.0.0.1:${c.sidecar?.httpPort ?? 18790}`;
  env.TOKENDASH_GRPC_ADDR = c.sidecar?.grpcPort === 0 ? "off" : `127.0.0.1:${c.sidecar?.grpcPort ?? 18791}`;
  put("TOKENDASH_DATABASE_URL", c.sidecar?.databaseUrl);
  put("TOKENDASH_POLL_INTERVAL_MINUTES", c.pollIntervalMinutes);
  put("TOKENDASH_HISTORY_RETENTION_DAYS", c.historyRetentionDays);
  put("TOKENDASH_ALERT_THRESHOLDS", c.alertThresholds);
  put("TOKENDASH_ENABLED_PROVIDERS", c.enabledProviders);
  put("TOKENDASH_BUDGETS", c.budgets);
  put("TOKENDASH_WEBHOOKS", c.webhooks);
  put("TOKENDASH_RUNAWAY", c.runaway);
  put("TOKENDASH_DIGEST_INTERVAL_HOURS", c.digestIntervalHours);
  put("TOKENDASH_DELIVERY", c.delivery);
  put("TOKENDASH_ENFORCEMENT", c.enforcement);
  put("TOKENDASH_CURRENCY", c.currency);
  put("TOKENDASH_TIMEZONE", c.timezone);
  // The llm_output hook's records and the transcript source count each run once together: the
  // transcript supersedes a run's record (service/tokendash/sources/runs.py).
  put("TOKENDASH_SOURCES", c.sources);
  const gw = gatewayConfig ?? {};
  if (gw.port) env.TOKENDASH_GATEWAY_URL = `http://127.0.0.1:${gw.port}`;
  const gwToken = gw.auth?.token;
  if (typeof gwToken === "string" && gwToken) env.OPENCLAW_GATEWAY_TOKEN = gwToken;
  return env;
}

/**
 * One supervised sidecar. `start()` resolves once /healthz answers (or rejects after the ready timeout);
 * afterwards an exit is followed by a restart after the next backoff step (reset once it is healthy).
 */
export function makeSupervisor({ command, args, env, cwd, client, logger, onExit, backoff = BACKOFF_MS,
  readyTimeoutMs = READY_TIMEOUT_MS, killAfterMs = KILL_AFTER_MS }) {
  let child = null;
  let stopping = false;
  let starting = false; // a child that dies before start() resolves fails the start: no relaunch
  let failures = 0;
  let timer = null;

  function launch() {
    if (cwd) mkdirSync(cwd, { recursive: true });
    const proc = spawn(command, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    const relay = (level) => (d) => {
      for (const line of String(d).split("\n")) if (line.trim()) logger?.[level]?.(`tokendash: ${line.trim()}`);
    };
    proc.stdout.on("data", relay("info"));
    proc.stderr.on("data", relay("warn"));
    proc.on("error", (err) => logger?.error?.(`tokendash: cannot start ${command}: ${err.message}`));
    proc.on("close", (code, sig) => {
      if (child === proc) child = null;
      onExit?.(code, sig);
      if (stopping || starting) return;
      const wait = backoff[Math.min(failures, backoff.length - 1)];
      failures += 1;
      logger?.warn?.(`tokendash sidecar exited (code=${code} signal=${sig}); restarting in ${wait} ms`);
      timer = setTimeout(() => {
        timer = null;
        if (stopping) return;
        launch();
        waitHealthy().then((ok) => { if (ok) failures = 0; });
      }, wait);
    });
    return proc;
  }

  async function waitHealthy() {
    const deadline = Date.now() + readyTimeoutMs;
    const proc = child;
    while (Date.now() < deadline && !stopping && child === proc && proc?.exitCode === null) {
      if (await client.healthy(500)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  return {
    get pid() {
      return child?.pid ?? null;
    },
    async start() {
      stopping = false;
      starting = true;
      failures = 0;
      launch();
      const ok = await waitHealthy();
      starting = false;
      if (!ok) {
        await this.stop(); // no child left behind a failed start
        throw new Error(`tokendash sidecar did not answer ${client.base}/healthz`);
      }
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = null;
      const proc = child;
      child = null;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
      await gone;
      clearTimeout(killer);
    },
  };
}
