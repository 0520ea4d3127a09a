import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { Alert } from "../../../src/contracts/metrics.ts";
import { RobinHoodMap } from "../../../src/core/robin_hood_map.ts";
import { MetricsHub } from "../../../src/server/hub.ts";
import { JobService } from "../../../src/server/jobs.ts";
import { startMetricsServer } from "../../../src/server/start.ts";
import { replayTicks } from "../../server/_fixtures.ts";
import { type G, launchBrowser, loadTraceFile, watchErrors } from "./_browser.ts";
import { removedAtUnload } from "../../_helpers.ts";

// Jobs that run until cancelled: their buttons stay in the table while it refreshes.
const SLOW_JOB = new URL("../../server/_slow_job.ts", import.meta.url).href;

/** A line drawn on a chart's canvas: `[chart id, a Path2D's (uPlot's), colour, dash, width]`. */
type Line = [string, boolean, string, number[], number];

// Runs in the page before app.js: canvases keep no record of what was drawn on them.
function recordLines(): void {
  const lines = new Set<string>();
  const texts = new Set<string>();
  const words = new Set<string>();
  Object.assign(globalThis, { drawnLines: lines, drawnTexts: texts, drawnWords: words });
  const proto = CanvasRenderingContext2D.prototype;
  const { stroke, fillText } = proto;
  proto.stroke = function (this: CanvasRenderingContext2D, ...args: [] | [Path2D]) {
    const id = this.canvas.closest(".plot")?.id ?? "";
    const line = [id, args.length > 0, this.strokeStyle, this.getLineDash(), this.lineWidth];
    lines.add(JSON.stringify(line));
    return Reflect.apply(stroke, this, args);
  };
  proto.fillText = function (this: CanvasRenderingContext2D, ...args) {
    texts.add(JSON.stringify([this.canvas.closest(".plot")?.id ?? "", this.fillStyle]));
    words.add(JSON.stringify([this.canvas.closest(".plot")?.id ?? "", args[0]]));
    return Reflect.apply(fillText, this, args);
  };
}
type Recorded = { drawnLines: Set<string>; drawnTexts: Set<string>; drawnWords: Set<string> };

