"""A real OpenClaw gateway on loopback for the end-to-end tests (reference/openclaw-e2e.md): an
isolated HOME, free ports, the fake LLM as the agent's model provider (with a cost table), and this
repository linked as the token-dashboard plugin."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-gateway-token"
PRICES = {"input": 3, "output": 15, "cacheRead": 0.3, "cacheWrite": 3.75}  # USD per 1M tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tokendash_pids(home: Path) -> list[int]:
    """Processes running `tokendash serve` whose TOKENDASH_HOME is under ``home``."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
            if b"tokendash" not in cmd or b"serve" not in cmd:
                continue
            env = (d / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(e.startswith(b"TOKENDASH_HOME=" + str(home).encode()) for e in env):
            pids.append(int(d.name))
    return pids


class Gateway:
    def __init__(self, work: Path, openclaw: str, llm_port: int) -> None:
        self.work = work
        self.home = work / "home"
        self.state = self.home / ".openclaw"
        self.openclaw = openclaw
        self.port = free_port()
        self.sidecar_port = free_port()
        self.env = {**os.environ, "HOME": str(self.home)}
        for k in ("OPENCLAW_STATE_DIR", "OPENCLAW_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_PORT", "TOKENDASH_HOME",
                  "TOKENDASH_TOKEN", "TOKENDASH_URL", "TOKENDASH_HTTP_ADDR", "TOKENDASH_GRPC_ADDR"):
            self.env.pop(k, None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.state.mkdir(parents=True)
        provider = {
            "baseUrl": f"http://127.0.0.1:{llm_port}/v1", "apiKey": "sk-local-fake", "api": "openai-completions",
            "timeoutSeconds": 60,
            "models": [{"id": "fake-model", "name": "Fake Model", "reasoning": False, "input": ["text"],
                        "cost": PRICES, "contextWindow": 128000, "maxTokens": 4096}],
        }
        config = {
            "gateway": {"mode": "local", "port": self.port, "bind": "loopback",
                        "auth": {"mode": "token", "token": TOKEN}},
            "update": {"checkOnStart": False},
            "logging": {"file": str(work / "openclaw.log")},
            "models": {"mode": "merge", "catalogRefresh": {"enabled": False}, "providers": {"fakellm": provider}},
            "agents": {"defaults": {"model": {"primary": "fakellm/fake-model"}, "heartbeat": {"every": "0m"}}},
            # The plugin itself is added the documented way (scripts/install-plugin.sh), below.
            "plugins": {
                "entries": {
                    "token-dashboard": {"config": {"sidecar": {"httpPort": self.sidecar_port, "grpcPort": 0}}},
                    "memory-core": {"config": {"dreaming": {"enabled": False}}},
                },
            },
        }
        (self.state / "openclaw.json").write_text(json.dumps(config, indent=2))
        subprocess.run(["bash", str(ROOT / "scripts" / "install-plugin.sh")], env={**self.env, "OPENCLAW": openclaw},
                       check=True, capture_output=True, timeout=180)

    @property
    def sidecar_home(self) -> Path:
        return self.state / "token-dashboard"

    def start(self, timeout: float = 90) -> None:
        out = (self.work / "gateway.out").open("wb")
        self.proc = subprocess.Popen([self.openclaw, "gateway", "run", "--port", str(self.port)], env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if b'"ready":true' in r.read():
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"gateway not ready after {timeout} s:\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        p = self.work / "gateway.out"
        return "\n".join(p.read_text(errors="replace").splitlines()[-n:]) if p.exists() else ""

    def stop(self, timeout: float = 30) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def run(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run([self.openclaw, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and cp.returncode != 0:
            raise AssertionError(f"openclaw {' '.join(args)} → {cp.returncode}\n{cp.stdout}\n{cp.stderr}")
        return cp

    def call(self, method: str, params: dict[str, Any] | None = None, timeout_ms: int = 20000,
             check: bool = True) -> Any:
        cp = self.run("gateway", "call", method, "--port", str(self.port), "--token", TOKEN, "--json",
                      "--timeout", str(timeout_ms), "--params", json.dumps(params or {}),
                      timeout=timeout_ms / 1000 + 30, check=check)
        return json.loads(cp.stdout)

    def http(self, path: str, token: str | None) -> tuple[int, bytes]:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if token:
            req.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
