import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Page } from "playwright-core";
import { createMap } from "../../../src/core/factory.ts";
import { ChainingMap } from "../../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../../src/core/robin_hood_map.ts";
import { traceText } from "../../../src/cli/commands/probe_visualize.ts";
import { MetricsHub } from "../../../src/server/hub.ts";
import { startMetricsServer } from "../../../src/server/start.ts";
import { replay } from "../../../src/replay/replay.ts";
import { saveSnapshot } from "../../../src/snapshot/mod.ts";
import { MAGIC } from "../../../src/snapshot/magic.ts";
import { JobService } from "../../../src/server/jobs.ts";
import { ProfileReport } from "../../../src/contracts/profile.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../../../src/workload/generate.ts";
import { makeBatches } from "../../server/_fixtures.ts";
import { type G, launchBrowser, loadTraceFile, watchErrors } from "./_browser.ts";
import { removedAtUnload } from "../../_helpers.ts";
import { filePath } from "../../../src/cli/self_command.ts";

// Screenshots go where the wrapper test says (a temp dir, or docs/screenshots/ when updating).
const SHOTS = (Deno.env.get("ADHASH_SCREENSHOT_DIR") ??
  filePath(new URL("../../../docs/screenshots", import.meta.url))).replace(/\/?$/, "/");

/** Replays ops on a real adaptive map, publishing every tick to `hub` with a pause between ticks. */
function liveReplay(hub: MetricsHub, ops: number, pauseMs: number) {
  const map = createMap<string>("adaptive");
  const done = replay(map, makeBatches(ops, ops / 2, 11), {
    tickEvery: 512,
    latencySampleEvery: 4,
    heatmapIntervalMs: 0,
    onTick: async (t) => {
      hub.publish(structuredClone(t));
      await new Promise((r) => setTimeout(r, pauseMs));
    },
  });
  return { map, done };
}

const dash = (page: Page, expr: string): Promise<unknown> =>
  page.evaluate(`globalThis.adhashDashboard.${expr}`);

