"""What the soak and chaos tests run against: a Claude Code corpus that grows while the sidecar reads it
(with the ground truth of exactly the complete lines written so far), local fake provider APIs with
billing data around today (slowed down a little, with the requests in flight counted), and
``tokendash serve`` as a real process (its log in a file, so a long run never blocks on a pipe)."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.providers import fakes
from tests.support import ISOLATED_VARS, gen_corpus

FIELDS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
TD = {"inputTokens": "input", "outputTokens": "output", "cacheCreationTokens": "cacheWrite",
      "cacheReadTokens": "cacheRead"}  # tokendash's Totals.tokens name of each manifest field


def today() -> date:
    return datetime.now(UTC).date()


# -- the corpus -------------------------------------------------------------------------------------


class Truth:
    """De-duplicated totals of Claude Code assistant lines, as the generator's manifest counts them:
    one entry per ``message.id`` + ``requestId``, the one with the largest token total; by UTC day
    and by model."""

    def __init__(self) -> None:
        self.best: dict[tuple[str, str], tuple[int, str, str, dict[str, int]]] = {}

    def add_line(self, raw: bytes) -> None:
        if b'"assistant"' not in raw:
            return
        obj = json.loads(raw)
        if obj.get("type") != "assistant":
            return
        m = obj["message"]
        u = m.get("usage")
        if not u:
            return
        vals = {"inputTokens": u["input_tokens"], "outputTokens": u["output_tokens"],
                "cacheCreationTokens": u["cache_creation_input_tokens"], "cacheReadTokens": u["cache_read_input_tokens"]}
        tot = sum(vals.values())
        key = (m["id"], obj["requestId"])
        have = self.best.get(key)
        if have is None or tot > have[0]:
            self.best[key] = (tot, obj["timestamp"][:10], m["model"], vals)

    def by(self, what: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys((*FIELDS, "entries"), 0))
        for _tot, day, model, vals in self.best.values():
            row = out[day if what == "day" else model]
            for k, v in vals.items():
                row[k] += v
            row["entries"] += 1
        return dict(out)

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys((*FIELDS, "entries"), 0)
        for row in self.by("day").values():
            for k, v in row.items():
                out[k] += v
        return out


@dataclass
class Write:
    rel: Path
    data: bytes


class GrowingCorpus:
    """The files of a generated corpus (``staging``), written into ``live/projects`` piece by piece:
    every file in one to three appends cut at random byte offsets (so a line is often left half-written
    until its next piece), the files interleaved. ``truth`` always holds the complete lines written."""

    def __init__(self, staging: Path, live: Path, rng: random.Random) -> None:
        self.staging = staging
        self.live = live
        self.manifest = json.loads((staging / "manifest.json").read_text())
        queues: list[list[Write]] = []
        for f in sorted((staging / "projects").rglob("*.jsonl")):
            data = f.read_bytes()
            cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randrange(0, 3))))
            bounds = [0, *cuts, len(data)]
            rel = f.relative_to(staging)
            queues.append([Write(rel, data[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)])
        self.plan: list[Write] = []
        while queues:  # interleave: a file's pieces stay in order
            q = rng.choice(queues)
            self.plan.append(q.pop(0))
            if not q:
                queues.remove(q)
        self.done = 0
        self.bytes = 0
        self.truth = Truth()
        self._rest: dict[Path, bytes] = defaultdict(bytes)
        self._lock = threading.Lock()
        (live / "projects").mkdir(parents=True, exist_ok=True)

    @classmethod
    def generate(cls, tmp: Path, rng: random.Random, **kw: Any) -> GrowingCorpus:
        staging = tmp / "staging"
        gen_corpus(staging, **kw)
        return cls(staging, tmp / "claude", rng)

    @property
    def finished(self) -> bool:
        return self.done >= len(self.plan)

    def write(self, n: int = 1) -> int:
        """Write the next ``n`` pieces; returns how many were written."""
        k = 0
        with self._lock:
            while k < n and self.done < len(self.plan):
                w = self.plan[self.done]
                path = self.live / w.rel
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "ab") as fh:
                    fh.write(w.data)
                buf = self._rest[w.rel] + w.data
                *lines, self._rest[w.rel] = buf.split(b"\n")
                for line in lines:
                    if line.strip():
                        self.truth.add_line(line)
                self.done += 1
                self.bytes += len(w.data)
                k += 1
        return k

    def write_until(self, fraction: float) -> None:
        self.write(max(0, int(len(self.plan) * fraction) - self.done))

    def snapshot(self) -> tuple[dict[str, int], dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        with self._lock:
            return self.truth.totals(), self.truth.by("day"), self.truth.by("model")

    def check_manifest(self) -> None:
        """Once everything is written, our truth is the generator's (so the totals we check are exact)."""
        assert self.finished
        tot, days, models = self.snapshot()
        m = self.manifest
        assert {k: tot[k] for k in FIELDS} == {k: m["dedupTotals"][k] for k in FIELDS}
        assert tot["entries"] == m["uniqueResponses"]
        assert {d: {k: v[k] for k in FIELDS} for d, v in days.items()} == \
            {d: {k: v.get(k, 0) for k in FIELDS} for d, v in m["dedupByDay"].items()}
        assert {d: {k: v[k] for k in FIELDS} for d, v in models.items()} == \
            {d: {k: v.get(k, 0) for k in FIELDS} for d, v in m["dedupByModel"].items()}