/** `#rrggbb` of a computed `rgb(r, g, b)`, as a canvas reports its colours. */
function hex(color: string): string {
  return `#${channels(color).slice(0, 3).map((v) => v.toString(16).padStart(2, "0")).join("")}`;
}
function channels(color: string): number[] {
  const m = /^rgba?\(([^)]+)\)$/.exec(color);
  assert.ok(m, `not an rgb() colour: ${color}`);
  return m[1]!.split(",").map(Number);
}
/** The WCAG 2 contrast ratio of two opaque colours. */
function contrast(a: string, b: string): number {
  const luminance = (color: string): number => {
    const [r, g, b] = channels(color).map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

type Pair = { what: string; fg: string; bg: string; min: number };

// Runs in the page: the colour pairs WCAG sets a minimum contrast for, as the page shows them.
function colourPairs(): Pair[] {
  // What a colour is seen against: the first opaque background at or above `el`.
  const under = (el: Element | null): string => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (!/^rgba\(.*, 0\)$/.test(bg)) return bg;
    }
    return "rgb(255, 255, 255)";
  };
  const at = (sel: string) => document.querySelector(sel)!;
  const pairs: Pair[] = [];
  // Text (1.4.3): all the text shown, except what is off-screen (the skip link until focused).
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent!.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width === 0 || box.right < 0 || (el as HTMLButtonElement).disabled) continue;
    const text = el.textContent!.trim().slice(0, 30);
    // A histogram's labels sit below their bars, on the card.
    const bg = under(el.closest(".bars") ?? el);
    pairs.push({ what: `text "${text}"`, fg: getComputedStyle(el).color, bg, min: 4.5 });
  }
  // Text that this view may not show right now: a completed job, a highlighted probe step.
  const samples = document.createElement("tr");
  samples.innerHTML = `<td class="job-completed">completed</td>` +
    `<td><div class="slot current act-insert"></div><div class="slot current act-match"></div>` +
    `<div class="slot current act-update"></div></td>`;
  at("#job-rows").append(samples);
  for (const el of samples.querySelectorAll(".job-completed, .slot")) {
    const fg = getComputedStyle(el).color;
    pairs.push({ what: `text of .${el.classList}`, fg, bg: under(el), min: 4.5 });
  }
  samples.remove();
  const input = at("#job-csv");
  const placeholder = getComputedStyle(input, "::placeholder").color;
  pairs.push({ what: "placeholder", fg: placeholder, bg: under(input), min: 4.5 });
  // Non-text (1.4.11): what shows a control, the selected tab and the focus.
  for (const sel of ["#job-csv", "#job-kind", "#theme"]) {
    const fg = getComputedStyle(at(sel)).borderTopColor;
    pairs.push({ what: `border of ${sel}`, fg, bg: under(at(sel).parentElement), min: 3 });
  }
  const tab = getComputedStyle(at('#tabs [aria-selected="true"]'));
  if (parseFloat(tab.borderBottomWidth) >= 3) {
    for (const [where, bg] of [["tab", tab.backgroundColor], ["page", under(at("#tabs"))]]) {
      pairs.push({
        what: `selected tab's underline on the ${where}`,
        fg: tab.borderBottomColor,
        bg: bg!,
        min: 3,
      });
    }
  } else {pairs.push({
      what: "selected tab's underline (missing)",
      fg: "rgb(0, 0, 0)",
      bg: "rgb(0, 0, 0)",
      min: 3,
    });}
  (input as HTMLInputElement).focus();
  const ring = getComputedStyle(input).outlineColor;
  for (const [where, bg] of [["card", under(input)], ["page", under(document.body)]]) {
    pairs.push({ what: `focus ring on the ${where}`, fg: ring, bg: bg!, min: 3 });
  }
  (input as HTMLInputElement).blur();
  return pairs;
}

const lines = async (page: Page): Promise<Line[]> =>
  (await page.evaluate(() => [...(globalThis as unknown as Recorded).drawnLines]))
    .map((l) => JSON.parse(l));