Deno.test({
  name: "Mission Control dashboard works in chromium against a live replay",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_dash_" }));
    const hub = new MetricsHub({
      compare: {
        baseline: { label: "fast-insert", ops_per_second: 812000, latency_ms: { p99: 0.004 } },
        // As long a label as ab-compare takes (64 characters): it must not widen a phone's page.
        candidate: {
          label: "adaptive_incremental_batch_512_max_lf_0.82_rh_backshift_deletion",
          ops_per_second: 905000,
          latency_ms: { p99: 0.000621 },
        },
        winner: "candidate",
        rows: 20_000,
        // --compare serves any JSON: a bidi override in it read "evil" as "live".
        note: "\u202eevil",
      },
    });
    let live: ReturnType<typeof liveReplay> | undefined;
    const snapMap = createMap<unknown>("fast-lookup");
    for (let i = 0; i < 200; i++) snapMap.set(`K${i}`, i * 10);
    snapMap.set("BIG", "x".repeat(70_000)); // too long for an inspection to show
    await saveSnapshot(`${dir}/demo.adhsnap`, snapMap);
    await Deno.mkdir(`${dir}/work`);
    const csv = generateCsvChunks({ ...GENERATE_DEFAULTS, ops: 20_000, keySpace: 2000 });
    await Deno.writeFile(`${dir}/work/workload.csv`, ReadableStream.from(csv));
    await Deno.writeTextFile(`${dir}/work/bad.csv`, "op,key,value\nget,K1,\nbad,K2,\n");
    await Deno.writeTextFile(`${dir}/work/longop.csv`, `op,key,value\n${"x".repeat(300)},K,\n`);
    const jobs = await JobService.open({ root: `${dir}/jobs`, inputDir: `${dir}/work` });
    const server = await startMetricsServer({
      hub,
      port: "auto",
      liveMap: () => live?.map ?? null,
      snapshotDir: dir,
      jobs,
    });
    const browser = await launchBrowser();
    try {
      const page = await browser.ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(server.url);
      await page.waitForFunction(() =>
        (globalThis as unknown as G).adhashDashboard?.mode() === "live"
      );
      live = liveReplay(hub, 24_000, 60);
      const map = live.map;

      await t.step("charts receive points from the live SSE feed", async () => {
        await page.waitForFunction(
          () => (globalThis as unknown as G).adhashDashboard?.streamTicks() >= 5,
          null,
          {
            timeout: 20_000,
          },
        );
        assert.equal(await dash(page, "mode()"), "live");
        const before = await dash(page, "chartPoints('throughput')") as number;
        await page.waitForFunction(
          (n) => (globalThis as unknown as G).adhashDashboard.chartPoints("throughput") > n,
          before,
          { timeout: 10_000 },
        );
        for (const chart of ["load", "probe", "latency", "tomb"]) {
          assert.ok((await dash(page, `chartPoints('${chart}')`) as number) > 0, chart);
        }
        assert.equal(await page.locator("#ch-throughput canvas").count(), 1);
        assert.match(await page.textContent("#c-ops") ?? "", /\d/);
        assert.ok((await page.locator("#h-probe .bar").count()) > 0);
        assert.ok((await page.locator("#h-latency .bar").count()) > 0);
        await live!.done;
        await page.waitForFunction(
          (n) => (globalThis as unknown as G).adhashDashboard.points() === n,
          hub.history().length,
          { timeout: 10_000 },
        );
        assert.equal(await page.textContent("#c-ops"), (24_000).toLocaleString("en-US"));
        // The p99 card reads as the chart does: 4 significant digits, not 4 decimals.
        const last = hub.latest()!;
        const p99 = last.latency_ms.overall.p99;
        assert.ok(p99 < 1, `p99 ${p99}`);
        assert.equal(await page.textContent("#c-p99"), String(+p99.toPrecision(4)));
        assert.match(
          await page.getAttribute("#ch-latency", "aria-label") ?? "",
          new RegExp(`p99 ${String(+p99.toPrecision(4)).replace(".", "\\.")} \\(`),
        );
        // The heatmap's counts with thousands separators, as every count on the page.
        const hm = last.key_heatmap!;
        assert.ok(hm.total >= 1000, `${hm.total} keys`);
        assert.equal(
          await page.textContent("#hm-info"),
          `${hm.rows}×${hm.cols}, ${hm.slot_span.toLocaleString("en-US")} slots/cell, max ${
            hm.max.toLocaleString("en-US")
          }, ${hm.total.toLocaleString("en-US")} keys`,
        );
        // The latency histogram's caption reads "(ms, overall)": no gap inside the brackets.
        const gaps = await page.evaluate(() => {
          const op = document.getElementById("lh-op")!;
          const box = (n: Node) => {
            const r = document.createRange();
            r.selectNodeContents(n);
            return r.getBoundingClientRect();
          };
          return [
            box(op).left - box(op.previousSibling!).right,
            box(op.nextSibling!).left - box(op).right,
          ];
        });
        for (const gap of gaps) assert.ok(gap < 6, `a gap of ${gap}px around the operation`);
        // The adaptive map migrated: the event shows in the list.
        assert.match(await page.textContent("#events") ?? "", /switch/);
        await page.screenshot({ path: `${SHOTS}telemetry_light.png`, fullPage: true });
      });

      await t.step("the history scrubber selects an older tick and Live returns", async () => {
        await page.locator("#scrub").focus();
        await page.keyboard.press("Home");
        assert.match(await page.textContent("#scrub-info") ?? "", /^tick 1 \//);
        // A screen reader hears which tick and when, not the slider's bare index.
        assert.equal(
          await page.getAttribute("#scrub", "aria-valuetext"),
          `tick 1 of ${hub.history().length}, t=${+hub.history()[0]!.t.toFixed(2)} s`,
        );
        assert.equal(await page.textContent("#c-ops"), "0");
        assert.equal(await page.getAttribute("#live", "aria-pressed"), "false");
        await page.click("#live");
        assert.equal(await page.textContent("#c-ops"), (24_000).toLocaleString("en-US"));
      });

      await t.step("dark mode toggles and is remembered", async () => {
        assert.equal(await page.getAttribute("#theme", "aria-pressed"), "false");
        await page.click("#theme");
        assert.equal(await page.getAttribute("html", "data-theme"), "dark");
        assert.equal(await page.getAttribute("#theme", "aria-pressed"), "true");
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bg, "rgb(15, 19, 24)");
        await page.screenshot({ path: `${SHOTS}telemetry_dark.png`, fullPage: true });
        await page.click("#theme");
      });

      await t.step("tabs switch with the mouse and the keyboard", async () => {
        // A panel counts as shown when it is not hidden (an empty panel has no size yet).
        const shown = async (name: string): Promise<boolean> =>
          await page.getAttribute(`#panel-${name}`, "hidden") === null;
        await page.click("#tab-probe");
        assert.equal(await page.getAttribute("#tab-probe", "aria-selected"), "true");
        assert.equal(await shown("probe"), true);
        assert.equal(await shown("telemetry"), false);
        await page.focus("#tab-probe");
        await page.keyboard.press("ArrowRight");
        assert.equal(await page.getAttribute("#tab-snapshot", "aria-selected"), "true");
        assert.equal(await shown("snapshot"), true);
        await page.keyboard.press("ArrowRight");
        assert.equal(await shown("compare"), true);
        assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-compare");
        await page.keyboard.press("Home");
        assert.equal(await shown("telemetry"), true);
        assert.equal(await shown("compare"), false);
      });

      await t.step("the probe view asks the server and animates step by step", async () => {
        await page.click("#tab-probe");
        // The longest insertion path among a few new keys, to show swaps when there are any.
        let key = "new-0";
        let longest = 0;
        for (let i = 0; i < 3000; i++) {
          const len = map.tracePut(`new-${i}`, "1").path.length;
          if (len > longest) [key, longest] = [`new-${i}`, len];
        }
        await page.fill("#probe-key", key);
        assert.equal(await page.isVisible("#probe-value"), false); // a get takes no value
        await page.selectOption("#probe-op", "put");
        assert.equal(await page.isVisible("#probe-value"), true);
        await page.click("#probe-form button[type=submit]");
        await page.waitForSelector("#probe-view:not([hidden])");
        // The legend explains the boxes of the trace's backend.
        const legend = await page.textContent("#probe-legend") ?? "";
        if ((await page.textContent("#probe-meta"))?.startsWith("[robinhood]")) {
          assert.match(legend, /d = how far that entry sits from its home slot, carry = /);
        } else assert.match(legend, /an entry of the bucket's chain/);
        const n = map.tracePut(key, "1").path.length;
        assert.equal(await page.textContent("#p-step"), `Step 0 / ${n}`);
        await page.click("#p-next");
        assert.equal(await page.textContent("#p-step"), `Step 1 / ${n}`);
        assert.equal(await page.locator("#slots .slot.current").count(), 1);
        assert.notEqual((await page.textContent("#p-desc"))?.trim(), "");
        await page.click("#p-prev");
        assert.equal(await dash(page, "probeStep()"), 0);
        // Play advances by itself; Pause stops it.
        await page.click("#p-play");
        await page.waitForFunction(
          (k) => (globalThis as unknown as G).adhashDashboard.probeStep() >= k,
          Math.min(2, n),
          { timeout: 10_000 },
        );
        await page.click("#p-play");
        const paused = await dash(page, "probeStep()") as number;
        await page.waitForTimeout(1000);
        assert.equal(await dash(page, "probeStep()"), paused);
        // The arrow keys step through the rest.
        await page.focus("#panel-probe");
        for (let i = paused; i < n; i++) await page.keyboard.press("ArrowRight");
        assert.equal(await page.textContent("#p-step"), `Step ${n} / ${n}`);
        assert.equal(await page.isDisabled("#p-next"), true);
        assert.match(await page.textContent("#probe-meta") ?? "", /PUT key=/);
        await page.screenshot({ path: `${SHOTS}probe.png`, fullPage: true });
        // A question the server cannot answer hides the trace of the last one.
        await page.evaluate(() => {
          const sel = document.getElementById("probe-source") as HTMLSelectElement;
          sel.append(new Option("gone", "gone.adhsnap"));
          sel.value = "gone.adhsnap";
        });
        const logged = errors.length;
        await page.click("#probe-form button[type=submit]");
        await page.waitForFunction(() =>
          document.getElementById("probe-error")!.textContent !== ""
        );
        assert.equal(await page.isVisible("#probe-view"), false);
        // The browser logs the 404 it was asked for; it is the only error of this step.
        assert.deepEqual(errors.splice(logged), [
          "Failed to load resource: the server responded with a status of 404 (Not Found)",
        ]);
        await page.selectOption("#probe-source", "");
      });

      await t.step("the probe view asks for a number key when told to", async () => {
        map.set(4242, "a number key"); // the replay's keys are all strings
        await page.selectOption("#probe-op", "get");
        assert.equal(await page.isVisible("#probe-value"), false);
        await page.fill("#probe-key", "4242");
        const asked = async (meta: string): Promise<void> => {
          await page.click("#probe-form button[type=submit]");
          await page.waitForFunction(
            (re) => new RegExp(re).test(document.getElementById("probe-meta")?.textContent ?? ""),
            meta,
          );
        };
        await page.check("#probe-numeric");
        await asked("GET key=4242 .*result: match$");
        await page.uncheck("#probe-numeric");
        await asked('GET key="4242" .*result: (?!match)\\w+$');
      });

      await t.step("the probe view loads a trace JSON file", async () => {
        const trace = snapMap.tracePut("K-new", 1);
        await loadTraceFile(page, trace);
        // A trace with a step that is not one is refused whole: the one shown stays as it was.
        const shownMeta = await page.textContent("#probe-meta");
        const shownSteps = await page.locator("#p-steps li").allTextContents();
        await page.setInputFiles("#probe-file", {
          name: "broken.json",
          mimeType: "application/json",
          buffer: Buffer.from(JSON.stringify({ ...trace, key_repr: "k", path: [null] })),
        });
        await page.waitForFunction(() =>
          /Cannot load broken.json: not a probe trace/.test(
            document.getElementById("probe-error")?.textContent ?? "",
          )
        );
        assert.equal(await page.textContent("#probe-meta"), shownMeta);
        assert.deepEqual(await page.locator("#p-steps li").allTextContents(), shownSteps);
        await page.focus("#p-next");
        await page.keyboard.press("ArrowRight"); // threw on the broken trace's null step
        assert.equal(await page.textContent("#p-step"), `Step 1 / ${trace.path.length}`);
        // Play stops when another view is shown: it would go on stepping unseen.
        await page.click("#p-reset");
        await page.click("#p-play");
        await page.click("#tab-telemetry");
        const stepped = await dash(page, "probeStep()") as number;
        await page.waitForTimeout(1500);
        assert.equal(await dash(page, "probeStep()"), stepped);
        await page.click("#tab-probe");
        assert.equal(await page.textContent("#p-play"), "Play");
        // A put into an empty chaining bucket has no step: the view says so.
        const empty = createMap<number>("fast-insert").tracePut("x", 1);
        assert.equal(empty.path.length, 0);
        await page.setInputFiles("#probe-file", {
          name: "empty.json",
          mimeType: "application/json",
          buffer: Buffer.from(JSON.stringify(empty)),
        });
        await page.waitForFunction(() =>
          /Nothing to walk: the bucket is empty/.test(
            document.getElementById("p-desc")?.textContent ?? "",
          )
        );
        await page.setInputFiles("#probe-file", {
          name: "bad.json",
          mimeType: "application/json",
          buffer: Buffer.from("{}"),
        });
        await page.waitForFunction(() =>
          /not a probe trace/.test(document.getElementById("probe-error")?.textContent ?? "")
        );
      });

      await t.step("the snapshot view inspects a snapshot", async () => {
        await page.click("#tab-snapshot");
        await page.waitForFunction(() =>
          (document.getElementById("snap-name") as HTMLSelectElement).options.length > 0
        );
        await page.fill("#snap-key", "K7");
        await page.click("#snap-form button[type=submit]");
        await page.waitForSelector("#snap-out table");
        const text = await page.textContent("#snap-out") ?? "";
        assert.match(text, /ADHSNAP1/);
        assert.match(text, /verified/);
        assert.match(text, /K7/);
        await page.screenshot({ path: `${SHOTS}snapshot.png`, fullPage: true });
      });

      await t.step("the snapshot view says a value was too long to show", async () => {
        await page.fill("#snap-key", "");
        await page.fill("#snap-contains", "BIG");
        await page.click("#snap-form button[type=submit]");
        await page.waitForFunction(() =>
          document.getElementById("snap-out")?.textContent?.includes("1 shown of 1")
        );
        const text = await page.textContent("#snap-out") ?? "";
        assert.match(text, /"BIG"\s*\(omitted: too long to show\)/);
        assert.ok(!text.includes("x".repeat(100)));
        await page.fill("#snap-contains", "");
      });

      await t.step("the compare view shows A and B side by side", async () => {
        await page.click("#tab-compare");
        await page.waitForSelector("#cmp-out table");
        const sides = page.locator("#cmp-out table").first();
        const headers = await sides.locator("thead th[scope=col]").allTextContents();
        assert.deepEqual(headers, [
          "metric",
          "fast-insert",
          "adaptive_incremental_batch_512_max_lf_0.82_rh_backshift_deletion",
        ]);
        assert.match(await page.textContent("#cmp-out") ?? "", /905,000/);
        // Each row is headed by its metric, so a screen reader names the cell it reads.
        const row = (metric: string) =>
          sides.locator("tbody tr", { has: page.locator(`th[scope=row]:text-is("${metric}")`) })
            .locator("th, td").allTextContents();
        // Small latencies keep 4 significant digits (4 decimals showed 0.0006).
        assert.deepEqual(await row("latency_ms.p99"), ["latency_ms.p99", "0.004", "0.000621"]);
        // Strings read as text, not as JSON in quotes.
        assert.deepEqual(await row("label"), [
          "label",
          "fast-insert",
          "adaptive_incremental_batch_512_max_lf_0.82_rh_backshift_deletion",
        ]);
        // The summary's numbers as the side-by-side table's: 20,000, not 20000.
        const summaryRows = page.locator("#cmp-out section", { hasText: "Summary" }).locator("tr");
        assert.deepEqual(
          await summaryRows.filter({ hasText: "rows" }).locator("th, td").allTextContents(),
          ["rows", (20_000).toLocaleString("en-US")],
        );
        const summary = await page.textContent("#cmp-out") ?? "";
        assert.ok(summary.includes("\\u202eevil") && !summary.includes("\u202e"), summary);
        assert.equal(await page.getAttribute("#cmp-error", "role"), "alert");
        await page.screenshot({ path: `${SHOTS}compare.png`, fullPage: true });
      });

      await t.step("the jobs view runs a replay on the server and shows its result", async () => {
        await page.click("#tab-jobs");
        await page.fill("#job-csv", "missing.csv");
        await page.click("#job-form button[type=submit]");
        await page.waitForFunction(() =>
          /"missing.csv" does not exist/.test(document.getElementById("job-error")!.textContent!)
        );
        // Chromium logs the refused request itself; that one console error is expected.
        const refused = errors.findIndex((e) => /status of 400 \(Bad Request\)/.test(e));
        assert.ok(refused >= 0, JSON.stringify(errors));
        errors.splice(refused, 1);
        await page.fill("#job-csv", "workload.csv");
        await page.selectOption("#job-mode", "fast-lookup");
        await page.check("#job-snapshot");
        await page.click("#job-form button[type=submit]");
        await page.waitForSelector("#job-rows tr[data-status=completed]", { timeout: 20_000 });
        assert.equal(await page.textContent("#job-error"), "");
        const [job] = await Array.fromAsync(jobs.list(1).records);
        // The status region says the job ended (it said when it was submitted).
        await page.waitForFunction(
          (id) => document.getElementById("job-status")!.textContent === `Job ${id} completed`,
          job!.id,
        );
        const cells = await page.locator("#job-rows tr").first().locator("td").allTextContents();
        assert.deepEqual(cells.slice(0, 5), [
          job!.id,
          "run-csv",
          "completed",
          "workload.csv",
          "fast-lookup",
        ]);
        const opsPerSecond = (job!.result as { ops_per_second: number }).ops_per_second;
        assert.equal(cells[5], Math.round(opsPerSecond).toLocaleString("en-US"));
        await page.waitForFunction(() =>
          /Completed in/.test(document.getElementById("job-logs")!.textContent!)
        );
        assert.match(await page.textContent("#job-title") ?? "", /completed$/);
        assert.match(
          await page.textContent("#job-outcome") ?? "",
          /^20,000 ops; artifacts: metrics.ndjson, result.json, snapshot.bin$/,
        );
        assert.equal(await page.isVisible("#job-profile"), false);
        // A finished job's details cannot change: the list's refreshes do not fetch them again.
        const fetched: string[] = [];
        const count = (r: { url(): string }) => {
          if (r.url().includes(`/api/jobs/${job!.id}`)) fetched.push(r.url());
        };
        page.on("request", count);
        await page.waitForResponse((r) => r.url().endsWith("/api/jobs?limit=50"));
        await new Promise((r) => setTimeout(r, 300));
        page.off("request", count);
        assert.deepEqual(fetched, []);
      });

      await t.step("the jobs view profiles every mode and shows the ranking", async () => {
        await page.selectOption("#job-kind", "profile");
        assert.equal(await page.isVisible("#job-mode"), false); // profile tries every mode
        assert.equal(await page.isVisible("#job-snapshot"), false);
        await page.click("#job-form button[type=submit]");
        await page.waitForFunction(
          () =>
            document.querySelector("#job-rows tr")?.getAttribute("data-status") === "completed" &&
            document.querySelector("#job-rows tr td:nth-child(2)")?.textContent === "profile",
          undefined,
          { timeout: 30_000 },
        );
        const [job] = await Array.fromAsync(jobs.list(1).records);
        const report = ProfileReport.parse(job!.result);
        const cells = await page.locator("#job-rows tr").first().locator("td").allTextContents();
        assert.deepEqual(cells.slice(1, 6), [
          "profile",
          "completed",
          "workload.csv",
          `best: ${report.recommended_mode}`,
          report.modes[0]!.ops_per_second.toLocaleString("en-US"),
        ]);
        await page.waitForFunction(
          (id) => document.getElementById("job-title")!.textContent!.includes(id),
          job!.id,
        );
        await page.waitForSelector("#job-profile", { state: "visible" });
        const ranked = await page.locator("#job-profile-rows tr td:first-child").allTextContents();
        assert.deepEqual(ranked, report.modes.map((m) => m.mode));
        assert.match(
          await page.textContent("#job-outcome") ?? "",
          new RegExp(
            `^Recommended --mode ${report.recommended_mode}, .*, Mann-Whitney p=[\\d.e-]+; 20,000 rows, 5 runs per mode`,
          ),
        );
        await page.screenshot({ path: `${SHOTS}jobs.png`, fullPage: true });
      });

      await t.step("the jobs view compares two modes and analyses a workload", async () => {
        await page.selectOption("#job-kind", "ab-compare");
        assert.equal(await page.textContent("#job-mode-name"), "Baseline");
        await page.selectOption("#job-mode", "fast-insert");
        await page.selectOption("#job-candidate", "memory-tight");
        await page.click("#job-form button[type=submit]");
        await page.waitForFunction(
          () =>
            document.querySelector("#job-rows tr")?.getAttribute("data-status") === "completed" &&
            document.querySelector("#job-rows tr td:nth-child(2)")?.textContent === "ab-compare",
          undefined,
          { timeout: 60_000 },
        );
        const [ab] = await Array.fromAsync(jobs.list(1).records);
        assert.deepEqual(ab!.request, {
          csv: "workload.csv",
          baseline_mode: "fast-insert",
          candidate_mode: "memory-tight",
        });
        // A comparison of several runs per side shows its Mann-Whitney p-value.
        const repeated = await jobs.submit("ab-compare", { csv: "workload.csv", repeat: 2 });
        await page.waitForSelector(
          `#job-rows tr[data-id="${repeated.id}"][data-status=completed]`,
          {
            timeout: 60_000,
          },
        );
        // Each row's buttons name their job for a screen reader.
        await page.getByRole("button", { name: `Details of job ${repeated.id}` }).click();
        await page.waitForFunction(
          (id) => document.getElementById("job-title")!.textContent!.includes(id),
          repeated.id,
        );
        assert.match(
          await page.textContent("#job-outcome") ?? "",
          /^candidate\/baseline ops\/s [\d.]+x( \(ranges overlap\))?, Mann-Whitney p=(0\.3333|0\.6667|1);/,
        );
        await page.selectOption("#job-kind", "workload-dna");
        assert.equal(await page.isVisible("#job-mode"), false);
        await page.click("#job-form button[type=submit]");
        await page.waitForFunction(
          () =>
            document.querySelector("#job-rows tr")?.getAttribute("data-status") === "completed" &&
            document.querySelector("#job-rows tr td:nth-child(2)")?.textContent === "workload-dna",
          undefined,
          { timeout: 30_000 },
        );
        const [dna] = await Array.fromAsync(jobs.list(1).records);
        const suggested = (dna!.result as { recommendation: { mode: string } }).recommendation.mode;
        const cells = await page.locator("#job-rows tr").first().locator("td").allTextContents();
        assert.equal(cells[4], `suggests ${suggested}`);
        await page.waitForFunction(
          (id) => document.getElementById("job-title")!.textContent!.includes(id),
          dna!.id,
        );
        assert.match(
          await page.textContent("#job-outcome") ?? "",
          /^20,000 rows; suggests --mode /,
        );
        assert.equal(await page.isVisible("#job-profile"), false);
        // A job submitted elsewhere (curl, a batch) shows up while the view sits idle.
        const other = await jobs.submit("workload-dna", { csv: "workload.csv", top_keys: 1 });
        await page.waitForSelector(`#job-rows tr[data-id="${other.id}"]`, { timeout: 15_000 });
        // A failed job's log ends with the CLI's error, read out of its envelope.
        const failed = await jobs.submit("run-csv", { csv: "bad.csv" });
        await page.waitForSelector(`#job-rows tr[data-id="${failed.id}"][data-status=failed]`, {
          timeout: 15_000,
        });
        await page.getByRole("button", { name: `Details of job ${failed.id}` }).click();
        await page.waitForFunction(() =>
          /INFO BadInput: Unknown op 'bad' at line 3\n/.test(
            document.getElementById("job-logs")!.textContent!,
          )
        );
      });

      await t.step("the layout fits a 320 px wide screen", async () => {
        // WCAG 1.4.10 reflow: at 320 CSS px only the wide tables scroll, inside their cards
        // (jobs, a profile's ranking, compare, snapshot); the page never scrolls sideways.
        await page.setViewportSize({ width: 320, height: 844 });
        const profile = (await Array.fromAsync(jobs.list(50).records)).find((j) =>
          j.kind === "profile"
        )!;
        const fits = async (what: string) => {
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= 320, `${what}: the page is ${width}px wide`);
        };
        for (const tab of ["telemetry", "probe", "snapshot", "compare", "jobs"]) {
          await page.click(`#tab-${tab}`);
          if (tab === "jobs") {
            await page.getByRole("button", { name: `Details of job ${profile.id}` }).click();
            await page.waitForSelector("#job-profile", { state: "visible" });
          }
          await fits(tab);
        }
        // Keys and paths of 300 characters break rather than widen the page: a probe's heading,
        // steps and description, a refused job's error, a failed job's outcome.
        await page.click("#tab-probe");
        const long = new RobinHoodMap<number>();
        for (let i = 0; i < 40; i++) long.set(`${"k".repeat(300)}${i}`, i);
        let trace = long.traceGet("absent");
        for (let i = 0; !trace.path.some((s) => s.state === "occupied"); i++) {
          trace = long.traceGet(`${"q".repeat(300)}${i}`);
        }
        await loadTraceFile(page, trace);
        await fits("probe, a long key");
        for (let i = 0; i < trace.path.length; i++) {
          await page.click("#p-next");
          await fits(`probe, a long key, step ${i + 1}`);
        }
        await page.click("#tab-jobs");
        await page.fill("#job-csv", `${"w".repeat(300)}.csv`);
        await page.click("#job-form button[type=submit]");
        await page.waitForFunction(() =>
          /w{300}/.test(document.getElementById("job-error")!.textContent!)
        );
        await fits("jobs, a long path refused");
        const logged = errors.findIndex((e) => /status of 400 \(Bad Request\)/.test(e));
        if (logged >= 0) errors.splice(logged, 1);
        const failed = await jobs.submit("run-csv", { csv: "longop.csv" });
        await page.waitForSelector(`#job-rows tr[data-id="${failed.id}"][data-status=failed]`, {
          timeout: 15_000,
        });
        await page.getByRole("button", { name: `Details of job ${failed.id}` }).click();
        await page.waitForFunction(() =>
          /x{300}/.test(document.getElementById("job-outcome")!.textContent!)
        );
        await fits("jobs, a failed job's outcome");
        await page.setViewportSize({ width: 390, height: 844 });
        await page.click("#tab-telemetry");
        await page.screenshot({ path: `${SHOTS}telemetry_phone.png`, fullPage: false });
      });

      assert.deepEqual(errors, [], "no console errors or CSP violations");
    } finally {
      await browser.close();
      await server.close();
      await jobs.close();
      await live?.done.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Mission Control dashboard signs in with the token when ADHASH_TOKEN is set",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const hub = new MetricsHub();
    let live: ReturnType<typeof liveReplay> | undefined;
    const token = "browser-token-123";
    const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_dash_token_" }));
    await Deno.writeTextFile(`${dir}/w.csv`, "op,key,value\nput,a,1\nget,a,\n");
    const jobs = await JobService.open({ root: `${dir}/jobs`, inputDir: dir });
    const server = await startMetricsServer({ hub, port: "auto", token, jobs });
    const browser = await launchBrowser();
    try {
      const page = await browser.ctx.newPage();
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(server.url);
      await page.waitForSelector("#login:not([hidden])");
      assert.equal(await page.isVisible("#main"), false);
      assert.equal(await page.isVisible("#tabs"), false);
      await page.screenshot({ path: `${SHOTS}login.png` });
      await page.fill("#token", "wrong");
      await page.click("#login-form button[type=submit]");
      await page.waitForFunction(() =>
        /refused/.test(document.getElementById("login-error")?.textContent ?? "")
      );
      await page.fill("#token", token);
      await page.click("#login-form button[type=submit]");
      await page.waitForFunction(() =>
        (globalThis as unknown as G).adhashDashboard.mode() === "live"
      );
      // The form went away with the focus in it: the focus goes on to the selected tab.
      assert.equal(await page.evaluate(() => document.activeElement?.id), "tab-telemetry");
      live = liveReplay(hub, 6000, 30);
      await page.waitForFunction(
        () => (globalThis as unknown as G).adhashDashboard.streamTicks() >= 2,
        null,
        {
          timeout: 20_000,
        },
      );
      assert.equal(await dash(page, "mode()"), "live");
      // The timelines are redrawn a frame or more after the ticks arrive.
      await page.waitForFunction(
        () => (globalThis as unknown as G).adhashDashboard.chartPoints("throughput") >= 2,
      );
      assert.equal(await page.evaluate(() => sessionStorage.getItem("adhash.token")), token);
      assert.ok(requests.every((u) => !u.includes(token)), "the token never goes into a URL");
      // A watchdog alert on the live data, then Sign out: the sign-in form shows no metrics.
      await live.done;
      const alert = {
        metric: "load_factor",
        value: 0.95,
        threshold: 0.9,
        severity: "warning" as const,
        backend: "robinhood",
        message: "load factor 0.95 above 0.9",
      };
      const last = hub.latest()!;
      hub.publish({
        ...last,
        t: last.t + 0.01,
        ops: last.ops + 1,
        events: [],
        alerts: [alert],
        alerts_active: ["load_factor"],
      });
      await page.waitForSelector("#alerts:not([hidden])");
      await page.click("#tab-jobs");
      await page.waitForSelector("#job-table");
      await page.click("#logout");
      await page.waitForSelector("#login:not([hidden])");
      assert.equal(await page.isVisible("#alerts"), false, "no metrics on the sign-in screen");
      assert.equal(await page.evaluate(() => sessionStorage.getItem("adhash.token")), null);
      assert.equal(await page.isVisible("#logout"), false, "no Sign out on the sign-in screen");
      // Signed out, the Jobs view's refresh meets a 401; signed back in, it refreshes again.
      await page.waitForTimeout(5500);
      await page.fill("#token", token);
      await page.click("#login-form button[type=submit]");
      const job = await jobs.submit("workload-dna", { csv: "w.csv" });
      await page.waitForSelector(`#job-rows tr[data-id="${job.id}"]`, { timeout: 12_000 });
    } finally {
      await browser.close();
      await server.close();
      await jobs.close();
      await Deno.remove(dir, { recursive: true });
      await live?.done.catch(() => {});
    }
  },
});

