"""Tables and CSV for people, from ``token-dashboard.usage`` results (no figures computed here)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from tokendash.accounting.aggregate import DIMENSIONS, GRAIN_KEY

COLUMNS = [
    ("Input", lambda r: r["tokens"]["input"]),
    ("Output", lambda r: r["tokens"]["output"]),
    ("Cache read", lambda r: r["tokens"]["cacheRead"]),
    ("Cache write", lambda r: r["tokens"]["cacheWrite"]),
    ("Total", lambda r: r["tokens"]["total"]),
    ("Cost (USD)", lambda r: r["costUsd"]),
]


def key_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    order = list(GRAIN_KEY.values()) + list(DIMENSIONS)
    return [k for k in order if k in rows[0]]


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "—" if v is None else str(v)


def render_table(result: dict[str, Any], unpriced_note: bool = True) -> str:
    rows = result["rows"]
    keys = key_columns(rows)
    header = [k.capitalize() for k in keys] + [c for c, _ in COLUMNS]
    body = [[_fmt(r.get(k)) for k in keys] + [_fmt(f(r)) for _, f in COLUMNS] for r in rows]
    t = result["totals"]
    body.append(["Total"] + [""] * (len(keys) - 1 if keys else 0) + [_fmt(f(t)) for _, f in COLUMNS])
    if not keys:
        header = ["", *header]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < max(1, len(keys)) else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    out = [line(header), "  ".join("-" * w for w in widths)] + [line(b) for b in body[:-1]]
    out += ["  ".join("-" * w for w in widths), line(body[-1])]
    if not rows:
        out = ["No usage in this period. Run `tokendash ingest` first, or widen --since/--until."]
    if unpriced_note and t["unpricedTokens"]:
        out.append(f"\n{t['unpricedTokens']:,} tokens are from models with no known price (not counted as $0).")
    return "\n".join(out)


def render_csv(result: dict[str, Any]) -> str:
    rows = result["rows"]
    keys = key_columns(rows)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(keys + ["input", "output", "cacheRead", "cacheWrite", "reasoning", "total", "costUsd",
                       "billedCostUsd", "estimatedCostUsd", "unpricedTokens", "requests"])
    for r in rows:
        tk = r["tokens"]
        w.writerow([r.get(k) if r.get(k) is not None else "" for k in keys] + [
            tk["input"], tk["output"], tk["cacheRead"], tk["cacheWrite"], tk["reasoning"], tk["total"],
            f"{r['costUsd']:.9f}", f"{r['billedCostUsd']:.9f}", f"{r['estimatedCostUsd']:.9f}",
            r["unpricedTokens"], r["requests"],
        ])
    return buf.getvalue()
