"""Chaos: ``tokendash serve`` killed with SIGKILL at random moments, ``TOKENDASH_CHAOS_ROUNDS`` times
(10; CI runs fewer), each time in the middle of work, and started again on the same store.

Each round starts the sidecar, lets it finish what was left (the totals must then be exact: the Claude
corpus per UTC day and per model, the records, the billed totals of the fake providers, the balance),
changes the world (a new part of the corpus written at once, a cost added to today's OpenAI bill, the
Moonshot balance moved, a record, the budget's limit changed through the settings), and kills it with
SIGKILL at a moment drawn from a seeded generator: in the middle of an ingest pass (some of the new
events stored, not all) or while a provider API request is in flight. After the last round the sidecar
is started once more, finishes, and is stopped with SIGTERM.

The alerts those changes cause (``budget:chaos`` opened, its severity moving, resolved; ``low_balance:
moonshot``) go through the persisted outbox to a local webhook receiver. At the end every outbox row is
delivered and reached the receiver; per alert the transitions form one valid sequence (nothing queued
twice, nothing lost). A row can reach the receiver twice only if the process died after the receiver's
2xx and before it recorded the delivery (``tokendash/outbox.py`` documents that gap): a repeat must then
carry the same delivery id and the same body, and is counted in the figures."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.load.world import (
    FIGURES,
    GrowingCorpus,
    Providers,
    Serve,
    sidecar_env,
    stored_billed_nusd,
    today,
    usage_by,
    wait_for,
)
from tests.sidecar.webhook_receiver import Receiver

ROUNDS = int(os.environ.get("TOKENDASH_CHAOS_ROUNDS", "10"))
SEED = 20261203
# The budget on the records' provider: $8 is spent in the first round; each start brings the next limit
# of this cycle through the settings, so the alert opens, changes severity both ways and resolves.
LIMITS = (6.0, 10.0, 8.5, 20.0, 10.0, 6.0, 20.0, 8.5, 10.0, 20.0)  # 133 % critical, 80 % warning, 94 % critical, 40 % ok
BALANCES = (8.0, 3.0, 49.5, 3.0, 8.0, 49.5)  # Moonshot, set during each round: below $10 (warning), below $5 (critical)


def count_events(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute("SELECT COUNT(*) FROM usage_events WHERE source = 'claude-code'").fetchone()[0]
    except sqlite3.Error:
        return -1


def outbox_rows(db: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        c.row_factory = sqlite3.Row
        return [dict(r) for r in c.execute(
            "SELECT id, kind, alert_id, transition, state, attempts, created_ms, payload FROM outbox "
            "ORDER BY created_ms, rowid")]


def quick_check(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        return c.execute("PRAGMA quick_check").fetchone()[0]


def pending_outbox(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return c.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
    except sqlite3.Error:
        return -1


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class World:
    def __init__(self, tmp: Path) -> None:
        self.rng = random.Random(SEED)
        self.corpus = GrowingCorpus.generate(tmp, self.rng, files=4 * ROUNDS + 4, assistant_lines=1500 * ROUNDS + 1500,
                                             seed=SEED % 1000, end_date=today().isoformat(), days=4)
        self.providers = Providers(delay=0.05)
        self.receiver = Receiver().start()
        self.records: dict[str, float] = {}  # idempotency key -> cost, every record the sidecar acknowledged
        self.balance = 49.5
        self.tmp = tmp
        self.log = tmp / "serve.log"

    def env(self, limit: float) -> dict[str, str]:
        return sidecar_env(
            self.tmp, self.corpus.live,
            TOKENDASH_LOCAL_POLL_SECONDS="0.3",
            TOKENDASH_POLL_INTERVAL_MINUTES="0.01",  # 0.6 s
            TOKENDASH_INGEST_BATCH_EVENTS="20",  # many commits per pass: many moments to die between them
            TOKENDASH_BUDGETS=json.dumps([{"id": "chaos", "period": "daily", "limit": limit,
                                           "scope": {"provider": "openai"}}]),
            TOKENDASH_ALERT_THRESHOLDS=json.dumps({"moonshot": {"balanceUsd": 10}}),
            TOKENDASH_WEBHOOKS=json.dumps([{"url": self.receiver.base + "/hook"}]),
            TOKENDASH_DELIVERY=json.dumps({"timeoutSeconds": 2, "backoffSeconds": 0.2, "backoffCapSeconds": 1,
                                           "pollSeconds": 0.2}),
            **self.providers.env(),
        )

    def record(self, s: Serve, key: str, cost: float) -> None:
        ev = {"idempotencyKey": key, "timestamp": now_iso(), "provider": "openai", "model": "gpt-4o-mini",
              "agent": "chaos", "input": 100, "output": 10, "costUsd": cost}
        res = s.rpc("record", {"events": [ev]})
        assert res == ({"accepted": 0, "duplicates": 1} if key in self.records else {"accepted": 1, "duplicates": 0})
        self.records[key] = cost

    def exact(self, s: Serve) -> Any:
        """True once the sidecar holds exactly what the world holds; else what still differs."""
        _tot, days, models = self.corpus.snapshot()
        got_days = usage_by(s, "day")
        if got_days != days:
            n = sum(r["entries"] for r in got_days.values())
            return f"claude-code: {n} of {sum(r['entries'] for r in days.values())} events"
        if usage_by(s, "model") != models:
            return "claude-code by model differs"
        rec = s.rpc("usage", {"since": "all", "filters": {"source": ["record"]}})["totals"]
        if rec["requests"] != len(self.records) or abs(rec["costUsd"] - sum(self.records.values())) > 1e-9:
            return f"records: {rec['requests']} / {rec['costUsd']}"
        billed = stored_billed_nusd(s.db)
        if billed != self.providers.billed_nusd():
            return f"billed {billed} != {self.providers.billed_nusd()}"
        st = s.rpc("status", {"maxAgeSeconds": 3600})
        moon = next((p for p in st["providers"] if p["providerId"] == "moonshot"), None)
        if moon is None or moon["currentUsage"]["balanceUsd"] != self.balance:
            return f"moonshot balance {moon and moon['currentUsage']['balanceUsd']} != {self.balance}"
        return True

    def close(self) -> None:
        self.providers.close()
        self.receiver.stop()


def kill_mid_ingest(w: World, s: Serve, before: int, want: int) -> dict[str, Any]:
    """SIGKILL once a drawn share of the new events is stored and not all of them: inside the pass."""
    share = w.rng.uniform(0.05, 0.9)
    target = before + max(1, int((want - before) * share))
    deadline = time.monotonic() + 30
    n = count_events(s.db)
    while time.monotonic() < deadline:
        n = count_events(s.db)
        if target <= n < want:
            inflight = w.providers.inflight
            s.kill()
            return {"kind": "ingest", "mid": True, "stored": n, "of": want, "from": before, "share": share,
                    "providerRequestsInFlight": inflight}
        if n >= want:
            break
        time.sleep(0.002)
    s.kill()
    return {"kind": "ingest", "mid": False, "stored": n, "of": want, "from": before, "share": share}


def kill_mid_poll(w: World, s: Serve, before: int, want: int) -> dict[str, Any]:
    """SIGKILL while a request to a fake provider is in flight, a drawn moment into it."""
    deadline = time.monotonic() + 30
    time.sleep(w.rng.uniform(0.0, 1.0))
    while time.monotonic() < deadline:
        if w.providers.inflight > 0:
            time.sleep(w.rng.uniform(0, w.providers.delay * 0.8))
            inflight = w.providers.inflight
            if inflight > 0:
                n = count_events(s.db)
                s.kill()
                return {"kind": "poll", "mid": True, "providerRequestsInFlight": inflight, "stored": n, "of": want,
                        "from": before}
        time.sleep(0.002)
    s.kill()
    return {"kind": "poll", "mid": False, "providerRequestsInFlight": 0}


def check_transitions(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per alert, the queued transitions form one valid sequence: opened, severity changes (each from the
    severity before it to another), resolved, and opened again; returns the sequences."""
    seqs: dict[str, list[str]] = defaultdict(list)
    state: dict[str, str | None] = {}
    for r in rows:
        if r["kind"] != "alert":
            continue
        p = json.loads(r["payload"])
        aid, tr, sev = r["alert_id"], r["transition"], p["alert"]["severity"]
        cur = state.get(aid)
        if tr == "opened":
            assert cur is None, f"{aid}: opened twice without a resolution: {seqs[aid]}"
            state[aid] = sev
        elif tr == "severity":
            assert cur is not None and p.get("previousSeverity") == cur and sev != cur, (aid, seqs[aid], p)
            state[aid] = sev
        else:
            assert tr == "resolved" and cur is not None, (aid, seqs[aid], tr)
            state[aid] = None
        seqs[aid].append(tr if tr == "resolved" else f"{tr} {sev}")
    return seqs