class Feeder:
    """Writes pieces of a ``GrowingCorpus`` from a thread at a steady pace until told to stop or
    until ``upto`` pieces are written."""

    def __init__(self, corpus: GrowingCorpus, upto: int, seconds: float) -> None:
        self.corpus = corpus
        self.upto = min(upto, len(corpus.plan))
        self.seconds = seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="corpus-feeder", daemon=True)

    def _run(self) -> None:
        left = self.upto - self.corpus.done
        if left <= 0:
            return
        pause = self.seconds / left
        while not self._stop.is_set() and self.corpus.done < self.upto:
            self.corpus.write(1)
            self._stop.wait(pause)

    def start(self) -> Feeder:
        self._thread.start()
        return self

    def join(self, timeout: float = 120) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the corpus feeder did not finish"

    def stop(self) -> None:
        self._stop.set()
        self.join()


# -- fake providers ------------------------------------------------------------------------------------

KEYS = {
    "OPENAI_ADMIN_KEY": "sk-admin-LOADTESTopenai00000000000000000000000001",
    "ANTHROPIC_ADMIN_KEY": "sk-ant-admin01-LOADTESTanthropic000000000000000002",
    "MOONSHOT_API_KEY": "sk-LOADTESTmoonshot00000000000000000000000000005",
}


class Providers:
    """OpenAI, Anthropic and Moonshot fakes holding the last ``days`` UTC days of billing (ending today),
    each request held ``delay`` seconds (so a poll takes a while: OpenAI pages 10 days, Anthropic 7), with
    the requests in flight counted. ``bump`` adds a cost line for today (so what a poll must find
    changes between rounds); ``set_balance`` moves the Moonshot balance."""

    def __init__(self, delay: float = 0.05, days: int = 12) -> None:
        self.delay = delay
        self.inflight = 0
        self.requests = 0
        self._lock = threading.Lock()
        first = today() - timedelta(days=days - 1)
        self.days = [first + timedelta(days=i) for i in range(days)]
        self.openai = fakes.OpenAIData(KEYS["OPENAI_ADMIN_KEY"])
        self.anthropic = fakes.AnthropicData(KEYS["ANTHROPIC_ADMIN_KEY"])
        for d in self.days:
            self.openai.costs[d] = [("gpt-4o-mini-2024-07-18, input", 0.75), ("gpt-4o-mini-2024-07-18, output", 0.5)]
            self.openai.completions[d] = [{"input_tokens": 1000, "input_cached_tokens": 400, "input_cache_write_tokens": 100,
                                           "input_uncached_tokens": 500, "output_tokens": 500, "num_model_requests": 5,
                                           "model": "gpt-4o-mini-2024-07-18", "batch": None, "service_tier": None}]
            self.anthropic.costs[d] = [("claude-sonnet-4-5", "uncached_input_tokens", "123.78912"),
                                       ("claude-sonnet-4-5", "output_tokens", "76.2")]
            self.anthropic.usage[d] = [{"uncached_input_tokens": 1500, "cache_read_input_tokens": 200, "output_tokens": 500,
                                        "cache_creation": {"ephemeral_1h_input_tokens": 1000, "ephemeral_5m_input_tokens": 500},
                                        "model": "claude-sonnet-4-5"}]
        self.moonshot = fakes.BalanceData(KEYS["MOONSHOT_API_KEY"], fakes.moonshot_body(49.5, 46.5, 3.0), "/v1/users/me/balance")
        self.servers = {
            "openai": fakes.FakeServer(self._slow(fakes.openai_app(self.openai))),
            "anthropic": fakes.FakeServer(self._slow(fakes.anthropic_app(self.anthropic))),
            "moonshot": fakes.FakeServer(self._slow(fakes.balance_app(self.moonshot, fakes.MOONSHOT_401))),
        }
        self.bumps = 0

    def _slow(self, app: Any) -> Any:
        def wrapped(req: fakes.Request) -> fakes.Response:
            with self._lock:
                self.inflight += 1
                self.requests += 1
            try:
                time.sleep(self.delay)
                return app(req)
            finally:
                with self._lock:
                    self.inflight -= 1

        return wrapped

    def bump(self) -> None:
        self.bumps += 1
        d = today()
        self.openai.costs[d] = [*self.openai.costs.get(d, []), (f"gpt-4o-2024-08-06, round {self.bumps}", 0.25)]

    def set_balance(self, usd: float) -> None:
        self.moonshot.body = fakes.moonshot_body(usd, usd, 0.0)

    def billed_nusd(self) -> dict[str, int]:
        """What the fakes bill in total (nano-USD), as the store must hold it."""
        oa = sum(Decimal(str(v)) for rows in self.openai.costs.values() for _li, v in rows)
        an = sum(Decimal(c) / 100 for rows in self.anthropic.costs.values() for _m, _t, c in rows)
        return {"openai": int(oa * 10**9), "anthropic": int(an * 10**9)}

    def env(self) -> dict[str, str]:
        s = self.servers
        return {
            **KEYS,
            "TOKENDASH_ENABLED_PROVIDERS": "openai,anthropic,moonshot",
            "TOKENDASH_OPENAI_BASE_URL": s["openai"].url("/v1"),
            "TOKENDASH_ANTHROPIC_BASE_URL": s["anthropic"].url(""),
            "TOKENDASH_MOONSHOT_BASE_URL": s["moonshot"].url("/v1"),
            "TOKENDASH_MOONSHOT_CURRENCY": "USD",
            "TOKENDASH_PROVIDER_READ_TIMEOUT_SECONDS": "5",
            "TOKENDASH_PROVIDER_MAX_RETRIES": "1",
            "TOKENDASH_PROVIDER_LOOKBACK_DAYS": "14",
        }

    def close(self) -> None:
        for s in self.servers.values():
            s.close()