Deno.test({
  name: "Mission Control dashboard is usable with a keyboard and a screen reader, in both themes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_dash_a11y_" }));
    await Deno.writeTextFile(`${dir}/w.csv`, "op,key,value\nput,a,1\n");
    const jobs = await JobService.open({ root: `${dir}/jobs`, inputDir: dir, script: SLOW_JOB });
    const hub = new MetricsHub({
      compare: {
        baseline: { label: "fast-insert", ops_per_second: 812000 },
        candidate: { label: "adaptive", ops_per_second: 905000 },
      },
    });
    const { ticks } = await replayTicks({ ops: 6000, tickEvery: 256 });
    // One marker of each kind on the timelines.
    ticks[5]!.events.push({ type: "switch", t: ticks[5]!.t, from: "robin_hood", to: "chaining" });
    ticks[10]!.events.push({ type: "compaction", t: ticks[10]!.t });
    ticks[15]!.events.push({ type: "resize", t: ticks[15]!.t });
    // A resize that says its capacities: this one shrank the table.
    const shrink = { from: "chaining", to: "chaining", from_capacity: 4096, capacity: 512 };
    ticks[20]!.events.push({ type: "resize", t: ticks[20]!.t, ...shrink, reason: "sparse" });
    for (const tick of ticks) hub.publish(tick);
    const server = await startMetricsServer({ hub, port: "auto", jobs, snapshotDir: dir });
    const browser = await launchBrowser();
    try {
      const page = await browser.ctx.newPage();
      const errors = watchErrors(page);
      await page.addInitScript(recordLines);
      await page.emulateMedia({ colorScheme: "light" });
      await page.goto(server.url);
      await page.waitForFunction(
        (n) => (globalThis as unknown as G).adhashDashboard?.points() === n,
        ticks.length,
      );

      await t.step("dashboard charts say in words what they show", async () => {
        const sig = (v: number) => String(+v.toPrecision(4));
        const loads = ticks.map((tick) => tick.load_factor);
        const label = await page.getAttribute("#ch-load", "aria-label") ?? "";
        assert.ok(
          label.endsWith(
            `load factor ${sig(loads.at(-1)!)} (min ${sig(Math.min(...loads))}, max ${
              sig(Math.max(...loads))
            })`,
          ),
          label,
        );
        assert.match(label, /^Load factor over time: at t=[\d.]+ s of 0–[\d.]+ s, /);
        // uPlot's own DOM (its legend table) is hidden: the chart is one image, named so.
        assert.deepEqual(
          (await page.locator("#ch-load").ariaSnapshot()).split("\n"),
          [`- 'img "${label}"'`],
        );
        const hist = ticks.at(-1)!.probe_hist.map(([d, c]) => `${d}: ${c.toLocaleString("en-US")}`);
        const probe = `Probe length histogram, entries per probe length: ${hist.join(", ")}`;
        assert.equal(await page.getAttribute("#h-probe", "aria-label"), probe);
        assert.deepEqual(
          (await page.locator("#h-probe").ariaSnapshot()).split("\n"),
          [`- 'img "${probe}"'`],
        );
      });

      await t.step(
        "dashboard tells series and markers apart by line style, not colour alone",
        async () => {
          // Series and markers are 2 px wide; uPlot also rings data points, undashed, in 1 px.
          const drawn = (await lines(page)).filter(([, , , , width]) => width === 2);
          const dashesOf = (chart: string, series: boolean, color: string) =>
            new Set(
              drawn.filter(([id, path, c]) => id === chart && path === series && c === color)
                .map(([, , , dash]) => JSON.stringify(dash)),
            );
          // Each legend entry's colour and line style, and the lines drawn in that colour.
          const check = async (legend: string, chart: string, series: boolean) => {
            const entries = await page.evaluate(
              (sel) =>
                [...document.querySelectorAll(sel)].map((el) => {
                  const style = getComputedStyle(
                    el,
                    el.classList.contains("mk") ? "::before" : null,
                  );
                  return [style.borderTopColor, style.borderTopStyle];
                }),
              legend,
            );
            assert.equal(entries.length, 3, legend);
            const dashes = entries.map(([color, style]) => {
              const seen = [...dashesOf(chart, series, hex(color!))];
              assert.equal(seen.length, 1, `${legend} ${color}: drawn with ${seen.join(" and ")}`);
              assert.equal(style === "solid", seen[0] === "[]", `${legend} ${color} is ${style}`);
              return seen[0];
            });
            assert.equal(
              new Set(entries.map(([, style]) => style)).size,
              3,
              legend,
            );
            assert.equal(new Set(dashes).size, 3, legend);
          };
          await check(
            "#ch-latency .u-legend .u-series:not(:first-child) .u-marker",
            "ch-latency",
            true,
          );
          await check(".legend .mk", "ch-throughput", false);
        },
      );

      await t.step(
        "dashboard marks a shrink apart from a growth, in the chart and in words",
        async () => {
          const words = await page.evaluate(() =>
            [...(globalThis as unknown as Recorded).drawnWords].map((s) => JSON.parse(s))
          );
          // Arrows on the timelines: the replayed map's growths, and the shrink.
          for (const arrow of ["▲", "▼"]) {
            assert.ok(words.some(([id, w]) => id === "ch-throughput" && w === arrow), arrow);
          }
          const events = await page.textContent("#events") ?? "";
          assert.match(events, /resize ▼ — 4,096 → 512 chains · sparse/);
          assert.match(events, /resize ▲ — [\d,]+ → [\d,]+ (chains|slots) · /);
          assert.match(events, /s resize(t=|$)/, "a resize that gives no capacities: no arrow");
          assert.match(await page.textContent(".legend") ?? "", /▼ shrinks the table/);
        },
      );

      await t.step("dashboard announces an alert once while it lasts", async () => {
        await page.evaluate(() => {
          const w = globalThis as unknown as { alertWrites: number };
          w.alertWrites = 0;
          new MutationObserver((records) => w.alertWrites += records.length).observe(
            document.getElementById("alerts")!,
            { childList: true, characterData: true, subtree: true },
          );
        });
        const alert: Alert = {
          metric: "load_factor",
          value: 0.95,
          threshold: 0.9,
          severity: "warning",
          backend: "robin_hood",
          message: "load factor 0.95 above 0.9",
        };
        const banner = "⚠ WARNING: load factor 0.95 above 0.9";
        let tick = ticks.at(-1)!;
        for (let i = 0; i < 3; i++) {
          // As a replay publishes them: the crossing once in `alerts`, then the metric in
          // `alerts_active` for as long as it stays above its threshold.
          const alerts = i === 0 ? [alert] : [];
          const next = { t: tick.t + 0.01, ops: tick.ops + 1, events: [], alerts };
          tick = { ...tick, ...next, alerts_active: ["load_factor"] };
          hub.publish(tick);
          await page.waitForFunction(
            (ops) => document.getElementById("c-ops")?.textContent === ops,
            tick.ops.toLocaleString("en-US"),
          );
          assert.equal(await page.textContent("#alerts"), banner);
          assert.equal(await page.isVisible("#alerts"), true);
        }
        const writes = await page.evaluate(() =>
          (globalThis as unknown as { alertWrites: number }).alertWrites
        );
        assert.equal(writes, 1);
        // Scrubbed back: shown at the ticks after the crossing, gone at the one before it.
        await page.locator("#scrub").focus();
        for (const shown of [true, true, false]) {
          await page.keyboard.press("ArrowLeft");
          assert.equal(await page.isVisible("#alerts"), shown);
          if (shown) assert.equal(await page.textContent("#alerts"), banner);
        }
        await page.click("#live");
        assert.equal(await page.isVisible("#alerts"), true);
      });

      await t.step("dashboard redraws the charts when the OS colour scheme changes", async () => {
        const axisColours = () =>
          page.evaluate(() =>
            [...(globalThis as unknown as Recorded).drawnTexts].map((s) => JSON.parse(s))
              .filter(([id]) => id === "ch-load").map(([, color]) => color)
          );
        const fg = () =>
          page.evaluate(() =>
            getComputedStyle(document.documentElement).getPropertyValue("--fg").trim()
          );
        const light = await fg();
        assert.ok((await axisColours()).includes(light));
        await page.evaluate(() => (globalThis as unknown as Recorded).drawnTexts.clear());
        await page.emulateMedia({ colorScheme: "dark" });
        const dark = await fg();
        assert.notEqual(dark, light);
        await page.waitForFunction(
          (color) =>
            [...(globalThis as unknown as Recorded).drawnTexts].some((s) =>
              s === JSON.stringify(["ch-load", color])
            ),
          dark,
        );
        assert.ok(!(await axisColours()).includes(light));
        await page.emulateMedia({ colorScheme: "light" });
      });

      await t.step("dashboard keeps the focus in the probe stepper at either end", async () => {
        await page.click("#tab-probe");
        const map = new RobinHoodMap<number>();
        for (let i = 0; i < 40; i++) map.set(`K${i}`, i);
        const trace = Array.from({ length: 40 }, (_, i) => map.traceGet(`K${i}`))
          .find((tr) => tr.path.length >= 3)!;
        const n = trace.path.length;
        await loadTraceFile(page, trace);
        const focused = () => page.evaluate(() => document.activeElement?.id);
        await page.focus("#p-next");
        for (let i = 0; i < n; i++) await page.keyboard.press("Enter");
        assert.equal(await page.isDisabled("#p-next"), true);
        assert.equal(await focused(), "p-prev");
        // From there the panel's arrow keys still step.
        await page.keyboard.press("ArrowLeft");
        assert.equal(await page.textContent("#p-step"), `Step ${n - 1} / ${n}`);
        for (let i = n - 1; i > 0; i--) await page.keyboard.press("Enter");
        assert.equal(await page.isDisabled("#p-prev"), true);
        assert.equal(await focused(), "p-next");
        await page.keyboard.press("ArrowRight");
        assert.equal(await page.textContent("#p-step"), `Step 1 / ${n}`);
        // Playback would say both the counter and the description every 700 ms: only the
        // description is live. The buttons' arrows are decoration, not part of their names.
        assert.equal(await page.getAttribute("#p-step", "aria-live"), null);
        assert.equal(await page.getByRole("button", { name: "Prev", exact: true }).count(), 1);
        assert.equal(await page.getByRole("button", { name: "Next", exact: true }).count(), 1);
        assert.equal(await page.getByRole("group", { name: "Slots visited" }).count(), 1);
      });

      await t.step(
        "dashboard keeps the focus on a job's button while the table refreshes",
        async () => {
          await page.click("#tab-jobs");
          let refreshes = 0;
          page.on("request", (r) => {
            if (r.url().includes("/api/jobs?limit=")) refreshes++;
          });
          await page.fill("#job-csv", "w.csv");
          await page.click("#job-form button[type=submit]");
          await page.waitForFunction(() =>
            /^Job \S+ submitted$/.test(document.getElementById("job-status")!.textContent!)
          );
          const id = (await page.textContent("#job-status"))!.split(" ")[1]!;
          await page.waitForSelector(`#job-rows tr[data-id="${id}"][data-status=running]`);
          const focusedLabel = () =>
            page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
          for (const name of [`Details of job ${id}`, `Cancel job ${id}`]) {
            await page.getByRole("button", { name }).focus();
            const before = refreshes;
            await page.waitForTimeout(2500); // a running job's row refreshes every second
            assert.ok(refreshes - before >= 2, `${refreshes - before} refreshes`);
            assert.equal(await focusedLabel(), name);
          }
          // Cancel goes with the job's end: the focus moves to the same job's Details.
          await page.keyboard.press("Enter");
          await page.waitForSelector(`#job-rows tr[data-id="${id}"][data-status=cancelled]`, {
            timeout: 15_000,
          });
          await page.waitForFunction(
            (id) => document.getElementById("job-status")!.textContent === `Job ${id} cancelled`,
            id,
          );
          assert.equal(await focusedLabel(), `Details of job ${id}`);
        },
      );

      await t.step("dashboard text and controls meet WCAG contrast in both themes", async () => {
        const failures: string[] = [];
        for (const theme of ["light", "dark", "dark from the OS"]) {
          await page.emulateMedia({ colorScheme: theme === "light" ? "light" : "dark" });
          await page.evaluate((t) => {
            if (t === "dark from the OS") delete document.documentElement.dataset.theme;
            else document.documentElement.dataset.theme = t;
          }, theme);
          for (const tab of ["telemetry", "probe", "snapshot", "compare", "jobs"]) {
            await page.click(`#tab-${tab}`);
            for (const p of await page.evaluate(colourPairs)) {
              const ratio = contrast(p.fg, p.bg);
              if (ratio < p.min) {
                failures.push(
                  `${theme}, ${tab}: ${p.what} ${p.fg} on ${p.bg} is ${ratio.toFixed(2)}:1`,
                );
              }
            }
          }
        }
        assert.deepEqual([...new Set(failures)], []);
        await page.emulateMedia({ colorScheme: "light" });
      });

      assert.deepEqual(errors, [], "no console errors or CSP violations");
    } finally {
      await browser.close();
      await server.close();
      await jobs.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