def expected(states: list[str | None]) -> list[str]:
    """The transitions that a series of observed severities (None: the condition does not hold) makes."""
    out: list[str] = []
    cur = None
    for st in states:
        if st == cur:
            continue
        out.append("resolved" if st is None else f"opened {st}" if cur is None else f"severity {st}")
        cur = st
    return out


def budget_severity(spent: float, limit: float) -> str | None:
    pct = spent / limit * 100
    return None if pct < 75 else "warning" if pct < 90 else "critical"


def balance_severity(usd: float) -> str | None:
    return None if usd >= 10 else "warning" if usd >= 5 else "critical"


@pytest.mark.slow
def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    assert ROUNDS >= 2
    w = World(tmp_path)
    corpus = w.corpus
    rounds: list[dict[str, Any]] = []
    s: Serve | None = None
    t_start = time.monotonic()
    try:
        for r in range(ROUNDS + 1):
            limit = LIMITS[r % len(LIMITS)]
            s = Serve(w.env(limit), w.log).start()
            t0 = time.monotonic()
            converge = wait_for(lambda s=s: w.exact(s), 120, f"round {r}: exact totals after the restart")
            info: dict[str, Any] = {"round": r, "limit": limit, "converge": converge, "started": t0 - t_start}
            if r == ROUNDS:
                rounds.append(info)
                break
            # change the world
            if r == 0:
                w.record(s, "chaos-spend", 8.0)
            w.record(s, f"chaos-{r}", 0.001)
            for k in list(w.records)[: w.rng.randrange(1, 4)]:  # replays of acknowledged records: duplicates
                w.record(s, k, w.records[k])
            w.providers.bump()
            w.balance = BALANCES[r % len(BALANCES)]
            w.providers.set_balance(w.balance)
            before = count_events(s.db)
            corpus.write_until((r + 1) / ROUNDS)
            want = corpus.snapshot()[0]["entries"]
            kind = ("ingest", "poll")[r % 2] if w.rng.random() < 0.8 else w.rng.choice(("ingest", "poll"))
            info["pendingOutboxAtKill"] = pending_outbox(s.db)
            info.update(kill_mid_ingest(w, s, before, want) if kind == "ingest" else kill_mid_poll(w, s, before, want))
            info["alive"] = time.monotonic() - t0
            info["check"] = quick_check(s.db)  # the store as the killed process left it
            assert info["check"] == "ok", info
            rounds.append(info)
        assert s is not None
        corpus.check_manifest()
        # the outbox: everything delivered (a row claimed by a killed process waits out its lease first)
        wait_for(lambda: (pending_outbox(s.db) == 0 and len({h.delivery_id for h in w.receiver.accepted()})
                          == len(outbox_rows(s.db))) or pending_outbox(s.db), 90, "every outbox row delivered")
        final = s.rpc("alerts", {"state": "all"})["alerts"]
        assert s.stop() == 0
        rows = outbox_rows(s.db)
    finally:
        if s is not None and s.proc is not None and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        w.close()

    assert all(r["state"] == "delivered" for r in rows), [(r["alert_id"], r["state"]) for r in rows]
    hits = w.receiver.accepted("/hook")
    by_id = Counter(h.delivery_id for h in hits)
    assert set(by_id) == {r["id"] for r in rows}
    repeats = {d: n for d, n in by_id.items() if n > 1}
    for d in repeats:  # the documented gap: the same delivery id, the same body
        bodies = {json.dumps(h.body, sort_keys=True) for h in hits if h.delivery_id == d}
        assert len(bodies) == 1, d
    seqs = check_transitions(rows)
    # the receiver saw each alert's transitions in the order they happened
    for aid, _ in seqs.items():
        order = [r["id"] for r in rows if r["alert_id"] == aid]
        seen: list[str] = []
        for h in hits:
            if h.body.get("alert", {}).get("id") == aid and h.delivery_id not in seen:
                seen.append(h.delivery_id)
        assert seen == order, aid
    # the alerts as the store holds them end where their last transition left them
    for a in final:
        if a["id"] in seqs:
            assert (a["state"] == "resolved") == (seqs[a["id"]][-1] == "resolved"), (a, seqs[a["id"]])
    # ... and exactly the transitions the rounds made, each once: the budget's severity at every start
    # (the $8 record comes in the first round, each later round adds $0.001), the balance of every round
    assert seqs["budget:chaos"] == expected(
        [budget_severity(8.0 + 0.001 * r, LIMITS[r % len(LIMITS)]) for r in range(ROUNDS + 1)]), seqs
    assert seqs["low_balance:moonshot"] == expected(
        [balance_severity(BALANCES[r % len(BALANCES)]) for r in range(ROUNDS)]), seqs
    # (other alerts, a host health limit or a runaway agent of the generated corpus, may come and go; their
    # sequences were checked above like these)

    kills = rounds[:-1]
    mids = sum(1 for k in kills if k["mid"])
    tot = corpus.snapshot()[0]
    FIGURES.lines.append(
        f"chaos: {len(kills)} SIGKILLs ({sum(k['kind'] == 'ingest' for k in kills)} during an ingest pass, "
        f"{sum(k['kind'] == 'poll' for k in kills)} during a provider poll), {mids} landed mid-work; "
        f"{len(kills) + 1} restarts, each exact before the next change (seed {SEED}); "
        f"{time.monotonic() - t_start:.0f} s in all")
    for k in rounds:
        if "kind" not in k:
            FIGURES.lines.append(f"chaos: final start: exact after {k['converge']:.1f} s, stopped with SIGTERM (exit 0)")
            continue
        what = (f"{k['stored'] - k['from']} of {k['of'] - k['from']} new events stored"
                if k["kind"] == "ingest" else f"{k['providerRequestsInFlight']} provider request(s) in flight, "
                f"ingest {k['stored'] - k['from']} of {k['of'] - k['from']} new events")
        FIGURES.lines.append(
            f"chaos: round {k['round']}: {'restart' if k['round'] else 'first start'} exact after {k['converge']:.1f} s; killed {k['alive']:.2f} s after start "
            f"during {k['kind']}{'' if k['mid'] else ' (NOT mid-work)'}: {what}; "
            f"outbox pending {k['pendingOutboxAtKill']}; store quick_check {k['check']}; budget limit {k['limit']:g}")
    FIGURES.lines.append(
        f"chaos: totals exact after every restart: {tot['entries']:,} Claude events over {len(corpus.snapshot()[1])} days "
        f"and {len(corpus.snapshot()[2])} models (= manifest), {len(w.records)} records (+ replays refused), "
        "billed " + ", ".join(f"{k} ${v / 1e9:,.4f}" for k, v in w.providers.billed_nusd().items())
        + f", Moonshot balance ${w.balance:g}")
    FIGURES.lines.append(
        f"chaos: outbox: {len(rows)} rows ({sum(r['kind'] == 'alert' for r in rows)} alert transitions: "
        + "; ".join(f"{a}: {', '.join(v)}" for a, v in sorted(seqs.items()))
        + f"), all delivered; {len(hits)} requests accepted by the receiver for {len(by_id)} delivery ids: "
        f"{sum(n - 1 for n in repeats.values())} repeat(s) (same delivery id and body)")
    FIGURES.data["chaos"] = {
        "kills": len(kills), "ingestKills": sum(k["kind"] == "ingest" for k in kills),
        "pollKills": sum(k["kind"] == "poll" for k in kills), "midWork": mids,
        "exactRestarts": sum(1 for k in rounds[1:] if k.get("converge") is not None),
        "events": tot["entries"], "transitions": len(rows), "delivered": len(by_id),
        "repeats": sum(n - 1 for n in repeats.values()), "ok": True, "rounds": rounds,
    }
    assert mids == len(kills), [k for k in kills if not k["mid"]]
