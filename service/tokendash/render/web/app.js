// tokendash web dashboard. Plain JavaScript, no build step, no third-party code.
//
// A classic script, not an ES module on purpose: inside the OpenClaw Control UI the page runs in a
// sandboxed frame with an opaque origin, where module scripts (always fetched in CORS mode) would not
// load. For the same reason the page carries its data in <script id="td-initial">, and in such a frame
// it refreshes by reloading itself instead of polling. Standalone it polls api/cached (from memory)
// every few seconds and updates the DOM in place.
(() => {
  "use strict";

  // -- settings the sidecar wrote into the page ----------------------------------------------------

  const meta = (name) => {
    const el = document.querySelector(`meta[name="tokendash-${name}"]`);
    return el ? el.content : "";
  };
  const TZ = validZone(meta("timezone"));
  const WANT_CURRENCY = (meta("currency") || "USD").toUpperCase();
  const USD_PER_UNIT = parseFloat(meta("usd-per-unit"));
  const HAVE_RATE = WANT_CURRENCY === "USD" || (Number.isFinite(USD_PER_UNIT) && USD_PER_UNIT > 0);
  const CURRENCY = HAVE_RATE ? WANT_CURRENCY : "USD";
  const RATE = CURRENCY === "USD" ? 1 : USD_PER_UNIT;
  const POLL_MS = Math.max(1, parseFloat(meta("poll-seconds")) || 5) * 1000;
  const HEALTH_MS = 30000;
  const USAGE_MAX_AGE_MS = 5 * 60000;
  const RELOAD_MS = 30000;
  const OPAQUE = self.origin === "null"; // a sandboxed frame: api/* cannot be read from here
  const USAGE_URL = "api/usage?since=30d&groupBy=day,provider";

  const KEY_VARS = {
    openai: "OPENAI_ADMIN_KEY",
    anthropic: "ANTHROPIC_ADMIN_KEY",
    openrouter: "OPENROUTER_API_KEY or OPENROUTER_MANAGEMENT_KEY",
    moonshot: "MOONSHOT_API_KEY",
    deepseek: "DEEPSEEK_API_KEY",
  };
  const COLORS = {
    anthropic: "#d97757",
    openai: "#10a37f",
    openrouter: "#8b5cf6",
    moonshot: "#0ea5e9",
    deepseek: "#4d6bfe",
    google: "#eab308",
    gemini: "#eab308",
    ollama: "#94a3b8",
    xai: "#64748b",
    mistral: "#f97316",
  };
  const PALETTE = ["#e11d48", "#14b8a6", "#a855f7", "#84cc16", "#f59e0b", "#06b6d4", "#ec4899", "#22c55e"];

  const state = {
    cached: null,
    usage: null,
    health: null,
    problem: null, // {kind: starting|offline|unauthorized, message, since}
    lastOk: 0,
    refreshes: 0,
    usageKey: "",
    usageAt: 0,
    healthAt: 0,
    chartWidth: 0,
    chartKey: "",
  };

  // -- formatting ----------------------------------------------------------------------------------

  function validZone(z) {
    if (!z) return undefined;
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: z });
      return z;
    } catch (_) {
      return undefined;
    }
  }

  const formats = new Map();
  function nf(key, opts) {
    let f = formats.get(key);
    if (!f) {
      f = new Intl.NumberFormat(undefined, opts);
      formats.set(key, f);
    }
    return f;
  }
  function money(v, cur, digits) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "–";
    const d = digits === undefined ? 2 : digits;
    try {
      return nf(`m:${cur}:${d}`, { style: "currency", currency: cur, minimumFractionDigits: d, maximumFractionDigits: d }).format(v);
    } catch (_) {
      return `${nf(`n:${d}`, { minimumFractionDigits: d, maximumFractionDigits: d }).format(v)} ${cur}`;
    }
  }
  // An amount in USD, shown in the display currency.
  function usd(v, digits) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "–";
    return money(v / RATE, CURRENCY, digits);
  }
  // Small rates keep their cents' fractions visible.
  function usdRate(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "–";
    return usd(v, Math.abs(v / RATE) < 1 && v !== 0 ? 4 : 2);
  }
  function usdShort(v) {
    const x = v / RATE;
    if (Math.abs(x) >= 1000) {
      try {
        return nf(`c:${CURRENCY}`, { style: "currency", currency: CURRENCY, notation: "compact", maximumFractionDigits: 1 }).format(x);
      } catch (_) { /* fall through */ }
    }
    return money(x, CURRENCY, Math.abs(x) < 10 && x !== Math.round(x) ? 2 : 0);
  }
  const compact = (n) => nf("compact", { notation: "compact", maximumFractionDigits: 1 }).format(n || 0);
  const integer = (n) => nf("int", { maximumFractionDigits: 0 }).format(n || 0);
  const count = (n, one, many) => `${integer(n)} ${n === 1 ? one : many}`;
  const pct = (n) => `${nf("pct", { maximumFractionDigits: n >= 10 ? 0 : 1 }).format(n || 0)} %`;
  function days(n) {
    if (n === null || n === undefined || !Number.isFinite(n)) return "–";
    if (n >= 365) return "> 1 year";
    return `${nf("days", { maximumFractionDigits: n < 10 ? 1 : 0 }).format(n)} days`;
  }
  function ago(iso) {
    if (!iso) return "never";
    const t = Date.parse(iso);
    if (!Number.isFinite(t)) return iso;
    const s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 60) return `${Math.floor(s)} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400 * 2) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} days ago`;
  }
  function when(iso) {
    if (!iso) return "";
    const t = Date.parse(iso);
    return Number.isFinite(t) ? new Date(t).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : iso;
  }
  const bytes = (n) => {
    if (!Number.isFinite(n)) return "–";
    const u = ["B", "KB", "MB", "GB", "TB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return `${nf("b", { maximumFractionDigits: n < 10 ? 1 : 0 }).format(n)} ${u[i]}`;
  };
  const titleCase = (s) => String(s || "").replace(/(^|[-_ ])(\w)/g, (_, a, b) => (a ? " " : "") + b.toUpperCase());

  // -- DOM helpers ---------------------------------------------------------------------------------

  const $ = (sel, root) => (root || document).querySelector(sel);
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("data-")) el.dataset[k.slice(5).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = v;
      else el.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return el;
  }
  function setText(el, text) {
    text = text === null || text === undefined ? "" : String(text);
    if (el.textContent !== text) el.textContent = text;
  }
  function setAttr(el, name, value) {
    if (value === null || value === undefined) {
      if (el.hasAttribute(name)) el.removeAttribute(name);
    } else if (el.getAttribute(name) !== String(value)) {
      el.setAttribute(name, value);
    }
  }
  function setClass(el, cls) {
    if (el.className !== cls) el.className = cls;
  }
  // Keep one child per key, in order, reusing the nodes that are there: nothing is blanked.
  function keyed(container, items, keyOf, make, update) {
    const old = new Map();
    for (const c of Array.from(container.children)) {
      if (c.dataset.key !== undefined) old.set(c.dataset.key, c);
      else c.remove();
    }
    let prev = null;
    for (const item of items) {
      const k = String(keyOf(item));
      let el = old.get(k);
      if (el) old.delete(k);
      else {
        el = make(item);
        el.dataset.key = k;
      }
      update(el, item);
      const next = prev ? prev.nextSibling : container.firstChild;
      if (next !== el) container.insertBefore(el, next);
      prev = el;
    }
    for (const el of old.values()) el.remove();
  }
  function bar(el, percent, cls) {
    let fill = el.firstElementChild;
    if (!fill) {
      fill = h("span", { class: "fill" });
      el.append(fill);
    }
    fill.style.width = `${Math.max(0, Math.min(100, percent || 0)).toFixed(1)}%`;
    setClass(fill, `fill ${cls || ""}`.trim());
  }

  // -- data helpers --------------------------------------------------------------------------------

  const providerName = (id) => {
    const p = ((state.cached && state.cached.providers) || []).find((x) => x.providerId === id);
    return p && p.name ? p.name : titleCase(id || "unknown");
  };
  const colorCache = new Map();
  function colorOf(id) {
    if (COLORS[id]) return COLORS[id];
    if (!colorCache.has(id)) colorCache.set(id, PALETTE[colorCache.size % PALETTE.length]);
    return colorCache.get(id);
  }
  const PERIOD_OF = { today: "daily", week: "weekly", month: "monthly" };
  const isGlobal = (b) => {
    const sc = b.scope || {};
    return !sc.provider && !sc.agent && !sc.project;
  };
  const stateClass = (st) => ({ ok: "ok", warning: "warn", critical: "crit", exceeded: "crit" })[st] || "ok";
  function scopeLabel(b) {
    const sc = b.scope || {};
    if (sc.provider) return `provider ${providerName(sc.provider)}`;
    if (sc.agent) return `agent ${sc.agent}`;
    if (sc.project) return `project ${sc.project}`;
    return "all spend";
  }
  function localDay(date) {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
    } catch (_) {
      return date.toISOString().slice(0, 10);
    }
  }
  function lastDays(endDay, n) {
    const [y, m, d] = endDay.split("-").map(Number);
    const out = [];
    for (let i = n - 1; i >= 0; i--) out.push(new Date(Date.UTC(y, m - 1, d - i)).toISOString().slice(0, 10));
    return out;
  }
  const shortDay = (day) =>
    new Date(`${day}T12:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  // "openrouter: SourceError: openrouter: HTTP 401 …" reads "HTTP 401 …" next to the source's name.
  function cleanError(err, id) {
    let e = String(err || "");
    for (let i = 0; i < 4; i++) {
      const before = e;
      if (id && e.startsWith(`${id}: `)) e = e.slice(id.length + 2);
      e = e.replace(/^(SourceError|ProviderError|RuntimeError): /, "");
      if (e === before) break;
    }
    return e;
  }
  const rejectedKey = (err) =>
    /\b(401|403)\b|unauthori[sz]ed|forbidden|invalid[ _-]?(api[ _-]?)?key|incorrect api key|key (was )?rejected|authentication/i.test(err || "");

  // -- rendering -----------------------------------------------------------------------------------

  function render() {
    const sum = state.cached;
    const root = document.documentElement;
    root.dataset.refreshes = String(state.refreshes);
    root.dataset.state = state.problem ? state.problem.kind : sum ? "live" : "starting";
    renderConn();
    renderNotices();
    if (sum) {
      renderKpis(sum);
      renderChart();
      renderAlerts(sum);
      renderProviders(sum);
      renderBudgets(sum);
      renderTop(sum);
      renderSources(sum);
    }
    renderHealth();
    renderFoot();
    document.body.classList.remove("loading");
  }

  function renderConn() {
    const el = $("#conn");
    const sum = state.cached;
    let cls = "conn live";
    let text = "Live";
    if (state.problem && state.problem.kind === "offline") {
      cls = "conn bad";
      text = "Sidecar unreachable";
    } else if (state.problem && state.problem.kind === "unauthorized") {
      cls = "conn bad";
      text = "Signed out";
    } else if (!sum || (state.problem && state.problem.kind === "starting")) {
      cls = "conn info";
      text = "Starting";
    } else if (sum.stale && !(sum.sources || []).some((x) => x.ok)) {
      cls = "conn info";
      text = "No data yet";
    } else if (sum.stale) {
      cls = "conn warn";
      text = "Stale";
    } else if (OPAQUE) {
      text = "Live (reloads every 30 s)";
    }
    setClass(el, cls);
    setText($("#conn-text"), text);
    renderUpdated();
  }

  function renderUpdated() {
    const sum = state.cached;
    const el = $("#updated");
    if (!sum) return setText(el, "");
    setText(el, `Updated ${ago(sum.timestamp)}`);
    setAttr(el, "title", when(sum.timestamp));
  }

  function notice(id, level, title, ...body) {
    return { id, level, title, body };
  }

  function renderNotices() {
    const out = [];
    const sum = state.cached;
    const p = state.problem;
    if (p && p.kind === "starting") {
      out.push(notice("starting", "info", "tokendash is starting",
        "It is reading the store and building the dashboard. This page fills in by itself."));
    } else if (!sum && !p) {
      out.push(notice("starting", "info", "tokendash is starting",
        "The dashboard is still being built from the store. This page fills in by itself."));
    }
    if (p && p.kind === "offline") {
      out.push(notice("offline", "crit", "Cannot reach the tokendash sidecar",
        `${p.message ? p.message + ". " : ""}Retrying every ${POLL_MS / 1000} s${sum ? "; the figures below are from " + ago(sum.timestamp) : ""}. `,
        "Is ", h("code", {}, "tokendash serve"), " running? Under OpenClaw the gateway restarts it by itself."));
    }
    if (p && p.kind === "unauthorized") {
      out.push(notice("unauthorized", "crit", "Signed out",
        "The sidecar's token changed or this browser's session ended. Open the dashboard again with its token: ",
        h("code", {}, "…/?token=$(cat ~/.local/state/tokendash/token)"), "."));
    }
    if (!HAVE_RATE) {
      out.push(notice("fx", "warn", `No exchange rate for ${WANT_CURRENCY}`,
        "Amounts are shown in USD. Set the rate in ", h("code", {}, `TOKENDASH_FX=${WANT_CURRENCY}=…`), " (1 unit = that many USD)."));
    }
    if (sum) {
      const sources = sum.sources || [];
      const rejected = new Map();
      for (const src of sources) if (src.error && rejectedKey(src.error)) rejected.set(src.id, src.error);
      for (const pr of sum.providers || []) if (pr.error && rejectedKey(pr.error) && !rejected.has(pr.providerId)) rejected.set(pr.providerId, pr.error);
      for (const [id, err] of rejected) {
        out.push(notice(`key:${id}`, "crit", `${providerName(id)} rejected its key`,
          `${cleanError(err, id)}. `, "Check ", h("code", {}, KEY_VARS[id] || "the key"),
          " (in the environment or the OpenClaw config), then run ", h("code", {}, "tokendash doctor"), "."));
      }
      const anyConfigured = sources.some((x) => x.configured);
      const anyData = sources.some((x) => (x.items || 0) > 0) ||
        ((sum.periods && sum.periods.month && sum.periods.month.tokens && sum.periods.month.tokens.total) || 0) > 0 ||
        ((state.usage && state.usage.rows) || []).length > 0;
      if (!anyConfigured && !anyData) {
        out.push(notice("empty", "info", "No sources found yet",
          h("span", {}, "tokendash found no agent logs and no provider keys on this machine. It reads:"),
          h("ul", {},
            h("li", {}, "Claude Code logs in ", h("code", {}, "~/.claude"), " or ", h("code", {}, "~/.config/claude"), " (", h("code", {}, "CLAUDE_CONFIG_DIR"), ")"),
            h("li", {}, "Codex sessions in ", h("code", {}, "~/.codex"), " (", h("code", {}, "CODEX_HOME"), ")"),
            h("li", {}, "OpenClaw in ", h("code", {}, "~/.openclaw"), " (", h("code", {}, "OPENCLAW_STATE_DIR"), ")"),
            h("li", {}, "provider billing with ", h("code", {}, "OPENAI_ADMIN_KEY"), ", ", h("code", {}, "ANTHROPIC_ADMIN_KEY"), ", ",
              h("code", {}, "OPENROUTER_API_KEY"), ", ", h("code", {}, "MOONSHOT_API_KEY"), ", ", h("code", {}, "DEEPSEEK_API_KEY"))),
          h("span", {}, "Set what applies and restart the sidecar; ", h("code", {}, "tokendash doctor"), " shows what it sees.")));
      } else if (!anyData && sources.some((x) => x.ok) && (sum.totalBalanceUsd === null || sum.totalBalanceUsd === undefined)) {
        out.push(notice("nodata", "info", "No usage yet",
          "The sources are read, but they hold no usage so far. Use an agent, or push records with ",
          h("code", {}, "token-dashboard.record"), "."));
      }
    }
    keyed($("#notices"), out, (n) => n.id, () => h("div", { role: "status" }), (el, n) => {
      setClass(el, `notice lvl-${n.level}`);
      const sig = n.title + "|" + n.body.map((b) => (b instanceof Node ? b.textContent : String(b))).join("");
      if (el.dataset.sig === sig) return; // unchanged: leave the nodes (and any selection) alone
      el.dataset.sig = sig;
      el.replaceChildren(h("strong", { class: "title" }, n.title), h("div", { class: "body" }, ...n.body));
    });
  }

  function renderKpis(sum) {
    const periods = sum.periods || {};
    const budgets = sum.budgets || [];
    for (const key of ["today", "week", "month"]) {
      const card = $(`#kpi-${key}`);
      const t = periods[key] || { costUsd: 0, tokens: { total: 0 }, requests: 0 };
      const cost = $('[data-role="cost"]', card);
      setText(cost, usd(t.costUsd));
      setAttr(cost, "data-value", t.costUsd);
      const sub = $('[data-role="sub"]', card);
      const tok = (t.tokens && t.tokens.total) || 0;
      setText(sub, `${compact(tok)} tokens · ${count(t.requests || 0, "request", "requests")}`);
      setAttr(sub, "data-tokens", tok);
      setAttr(sub, "data-requests", t.requests || 0);
      setAttr(sub, "title", `${integer(tok)} tokens`);
      const b = budgets.find((x) => x.period === PERIOD_OF[key] && isGlobal(x));
      const box = $('[data-role="budget"]', card);
      if (!b) {
        if (box.dataset.budget !== "") {
          box.dataset.budget = "";
          box.replaceChildren(h("span", { class: "muted" }, `No ${PERIOD_OF[key]} budget`));
        }
        continue;
      }
      if (box.dataset.budget !== b.id) {
        box.dataset.budget = b.id;
        box.replaceChildren(h("div", { class: "bar" }), h("div", { class: "budget-text" }));
      }
      bar(box.firstElementChild, b.percent, stateClass(b.state));
      const txt = `${pct(b.percent)} of ${money(b.limit, b.currency || CURRENCY)}` +
        (b.projected !== null && b.projected !== undefined && key !== "today" ? ` · ${money(b.projected, b.currency || CURRENCY)} projected` : "");
      setText(box.lastElementChild, txt);
      setClass(box.lastElementChild, `budget-text ${stateClass(b.state)}`);
    }
    const provs = sum.providers || [];
    const burn = $("#kpi-burn");
    const perDay = sum.totalDailyCostUsd || 0;
    const big = $('[data-role="cost"]', burn);
    setText(big, `${usd(perDay)} / day`);
    setAttr(big, "data-value", perDay);
    const perHour = provs.reduce((a, p) => a + ((p.burnRate && p.burnRate.costPerHour) || 0), 0);
    setText($('[data-role="sub"]', burn), `${usdRate(perHour)} / hour`);
    const projected = provs.reduce((a, p) => a + ((p.burnRate && p.burnRate.projectedMonthEndUsd) || 0), 0);
    setText($('[data-role="projected"]', burn), projected ? `${usd(projected)} by month end` : "");

    const bal = $("#kpi-balance");
    const total = sum.totalBalanceUsd;
    const bigBal = $('[data-role="cost"]', bal);
    setText(bigBal, total === null || total === undefined ? "–" : usd(total));
    setClass(bigBal, total === null || total === undefined ? "big muted" : "big");
    setAttr(bigBal, "data-value", total === null || total === undefined ? null : total);
    const withBal = provs.filter((p) => p.currentUsage && (p.currentUsage.balanceUsd !== null && p.currentUsage.balanceUsd !== undefined));
    setText($('[data-role="sub"]', bal), withBal.length ? `${withBal.length} prepaid ${withBal.length === 1 ? "account" : "accounts"}` : "No prepaid balances known");
    const runway = $('[data-role="runway"]', bal);
    const rd = sum.totalRunwayDays;
    setText(runway, rd === null || rd === undefined ? "" : `Runway ${days(rd)}`);
    setClass(runway, `sub ${rd !== null && rd !== undefined ? (rd < 7 ? "crit" : rd < 14 ? "warn" : "") : ""}`.trim());
  }

  function renderChart() {
    const box = $("#chart");
    const usage = state.usage;
    const sum = state.cached;
    const width = Math.max(280, Math.floor(box.clientWidth || 600));
    const narrow = width < 520;
    const height = narrow ? 170 : 220;
    const today = localDay(sum && sum.timestamp ? new Date(sum.timestamp) : new Date());
    const dayList = lastDays(today, 30);
    const rows = (usage && usage.rows) || [];
    const key = JSON.stringify([width, today, rows.map((r) => [r.date, r.provider, r.costUsd]), CURRENCY]);
    const totalEl = $("#chart-total");
    if (!usage) {
      setText(totalEl, "");
      if (!box.firstChild) box.append(h("div", { class: "empty" }, OPAQUE ? "The 30-day series is not in this page." : "Loading the 30-day series…"));
      return;
    }
    const total = (usage.totals && usage.totals.costUsd) || rows.reduce((a, r) => a + (r.costUsd || 0), 0);
    setText(totalEl, `${usd(total)} in 30 days · ${usd(total / 30)} / day`);
    setAttr(totalEl, "data-value", total);
    if (key === state.chartKey) return;
    state.chartKey = key;

    const byProv = new Map();
    for (const r of rows) {
      const p = r.provider || "unknown";
      if (!byProv.has(p)) byProv.set(p, { id: p, total: 0, days: new Map() });
      const e = byProv.get(p);
      e.total += r.costUsd || 0;
      e.days.set(r.date, (e.days.get(r.date) || 0) + (r.costUsd || 0));
    }
    const series = Array.from(byProv.values()).sort((a, b) => b.total - a.total || a.id.localeCompare(b.id));
    const dayTotals = dayList.map((d) => series.reduce((a, sr) => a + (sr.days.get(d) || 0), 0));
    const max = Math.max(0, ...dayTotals);
    const [nice, ticks] = niceScale(max / RATE);
    const m = { l: 50, r: 6, t: 8, b: 20 };
    const iw = width - m.l - m.r;
    const ih = height - m.t - m.b;
    const step = iw / dayList.length;
    const bw = Math.max(2, step * 0.72);
    const top = nice * RATE;
    const y = (v) => m.t + ih - (top > 0 ? (v / top) * ih : 0);

    const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Daily cost by provider, last 30 days" });
    const grid = s("g", { class: "grid" });
    for (let i = 0; i <= ticks; i++) {
      const v = (top * i) / ticks;
      const yy = Math.round(y(v)) + 0.5;
      grid.append(s("line", { x1: m.l, x2: width - m.r, y1: yy, y2: yy }));
      grid.append(s("text", { x: m.l - 6, y: yy + 4, "text-anchor": "end" }, usdShort(v)));
    }
    svg.append(grid);
    const xl = s("g", { class: "xlabels" });
    const every = narrow ? 10 : 5;
    dayList.forEach((d, i) => {
      if ((dayList.length - 1 - i) % every !== 0) return;
      xl.append(s("text", { x: m.l + step * i + step / 2, y: height - 5, "text-anchor": "middle" }, shortDay(d)));
    });
    svg.append(xl);
    const base = dayList.map(() => 0);
    for (const sr of series) {
      const g = s("g", { class: "series", "data-provider": sr.id, fill: colorOf(sr.id) });
      dayList.forEach((d, i) => {
        const v = sr.days.get(d) || 0;
        if (v <= 0) return;
        const y0 = y(base[i]);
        const y1 = y(base[i] + v);
        base[i] += v;
        const r = s("rect", { x: (m.l + step * i + (step - bw) / 2).toFixed(2), y: y1.toFixed(2), width: bw.toFixed(2), height: Math.max(0.5, y0 - y1).toFixed(2) });
        r.append(s("title", {}, `${shortDay(d)} · ${providerName(sr.id)}: ${usd(v)}`));
        g.append(r);
      });
      svg.append(g);
    }
    const hover = s("g", { class: "cols" });
    dayList.forEach((d, i) => {
      const parts = series.filter((sr) => (sr.days.get(d) || 0) > 0).map((sr) => `${providerName(sr.id)} ${usd(sr.days.get(d))}`);
      const col = s("rect", { x: (m.l + step * i).toFixed(2), y: m.t, width: step.toFixed(2), height: ih });
      col.append(s("title", {}, `${shortDay(d)}: ${usd(dayTotals[i])}${parts.length ? "\n" + parts.join("\n") : ""}`));
      hover.append(col);
    });
    svg.append(hover);
    svg.append(s("line", { class: "axis", x1: m.l, x2: width - m.r, y1: m.t + ih + 0.5, y2: m.t + ih + 0.5 }));
    if (!series.length) svg.append(s("text", { class: "nodata", x: m.l + iw / 2, y: m.t + ih / 2, "text-anchor": "middle" }, "No usage in the last 30 days"));
    box.replaceChildren(svg);

    keyed($("#legend"), series, (sr) => sr.id, () => h("li", {}, h("span", { class: "swatch" }), h("span", { class: "name" }), h("span", { class: "val" })), (el, sr) => {
      el.firstElementChild.style.background = colorOf(sr.id);
      setText(el.children[1], providerName(sr.id));
      setText(el.children[2], usd(sr.total));
    });
  }

  // The axis top and its number of steps: steps of 1, 2, 2.5 or 5 × 10^k, at most five of them.
  function niceScale(v) {
    if (!(v > 0)) return [1, 4];
    const raw = v / 5;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = 10 * p;
    for (const f of [1, 2, 2.5, 5, 10]) {
      if (f * p >= raw) {
        step = f * p;
        break;
      }
    }
    const n = Math.max(1, Math.ceil(v / step - 1e-9));
    return [n * step, n];
  }

  const SEV = { critical: 0, warning: 1, info: 2 };
  function renderAlerts(sum) {
    const all = sum.alerts || [];
    const open = all.filter((a) => (a.state || "open") === "open")
      .sort((a, b) => (SEV[a.severity] ?? 3) - (SEV[b.severity] ?? 3) || String(b.lastSeen).localeCompare(String(a.lastSeen)));
    const resolved = all.length - open.length;
    setText($("#alerts-count"), open.length ? `${open.length} open` : "");
    const list = $("#alerts");
    const items = open.length ? open : [{ id: "__none", none: true }];
    keyed(list, items, (a) => a.id, (a) => (a.none ? h("li", { class: "none" }) : h("li", {}, h("span", { class: "dot" }), h("div", {}, h("div", { class: "msg" }), h("div", { class: "meta" })))), (el, a) => {
      if (a.none) {
        setText(el, resolved ? `No open alerts (${resolved} resolved recently).` : "No open alerts.");
        return;
      }
      setClass(el, `alert sev-${a.severity === "critical" ? "crit" : a.severity === "warning" ? "warn" : "info"}`);
      setAttr(el, "data-type", a.type);
      const msg = el.querySelector(".msg");
      setText(msg, a.message);
      setText(el.querySelector(".meta"), `${String(a.type || "alert").replace("_", " ")} · ${a.severity} · since ${ago(a.firstSeen)}`);
      setAttr(el, "title", `first seen ${when(a.firstSeen)}, last seen ${when(a.lastSeen)}`);
    });
  }

  function renderProviders(sum) {
    const provs = (sum.providers || []).filter((p) => p.currentUsage || p.burnRate || p.isConfigured || p.error);
    const body = $("#providers tbody");
    const items = provs.length ? provs : [{ providerId: "__none", none: true }];
    keyed(body, items, (p) => p.providerId, (p) => (p.none ? h("tr", { class: "none" }, h("td", { colspan: 5 })) :
      h("tr", {}, h("td", {}, h("span", { class: "swatch" }), h("span", { class: "name" }), h("span", { class: "tag" }), h("div", { class: "err" })),
        h("td", { class: "num" }), h("td", { class: "num" }), h("td", { class: "num" }), h("td", { class: "num" }))), (el, p) => {
      if (p.none) return setText(el.firstElementChild, "No provider figures yet.");
      const u = p.currentUsage || {};
      const b = p.burnRate || {};
      const c = el.children;
      c[0].firstElementChild.style.background = colorOf(p.providerId);
      setText(c[0].children[1], p.name || providerName(p.providerId));
      const hasBalance = (u.balanceUsd !== null && u.balanceUsd !== undefined) || (u.balance && u.balance.amount !== null && u.balance.amount !== undefined);
      const tag = !p.isConfigured ? (p.kind === "local" ? "local logs" : "estimate · no key")
        : u.costSource === "billed" ? "billed" : !u.costUsd && hasBalance ? "balance" : "estimate";
      setText(c[0].children[2], tag);
      setText(c[0].children[3], p.error || "");
      setText(c[1], usd(u.costUsd || 0));
      setAttr(c[1], "data-value", u.costUsd || 0);
      setText(c[2], b.costPerDay ? usd(b.costPerDay) : "–");
      let balance = "–";
      if (u.balance && u.balance.amount !== null && u.balance.amount !== undefined) {
        balance = money(u.balance.amount, u.balance.currency || "USD");
        if (u.balance.currency && u.balance.currency !== CURRENCY && u.balanceUsd !== null && u.balanceUsd !== undefined) balance += ` (${usd(u.balanceUsd)})`;
      } else if (u.balanceUsd !== null && u.balanceUsd !== undefined) {
        balance = usd(u.balanceUsd);
      }
      if (u.creditLimitUsd) balance += ` of ${usd(u.creditLimitUsd)}`;
      setText(c[3], balance);
      const rd = b.runwayDays;
      setText(c[4], days(rd));
      setClass(c[4], `num ${rd !== null && rd !== undefined ? (rd < 7 ? "crit" : rd < 14 ? "warn" : "") : ""}`.trim());
    });
  }

  function renderBudgets(sum) {
    const budgets = sum.budgets || [];
    const box = $("#budgets");
    if (!budgets.length) {
      keyed(box, [{ id: "__none" }], (x) => x.id, () => h("p", { class: "muted" }, "No budgets yet. Add ", h("code", {}, "[[budgets]]"), " to config.toml (id, period daily|weekly|monthly, limit, scope)."), () => {});
      return;
    }
    keyed(box, budgets, (b) => b.id, () => h("div", { class: "budget-row" },
      h("div", { class: "line" }, h("span", { class: "name" }), h("span", { class: "amt" })),
      h("div", { class: "bar" }),
      h("div", { class: "line small" }, h("span", { class: "scope muted" }), h("span", { class: "state" }))), (el, b) => {
      const cur = b.currency || CURRENCY;
      setText(el.querySelector(".name"), b.id);
      setText(el.querySelector(".amt"), `${money(b.spent, cur)} / ${money(b.limit, cur)}`);
      bar(el.querySelector(".bar"), b.percent, stateClass(b.state));
      setText(el.querySelector(".scope"), `${b.period} · ${scopeLabel(b)}` + (b.projected !== null && b.projected !== undefined ? ` · ${money(b.projected, cur)} projected` : ""));
      const st = el.querySelector(".state");
      setText(st, `${pct(b.percent)} · ${b.state}`);
      setClass(st, `state ${stateClass(b.state)}`);
    });
  }

  function renderTop(sum) {
    const monthCost = (sum.periods && sum.periods.month && sum.periods.month.costUsd) || 0;
    const lists = { model: sum.byModel, agent: sum.byAgent, project: sum.byProject };
    for (const [dim, rowsIn] of Object.entries(lists)) {
      const ol = $(`.toplist[data-dim="${dim}"]`);
      const rows = (rowsIn || []).slice().sort((a, b) => b.costUsd - a.costUsd || b.tokens.total - a.tokens.total).slice(0, 6);
      const items = rows.length ? rows : [{ __none: true }];
      keyed(ol, items, (r) => (r.__none ? "__none" : r[dim] === null || r[dim] === undefined ? "__unset" : r[dim]), (r) => (r.__none ? h("li", { class: "none" }, "No usage this month.") :
        h("li", {}, h("div", { class: "line" }, h("span", { class: "name" }), h("span", { class: "amt" })), h("div", { class: "bar thin" }), h("div", { class: "meta" }))), (el, r) => {
        if (r.__none) return;
        const name = r[dim] === null || r[dim] === undefined || r[dim] === "" ? "unattributed" : r[dim];
        const n = el.querySelector(".name");
        setText(n, name);
        setAttr(n, "title", name);
        setText(el.querySelector(".amt"), usd(r.costUsd));
        setAttr(el.querySelector(".amt"), "data-value", r.costUsd);
        bar(el.querySelector(".bar"), monthCost > 0 ? (100 * r.costUsd) / monthCost : 0, "");
        setText(el.querySelector(".meta"), `${compact(r.tokens.total)} tokens · ${count(r.requests || 0, "request", "requests")}`);
      });
    }
  }

  function renderSources(sum) {
    const sources = (sum.sources || []).slice().sort((a, b) => (b.configured - a.configured) || (!!b.error - !!a.error) || a.id.localeCompare(b.id));
    const ok = sources.filter((x) => x.configured && x.ok && !x.error).length;
    const bad = sources.filter((x) => x.error).length;
    const off = sources.filter((x) => !x.configured).length;
    setText($("#sources-summary"), `${ok} ok${bad ? ` · ${bad} failing` : ""}${off ? ` · ${off} not configured` : ""}`);
    keyed($("#sources tbody"), sources, (x) => x.id, () => h("tr", {}, h("td", {}, h("span", { class: "name" }), h("span", { class: "tag" })), h("td", {}, h("span", { class: "pill" })), h("td", { class: "when" }), h("td", { class: "num items" }), h("td", { class: "err problem" })), (el, x) => {
      const c = el.children;
      setText(c[0].children[0], x.id);
      setText(c[0].children[1], x.kind);
      let st = "ok";
      let label = "ok";
      if (!x.configured) { st = "off"; label = "not configured"; }
      else if (x.error) { st = "crit"; label = rejectedKey(x.error) ? "key rejected" : "failing"; }
      else if (x.stale) { st = "warn"; label = "stale"; }
      else if (!x.ok) { st = "info"; label = "waiting"; }
      setClass(el, `src src-${st}`);
      setClass(c[1].firstElementChild, `pill ${st}`);
      setText(c[1].firstElementChild, label);
      setText(c[2], x.configured ? ago(x.lastSuccess) : "–");
      setAttr(c[2], "title", x.lastSuccess ? `last success ${when(x.lastSuccess)}; last poll ${when(x.lastPoll)}` : x.lastPoll ? `last poll ${when(x.lastPoll)}` : null);
      setText(c[3], x.configured ? integer(x.items) : "–");
      const problem = (x.error && cleanError(x.error, x.id)) || (!x.configured ? (x.kind === "api" ? `no key (${KEY_VARS[x.id] || "not set"})` : "nothing to read") : "");
      setText(c[4], problem);
      setClass(c[4], `err problem${x.error ? "" : " quiet"}`);
    });
  }

  const LEVEL = { HEALTHY: "ok", CAUTION: "warn", CRITICAL: "crit" };
  function renderHealth() {
    const hs = state.health;
    const strip = $("#health");
    const chips = [];
    if (!hs) {
      chips.push({ id: "status", cls: "muted", label: "Host", value: OPAQUE ? "in the next reload" : "reading…" });
    } else {
      chips.push({ id: "status", cls: LEVEL[hs.status] || "muted", label: "Host", value: hs.status || "UNKNOWN", title: hs.error || "" });
      const lim = (v, c, w) => (v > c ? "crit" : v > w ? "warn" : "ok");
      if (hs.ram) chips.push({ id: "ram", cls: lim(hs.ram.percent, 90, 75), label: "RAM", value: `${Math.round(hs.ram.percent)} %`, title: `${bytes(hs.ram.usedBytes)} of ${bytes(hs.ram.totalBytes)}` });
      if (hs.swap && hs.swap.totalBytes) chips.push({ id: "swap", cls: lim(hs.swap.percent, 95, 80), label: "Swap", value: `${Math.round(hs.swap.percent)} %` });
      if (hs.cpu) chips.push({ id: "cpu", cls: lim(hs.cpu.load1 / Math.max(1, hs.cpu.cores), 2, 1), label: "Load", value: `${hs.cpu.load1.toFixed(2)} / ${hs.cpu.cores} cores`, title: `load ${hs.cpu.load1.toFixed(2)} ${hs.cpu.load5.toFixed(2)} ${hs.cpu.load15.toFixed(2)}` });
      for (const d of hs.disks || []) chips.push({ id: `disk:${d.mountpoint}`, cls: lim(d.percent, 90, 80), label: `Disk ${d.mountpoint}`, value: `${Math.round(d.percent)} %`, title: `${bytes(d.freeBytes)} free of ${bytes(d.totalBytes)}` });
      const temps = hs.temperatures || [];
      if (temps.length) {
        const hot = temps.reduce((a, t) => (t.celsius > a.celsius ? t : a));
        chips.push({ id: "temp", cls: hot.critical && hot.celsius >= hot.critical ? "crit" : hot.high && hot.celsius >= hot.high ? "warn" : "ok", label: "Temp", value: `${Math.round(hot.celsius)} °C`, title: `${hot.sensor} ${hot.label || ""}`.trim() });
      }
      for (const sv of hs.services || []) {
        if (!sv.configured) continue;
        chips.push({ id: `svc:${sv.name}`, cls: sv.ok ? "ok" : "warn", label: titleCase(sv.name), value: sv.ok ? "up" : "down", title: sv.error || sv.url || "" });
      }
      if (hs.sidecar) chips.push({ id: "sidecar", cls: "muted", label: "Sidecar", value: bytes(hs.sidecar.rssBytes), title: `pid ${hs.sidecar.pid}, up ${Math.round(hs.sidecar.uptimeSeconds)} s` });
    }
    keyed(strip, chips, (c) => c.id, () => h("span", { class: "chip" }, h("span", { class: "dot" }), h("span", { class: "label" }), h("span", { class: "value" })), (el, c) => {
      setClass(el, `chip ${c.cls}`);
      setText(el.children[1], c.label);
      setText(el.children[2], c.value);
      setAttr(el, "title", c.title || null);
    });
  }

  function renderFoot() {
    const sum = state.cached;
    const parts = [`Amounts in ${CURRENCY}`];
    if (TZ) parts.push(`days in ${TZ}`);
    parts.push(OPAQUE ? "reloads every 30 s" : `refreshes every ${POLL_MS / 1000} s`);
    if (sum && sum.timestamp) parts.push(`dashboard built ${when(sum.timestamp)}`);
    setText($("#foot"), parts.join(" · "));
  }

  // -- data ----------------------------------------------------------------------------------------

  async function getJson(url) {
    const r = await fetch(url, { cache: "no-cache", credentials: "same-origin", headers: { accept: "application/json" } });
    let body = null;
    const text = await r.text();
    try {
      body = text ? JSON.parse(text) : null;
    } catch (_) {
      body = null;
    }
    return { status: r.status, ok: r.ok, body, text };
  }

  async function pollCached() {
    try {
      const r = await getJson("api/cached");
      if (r.ok && r.body) {
        state.cached = r.body;
        state.problem = null;
        state.lastOk = Date.now();
      } else if (r.status === 401) {
        state.problem = { kind: "unauthorized" };
      } else if (r.status === 503 && r.body && r.body.error === "starting") {
        state.problem = { kind: "starting", message: r.body.message };
      } else {
        const msg = (r.body && (r.body.error || r.body.message)) || (r.text || "").trim().slice(0, 200) || `HTTP ${r.status}`;
        state.problem = { kind: "offline", message: msg };
      }
    } catch (_) {
      state.problem = { kind: "offline", message: "" };
    }
    if (state.cached && !state.problem) await maybeUsage();
    state.refreshes += 1;
    render();
  }

  async function maybeUsage() {
    const s = state.cached;
    const p = s.periods || {};
    const key = JSON.stringify([localDay(new Date(s.timestamp)), p.today && p.today.costUsd, p.month && p.month.costUsd, p.week && p.week.costUsd,
      (s.byProvider || []).map((r) => [r.provider, r.costUsd])]);
    if (key === state.usageKey && state.usage && Date.now() - state.usageAt < USAGE_MAX_AGE_MS) return;
    try {
      const r = await getJson(USAGE_URL);
      if (r.ok && r.body) {
        state.usage = r.body;
        state.usageKey = key;
        state.usageAt = Date.now();
      }
    } catch (_) { /* the next poll tries again */ }
  }

  async function pollHealth() {
    try {
      const r = await getJson("api/health");
      if (r.ok && r.body) {
        state.health = r.body;
        state.healthAt = Date.now();
        renderHealth();
      }
    } catch (_) { /* shown as it was */ }
  }

  let timer = 0;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      await pollCached();
      if (Date.now() - state.healthAt > HEALTH_MS) pollHealth();
      schedule();
    }, state.problem && state.problem.kind === "starting" ? 1000 : POLL_MS);
  }

  function start() {
    const el = document.getElementById("td-initial");
    let init = null;
    try {
      init = el ? JSON.parse(el.textContent) : null;
    } catch (_) {
      init = null;
    }
    if (init) {
      state.cached = init.cached || null;
      state.usage = init.usage || null;
      state.health = init.health || null;
      if (state.cached) {
        const p = state.cached.periods || {};
        state.usageKey = JSON.stringify([localDay(new Date(state.cached.timestamp)), p.today && p.today.costUsd, p.month && p.month.costUsd, p.week && p.week.costUsd,
          (state.cached.byProvider || []).map((r) => [r.provider, r.costUsd])]);
        state.usageAt = state.usage ? Date.now() : 0;
        state.lastOk = Date.now();
      }
    }
    render();
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => {
        const w = Math.floor($("#chart").clientWidth);
        if (w && w !== state.chartWidth) {
          state.chartWidth = w;
          if (state.cached) renderChart();
        }
      }).observe($("#chart"));
    }
    setInterval(renderUpdated, 1000);
    if (OPAQUE) {
      // No readable api/* from an opaque origin: the page itself is the data. The browser keeps the old
      // frame painted until the new one has content, so this does not flash.
      setTimeout(() => location.reload(), RELOAD_MS);
      return;
    }
    if (!state.health) pollHealth();
    if (!state.cached) pollCached().then(schedule);
    else schedule();
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") pollCached().then(schedule);
    });
  }

  start();
})();