Deno.test({
  name: "Mission Control dashboard falls back to polling when the stream is unavailable",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const hub = new MetricsHub();
    const server = await startMetricsServer({ hub, port: "auto" });
    const browser = await launchBrowser();
    try {
      const page = await browser.ctx.newPage();
      // A proxy that drops SSE: the stream request fails, everything else passes.
      await page.route("**/api/stream", (route) => route.abort());
      await page.goto(server.url);
      await page.waitForFunction(
        () => (globalThis as unknown as G).adhashDashboard.mode() === "polling",
        null,
        {
          timeout: 10_000,
        },
      );
      const { ticks } = await import("../../server/_fixtures.ts").then((m) =>
        m.replayTicks({ ops: 3000 })
      );
      for (const tick of ticks) {
        hub.publish(tick);
        await page.waitForFunction(
          (ops) => document.getElementById("c-ops")?.textContent === ops,
          tick.ops.toLocaleString("en-US"),
          { timeout: 10_000 },
        );
      }
      assert.equal(await dash(page, "streamTicks()"), 0);
      assert.equal(await dash(page, "points()"), ticks.length);
      // The badge is a live region: each poll must not say "polling" again.
      const rewrites = await page.evaluate(async () => {
        let n = 0;
        new MutationObserver((records) => n += records.length).observe(
          document.getElementById("conn")!,
          { childList: true, characterData: true, subtree: true },
        );
        await new Promise((r) => setTimeout(r, 3500));
        return n;
      });
      assert.equal(rewrites, 0);
      // Rate-limited (429), as busy (503): the server is there, the page is not offline.
      let limited = 0;
      await page.route("**/api/metrics", (route) => {
        limited++;
        return route.fulfill({
          status: 429,
          contentType: "application/json",
          body: JSON.stringify({ error: "RateLimited", detail: "too many requests" }),
        });
      });
      while (limited < 2) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await dash(page, "mode()"), "polling");
      assert.equal(await page.textContent("#conn"), "polling");
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "Mission Control comes back from a lost stream with every tick, whatever late polls say",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const hub = new MetricsHub({ historyLimit: 1000 });
    const { ticks } = await import("../../server/_fixtures.ts").then((m) =>
      m.replayTicks({ ops: 50_000, tickEvery: 256 })
    );
    let server = await startMetricsServer({ hub, port: "auto" });
    const port = server.port;
    const browser = await launchBrowser();
    let published = 0;
    let publishing: Promise<void> | undefined;
    try {
      const page = await browser.ctx.newPage();
      const errors = watchErrors(page);
      // A slow network: each poll is answered 1.5 s after the server answered it, so an answer
      // that arrives once the stream is back holds an older tick.
      await page.route("**/api/metrics", async (route) => {
        const response = await route.fetch().catch(() => null);
        await new Promise((r) => setTimeout(r, 1500));
        if (response === null) await route.abort().catch(() => {});
        else await route.fulfill({ response }).catch(() => {});
      });
      let streamDown = false;
      await page.route(
        "**/api/stream",
        (route) => streamDown ? route.abort() : route.continue(),
      );
      await page.goto(server.url);
      await page.waitForFunction(() =>
        (globalThis as unknown as G).adhashDashboard?.mode() === "live"
      );
      publishing = (async () => {
        for (const tick of ticks) {
          hub.publish(tick);
          published++;
          await new Promise((r) => setTimeout(r, 40));
        }
      })();
      await page.waitForFunction(() => (globalThis as unknown as G).adhashDashboard.points() >= 20);
      // The stream is lost for a few seconds (ticks go on: the hub outlives the server); the page
      // polls meanwhile, and retries the stream every 5 s.
      streamDown = true;
      await server.close();
      server = await startMetricsServer({ hub, port });
      await page.waitForFunction(
        () => (globalThis as unknown as G).adhashDashboard.mode() === "polling",
      );
      const polled = published;
      await new Promise((r) => setTimeout(r, 3000));
      streamDown = false;
      await page.waitForFunction(
        () => (globalThis as unknown as G).adhashDashboard.mode() === "live",
        null,
        { timeout: 10_000 },
      );
      assert.ok(published - polled > 50, "ticks were published while the stream was down");
      await publishing;
      // Every tick, in order: those published while the stream was down come from the history.
      await page.waitForFunction(
        (n) => (globalThis as unknown as G).adhashDashboard.points() === n,
        ticks.length,
        { timeout: 10_000 },
      );
      // The late answers of the polls (1.5 s) changed neither the charts nor the badge.
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(await dash(page, "points()"), ticks.length);
      assert.equal(await dash(page, "chartPoints('throughput')"), ticks.length);
      assert.equal(await dash(page, "mode()"), "live");
      assert.deepEqual(errors.filter((e) => !/ERR_FAILED|ERR_CONNECTION/.test(e)), []);
    } finally {
      await publishing;
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name:
    "Mission Control shows every tick of the run shown, and only its, across loads and restarts",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const { replayTicks } = await import("../../server/_fixtures.ts");
    const hub = new MetricsHub({ historyLimit: 5000 });
    const first = (await replayTicks({ ops: 60_000, tickEvery: 64 })).ticks;
    let server = await startMetricsServer({ hub, port: "auto" });
    const port = server.port;
    const browser = await launchBrowser();
    let publishing: Promise<void> | undefined;
    try {
      const page = await browser.ctx.newPage();
      const errors = watchErrors(page);
      const times = () => dash(page, "tickTimes()") as Promise<number[]>;
      /** Waits until the page shows the ticks of `expected` (their times), and no others. */
      const shows = async (expected: number[], timeout = 10_000) => {
        await page.waitForFunction(
          (ts) => JSON.stringify((globalThis as unknown as G).adhashDashboard.tickTimes()) === ts,
          JSON.stringify(expected),
          { timeout },
        ).catch(() => {});
        assert.deepEqual(await times(), expected);
      };

      await t.step("no tick published while the page loads is missing", async () => {
        // A tick every 2 ms from before the page asks for the history until well after its
        // stream is open: none may fall between the two.
        for (const tick of first.slice(0, 50)) hub.publish(tick);
        publishing = (async () => {
          for (const tick of first.slice(50)) {
            hub.publish(tick);
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        await page.goto(server.url);
        await publishing;
        await shows(hub.history().map((tick) => tick.t));
        await page.waitForFunction(
          (n) => (globalThis as unknown as G).adhashDashboard.chartPoints("load") === n,
          first.length,
        );
      });

      await t.step("a reload after a new run started lists that run's events only", async () => {
        const second = (await replayTicks({ ops: 3000, mode: "fast-lookup" })).ticks;
        for (const tick of second) hub.publish(tick);
        const eventsRead = page.waitForResponse((r) => r.url().includes("/api/events"));
        await page.reload();
        await eventsRead;
        await shows(second.map((tick) => tick.t));
        const events = second.flatMap((tick) => tick.events);
        assert.ok(events.length > 0 && events.length < 100);
        await page.waitForFunction(
          (n) => document.querySelectorAll("#events li").length === n,
          events.length,
        );
        await page.evaluate(() =>
          new Promise((r) => requestAnimationFrame(() => setTimeout(r, 100)))
        );
        const listed = await page.locator("#events li").allTextContents();
        assert.deepEqual(
          listed.map((li) => li.split(" ")[1]),
          events.map((ev) => ev.type).reverse(),
        );
      });

      await t.step("a server restarted on another run replaces the run shown", async () => {
        // As `serve --source` on another file: a run whose ticks go on after the shown one's end
        // (and more of them than the old server had sent), so that the page could take them for
        // more of the same run.
        const shift = hub.latest()!.t + 1;
        const other = new MetricsHub({ historyLimit: 5000 });
        for (const tick of (await replayTicks({ ops: 90_000, tickEvery: 64 })).ticks) {
          other.publish({
            ...tick,
            t: tick.t + shift,
            events: tick.events.map((ev) => ({ ...ev, t: ev.t + shift })),
          });
        }
        assert.ok(other.received > hub.received);
        await server.close();
        server = await startMetricsServer({ hub: other, port });
        // Polls meanwhile, then the stream again (5 s after it was lost).
        await page.waitForFunction(
          () => (globalThis as unknown as G).adhashDashboard.mode() === "live",
          null,
          { timeout: 20_000 },
        );
        await shows(other.history().map((tick) => tick.t));
        const events = other.history().flatMap((tick) => tick.events).slice(-100);
        assert.equal(await page.locator("#events li").count(), events.length);
        assert.equal(await page.textContent("#c-ops"), other.latest()!.ops.toLocaleString("en-US"));
      });
      assert.deepEqual(errors.filter((e) => !/ERR_FAILED|ERR_CONNECTION/.test(e)), []);
    } finally {
      await publishing;
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "Mission Control loads the history after a busy answer and says so meanwhile",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const hub = new MetricsHub({ historyLimit: 1000 });
    const { ticks } = await import("../../server/_fixtures.ts").then((m) =>
      m.replayTicks({ ops: 80_000, tickEvery: 256 })
    );
    // As `serve --source FILE`: a run that has ended, so the stream brings no more ticks.
    for (const tick of ticks.slice(0, 40)) hub.publish(tick);
    let server = await startMetricsServer({ hub, port: "auto" });
    const port = server.port;
    const browser = await launchBrowser();
    // The server's answer while it sends 16 histories, with a shorter Retry-After.
    const busy = (route: import("playwright-core").Route) =>
      route.fulfill({
        status: 503,
        headers: { "Retry-After": "1" },
        contentType: "application/json",
        body: JSON.stringify({
          schema: "api.error.v1",
          error: "Busy",
          detail: "16 histories are being sent, the most served",
        }),
      });
    try {
      const page = await browser.ctx.newPage();
      const errors = watchErrors(page);

      await t.step("a busy history is said so, tried again, and then shown whole", async () => {
        let refused = 0;
        await page.route(
          "**/api/metrics/history",
          (route) => refused++ < 2 ? busy(route) : route.continue(),
        );
        await page.goto(server.url);
        await page.waitForFunction(
          () => /16 histories/.test(document.getElementById("history-error")?.textContent ?? ""),
        );
        assert.equal(
          await page.textContent("#history-error"),
          "The history could not be loaded: 16 histories are being sent, the most served. " +
            "Trying again in 1 s.",
        );
        assert.equal(await page.getAttribute("#history-error", "role"), "alert");
        // Not offline: the server is there.
        assert.equal(await dash(page, "mode()"), "live");
        // Before the fix the page showed the stream's one tick for good.
        await page.waitForFunction(
          (n) => (globalThis as unknown as G).adhashDashboard.points() === n,
          40,
          { timeout: 10_000 },
        );
        assert.equal(refused, 3);
        await page.waitForFunction(() => document.getElementById("history-error")?.hidden);
        assert.match((await page.textContent("#scrub-info"))!, /^tick 40 \/ 40 · /);
        await page.unroute("**/api/metrics/history");
      });

      await t.step("a refused CSV download is said so, through the ticks that follow", async () => {
        await page.route("**/api/metrics/history.csv", busy);
        let live = true;
        const publishing = (async () => {
          for (const tick of ticks.slice(40)) {
            if (!live) break;
            hub.publish(tick);
            await new Promise((r) => setTimeout(r, 30));
          }
        })();
        try {
          await page.click("#csv");
          await page.waitForFunction(() => !document.getElementById("csv-error")?.hidden);
          const shown = await dash(page, "points()") as number;
          // Ticks go on: before the fix the next one rewrote the message (in #scrub-info).
          await page.waitForFunction(
            (n) => (globalThis as unknown as G).adhashDashboard.points() >= n + 5,
            shown,
          );
          assert.equal(
            await page.textContent("#csv-error"),
            "CSV download failed: 16 histories are being sent, the most served. Try again in 1 s.",
          );
          assert.equal(await page.getAttribute("#csv-error", "role"), "alert");
          await page.unroute("**/api/metrics/history.csv");
          const download = page.waitForEvent("download");
          await page.click("#csv");
          assert.equal((await download).suggestedFilename(), "adhash_timeline.csv");
          await page.waitForFunction(() => document.getElementById("csv-error")?.hidden);
        } finally {
          live = false;
          await publishing;
        }
      });

      await t.step(
        "the ticks missed while the stream was down come after a busy answer",
        async () => {
          let refused = 0;
          await page.route(
            /\/api\/metrics\/history\?limit=/,
            (route) => refused++ < 1 ? busy(route) : route.continue(),
          );
          let streamDown = false;
          await page.route(
            "**/api/stream",
            (route) => streamDown ? route.abort() : route.continue(),
          );
          let next = await dash(page, "points()") as number;
          const publishing = (async () => {
            for (; next < ticks.length; next++) {
              hub.publish(ticks[next]!);
              await new Promise((r) => setTimeout(r, 30));
            }
          })();
          try {
            // The stream is lost for seconds while ticks go on (the hub outlives the server).
            await new Promise((r) => setTimeout(r, 500));
            streamDown = true;
            await server.close();
            server = await startMetricsServer({ hub, port });
            await page.waitForFunction(() =>
              (globalThis as unknown as G).adhashDashboard.mode() === "polling"
            );
            await new Promise((r) => setTimeout(r, 2500));
            streamDown = false;
            await page.waitForFunction(
              () => (globalThis as unknown as G).adhashDashboard.mode() === "live",
              null,
              { timeout: 10_000 },
            );
          } finally {
            await publishing;
          }
          // Before the fix the refused backfill was dropped: the charts kept the hole.
          await page.waitForFunction(
            (n) => (globalThis as unknown as G).adhashDashboard.points() === n,
            ticks.length,
            { timeout: 10_000 },
          );
          assert.ok(refused >= 2, "the backfill was refused once, then asked again");
          await page.waitForFunction(() => document.getElementById("history-error")?.hidden);
        },
      );

      assert.deepEqual(
        errors.filter((e) => !/status of 503|ERR_FAILED|ERR_CONNECTION/.test(e)),
        [],
      );
    } finally {
      await browser.close();
      await server.close();
    }
  },
});

Deno.test({
  name: "Mission Control probe view explains hashes, tombstones and rebuilds without a live map",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_dash_probe_" }));
    // A Robin Hood table whose deletions leave tombstones, below its load limit.
    const tombs = new RobinHoodMap<number>({ deletion: "tombstone" });
    for (let i = 0; i < 50; i++) tombs.set(`K${i}`, i);
    for (let i = 0; i < 50; i += 4) tombs.delete(`K${i}`);
    await saveSnapshot(`${dir}/tombs.adhsnap`, tombs);
    // As `serve --source FILE`: ticks and snapshots, but no live map to probe.
    const hub = new MetricsHub();
    const server = await startMetricsServer({ hub, port: "auto", snapshotDir: dir });
    const browser = await launchBrowser();
    try {
      const page = await browser.ctx.newPage();
      const errors = watchErrors(page);
      await page.goto(server.url);
      await page.waitForFunction(() =>
        (globalThis as unknown as G).adhashDashboard?.mode() === "live"
      );
      const stepTexts = () => page.locator("#p-steps li").allTextContents();

      await t.step("the Ops / s card says it is the last tick's rate", async () => {
        const label = await page.locator(".card.stat", { has: page.locator("#c-ops-s") })
          .locator(".label").textContent();
        assert.match(label ?? "", /last tick/);
      });

      await t.step("no live map: the error shows its hint and a snapshot is picked", async () => {
        await page.click("#tab-probe");
        await page.waitForSelector("#probe-source option[value='tombs.adhsnap']", {
          state: "attached",
        });
        assert.equal(await page.inputValue("#probe-source"), ""); // the live map, by default
        const logged = errors.length;
        await page.click("#probe-form button[type=submit]");
        await page.waitForFunction(() =>
          document.getElementById("probe-error")!.textContent !== ""
        );
        const text = await page.textContent("#probe-error") ?? "";
        assert.match(text, /no live map to probe/);
        assert.match(text, /Pass snapshot=NAME, or probe during run-csv/);
        // The next question goes to a snapshot, and stays so when the tab opens again.
        assert.equal(await page.inputValue("#probe-source"), "tombs.adhsnap");
        assert.deepEqual(errors.splice(logged), [
          "Failed to load resource: the server responded with a status of 404 (Not Found)",
        ]);
        await page.click("#tab-snapshot");
        await page.click("#tab-probe");
        await page.waitForSelector("#probe-source option[value='tombs.adhsnap']", {
          state: "attached",
        });
        assert.equal(await page.inputValue("#probe-source"), "tombs.adhsnap");
        await page.click("#probe-form button[type=submit]");
        await page.waitForSelector("#probe-view:not([hidden])");
        assert.equal(await page.textContent("#probe-error"), "");
      });

      await t.step("the snapshot view says when the server lists only the first 1000", async () => {
        await page.click("#tab-snapshot");
        await page.waitForSelector("#snap-name option[value='tombs.adhsnap']", {
          state: "attached",
        });
        assert.equal(await page.getAttribute("#snap-count", "hidden"), ""); // one: all listed
        for (let i = 0; i < 1_000; i++) {
          await Deno.writeFile(`${dir}/x${String(i).padStart(4, "0")}`, MAGIC); // listed, as a snapshot
        }
        await page.click("#tab-probe");
        await page.click("#tab-snapshot"); // the list is read again as the tab opens
        await page.waitForSelector("#snap-count:not([hidden])");
        assert.equal(
          await page.textContent("#snap-count"),
          "Showing the first 1000 of 1001 snapshots, in name order.",
        );
        assert.equal(await page.locator("#snap-name option").count(), 1_000);
        for (let i = 0; i < 1_000; i++) await Deno.remove(`${dir}/x${String(i).padStart(4, "0")}`);
        await page.click("#tab-probe");
        await page.click("#tab-snapshot");
        await page.waitForSelector("#snap-count", { state: "hidden" });
        await page.click("#tab-probe"); // where the next step starts
        await page.waitForSelector("#probe-source option[value='tombs.adhsnap']", {
          state: "attached",
        });
      });

      await t.step("the snapshot view's list errors go once the list loads", async () => {
        const listed = () => page.waitForResponse((r) => r.url().endsWith("/api/snapshots"));
        const reopen = async () => {
          const loaded = listed();
          await page.click("#tab-probe");
          await page.click("#tab-snapshot");
          await loaded;
        };
        const error = async (text: string) => {
          await page.waitForFunction(
            (t) => document.getElementById("snap-error")!.textContent === t,
            text,
            { timeout: 3000 },
          ).catch(() => {});
          assert.equal(await page.textContent("#snap-error"), text);
        };
        // The list could not be read (the directory gone, say), then it could.
        const logged = errors.length;
        await page.route("**/api/snapshots", (route) =>
          route.fulfill({
            status: 503,
            contentType: "application/json",
            body: JSON.stringify({ error: "IO", detail: "the snapshot directory is gone" }),
          }));
        await reopen();
        await error("the snapshot directory is gone");
        await page.unroute("**/api/snapshots");
        await reopen();
        await error("");
        // Both tabs read the list: the browser logs each refusal.
        const refused = errors.splice(logged);
        assert.ok(
          refused.length > 0 && refused.every((e) => /status of 503/.test(e)),
          `${refused}`,
        );
        // No snapshot in the directory, then one.
        const bytes = await Deno.readFile(`${dir}/tombs.adhsnap`);
        await Deno.remove(`${dir}/tombs.adhsnap`);
        await reopen();
        await error("No snapshots in ADHASH_SNAPSHOT_DIR.");
        await Deno.writeFile(`${dir}/tombs.adhsnap`, bytes);
        await reopen();
        await error("");
      });

      await t.step("the compare view's Loading… is not announced as an alert", async () => {
        await page.evaluate(() => {
          const texts: string[] = [];
          Object.assign(globalThis, { cmpTexts: texts });
          const el = document.getElementById("cmp-error")!;
          new MutationObserver(() => texts.push(el.textContent!)).observe(el, {
            childList: true,
            characterData: true,
            subtree: true,
          });
        });
        const logged = errors.length;
        await page.click("#tab-compare");
        const none = "No comparison loaded. Start the server with --compare AB.json.";
        await page.waitForFunction(
          (t) => document.getElementById("cmp-error")!.textContent === t,
          none,
        );
        const texts = await page.evaluate(() =>
          (globalThis as unknown as { cmpTexts: string[] }).cmpTexts
        );
        assert.deepEqual(texts, [none]);
        assert.deepEqual(errors.splice(logged), [
          "Failed to load resource: the server responded with a status of 404 (Not Found)",
        ]);
        await page.click("#tab-probe"); // where the next step starts
        await page.waitForSelector("#probe-source option[value='tombs.adhsnap']", {
          state: "attached",
        });
      });

      await t.step("the probe view shows the hash, whose top bits are the home slot", async () => {
        const trace = tombs.traceGet("K1");
        await page.selectOption("#probe-source", "tombs.adhsnap"); // as the step before left it
        await page.fill("#probe-key", "K1");
        await page.click("#probe-form button[type=submit]");
        await page.waitForFunction(() =>
          /GET key="K1"/.test(document.getElementById("probe-meta")?.textContent ?? "")
        );
        const meta = await page.textContent("#probe-meta") ?? "";
        const hex = `0x${trace.hash.toString(16).padStart(8, "0")}`;
        const bits = trace.ideal_slot.toString(2).padStart(6, "0");
        assert.match(meta, new RegExp(`hash ${hex}`));
        assert.match(
          meta,
          new RegExp(`home slot ${trace.ideal_slot} of 64 \\(the hash's top 6 bits: ${bits}\\)`),
        );
        assert.equal(trace.hash >>> 26, trace.ideal_slot);
      });

      await t.step("a probe that stops at a tombstone names the tombstone", async () => {
        // A get that stops at a tombstone closer to home, asked of the server.
        let key = "";
        for (let i = 0; i < 5000 && key === ""; i++) {
          const last = tombs.traceGet(`x${i}`).path.at(-1)!;
          if (last.state === "tombstone" && last.action === "stop") key = `x${i}`;
        }
        assert.notEqual(key, "");
        const last = tombs.traceGet(key).path.at(-1)!;
        await page.selectOption("#probe-source", "tombs.adhsnap");
        await page.fill("#probe-key", key);
        await page.click("#probe-form button[type=submit]");
        await page.waitForFunction(
          (k) => document.getElementById("probe-meta")!.textContent!.includes(`key="${k}"`),
          key,
        );
        const steps = await stepTexts();
        assert.equal(
          steps.at(-1),
          `slot ${last.slot}: a tombstone at distance ${last.probe_distance} < ${last.carried_distance} — the key cannot be further on; stop`,
        );
        assert.ok(steps.every((s) => !s.includes("null")), steps.join("\n"));
        // A put that stops at a tombstone and goes back to reuse an earlier one (a trace file).
        let put: ReturnType<typeof tombs.tracePut> | undefined;
        for (let i = 0; i < 5000 && put === undefined; i++) {
          const p = tombs.tracePut(`x${i}`, 1);
          if (p.path.some((s) => s.action === "stop" && s.state === "tombstone")) put = p;
        }
        assert.ok(put);
        await page.setInputFiles("#probe-file", {
          name: "reuse.json",
          mimeType: "application/json",
          buffer: Buffer.from(JSON.stringify(put)),
        });
        await page.waitForFunction(
          (k) => document.getElementById("probe-meta")!.textContent!.includes(`PUT key=${k}`),
          put.key_repr,
        );
        const putSteps = await stepTexts();
        const stop = put.path.at(-2)!;
        const reuse = put.path.at(-1)!;
        assert.equal(reuse.state, "tombstone");
        assert.equal(
          putSteps.at(-2),
          `slot ${stop.slot}: a tombstone at distance ${stop.probe_distance} < ${stop.carried_distance} — the key is not in the table; the put goes back to the tombstone at slot ${reuse.slot} to place it`,
        );
        assert.equal(
          putSteps.at(-1),
          `slot ${reuse.slot}: tombstone reused — insert at distance ${reuse.carried_distance}`,
        );
        assert.ok(putSteps.every((s) => !s.includes("null")), putSteps.join("\n"));
      });

      await t.step("a put that first rebuilds the table says so, as the CLI does", async () => {
        // Robin Hood at its load limit (resize), Robin Hood full of tombstones (compaction),
        // chaining at its load limit (resize).
        const full = new RobinHoodMap<number>();
        for (let i = 0; i < 54; i++) full.set(`K${i}`, i);
        const churn = new RobinHoodMap<number>({ deletion: "tombstone" });
        let compaction: ReturnType<typeof churn.tracePut> | undefined;
        for (let i = 0; i < 1000 && compaction === undefined; i++) {
          const p = churn.tracePut(`c${i}`, 1);
          if (p.rebuild?.type === "compaction") compaction = p;
          churn.set(`c${i}`, 1);
          if (i >= 8) churn.delete(`c${i - 8}`);
        }
        const chains = new ChainingMap<number>();
        let chained: ReturnType<typeof chains.tracePut> | undefined;
        for (let i = 0; i < 10_000 && chained === undefined; i++) {
          const p = chains.tracePut(`n${i}`, 1);
          if (p.rebuild) chained = p;
          chains.set(`n${i}`, 1);
        }
        const traces = [full.tracePut("hello", 1), compaction!, chained!];
        assert.deepEqual(traces.map((tr) => tr.rebuild?.type), ["resize", "compaction", "resize"]);
        for (const [i, trace] of traces.entries()) {
          await page.setInputFiles("#probe-file", {
            name: `rebuild${i}.json`,
            mimeType: "application/json",
            buffer: Buffer.from(JSON.stringify(trace)),
          });
          await page.waitForFunction(
            (k) => document.getElementById("probe-meta")!.textContent!.includes(`key=${k}`),
            trace.key_repr,
          );
          // The CLI's second line: "The table is full: ...", "Tombstones fill the table: ...".
          const expected = traceText(trace, "k").split("\n")[1]!;
          assert.match(expected, /^(The table is full|Tombstones fill the table)/);
          assert.equal(await page.textContent("#probe-rebuild"), expected);
          assert.equal(await page.isVisible("#probe-rebuild"), true);
        }
        // A trace without a rebuild hides the line.
        await page.setInputFiles("#probe-file", {
          name: "plain.json",
          mimeType: "application/json",
          buffer: Buffer.from(JSON.stringify(tombs.traceGet("K1"))),
        });
        await page.waitForFunction(() =>
          /GET key="K1"/.test(document.getElementById("probe-meta")?.textContent ?? "")
        );
        assert.equal(await page.isVisible("#probe-rebuild"), false);
      });

      assert.deepEqual(errors, [], "no console errors or CSP violations");
    } finally {
      await browser.close();
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
