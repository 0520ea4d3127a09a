// adhash Mission Control: plain browser JavaScript, no build step, no CDN.
// Data: /api/metrics/history on load, then /api/stream (SSE read through fetch so the bearer
// token travels in a header, never in the URL), falling back to polling /api/metrics.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "adhash.token";
  const THEME_KEY = "adhash.theme";
  // Every series and marker kind has a line style as well as a colour, so that none is told
  // apart by hue alone; the legends draw the same style (uPlot's markers, .mk in style.css).
  const DASHES = { solid: [], dashed: [8, 4], dotted: [2, 3] };
  const MARKERS = {
    migration: ["#d1242f", "solid"],
    compaction: ["#8250df", "dashed"],
    resize: ["#9a6700", "dotted"],
  };

  const state = {
    ticks: [],
    historyLimit: 360,
    selected: -1, // -1: follow the newest tick
    events: [],
    mode: "connecting",
    charts: {},
    streamAbort: null,
    pollTimer: null,
    pollAbort: null,
    retryTimer: null,
    historyTimer: null, // the next try at loading the history, after it failed
    // Ticks the server had published up to the last one this page saw on a stream (its count
    // in the hello, plus each new tick since); null until a stream was open.
    seen: null,
    lastStreamTick: null, // the newest tick a stream sent
    // Ticks the stream sent while start() fetched the history, added once it is in; else null.
    held: null,
    trace: null,
    step: 0,
    playTimer: null,
    streamTicks: 0,
  };

  // ---------- HTTP ----------
  function token() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }
  function headers() {
    const t = token();
    return t ? { Authorization: `Bearer ${t}` } : {};
  }
  class Unauthorized extends Error {}
  async function api(path, signal) {
    const res = await fetch(path, { headers: headers(), cache: "no-store", signal });
    if (res.status === 401) {
      showLogin(token() ? "The token was refused." : "");
      throw new Unauthorized("401");
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) throw apiError(res, body);
    return body;
  }
  /** The error of a refused request: the envelope's detail, its status and hint (if any). */
  function apiError(res, body) {
    const err = new Error(body && body.detail ? body.detail : `HTTP ${res.status}`);
    err.status = res.status;
    if (body && typeof body.hint === "string" && body.hint !== "") err.hint = body.hint;
    // Busy (503) and rate-limited (429) answers say when to ask again.
    const after = Number(res.headers.get("Retry-After"));
    if (after > 0) err.retryAfter = after;
    return err;
  }
  /** Shows `err` in `el`: its message, then the server's hint on a line of its own. */
  function showError(el, err) {
    el.textContent = err.message;
    if (err.hint) el.append(span("hint", err.hint));
  }

  /** A JSON request with a body (POST, DELETE); errors as in api(). */
  async function send(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { ...headers(), "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) {
      showLogin("The token was refused.");
      throw new Unauthorized("401");
    }
    const json = await res.json().catch(() => null);
    if (!res.ok) throw apiError(res, json);
    return json;
  }

  // ---------- login ----------
  function showLogin(message) {
    $("login").hidden = false;
    $("main").hidden = true;
    $("tabs").hidden = true;
    $("alerts").hidden = true; // the metrics' banner, outside <main>
    $("login-error").textContent = message || "";
    $("logout").hidden = true;
    setMode("offline", "sign-in required");
    $("token").focus();
  }
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    $("token").value = "";
    $("login").hidden = true;
    $("main").hidden = false;
    $("tabs").hidden = false;
    // The form just vanished with the focus in it: carry on where the keyboard can go next.
    document.querySelector('#tabs [aria-selected="true"]').focus();
    start();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    stopFeeds();
    showLogin("");
  });

  // ---------- theme ----------
  function applyTheme(theme) {
    if (theme) document.documentElement.dataset.theme = theme;
    else delete document.documentElement.dataset.theme;
    $("theme").setAttribute("aria-pressed", String(currentTheme() === "dark"));
    rebuildCharts();
    renderCurrent();
  }
  function currentTheme() {
    const set = document.documentElement.dataset.theme;
    if (set) return set;
    return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  $("theme").addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
  });
  // CSS follows the OS by itself, but the charts hold the colours they were drawn with.
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (!localStorage.getItem(THEME_KEY)) applyTheme(null);
  });

  // ---------- tabs ----------
  const tabs = ["telemetry", "probe", "snapshot", "compare", "jobs"];
  function selectTab(name, focus) {
    for (const t of tabs) {
      const on = t === name;
      const tab = $(`tab-${t}`);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      $(`panel-${t}`).hidden = !on;
      if (on && focus) tab.focus();
    }
    if (name !== "probe") stopPlay(); // it would step on unseen
    if (name === "telemetry") resizeCharts();
    if (name === "snapshot") loadSnapshotList();
    if (name === "compare") loadCompare();
    if (name === "probe") loadSnapshotList();
    if (name === "jobs") loadJobs();
  }
  tabs.forEach((t, i) => {
    const tab = $(`tab-${t}`);
    tab.addEventListener("click", () => selectTab(t, false));
    tab.addEventListener("keydown", (e) => {
      let j = null;
      if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
      if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
      if (e.key === "Home") j = 0;
      if (e.key === "End") j = tabs.length - 1;
      if (j !== null) {
        e.preventDefault();
        selectTab(tabs[j], true);
      }
    });
  });

  // ---------- connection status ----------
  function setMode(mode, text) {
    state.mode = mode;
    const el = $("conn");
    el.className = `pill ${mode}`;
    const words = text || mode;
    // A live region: rewriting the same words (polling does, every second) repeats them.
    if (el.textContent !== words) el.textContent = words;
  }

  // ---------- formatting ----------
  const fmt = (v, d = 3) => {
    if (v === undefined || v === null || Number.isNaN(v)) return "–";
    if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en-US");
    return Number(v.toFixed(d)).toString();
  };

  // Latencies of 0.000581 and 0.000621 ms must not both read 0.0006: 4 significant digits.
  const fmtSig = (v) =>
    typeof v !== "number" || Number.isNaN(v) || Math.abs(v) >= 1000
      ? fmt(v)
      : String(+v.toPrecision(4));

  // ---------- charts ----------
  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function markerPlugin() {
    return {
      hooks: {
        draw: (u) => {
          const ctx = u.ctx;
          const { top, height } = u.bbox;
          ctx.save();
          ctx.lineWidth = 2 * devicePixelRatio;
          for (const m of markers()) {
            const x = u.valToPos(m.t, "x", true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            const [color, style] = MARKERS[m.kind];
            ctx.strokeStyle = color;
            ctx.setLineDash(DASHES[style].map((d) => d * devicePixelRatio));
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            if (m.arrow) {
              ctx.fillStyle = color;
              ctx.font = `${11 * devicePixelRatio}px sans-serif`;
              ctx.textAlign = "center";
              ctx.textBaseline = "top";
              ctx.fillText(m.arrow, x, top + 2 * devicePixelRatio);
            }
          }
          const sel = state.selected;
          if (sel >= 0 && state.ticks[sel]) {
            const x = u.valToPos(state.ticks[sel].t, "x", true);
            ctx.strokeStyle = cssVar("--focus");
            ctx.setLineDash([4, 4]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
          }
          ctx.restore();
        },
      },
    };
  }
  function markers() {
    const out = [];
    for (const tick of state.ticks) {
      for (const ev of tick.events || []) {
        let kind = null;
        if (
          ev.type === "migration_start" || ev.type === "switch" || ev.type === "start" && ev.from
        ) {
          kind = "migration";
        } else if (ev.type === "compaction") kind = "compaction";
        else if (ev.type === "resize") kind = "resize";
        if (kind) out.push({ t: ev.t, kind, arrow: kind === "resize" ? resizeArrow(ev) : "" });
      }
    }
    return out;
  }
  /** ▲ for a resize that grew the table, ▼ for a shrink; "" when the event does not say. */
  function resizeArrow(ev) {
    if (typeof ev.from_capacity !== "number" || typeof ev.capacity !== "number") return "";
    return ev.capacity < ev.from_capacity ? "▼" : "▲";
  }
  /** `512 → 128 chains`, `chaining 512 chains → robinhood 1,024 slots`: an event's capacities. */
  function capacities(ev) {
    if (typeof ev.from_capacity !== "number" || typeof ev.capacity !== "number") return "";
    const unit = (backend) => (backend === "chaining" ? "chains" : "slots");
    return ev.from === ev.to
      ? `${fmt(ev.from_capacity, 0)} → ${fmt(ev.capacity, 0)} ${unit(ev.to)}`
      : `${ev.from} ${fmt(ev.from_capacity, 0)} ${unit(ev.from)} → ${ev.to} ${
        fmt(ev.capacity, 0)
      } ${unit(ev.to)}`;
  }
  const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
  function axisLabels(_u, splits) {
    return splits.map((v) =>
      v === null ? "" : Math.abs(v) >= 1000 ? compact.format(v) : String(+v.toPrecision(4))
    );
  }
  function makePlot(el, series, yMin) {
    if (typeof uPlot === "undefined") return null;
    const fg = cssVar("--fg");
    const grid = cssVar("--grid");
    const axis = { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } };
    const opts = {
      width: Math.max(200, el.clientWidth || 300),
      height: 180,
      plugins: [markerPlugin()],
      // Ratios and counts start at 0; a flat zero series still gets a small visible range.
      scales: {
        x: { time: false },
        y: { range: (_u, _min, max) => [0, Math.max(max || 0, yMin)] },
      },
      // Compact labels (4.2M, 350k) fit the axis; a fixed width cut 4,000,000 to "000,000".
      axes: [{ ...axis, label: "t (s)" }, { ...axis, size: 60, values: axisLabels }],
      series: [
        { label: "t" },
        ...series.map(([label, color, style = "solid"]) => ({
          label,
          stroke: color,
          width: 2,
          dash: DASHES[style],
        })),
      ],
      legend: { live: true, markers: { dash: (_u, i) => series[i - 1]?.[2] ?? "solid" } },
    };
    const data = [[], ...series.map(() => [])];
    const plot = new uPlot(opts, data, el);
    // `el` is the image, named by renderTimelines(); uPlot's legend table would read as clutter.
    plot.root.setAttribute("aria-hidden", "true");
    return plot;
  }
  const CHARTS = {
    throughput: ["ch-throughput", [["ops/s", "#1f6feb"]], (t, prev) => [throughput(t, prev)]],
    load: ["ch-load", [["load factor", "#1a7f37"]], (t) => [t.load_factor]],
    probe: ["ch-probe", [["avg probe", "#bf8700"]], (t) => [t.avg_probe_estimate]],
    tomb: [
      "ch-tomb",
      [["tombstone ratio", "#8250df"]],
      (t) => [t.backend === "chaining" ? null : t.tombstone_ratio],
    ],
    latency: [
      "ch-latency",
      [["p50", "#1a7f37", "solid"], ["p90", "#bf8700", "dashed"], ["p99", "#d1242f", "dotted"]],
      (t) => {
        const p = t.latency_ms[$("lat-op").value] || t.latency_ms.overall;
        return [p.p50, p.p90, p.p99];
      },
    ],
  };
  const Y_MIN = { throughput: 10, load: 0.1, probe: 0.5, tomb: 0.05, latency: 0.001 };
  // The charts' names in the HTML, to which renderTimelines() adds what the data says.
  const CHART_NAMES = Object.fromEntries(
    Object.entries(CHARTS).map(([name, [id]]) => [name, $(id).getAttribute("aria-label")]),
  );
  function throughput(t, prev) {
    if (typeof t.ops_per_second === "number") return t.ops_per_second;
    if (!prev || t.t <= prev.t) return null;
    return (t.ops - prev.ops) / (t.t - prev.t);
  }
  function rebuildCharts() {
    for (const [name, [id, series]] of Object.entries(CHARTS)) {
      const el = $(id);
      if (state.charts[name]) state.charts[name].destroy();
      el.textContent = "";
      state.charts[name] = makePlot(el, series, Y_MIN[name] ?? 1);
    }
    renderTimelines();
  }
  function resizeCharts() {
    for (const [name, [id]] of Object.entries(CHARTS)) {
      const c = state.charts[name];
      const w = $(id).clientWidth;
      if (c && w > 0) c.setSize({ width: w, height: 180 });
    }
  }
  let resizeQueued = false;
  new ResizeObserver(() => {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      resizeCharts();
    });
  }).observe($("panel-telemetry"));

  function renderTimelines() {
    const ticks = state.ticks;
    for (const [name, [id, series, pick]] of Object.entries(CHARTS)) {
      const cols = [ticks.map((t) => t.t), ...series.map(() => [])];
      ticks.forEach((t, i) => {
        const vals = pick(t, ticks[i - 1]);
        vals.forEach((v, j) => cols[j + 1].push(v ?? null));
      });
      state.charts[name]?.setData(cols);
      $(id).setAttribute("aria-label", `${CHART_NAMES[name]}: ${chartSummary(series, cols)}`);
    }
  }
  /** What a timeline shows, in words: each series at the shown tick, and its range. */
  function chartSummary(series, cols) {
    const n = cols[0].length;
    if (n === 0) return "no data yet";
    const at = state.selected < 0 ? n - 1 : state.selected;
    const num = (v) => (v === null ? "none" : fmtSig(v));
    const each = series.map(([label], j) => {
      const vals = cols[j + 1].filter((v) => v !== null);
      if (vals.length === 0) return `${label} not applicable`;
      return `${label} ${num(cols[j + 1][at])} (min ${fmtSig(Math.min(...vals))}, max ${
        fmtSig(Math.max(...vals))
      })`;
    });
    return `at t=${fmt(cols[0][at], 2)} s of ${fmt(cols[0][0], 2)}–${fmt(cols[0][n - 1], 2)} s, ${
      each.join(", ")
    }`;
  }

  /** A histogram, and its counts in words as the image's name (`name: label: count, ...`). */
  function renderBars(el, items, labelEvery, name) {
    el.textContent = "";
    const counts = items.map((i) => `${i.label}: ${fmt(i.value, 0)}`).join(", ");
    el.setAttribute("aria-label", `${name}: ${counts || "no data"}`);
    el.classList.add("bars-wrap");
    const max = Math.max(1, ...items.map((i) => i.value));
    const step = Math.max(1, Math.ceil(items.length / (labelEvery || 10)));
    items.forEach((item, i) => {
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.setAttribute("aria-hidden", "true"); // the counts are in the image's name
      bar.style.height = `${(100 * item.value) / max}%`;
      bar.title = `${item.label}: ${item.value}`;
      if (i % step === 0) {
        const s = document.createElement("span");
        s.textContent = item.label;
        bar.append(s);
      }
      el.append(bar);
    });
    if (items.length === 0) el.textContent = "no data";
  }

  function renderHeatmap(tick) {
    const canvas = $("heatmap");
    const ctx = canvas.getContext("2d");
    const hm = tick && tick.key_heatmap;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!hm) {
      $("hm-info").textContent = "(none in this tick)";
      return;
    }
    const cells = `${hm.rows}×${hm.cols}, ${fmt(hm.slot_span, 0)} slots/cell`;
    $("hm-info").textContent = `${cells}, max ${fmt(hm.max, 0)}, ${fmt(hm.total, 0)} keys`;
    const cw = canvas.width / hm.cols;
    const ch = canvas.height / hm.rows;
    const dark = currentTheme() === "dark";
    for (let r = 0; r < hm.rows; r++) {
      for (let c = 0; c < hm.cols; c++) {
        const v = (hm.matrix[r] && hm.matrix[r][c]) || 0;
        const a = hm.max > 0 ? v / hm.max : 0;
        const base = dark ? [24, 29, 36] : [246, 247, 249];
        const hot = [209, 36, 47];
        const mix = base.map((b, i) => Math.round(b + (hot[i] - b) * a));
        ctx.fillStyle = `rgb(${mix.join(",")})`;
        ctx.fillRect(c * cw, r * ch, Math.ceil(cw), Math.ceil(ch));
      }
    }
  }

  function currentTick() {
    if (state.ticks.length === 0) return null;
    return state.selected >= 0 ? state.ticks[state.selected] : state.ticks[state.ticks.length - 1];
  }

  function renderCurrent() {
    const t = currentTick();
    const n = state.ticks.length;
    const scrub = $("scrub");
    scrub.max = String(Math.max(0, n - 1));
    // Also when trimming old ticks moved the selected one down.
    scrub.value = String(state.selected < 0 ? Math.max(0, n - 1) : state.selected);
    $("live").setAttribute("aria-pressed", String(state.selected < 0));
    if (!t) return;
    const idx = state.selected < 0 ? n - 1 : state.selected;
    $("scrub-info").textContent = `tick ${idx + 1} / ${n} · t=${fmt(t.t, 2)} s`;
    scrub.setAttribute("aria-valuetext", `tick ${idx + 1} of ${n}, t=${fmt(t.t, 2)} s`);
    const prev = state.ticks[idx - 1];
    const chaining = t.backend === "chaining";
    $("c-backend").textContent = t.backend;
    $("c-ops").textContent = fmt(t.ops, 0);
    $("c-ops-s").textContent = fmt(throughput(t, prev), 0);
    $("c-lf").textContent = fmt(t.load_factor);
    $("c-probe").textContent = fmt(t.avg_probe_estimate);
    $("c-tomb").textContent = chaining ? "n/a (chaining)" : fmt(t.tombstone_ratio);
    $("c-tomb").title = chaining ? "not applicable to chaining" : "";
    $("na-tomb").hidden = !chaining;
    $("c-mig").textContent = fmt(t.migrations, 0);
    $("c-comp").textContent = chaining ? `${fmt(t.compactions, 0)} (n/a)` : fmt(t.compactions, 0);
    $("c-size").textContent = t.size === undefined
      ? "–"
      : `${fmt(t.size, 0)} / ${fmt(t.capacity, 0)}`;
    $("c-p99").textContent = fmtSig(t.latency_ms.overall.p99);

    const op = $("lat-op").value;
    const hist = t.latency_hist_ms[op] || t.latency_hist_ms.overall || [];
    const histOp = t.latency_hist_ms[op] ? op : "overall";
    $("lh-op").textContent = histOp;
    // Buckets are cumulative: each bar is its bucket's own count.
    let before = 0;
    renderBars(
      $("h-latency"),
      hist.map((b) => {
        const own = b.count - before;
        before = b.count;
        return { label: b.le === "+Inf" ? "+Inf" : `≤${b.le}`, value: Math.max(0, own) };
      }),
      10,
      `Latency histogram (ms, ${histOp}), samples per bucket`,
    );
    renderBars(
      $("h-probe"),
      t.probe_hist.map(([d, c]) => ({ label: String(d), value: c })),
      12,
      "Probe length histogram, entries per probe length",
    );
    renderHeatmap(t);

    const alerts = activeAlerts(idx);
    const box = $("alerts");
    box.hidden = alerts.length === 0 || !$("login").hidden;
    box.classList.toggle("critical", alerts.some((a) => a.severity === "critical"));
    // An alert region speaks on every rewrite: only a different set of alerts is news.
    const text = alerts.map((a) => `⚠ ${a.severity.toUpperCase()}: ${a.message}`).join("  ·  ");
    if (box.textContent !== text) box.textContent = text;
  }

  /**
   * The alerts active at tick `idx`: a tick's `alerts` are the new crossings only, its
   * `alerts_active` every metric still above its threshold, shown with the alert of its crossing.
   */
  function activeAlerts(idx) {
    const t = state.ticks[idx];
    const metrics = new Set([...(t.alerts_active || []), ...(t.alerts || []).map((a) => a.metric)]);
    return [...metrics].map((metric) => {
      for (let i = idx; i >= 0; i--) {
        const a = (state.ticks[i].alerts || []).find((a) => a.metric === metric);
        if (a) return a;
      }
      // Its crossing is older than the ticks kept, and with it its severity.
      return { severity: "alert", message: `${metric} above its threshold` };
    });
  }

  function renderEvents() {
    const list = $("events");
    list.textContent = "";
    const evs = state.events.slice(-100).reverse();
    for (const ev of evs) {
      const li = document.createElement("li");
      const moves = capacities(ev) || (ev.from && ev.to ? `${ev.from} → ${ev.to}` : "");
      const extra = [moves, ev.reason || ""].filter(Boolean).join(" · ");
      const type = ev.type === "resize" ? `resize ${resizeArrow(ev)}`.trim() : ev.type;
      li.textContent = `t=${fmt(ev.t, 2)}s ${type}${extra ? ` — ${extra}` : ""}`;
      list.append(li);
    }
    if (evs.length === 0) list.textContent = "no events yet";
  }

  function addTick(tick, fromPoll = false) {
    const last = state.ticks[state.ticks.length - 1];
    if (last && last.t === tick.t && last.ops === tick.ops) return; // already have it (poll + stream)
    if (last && tick.t < last.t) {
      // A poll answered late is older than what the stream sent meanwhile.
      if (fromPoll) return;
      // A new run started: its ticks are not comparable with the old ones.
      state.ticks = [];
      state.events = [];
      state.selected = -1;
    }
    state.ticks.push(tick);
    if (state.ticks.length > state.historyLimit) {
      state.ticks.splice(0, state.ticks.length - state.historyLimit);
      if (state.selected >= 0) state.selected = Math.max(0, state.selected - 1);
    }
    for (const ev of tick.events || []) state.events.push(ev);
    if (state.events.length > 512) state.events.splice(0, state.events.length - 512);
    scheduleRender();
  }
  let renderQueued = false;
  // Redrawing the timelines costs time in proportion to the history (~1.2 ms per 1000 ticks):
  // they wait until 9 times their last drawing's time has passed, so that at most a tenth of the
  // page's time goes to them however long the history (at the default 360 ticks, every frame).
  let timelinesAt = 0;
  let timelinesLate = null;
  function scheduleRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      const now = performance.now();
      if (now >= timelinesAt) {
        clearTimeout(timelinesLate);
        timelinesLate = null;
        renderTimelines();
        timelinesAt = now + 10 * (performance.now() - now);
      } else if (timelinesLate === null) {
        // The last ticks are drawn even if no more come.
        timelinesLate = setTimeout(() => {
          timelinesLate = null;
          scheduleRender();
        }, timelinesAt - now);
      }
      renderCurrent();
      renderEvents();
    });
  }

  $("scrub").addEventListener("input", () => {
    const v = Number($("scrub").value);
    state.selected = v >= state.ticks.length - 1 ? -1 : v;
    renderCurrent();
    renderTimelines();
  });
  $("live").addEventListener("click", () => {
    state.selected = -1;
    renderCurrent();
    renderTimelines();
  });
  $("lat-op").addEventListener("change", () => {
    renderTimelines();
    renderCurrent();
  });
  /**
   * Shows a Telemetry error in `id` (#history-error: the history not loaded; #csv-error: a
   * download refused) under the scrubber, where the ticks' redraws do not overwrite it: `prefix`,
   * the server's reason, `then` (what happens next) and its hint. `err` null hides it.
   */
  function teleError(id, err, prefix = "", then = "") {
    const el = $(id);
    el.hidden = err === null;
    if (err === null) return void (el.textContent = "");
    const reason = err.message.replace(/[.\s]*$/, ".");
    showError(el, { message: `${prefix}: ${reason}${then ? ` ${then}` : ""}`, hint: err.hint });
  }
  $("csv").addEventListener("click", async () => {
    try {
      const res = await fetch("/api/metrics/history.csv", { headers: headers() });
      if (res.status === 401) {
        showLogin("The token was refused.");
        return;
      }
      if (!res.ok) throw apiError(res, await res.json().catch(() => null));
      const blob = await res.blob();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "adhash_timeline.csv";
      document.body.append(a);
      a.click();
      setTimeout(() => {
        URL.revokeObjectURL(a.href);
        a.remove();
      }, 1000);
      teleError("csv-error", null);
    } catch (e) {
      // Not in #scrub-info, which the next tick rewrites (a live run's at once).
      const later = e.retryAfter ? `Try again in ${e.retryAfter} s.` : "";
      teleError("csv-error", e, "CSV download failed", later);
    }
  });

  // ---------- live feed ----------
  function stopFeeds() {
    if (state.streamAbort) state.streamAbort.abort();
    state.streamAbort = null;
    stopPolling();
    clearTimeout(state.retryTimer);
    clearTimeout(state.historyTimer);
  }

  const tickKey = (t) => `${t.t}/${t.ops}`;
  // The ticks published while the stream was down (polling shows one a second at most), fetched
  // from the history once it is back and put in their places: no holes in the charts. `lastKey`:
  // the key of the last tick the previous stream sent; `fresh`: the ticks this one sent since.
  async function backfill(missed, lastKey, fresh, signal) {
    if (missed <= 0) return;
    let limit, ticks;
    // Refused (503 Busy) or failed, asked again after its Retry-After (else 5 s) while this
    // stream is the page's: the charts would keep the hole. The stream's ticks since its hello
    // are at the history's end by then.
    for (;;) {
      limit = Math.min(missed + 1 + fresh.length, state.historyLimit);
      try {
        ({ ticks } = await api(`/api/metrics/history?limit=${limit}`, signal));
        teleError("history-error", null);
        break;
      } catch (e) {
        if (e instanceof Unauthorized || signal.aborted) throw e;
        const after = e.retryAfter || 5;
        teleError(
          "history-error",
          e,
          "The ticks missed while the stream was down could not be loaded",
          `Trying again in ${after} s.`,
        );
        await new Promise((r) => setTimeout(r, after * 1000));
        if (signal.aborted || state.streamAbort?.signal !== signal) throw e;
      }
    }
    // The history starts at the last tick seen: without it, this is another run (a server
    // restarted on another source; ticks polled meanwhile were taken for the old run's), which
    // replaces the one shown, all of it with the stream's ticks since.
    if (ticks.length > 0 && !ticks.some((t) => tickKey(t) === lastKey)) {
      if (ticks.length === limit && limit < state.historyLimit) {
        ({ ticks } = await api("/api/metrics/history", signal));
      }
      // Of a history of several runs, the newest.
      const from = ticks.findLastIndex((t, i) => i > 0 && t.t < ticks[i - 1].t);
      ticks = ticks.slice(Math.max(0, from));
      const newest = ticks[ticks.length - 1].t;
      state.ticks = [...ticks, ...fresh.filter((t) => t.t > newest)].slice(-state.historyLimit);
      state.events = state.ticks.flatMap((t) => t.events || []).slice(-512);
      state.selected = -1;
      scheduleRender();
      return;
    }
    const have = new Set(state.ticks.map(tickKey));
    // Only into the run shown (the history has a tick of it), and only older than the newest
    // tick shown: the stream delivers the newer ones itself.
    if (!ticks.some((t) => have.has(tickKey(t)))) return;
    const newest = state.ticks[state.ticks.length - 1].t;
    const gaps = ticks.filter((t) => t.t < newest && !have.has(tickKey(t)));
    if (gaps.length === 0) return;
    const chosen = state.selected >= 0 ? state.ticks[state.selected] : null;
    state.ticks = [...state.ticks, ...gaps].sort((a, b) => a.t - b.t).slice(-state.historyLimit);
    state.selected = chosen ? state.ticks.indexOf(chosen) : -1;
    for (const ev of gaps.flatMap((t) => t.events || [])) {
      let at = state.events.length;
      while (at > 0 && state.events[at - 1].t > ev.t) at--;
      state.events.splice(at, 0, ev);
    }
    if (state.events.length > 512) state.events.splice(0, state.events.length - 512);
    scheduleRender();
  }

  async function openStream(onHello) {
    const ctl = new AbortController();
    state.streamAbort = ctl;
    const res = await fetch("/api/stream", {
      headers: { ...headers(), Accept: "text/event-stream" },
      signal: ctl.signal,
      cache: "no-store",
    });
    if (res.status === 401) {
      showLogin("The token was refused.");
      throw new Unauthorized("401");
    }
    if (!res.ok || !res.body) throw new Error(`stream HTTP ${res.status}`);
    stopPolling();
    setMode("live", "live (SSE)");
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let first = true; // the stream starts with the latest tick, which the hello counted
    let fresh = null; // the ticks since the hello, until its backfill is done
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let sep;
      while ((sep = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, sep);
        buf = buf.slice(sep + (buf[sep] === "\r" ? 4 : 2));
        let event = "message";
        const data = [];
        for (const line of block.split(/\r?\n/)) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (event === "tick" && data.length) {
          state.streamTicks++;
          if (!first && state.seen !== null) state.seen++;
          first = false;
          const tick = JSON.parse(data.join("\n"));
          state.lastStreamTick = tick;
          if (fresh) fresh.push(tick);
          if (state.held) state.held.push(tick);
          else addTick(tick);
        } else if (event === "hello" && data.length) {
          const hello = JSON.parse(data.join("\n"));
          state.historyLimit = hello.history_limit || state.historyLimit;
          // A restarted server counts from 0 again: then all it has may be missed.
          const missed = state.seen === null
            ? 0
            : hello.ticks >= state.seen
            ? hello.ticks - state.seen
            : hello.ticks;
          state.seen = hello.ticks;
          if (missed > 0) {
            const ticks = (fresh = []);
            const lastKey = state.lastStreamTick && tickKey(state.lastStreamTick);
            backfill(missed, lastKey, ticks, ctl.signal).catch(() => {})
              .finally(() => {
                if (fresh === ticks) fresh = null;
              });
          }
          if (onHello) onHello();
          onHello = null;
        }
      }
    }
    throw new Error("stream ended");
  }

  function stopPolling() {
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
    if (state.pollAbort) state.pollAbort.abort();
    state.pollAbort = null;
  }
  // One request at a time, a second after the last answer: on a network that hangs, requests
  // do not pile up, and once the stream is back no late answer can speak for it.
  function startPolling() {
    if (state.pollTimer || state.pollAbort) return;
    setMode("polling", "polling");
    const poll = async () => {
      const ctl = new AbortController();
      state.pollAbort = ctl;
      state.pollTimer = null;
      try {
        const tick = await api("/api/metrics", ctl.signal);
        if (ctl.signal.aborted) return;
        addTick(tick, true);
        setMode("polling", "polling");
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (e instanceof Unauthorized) return stopFeeds();
        // Busy (503) or rate-limited (429): the server is there.
        if (e.status !== 503 && e.status !== 429) setMode("offline", "offline");
      }
      state.pollAbort = null;
      state.pollTimer = setTimeout(poll, 1000);
    };
    state.pollTimer = setTimeout(poll, 1000);
  }

  // `onOpen`: called once the stream is subscribed (its hello) or has failed.
  async function streamLoop(onOpen) {
    try {
      await openStream(onOpen);
    } catch (e) {
      if (onOpen) onOpen();
      if (e instanceof Unauthorized) return stopFeeds();
      if (e.name === "AbortError") return;
      startPolling();
      // Try the stream again later; polling keeps the charts moving meanwhile.
      state.retryTimer = setTimeout(streamLoop, 5000);
    }
  }

  async function start() {
    stopFeeds();
    try {
      const v = await api("/api/version");
      $("version").textContent = `v${v.version}`;
    } catch (e) {
      if (e instanceof Unauthorized) return;
      setMode("offline", "offline");
    }
    $("logout").hidden = !token();
    teleError("csv-error", null); // of before a sign-out
    // The stream first, its ticks held, then the history: a tick published in between is in
    // one or both, never in neither. (A stream that neither opens nor fails within 3 s, as
    // behind a proxy that buffers it, does not keep the history from showing.)
    state.held = [];
    state.seen = null; // the history is all there is to fill in
    await new Promise((resolve) => {
      streamLoop(resolve);
      setTimeout(resolve, 3000);
    });
    if (!(await loadHistory())) return;
    // A refresh stopped by a 401 (signed out) starts again with the view.
    if (!$("panel-jobs").hidden) loadJobs();
  }
  /**
   * Fetches the history and the run's events, with the ticks the stream sends meanwhile held
   * and added once it is in. Refused (503 Busy: the server sends 16 histories at most) or
   * failed, it says so and tries again (after the answer's Retry-After, else 5 s), the ticks the
   * stream sends meanwhile shown; it is the history the next try gets that makes the charts.
   * False when a 401 stopped it.
   */
  async function loadHistory() {
    clearTimeout(state.historyTimer);
    if (state.held === null) state.held = [];
    try {
      const h = await api(`/api/metrics/history`);
      state.historyLimit = h.limit || state.historyLimit;
      state.ticks = [];
      state.events = [];
      state.selected = -1;
      for (const t of h.ticks) addTick(t);
      teleError("history-error", null);
      const ev = await api("/api/events?limit=512");
      state.events = runEvents(ev.events);
      scheduleRender();
    } catch (e) {
      if (e instanceof Unauthorized) return false;
      const after = e.retryAfter || 5;
      teleError(
        "history-error",
        e,
        "The history could not be loaded",
        `Trying again in ${after} s.`,
      );
      state.historyTimer = setTimeout(loadHistory, after * 1000);
    } finally {
      const have = new Set(state.ticks.map(tickKey));
      const held = state.held || [];
      state.held = null;
      for (const t of held) if (!have.has(tickKey(t))) addTick(t);
    }
    return true;
  }
  /**
   * The events of the run shown, up to its newest tick (the ticks after it bring their own):
   * /api/events keeps earlier runs' too. A run starts with its `start` event, and its events'
   * times and ticks never go back.
   */
  function runEvents(events) {
    const last = state.ticks[state.ticks.length - 1];
    const out = [];
    if (!last) return out;
    for (let i = events.length - 1; i >= 0; i--) {
      const ev = events[i];
      const next = out[0];
      if (next === undefined && (ev.t > last.t || ev.tick_ops > last.ops)) continue;
      if (next !== undefined && (ev.t > next.t || ev.tick_ops > next.tick_ops)) break;
      out.unshift(ev);
      if (ev.type === "start") break;
    }
    return out;
  }

  // ---------- probe view ----------
  function describeStep(trace, s) {
    if (trace.backend === "chaining") {
      return `position ${s.position} in bucket ${trace.bucket}: ${s.key_repr} ${
        s.matches ? "matches" : "does not match"
      }`;
    }
    const where = `slot ${s.slot}`;
    // A put that finds its key absent after passing a tombstone at the key's own distance goes
    // back to that tombstone: the path ends with a stop, then an insert on the tombstone.
    const i = trace.path.indexOf(s);
    const last = trace.path[trace.path.length - 1];
    const reuse = trace.operation === "put" && trace.path.length >= 2 &&
        trace.path[trace.path.length - 2].action === "stop" && last.action === "insert"
      ? last
      : null;
    switch (s.action) {
      case "swap":
        return `${where}: Robin Hood swap — the incoming key (distance ${s.carried_distance}) is further from home than ${s.key_repr} (distance ${s.probe_distance}), so it takes the slot and ${s.key_repr} moves on`;
      case "insert":
        return `${where}: ${
          s.state === "tombstone" ? "tombstone reused" : "empty"
        } — insert at distance ${s.carried_distance}`;
      case "update":
        return `${where}: key found — value updated`;
      case "match":
        return `${where}: key found at distance ${s.probe_distance}`;
      case "stop":
        return `${where}: ${
          s.state === "empty"
            ? "empty slot"
            : s.state === "tombstone"
            ? `a tombstone at distance ${s.probe_distance} < ${s.carried_distance}`
            : `resident ${s.key_repr} is closer to home (distance ${s.probe_distance} < ${s.carried_distance})`
        } — ${
          reuse && i === trace.path.length - 2
            ? `the key is not in the table; the put goes back to the tombstone at slot ${reuse.slot} to place it`
            : "the key cannot be further on; stop"
        }`;
      default:
        return `${where}: ${
          s.state === "occupied"
            ? `${s.key_repr} (distance ${s.probe_distance})`
            : `${s.state}${s.probe_distance === null ? "" : ` (distance ${s.probe_distance})`}`
        } — ${
          reuse && s.slot === reuse.slot && i < trace.path.length - 2
            ? "the key's own distance: the put remembers it for reuse; "
            : ""
        }advance, carried distance ${s.carried_distance}`;
    }
  }

  /** The line the CLI prints for a put that first rebuilds the table, or "" without one. */
  function rebuildText(trace) {
    const r = trace.rebuild;
    if (!r) return "";
    const unit = trace.backend === "chaining" ? "chains" : "slots";
    return r.type === "resize"
      ? `The table is full: this put first grows it from ${r.from_capacity} to ${r.to_capacity} ${unit}, then probes the new table.`
      : `Tombstones fill the table: this put first rebuilds it without them (${r.to_capacity} ${unit}), then probes the new table.`;
  }

  /**
   * "hash 0x…" as the CLI prints it, and where the home slot (bucket) comes from: the top bits
   * of the hash, as many as the capacity (a power of two) needs.
   */
  function hashText(trace, home) {
    if (typeof trace.hash !== "number") return { hash: "", bits: "" };
    const hash = `hash 0x${(trace.hash >>> 0).toString(16).padStart(8, "0")}`;
    const bits = Math.log2(trace.capacity);
    if (
      !(Number.isInteger(bits) && bits >= 1 && bits <= 31) || trace.hash >>> (32 - bits) !== home
    ) {
      return { hash, bits: "" };
    }
    return {
      hash,
      bits: ` (the hash's top ${bits} bits: ${home.toString(2).padStart(bits, "0")})`,
    };
  }

  function loadTrace(trace) {
    if (!trace || !Array.isArray(trace.path) || !trace.backend) {
      throw new Error("not a probe trace: expected {backend, operation, path: [...]}");
    }
    // The whole trace is checked before it replaces the one shown.
    const bad = trace.path.findIndex((s) => !s || typeof s !== "object" || Array.isArray(s));
    if (bad >= 0) throw new Error(`not a probe trace: step ${bad + 1} is not an object`);
    const steps = trace.path.map((s) => describeStep(trace, s));
    state.trace = trace;
    state.step = 0;
    stopPlay();
    $("probe-view").hidden = false;
    const chaining = trace.backend === "chaining";
    const home = chaining ? trace.bucket : trace.ideal_slot;
    const { hash, bits } = hashText(trace, home);
    const head = `${chaining ? "bucket" : "home slot"} ${home} of ${trace.capacity}${bits}`;
    $("probe-meta").textContent = `[${trace.backend}] ${
      String(trace.operation).toUpperCase()
    } key=${trace.key_repr}${hash ? ` · ${hash}` : ""} · ${head} · ${trace.path.length} step${
      trace.path.length === 1 ? "" : "s"
    } · result: ${trace.terminal ?? (trace.found ? "found" : "not found")}`;
    $("probe-legend").textContent = chaining
      ? "Each box is an entry of the bucket's chain, in chain order (#position). " +
        "Green: the key found, updated or added."
      : "Each box is a slot: its key, d = how far that entry sits from its home slot, " +
        "carry = how far the key being looked up or placed has come from its own. " +
        "A probe stops at an empty slot or at an entry closer to home than the key would be; " +
        "a put takes the slot of an entry closer to home and carries that entry on (amber: swap). " +
        "Dashed: a tombstone. Green: the key found, updated or added.";
    $("probe-rebuild").textContent = rebuildText(trace);
    $("probe-rebuild").hidden = !trace.rebuild;
    const ol = $("p-steps");
    ol.textContent = "";
    for (const text of steps) {
      const li = document.createElement("li");
      li.textContent = text;
      ol.append(li);
    }
    renderProbe();
  }

  function renderProbe() {
    const trace = state.trace;
    if (!trace) return;
    const n = trace.path.length;
    const k = state.step; // steps shown: 0..k-1 done, k-1 current
    $("p-step").textContent = `Step ${k} / ${n}`;
    const slots = $("slots");
    slots.textContent = "";
    trace.path.forEach((s, i) => {
      const cell = document.createElement("div");
      cell.className = "slot";
      if (i < k) cell.classList.add("visited");
      if (i === k - 1) {
        cell.classList.add("current", `act-${s.action || (s.matches ? "match" : "advance")}`);
      }
      if (trace.backend === "chaining") {
        cell.append(span("idx", `#${s.position}`), span("k", i < k ? s.key_repr : "?"));
      } else {
        cell.classList.add(s.state);
        const key = s.state === "empty"
          ? "empty"
          : s.state === "tombstone"
          ? "tombstone"
          : s.key_repr;
        cell.append(
          span("idx", `slot ${s.slot}`),
          span("k", i < k ? key : "?"),
          span(
            "idx",
            i < k && s.probe_distance !== null
              ? `d=${s.probe_distance} · carry ${s.carried_distance}`
              : "",
          ),
        );
      }
      slots.append(cell);
    });
    const current = slots.querySelector(".current");
    if (current) slots.scrollLeft = current.offsetLeft - slots.offsetLeft - slots.clientWidth / 2;
    [...$("p-steps").children].forEach((li, i) => {
      li.className = i < k - 1 ? "done" : i === k - 1 ? "now" : "";
    });
    $("p-desc").textContent = n === 0
      ? `Nothing to walk: the ${
        trace.backend === "chaining" ? "bucket" : "home slot"
      } is empty, so the probe ends there (${trace.terminal ?? "not found"}).`
      : k === 0
      ? "Press Next or Play to walk the probe."
      : describeStep(trace, trace.path[k - 1]);
    const focused = document.activeElement;
    $("p-prev").disabled = k === 0;
    $("p-next").disabled = k >= n;
    // A button that disables itself drops the focus to the body, out of reach of the panel's
    // arrow keys: the focus goes to the other button (to the panel if both are off).
    if (focused instanceof HTMLButtonElement && focused.disabled) {
      const other = focused.id === "p-next" ? $("p-prev") : $("p-next");
      (other.disabled ? $("panel-probe") : other).focus();
    }
  }
  function span(cls, text) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }
  function stopPlay() {
    clearInterval(state.playTimer);
    state.playTimer = null;
    $("p-play").textContent = "Play";
  }
  $("p-next").addEventListener("click", () => {
    if (state.trace && state.step < state.trace.path.length) state.step++;
    renderProbe();
  });
  $("p-prev").addEventListener("click", () => {
    if (state.step > 0) state.step--;
    renderProbe();
  });
  $("p-reset").addEventListener("click", () => {
    stopPlay();
    state.step = 0;
    renderProbe();
  });
  $("p-play").addEventListener("click", () => {
    if (state.playTimer) return stopPlay();
    if (state.trace && state.step >= state.trace.path.length) state.step = 0;
    $("p-play").textContent = "Pause";
    state.playTimer = setInterval(() => {
      if (!state.trace || state.step >= state.trace.path.length) return stopPlay();
      state.step++;
      renderProbe();
    }, 700);
  });
  $("panel-probe").addEventListener("keydown", (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === "ArrowRight") $("p-next").click();
    if (e.key === "ArrowLeft") $("p-prev").click();
  });
  // The page cannot tell whether the server has a live map (`serve --source FILE` has none)
  // without asking: after a probe finds none, the Map select moves to a snapshot, then and
  // whenever the list of snapshots reloads, until a live probe works or the user picks a map.
  let pickSnapshot = false;
  function preferSnapshot() {
    const sel = $("probe-source");
    if (!pickSnapshot || sel.value !== "") return null;
    const first = [...sel.options].find((o) => o.value !== "");
    if (first) sel.value = first.value;
    return first ? first.value : null;
  }
  $("probe-source").addEventListener("change", () => {
    pickSnapshot = false;
  });
  // A get has no value to ask for.
  $("probe-op").addEventListener("change", () => {
    $("probe-value-label").hidden = $("probe-op").value !== "put";
  });
  $("probe-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("probe-error").textContent = "";
    const q = new URLSearchParams({ op: $("probe-op").value, key: $("probe-key").value });
    if ($("probe-op").value === "put") q.set("value", $("probe-value").value);
    if ($("probe-numeric").checked) q.set("numeric", "1");
    if ($("probe-source").value) q.set("snapshot", $("probe-source").value);
    try {
      const body = await api(`/api/probe?${q}`);
      if (!q.has("snapshot")) $("probe-live").textContent = "live map";
      loadTrace(body.trace);
    } catch (err) {
      $("probe-view").hidden = true; // the last trace answered another question
      if (err instanceof Unauthorized) return;
      showError($("probe-error"), err);
      if (err.status === 404 && !q.has("snapshot")) {
        $("probe-live").textContent = "live map (none)";
        pickSnapshot = true;
        const name = preferSnapshot();
        if (name) $("probe-error").append(span("hint", `Map set to snapshot ${name}: ask again.`));
      }
    }
  });
  $("probe-file").addEventListener("change", async () => {
    $("probe-error").textContent = "";
    const file = $("probe-file").files[0];
    if (!file) return;
    try {
      const doc = JSON.parse(await file.text());
      loadTrace(doc.trace && doc.trace.path ? doc.trace : doc);
    } catch (err) {
      $("probe-error").textContent = `Cannot load ${file.name}: ${err.message}`;
    }
  });

  // ---------- snapshot view ----------
  // Reloaded each time the Snapshot or Probe tab opens: files come and go in the directory.
  let snapListError = false; // #snap-error says what the list's last load found
  async function loadSnapshotList() {
    try {
      const body = await api("/api/snapshots");
      if (snapListError) $("snap-error").textContent = "";
      snapListError = false;
      for (const sel of [$("snap-name"), $("probe-source")]) {
        const chosen = sel.value;
        for (const o of [...sel.options]) if (o.value !== "") o.remove();
        for (const n of body.names) {
          const o = document.createElement("option");
          o.value = n;
          o.textContent = sel.id === "probe-source" ? `snapshot ${n}` : n;
          sel.append(o);
        }
        if ([...sel.options].some((o) => o.value === chosen)) sel.value = chosen;
      }
      preferSnapshot();
      // Servers before the total field send none; the list is then all they say.
      const cut = typeof body.total === "number" && body.total > body.names.length;
      $("snap-count").hidden = !cut;
      $("snap-count").textContent = cut
        ? `Showing the first ${body.names.length} of ${body.total} snapshots, in name order.`
        : "";
      if (body.names.length === 0) {
        $("snap-error").textContent = "No snapshots in ADHASH_SNAPSHOT_DIR.";
        snapListError = true;
      }
    } catch (err) {
      if (err instanceof Unauthorized) return;
      showError($("snap-error"), err);
      snapListError = true;
    }
  }
  // Controls and bidi overrides in data (a snapshot's keys, a comparison's labels) as \uXXXX:
  // U+202E reversed the rest of a cell ("evil" read "live"), as src/format.ts visible() does.
  // deno-lint-ignore no-control-regex -- matching controls is the point
  const UNSEEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
  function shown(text) {
    return String(text).replace(
      UNSEEN,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  /** A table cell's text: objects as JSON, data's controls shown. */
  function cellText(v) {
    return shown(v !== null && typeof v === "object" ? JSON.stringify(v) : String(v));
  }
  function table(obj, num = cellText) {
    const t = document.createElement("table");
    for (const [k, v] of Object.entries(obj)) {
      const tr = t.insertRow();
      const th = document.createElement("th");
      th.textContent = shown(k);
      tr.append(th);
      const td = tr.insertCell();
      td.textContent = typeof v === "number" ? num(v) : cellText(v);
      if (typeof v === "number") td.className = "num";
    }
    return t;
  }
  function rowsTable(rows) {
    const t = document.createElement("table");
    const cols = rows.length ? Object.keys(rows[0]) : [];
    const hr = t.insertRow();
    for (const c of cols) {
      const th = document.createElement("th");
      th.textContent = shown(c);
      hr.append(th);
    }
    for (const row of rows) {
      const tr = t.insertRow();
      for (const c of cols) {
        const v = row[c];
        tr.insertCell().textContent = cellText(v);
      }
    }
    return t;
  }
  /** A card of a heading and a table, which scrolls in the card rather than the page. */
  function section(title, content) {
    const s = document.createElement("section");
    s.className = "card";
    const h = document.createElement("h2");
    h.className = "figcap";
    h.textContent = title;
    const scroll = document.createElement("div");
    scroll.className = "table-scroll";
    scroll.append(content);
    s.append(h, scroll);
    return s;
  }
  $("snap-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("snap-error").textContent = "";
    snapListError = false;
    const out = $("snap-out");
    out.textContent = "";
    const q = new URLSearchParams({ name: $("snap-name").value });
    for (
      const [id, key] of [["snap-key", "key"], ["snap-contains", "contains"], [
        "snap-limit",
        "limit",
      ]]
    ) {
      if ($(id).value) q.set(key, $(id).value);
    }
    try {
      const body = await api(`/api/snapshot?${q}`);
      const ins = body.inspection && typeof body.inspection === "object"
        ? body.inspection
        : { value: body.inspection };
      const rest = {};
      for (const [k, v] of Object.entries(ins)) {
        if (k === "entries" && v && Array.isArray(v.shown)) {
          out.append(section(
            `entries: ${v.shown.length} shown of ${v.matched}${
              v.contains ? ` containing "${v.contains}"` : ""
            }${v.truncated ? " (truncated)" : ""}`,
            rowsTable(v.shown.map((e) => ({
              key: e.key_repr,
              value: e.value_omitted ? "(omitted: too long to show)" : e.value,
            }))),
          ));
        } else if (Array.isArray(v) && v.length && typeof v[0] === "object") {
          out.append(section(`${k} (${v.length})`, rowsTable(v)));
        } else if (v && typeof v === "object" && !Array.isArray(v)) {
          out.append(section(k, table(flatten(v, "", {}))));
        } else rest[k] = v;
      }
      if (Object.keys(rest).length) out.prepend(section(body.name, table(rest)));
    } catch (err) {
      showError($("snap-error"), err);
    }
  });

  // ---------- compare view ----------
  function flatten(obj, prefix, out) {
    for (const [k, v] of Object.entries(obj || {})) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, out);
      else out[key] = v;
    }
    return out;
  }
  async function loadCompare() {
    const out = $("cmp-out");
    // Not in #cmp-error: an alert region would announce it as one.
    if (!out.hasChildNodes()) out.append(span("muted", "Loading…"));
    try {
      const body = await api("/api/compare");
      out.textContent = "";
      $("cmp-error").textContent = "";
      const doc = body.compare || {};
      const sideKeys = Object.keys(doc).filter((k) =>
        doc[k] && typeof doc[k] === "object" && !Array.isArray(doc[k])
      );
      const a = sideKeys.find((k) => /baseline|^a$/i.test(k)) || sideKeys[0];
      const b = sideKeys.find((k) => /candidate|^b$/i.test(k)) || sideKeys[1];
      if (a && b) {
        const fa = flatten(doc[a], "", {});
        const fb = flatten(doc[b], "", {});
        const t = document.createElement("table");
        const hr = t.createTHead().insertRow();
        for (const h of ["metric", doc[a].label || a, doc[b].label || b]) {
          const th = document.createElement("th");
          th.scope = "col";
          th.textContent = shown(h);
          hr.append(th);
        }
        const rows = t.createTBody();
        for (const k of [...new Set([...Object.keys(fa), ...Object.keys(fb)])]) {
          const tr = rows.insertRow();
          const th = document.createElement("th");
          th.scope = "row";
          th.textContent = shown(k);
          tr.append(th);
          for (const v of [fa[k], fb[k]]) {
            const td = tr.insertCell();
            td.textContent = v === undefined
              ? "–"
              : typeof v === "number"
              ? fmtSig(v)
              : shown(typeof v === "string" ? v : JSON.stringify(v));
            if (typeof v === "number") td.className = "num";
          }
        }
        out.append(section(shown(`${doc[a].label || a} vs ${doc[b].label || b}`), t));
        const others = {};
        for (const [k, v] of Object.entries(doc)) if (k !== a && k !== b) others[k] = v;
        if (Object.keys(others).length) {
          out.append(section("Summary", table(flatten(others, "", {}), fmtSig)));
        }
      } else {
        out.append(section("Comparison", table(flatten(doc, "", {}))));
      }
    } catch (err) {
      out.textContent = "";
      if (err.status === 404) {
        $("cmp-error").textContent =
          "No comparison loaded. Start the server with --compare AB.json.";
      } else showError($("cmp-error"), err);
    }
  }

  // ---------- jobs view ----------
  const IDLE_JOBS_MS = 5000;
  let jobsTimer = null;
  let listFailed = false;
  let shownJob = null;
  // The shown job once its details were shown finished: they cannot change any more.
  let shownFinished = null;
  async function loadJobs() {
    clearTimeout(jobsTimer);
    jobsTimer = null;
    if ($("panel-jobs").hidden) return;
    let active = false;
    try {
      const list = await api("/api/jobs?limit=50");
      if (listFailed) $("job-error").textContent = ""; // the list's own error, now past
      listFailed = false;
      renderJobs(list.jobs);
      active = list.jobs.some((job) => job.status === "pending" || job.status === "running");
    } catch (err) {
      if (err instanceof Unauthorized) return;
      $("job-rows").textContent = "";
      if (err.status === 404) {
        $("job-error").textContent =
          "The job service is off. Start the server with --job-root DIR.";
      } else showError($("job-error"), err);
      listFailed = true;
      jobsTimer = setTimeout(loadJobs, IDLE_JOBS_MS); // a server restarting comes back
      return;
    }
    // The detail's own failure (say a job forgotten meanwhile) must not empty the list.
    if (shownJob && shownJob !== shownFinished) {
      showJob(shownJob).catch((err) => {
        if (!(err instanceof Unauthorized)) showError($("job-error"), err);
      });
    }
    // Every second while a listed job can still change; less often otherwise, to show jobs
    // submitted elsewhere (curl, a batch, another tab).
    jobsTimer = setTimeout(loadJobs, active ? 1000 : IDLE_JOBS_MS);
  }
  // Rows are updated in place, so that a focused button survives the refresh. When the focused
  // button goes (Cancel once its job ends), its row's Details takes the focus; when its row goes,
  // the table does.
  function renderJobs(jobs) {
    const rows = $("job-rows");
    const focused = rows.contains(document.activeElement) ? document.activeElement : null;
    const focusedId = focused && focused.closest("tr").dataset.id;
    const listed = new Set(jobs.map((job) => job.id));
    for (const tr of [...rows.rows]) if (!listed.has(tr.dataset.id)) tr.remove();
    jobs.forEach((job, i) => {
      const tr = jobRow(job.id) || newJobRow(job.id);
      // New jobs go in above the others, which never move: moving a row blurs its buttons.
      if (rows.rows[i] !== tr) rows.insertBefore(tr, rows.rows[i] || null);
      fillJobRow(tr, job);
    });
    if (focused && !focused.isConnected) {
      const tr = jobRow(focusedId);
      (tr ? tr.querySelector("button") : $("job-table")).focus();
    }
    announceJobs(jobs);
  }
  function jobRow(id) {
    return $("job-rows").querySelector(`tr[data-id="${CSS.escape(id)}"]`);
  }
  function newJobRow(id) {
    const tr = document.createElement("tr");
    tr.dataset.id = id;
    for (let i = 0; i < 7; i++) tr.insertCell().classList.toggle("num", i >= 5);
    tr.insertCell().append(jobButton("Details", `Details of job ${id}`, () => showJob(id)));
    return tr;
  }
  function fillJobRow(tr, job) {
    tr.dataset.status = job.status;
    [
      job.id,
      job.kind,
      job.status,
      job.request.csv,
      jobMode(job),
      typeof jobOps(job) === "number" ? fmt(jobOps(job), 0) : "–",
      job.duration_seconds === null ? "–" : job.duration_seconds.toFixed(2),
    ].forEach((v, i) => {
      if (tr.cells[i].textContent !== v) tr.cells[i].textContent = v;
    });
    tr.cells[2].className = `job-${job.status}`;
    const actions = tr.cells[7];
    const cancel = actions.querySelector(".cancel");
    const active = job.status === "pending" || job.status === "running";
    if (cancel && !active) cancel.remove();
    if (!cancel && active) {
      const button = jobButton("Cancel", `Cancel job ${job.id}`, async () => {
        try {
          await send("DELETE", `/api/jobs/${encodeURIComponent(job.id)}`);
        } catch (err) {
          showError($("job-error"), err);
        }
        loadJobs();
      });
      button.classList.add("cancel");
      actions.append(button);
    }
  }
  function jobButton(text, label, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = text;
    button.setAttribute("aria-label", label);
    button.addEventListener("click", onClick);
    return button;
  }
  // Each job's status at the last refresh: a job that ends is announced, the list is not.
  const jobStatuses = new Map();
  function announceJobs(jobs) {
    const news = [];
    for (const job of jobs) {
      const was = jobStatuses.get(job.id);
      jobStatuses.set(job.id, job.status);
      if (was === undefined || was === job.status) continue;
      if (["completed", "failed", "cancelled"].includes(job.status)) {
        news.push(`Job ${job.id} ${job.status}`);
      }
    }
    if (news.length > 0) $("job-status").textContent = news.join(". ");
    // Only the listed jobs: a page left open for days would otherwise keep every id it saw.
    const listed = new Set(jobs.map((job) => job.id));
    for (const id of jobStatuses.keys()) if (!listed.has(id)) jobStatuses.delete(id);
  }
  // The Mode column: the mode asked for, or for profile and workload-dna the one they found.
  function jobMode(job) {
    const q = job.request;
    const r = job.result;
    switch (job.kind) {
      case "run-csv":
        return q.mode || "adaptive";
      case "ab-compare":
        return `${q.baseline_mode || "adaptive"} vs ${q.candidate_mode || "fast-lookup"}`;
      case "profile":
        return r ? `best: ${r.recommended_mode}` : "all";
      case "workload-dna":
        return r ? `suggests ${r.recommendation.mode}` : "–";
      default:
        return "–";
    }
  }
  // The ops/s column: a replay's, or the recommended mode's median for a profile.
  function jobOps(job) {
    const r = job.result;
    if (!r) return undefined;
    if (job.kind === "profile") return r.modes[0].ops_per_second;
    return r.ops_per_second;
  }
  function jobOutcome(job) {
    if (job.error) return `${job.error.error}: ${job.error.detail}`;
    const r = job.result;
    if (!r) return "";
    const files = `artifacts: ${job.artifacts.join(", ") || "none"}`;
    switch (job.kind) {
      case "profile":
        return `Recommended --mode ${r.recommended_mode}, ${r.margin.toFixed(2)}x the runner-up` +
          `${profileAdvice(r)}` +
          `${typeof r.p_value === "number" ? `, Mann-Whitney p=${r.p_value}` : ""}; ` +
          `${fmt(r.sample_rows, 0)} rows, ` +
          `${r.repeat} runs per mode; ${files}`;
      case "workload-dna":
        return `${fmt(r.rows, 0)} rows; suggests --mode ${r.recommendation.mode}: ` +
          `${r.recommendation.reason}; ${files}`;
      case "ab-compare": {
        const c = r.comparison;
        return `${r.candidate.label}/${r.baseline.label} ops/s ${fmt(c.ops_per_second_ratio, 3)}x` +
          `${c.ranges_overlap ? " (ranges overlap)" : ""}` +
          `${typeof c.p_value === "number" ? `, Mann-Whitney p=${c.p_value}` : ""}; ${files}`;
      }
      default:
        return `${fmt(r.total_ops ?? r.rows ?? 0, 0)} ${
          r.total_ops === undefined ? "rows validated" : "ops"
        }; ${files}`;
    }
  }
  // As closeAdvice() in src/replay/profile.ts: "either will do" only within the noise, or for a
  // clear (p < 0.05) difference under 5%.
  function profileAdvice(r) {
    if (!r.close) return "";
    const clear = typeof r.p_value === "number" && r.p_value < 0.05;
    if (!clear) return " (close: either will do)";
    return r.margin < 1.05 ? " (clearly but only slightly ahead: either will do)" : "";
  }
  async function showJob(id) {
    shownJob = id;
    const job = await api(`/api/jobs/${encodeURIComponent(id)}`);
    $("job-detail").hidden = false;
    $("job-title").textContent = `${job.kind} ${job.id}: ${job.status}`;
    $("job-outcome").textContent = jobOutcome(job);
    const profile = job.kind === "profile" && job.result ? job.result : null;
    $("job-profile").hidden = profile === null;
    const prows = $("job-profile-rows");
    prows.textContent = "";
    for (const m of profile ? profile.modes : []) {
      const tr = prows.insertRow();
      [
        m.mode,
        fmt(m.ops_per_second, 0),
        `${m.relative.toFixed(2)}x`,
        fmt(m.p99_ms, 5),
        m
          .final_backend,
      ].forEach((v, i) => {
        const td = tr.insertCell();
        td.textContent = v;
        if (i >= 1 && i <= 3) td.className = "num";
      });
    }
    const res = await fetch(`/api/jobs/${encodeURIComponent(id)}/logs?follow=0`, {
      headers: headers(),
      cache: "no-store",
    });
    const lines = (await res.text()).split("\n").filter((l) => l !== "");
    $("job-logs").textContent = lines.map((l) => {
      try {
        const r = JSON.parse(l);
        const when = String(r["@timestamp"] || "").slice(11, 23);
        // The CLI's error envelope: wrapped as a stderr line, or bare in logs written before.
        return r.message !== undefined
          ? `${when} ${r.level || ""} ${envelopeText(r.message) ?? r.message}`
          : `${r.error}: ${r.detail}`;
      } catch {
        return l;
      }
    }).join("\n");
    if (["completed", "failed", "cancelled"].includes(job.status)) shownFinished = id;
  }
  /** `Error: detail` of a log message that is an error envelope, else null. */
  function envelopeText(message) {
    try {
      const e = JSON.parse(message);
      return e && typeof e.error === "string" ? `${e.error}: ${e.detail}` : null;
    } catch {
      return null;
    }
  }
  // Each kind shows only the fields its request takes.
  function showJobFields() {
    const kind = $("job-kind").value;
    $("job-mode-label").hidden = kind === "profile" || kind === "workload-dna";
    $("job-mode-name").textContent = kind === "ab-compare" ? "Baseline" : "Mode";
    $("job-candidate-label").hidden = kind !== "ab-compare";
    $("job-snapshot-label").hidden = kind !== "run-csv";
  }
  $("job-kind").addEventListener("change", showJobFields);
  $("job-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("job-error").textContent = "";
    const kind = $("job-kind").value;
    const body = { csv: $("job-csv").value.trim() };
    if (kind === "run-csv") {
      body.mode = $("job-mode").value;
      if ($("job-snapshot").checked) body.snapshot = true;
    } else if (kind === "ab-compare") {
      body.baseline_mode = $("job-mode").value;
      body.candidate_mode = $("job-candidate").value;
    }
    try {
      const job = await send("POST", `/api/jobs/${kind}`, body);
      shownJob = job.id;
      jobStatuses.set(job.id, job.status);
      $("job-status").textContent = `Job ${job.id} submitted`;
    } catch (err) {
      if (!(err instanceof Unauthorized)) showError($("job-error"), err);
    }
    loadJobs();
  });

  // ---------- boot ----------
  const savedTheme = localStorage.getItem(THEME_KEY);
  if (savedTheme) document.documentElement.dataset.theme = savedTheme;
  $("theme").setAttribute("aria-pressed", String(currentTheme() === "dark"));
  rebuildCharts();
  // Exposed for the browser tests and for debugging in the console.
  globalThis.adhashDashboard = {
    points: () => state.ticks.length,
    chartPoints: (name) => (state.charts[name] ? state.charts[name].data[0].length : -1),
    mode: () => state.mode,
    streamTicks: () => state.streamTicks,
    probeStep: () => state.step,
    tickTimes: () => state.ticks.map((t) => t.t),
  };
  start();
})();
