"""Claude Code ingest against the corpus generator's ground truth (tokens) and an independent per-event
genai-prices computation written here (costs), through the real CLI."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from tests.support import Cli, gen_corpus

CONFIGS = [
    pytest.param({"seed": 1}, id="seed1-default-rates"),
    pytest.param({"seed": 7, "dup_rate": 0.9, "resume_rate": 0.5, "subagent_rate": 0.5}, id="seed7-heavy-dup-resume"),
    pytest.param({"seed": 42, "dup_rate": 0.0, "resume_rate": 0.0, "subagent_rate": 0.0}, id="seed42-no-dup"),
    pytest.param({"seed": 7, "dup_rate": 0.9, "resume_rate": 0.5, "subagent_rate": 0.5, "postgres": True},
                 id="seed7-heavy-dup-resume-postgres"),
]


def independent_costs(claude_dir: Path) -> tuple[dict[str, Decimal], int]:
    """Cost per UTC day: one entry per message.id+requestId with the largest token total, each priced
    by ``genai_prices.calc_price`` on its own (input_tokens includes the cache classes there)."""
    best: dict[str, tuple[int, dict, str]] = {}
    for dirpath, _dirs, files in os.walk(claude_dir / "projects"):
        for name in files:
            if not name.endswith(".jsonl"):
                continue
            for line in Path(dirpath, name).read_text().splitlines():
                obj = json.loads(line)
                msg = obj.get("message") or {}
                if obj.get("type") != "assistant" or "usage" not in msg or msg.get("model") == "<synthetic>":
                    continue
                u = msg["usage"]
                total = sum(int(u.get(k) or 0) for k in (
                    "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"))
                key = f"{msg['id']}:{obj['requestId']}"
                if key not in best or total > best[key][0]:
                    best[key] = (total, obj, msg["model"])
    by_day: dict[str, Decimal] = defaultdict(Decimal)
    for _total, obj, model in best.values():
        u = obj["message"]["usage"]
        cw = int(u.get("cache_creation_input_tokens") or 0)
        cr = int(u.get("cache_read_input_tokens") or 0)
        w1h = int((u.get("cache_creation") or {}).get("ephemeral_1h_input_tokens") or 0)
        ts = datetime.fromisoformat(obj["timestamp"].replace("Z", "+00:00")).astimezone(UTC)
        usage = Usage(
            input_tokens=int(u.get("input_tokens") or 0) + cw + cr,
            cache_read_tokens=cr,
            cache_write_tokens=cw,
            cache_write_1h_tokens=w1h,
            output_tokens=int(u.get("output_tokens") or 0),
        )
        price = calc_price(usage, model, provider_id="anthropic", genai_request_timestamp=ts)
        by_day[ts.strftime("%Y-%m-%d")] += price.total_price
    return by_day, len(best)


def _tokens(row: dict) -> dict[str, int]:
    t = row["tokens"]
    return {"inputTokens": t["input"], "outputTokens": t["output"], "cacheCreationTokens": t["cacheWrite"],
            "cacheReadTokens": t["cacheRead"]}


@pytest.mark.parametrize("cfg", CONFIGS)
def test_report_equals_manifest_and_independent_prices(tmp_path: Path, cfg: dict,
                                                       request: pytest.FixtureRequest) -> None:
    cfg = dict(cfg)
    url = request.getfixturevalue("pg_database") if cfg.pop("postgres", False) else None
    claude = tmp_path / ".claude"
    manifest = gen_corpus(claude, files=12, assistant_lines=3000, **cfg)
    cli = Cli(tmp_path, claude=claude, database_url=url)
    cli.run("ingest")

    daily = cli.json("report", "daily", "--tz", "UTC", "--source", "claude-code")
    got_days = {r["date"]: {**_tokens(r), "entries": r["requests"]} for r in daily["rows"]}
    assert got_days == manifest["dedupByDay"]

    by_model: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in cli.json("report", "daily", "--tz", "UTC", "--source", "claude-code", "--by", "model")["rows"]:
        for k, v in _tokens(r).items():
            by_model[r["model"]][k] += v
    assert {m: dict(v) for m, v in by_model.items()} == manifest["dedupByModel"]

    t = daily["totals"]
    assert {**_tokens(t), "entries": t["requests"],
            "totalTokens": t["tokens"]["total"]} == manifest["dedupTotals"]

    expected, n = independent_costs(claude)
    assert n == manifest["uniqueResponses"]
    for row in daily["rows"]:
        # Each event is rounded to the nano-dollar once; the sum may differ by half a nano-dollar each.
        tolerance = Decimal(row["requests"]) * Decimal("0.0000000005") + Decimal("1e-12")
        assert abs(Decimal(str(row["costUsd"])) - expected[row["date"]]) <= tolerance, row["date"]
        assert row["unpricedTokens"] == 0


def test_other_time_zone_moves_events_across_midnight(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    manifest = gen_corpus(claude, files=6, assistant_lines=800, seed=3)
    cli = Cli(tmp_path, claude=claude)
    cli.run("ingest")
    utc = cli.json("report", "daily", "--tz", "UTC")
    tokyo = cli.json("report", "daily", "--tz", "Asia/Tokyo")
    # Same totals whatever the zone; the day split differs when events fall in 15:00–24:00 UTC.
    assert utc["totals"]["tokens"] == tokyo["totals"]["tokens"]
    assert utc["totals"]["tokens"]["total"] == manifest["dedupTotals"]["totalTokens"]
    # Recompute Tokyo days from the raw lines: an event at 15:00 UTC or later belongs to the next day.
    from zoneinfo import ZoneInfo

    days: dict[str, int] = defaultdict(int)
    seen: dict[str, tuple[int, str]] = {}
    for p in (claude / "projects").rglob("*.jsonl"):
        for line in p.read_text().splitlines():
            o = json.loads(line)
            m = o.get("message") or {}
            if o.get("type") == "assistant" and "usage" in m:
                u = m["usage"]
                tot = sum(int(u.get(k) or 0) for k in ("input_tokens", "output_tokens", "cache_read_input_tokens",
                                                       "cache_creation_input_tokens"))
                key = f"{m['id']}:{o['requestId']}"
                if key not in seen or tot > seen[key][0]:
                    seen[key] = (tot, o["timestamp"])
    for tot, ts in seen.values():
        d = datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d")
        days[d] += tot
    assert {r["date"]: r["tokens"]["total"] for r in tokyo["rows"]} == dict(days)
