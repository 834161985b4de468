// Reaching the tokendash sidecar: where it listens, its bearer token, and one JSON-RPC call.
// No business logic here: params go through untouched and results come back untouched.
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const PLUGIN_ID = "token-dashboard";

/** Raised when the sidecar cannot be reached (not started, restarting, killed). */
export class SidecarUnavailable extends Error {
  constructor(message) {
    super(message);
    this.name = "SidecarUnavailable";
  }
}

/** Raised for a JSON-RPC error answer; keeps the JSON-RPC code. */
export class SidecarError extends Error {
  constructor(code, message, data) {
    super(message);
    this.name = "SidecarError";
    this.code = code;
    this.data = data;
  }
}

/** OpenClaw's state dir as the CLI process sees it (the service gets it as ctx.stateDir). */
export function openclawStateDir(env = process.env) {
  return env.OPENCLAW_STATE_DIR || path.join(os.homedir(), ".openclaw");
}

/** The sidecar's home under OpenClaw (SPEC §2): <stateDir>/token-dashboard. */
export function sidecarHome(stateDir) {
  return path.join(stateDir, PLUGIN_ID);
}

export function httpPort(cfg) {
  return cfg?.sidecar?.httpPort ?? 18790;
}

export function grpcPort(cfg) {
  return cfg?.sidecar?.grpcPort ?? 18791;
}

/** A client of the sidecar at 127.0.0.1:<httpPort>, token read from <home>/token on each call (home: a
 *  path, or a function returning it, since the service learns the state dir only when it starts)
 *  (the sidecar writes it at first start, and a restart may come after this client was made). */
export function makeClient({ port, home, timeoutMs = 10000, fetchImpl = fetch }) {
  const base = `http://127.0.0.1:${port}`;
  let nextId = 1;
  const token = () => {
    try {
      return readFileSync(path.join(typeof home === "function" ? home() : home, "token"), "utf8").trim();
    } catch {
      return "";
    }
  };
  async function request(route, init, ms) {
    try {
      return await fetchImpl(`${base}${route}`, { ...init, signal: AbortSignal.timeout(ms ?? timeoutMs) });
    } catch (err) {
      const why = err?.name === "TimeoutError" ? "did not answer in time" : "is not running";
      throw new SidecarUnavailable(`tokendash sidecar ${why} on ${base} (it restarts by itself; try again shortly)`);
    }
  }
  return {
    base,
    token,
    async healthy(ms = 1000) {
      try {
        const res = await request("/healthz", { method: "GET" }, ms);
        return res.ok;
      } catch {
        return false;
      }
    },
    async call(method, params = {}, ms) {
      const body = JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params: params ?? {} });
      const res = await request("/rpc", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token()}` },
        body,
      }, ms);
      let msg;
      try {
        msg = await res.json();
      } catch {
        throw new SidecarUnavailable(`tokendash sidecar answered HTTP ${res.status} without a JSON-RPC body`);
      }
      if (msg.error) throw new SidecarError(msg.error.code, msg.error.message, msg.error.data);
      return msg.result;
    },
    /** GET a path of the sidecar's web side with the bearer token (the panel proxy). */
    async get(route, ms) {
      return request(route, { method: "GET", headers: { authorization: `Bearer ${token()}` } }, ms);
    },
  };
}