def stored_billed_nusd(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        rows = c.execute("SELECT provider, SUM(cost_nusd) FROM provider_buckets WHERE cost_nusd IS NOT NULL "
                         "GROUP BY provider").fetchall()
    return {p: int(v) for p, v in rows}


# -- the sidecar as a process ---------------------------------------------------------------------------


def sidecar_env(tmp: Path, claude: Path, **extra: str) -> dict[str, str]:
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENDASH_") and k not in ISOLATED_VARS}
    for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(k, None)
    env.update(
        TOKENDASH_HOME=str(tmp / "home"), TOKENDASH_TOKEN="load-test-token-0123456789abcdef",
        TOKENDASH_TIMEZONE="UTC", TOKENDASH_URL="http://127.0.0.1:9",
        CLAUDE_CONFIG_DIR=str(claude), CODEX_HOME=str(empty), OPENCLAW_STATE_DIR=str(empty),
    )
    env.update(extra)
    return env


class Serve:
    """``tokendash serve`` on kernel-chosen loopback ports; stderr goes to ``log`` (appended)."""

    def __init__(self, env: dict[str, str], log: Path, grpc: bool = True) -> None:
        self.env = env
        self.log = log
        self.grpc = grpc
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.grpc_target: str | None = None
        self.token = env["TOKENDASH_TOKEN"]
        self.db = Path(env["TOKENDASH_HOME"]) / "tokendash.db"
        self._conn: http.client.HTTPConnection | None = None

    def start(self, timeout: float = 60) -> Serve:
        start_at = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tokendash", "serve", "--http-addr", "127.0.0.1:0",
                 "--grpc-addr", "127.0.0.1:0" if self.grpc else "off"],
                env=self.env, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log, "rb") as fh:
                fh.seek(start_at)
                m = re.search(rb"listening http=(\S+) grpc=(\S+)", fh.read())
            if m:
                self.url = f"http://{m.group(1).decode()}"
                g = m.group(2).decode()
                self.grpc_target = None if g == "off" else g
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise AssertionError(f"tokendash serve did not start:\n{self.tail()}")

    @property
    def pid(self) -> int:
        assert self.proc
        return self.proc.pid

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def rpc(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": f"token-dashboard.{method}", "params": params or {}})
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        for attempt in (1, 2):  # a kept-alive connection the server has closed meanwhile: once more, anew
            fresh = self._conn is None
            if self._conn is None:
                host, port = self.url.removeprefix("http://").rsplit(":", 1)
                self._conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
            try:
                self._conn.request("POST", "/rpc", body, headers)
                msg = json.loads(self._conn.getresponse().read())
                break
            except (OSError, http.client.HTTPException):
                self._drop_conn()
                if fresh or attempt == 2:
                    raise
        assert "error" not in msg, msg
        return msg["result"]

    def kill(self) -> None:
        assert self.proc
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self._drop_conn()

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM; returns the exit status (SIGKILL after ``timeout``)."""
        self._drop_conn()
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"tokendash serve did not stop within {timeout} s:\n{self.tail()}") from None

    def _drop_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def usage_by(s: Serve, grain: str) -> dict[str, dict[str, int]]:
    """Claude Code totals from ``token-dashboard.usage`` grouped by day or model, in the manifest's names."""
    res = s.rpc("usage", {"since": "all", "groupBy": [grain], "filters": {"source": ["claude-code"]}})
    key = "date" if grain == "day" else "model"
    return {r[key]: {**{f: r["tokens"][TD[f]] for f in FIELDS}, "entries": r["requests"]} for r in res["rows"]}


def wait_for(cond: Any, timeout: float, what: str, every: float = 0.1) -> float:
    """Poll ``cond`` until true; returns the seconds it took."""
    t0 = time.monotonic()
    last: Any = None
    while time.monotonic() - t0 < timeout:
        last = cond()
        if last is True:
            return time.monotonic() - t0
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {last}")


@dataclass
class Figures:
    """Lines for the end-of-session summary (tests/load/conftest.py prints them), and the main figures
    as data (written as JSON to ``$TOKENDASH_LOAD_FIGURES`` when set: scripts/bench/run's table)."""

    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


FIGURES = Figures()
