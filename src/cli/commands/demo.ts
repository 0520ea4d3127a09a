/**
 * `demo`: the main job on embedded defaults. Generates a skewed 1M-op workload under
 * runs/demo/, replays it on adaptive, chaining (fast-insert) and Robin Hood (fast-lookup), and
 * prints a comparison table and where the metrics went.
 *
 * @module
 */

import type { Command } from "../command.ts";
import type { AnyMap, Mode } from "../../core/factory.ts";
import type { Key } from "../../core/types.ts";
import { warmUp } from "../../replay/warm_up.ts";
import {
  commitAll,
  makeDirs,
  removeDirs,
  type StagedFile,
  stageFile,
} from "../../io/atomic_write.ts";
import { joinPath } from "../../io/path.ts";
import { MetricsNdjsonWriter } from "../../replay/metrics_sink.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../../workload/generate.ts";
import { micros, thousands } from "../../format.ts";
import { newMap, RUN_CSV_DEFAULTS, runCsv, type RunCsvFlags } from "./run_csv.ts";
import { stageSnapshotAt } from "./snapshot.ts";
import type { RunSummary } from "../../contracts/run_summary.ts";
import { commandConfig, emitSuccess, intArg, notice } from "../program.ts";
import { checkOutputDirs, checkOutputFiles } from "../paths.ts";
import { selfCommand, shellWord } from "../self_command.ts";
import { DEFAULT_HISTORY_LIMIT, MAX_SERVE_HISTORY } from "../../server/hub.ts";

/** The demo workload: Zipf(1.1) over 100k keys, 50% get, 20% of writes are deletes. */
export const DEMO_WORKLOAD = Object.freeze({
  ...GENERATE_DEFAULTS,
  ops: 1_000_000,
  readRatio: 0.5,
  keySkew: 1.1,
  keySpace: 100_000,
  delRatio: 0.2,
  seed: 1337,
});

const DEMO_MODES: ReadonlyArray<{ mode: Mode; label: string }> = [
  { mode: "adaptive", label: "adaptive" },
  { mode: "fast-insert", label: "chaining (fast-insert)" },
  { mode: "fast-lookup", label: "robin hood (fast-lookup)" },
];

/** The adaptive map as the replay left it, under `--out-dir`. */
const DEMO_SNAPSHOT = "adaptive/map.snap";

/** Most rows replayed on every mode, results discarded, before the measured runs. */
export const DEMO_WARMUP_ROWS = 1_000_000;

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The comparison table. */
function formatDemoTable(rows: Array<{ label: string; s: RunSummary }>): string {
  const head = [
    pad("mode", 26),
    pad("ops/s", 11, true),
    pad("p50 µs", 9, true),
    pad("p99 µs", 9, true),
    pad("final backend", 14, true),
    pad("migrations", 11, true),
    pad("bytes/entry", 12, true),
  ].join(" ");
  const out = [head, "-".repeat(head.length)];
  for (const { label, s } of rows) {
    out.push([
      pad(label, 26),
      pad(thousands(s.ops_per_second), 11, true),
      pad(micros(s.latency_ms.overall.p50), 9, true),
      pad(micros(s.latency_ms.overall.p99), 9, true),
      pad(s.final_backend, 14, true),
      pad(String(s.migrations_triggered), 11, true),
      pad(s.bytes_per_entry.toFixed(1), 12, true),
    ].join(" "));
  }
  return out.join("\n");
}

/**
 * Of the map's first keys in table order, the one whose lookup takes the most steps: the probe
 * worth showing (the first key alone sat in its home slot).
 */
function longestProbe(map: AnyMap<unknown>): Key | undefined {
  let best: Key | undefined;
  let steps = 0;
  let seen = 0;
  for (const key of map.keys()) {
    const n = map.traceGet(key).path.length;
    if (n > steps) [best, steps] = [key, n];
    if (++seen === 10_000) break;
  }
  return best;
}

/** Registers `demo`. */
export function registerDemoCommand(program: Command): void {
  program.command("demo")
    .description("Generate a skewed 1M-op workload and compare adaptive, chaining and Robin Hood")
    .option("--out-dir <dir>", "where the workload and metrics go", "runs/demo")
    .option("--ops <n>", "workload size", intArg(1, 100_000_000), DEMO_WORKLOAD.ops)
    .action(async (opts: { outDir: string; ops: number }, cmd: Command) => {
      const dir = opts.outDir.replace(/(.)\/+$/, "$1"); // "runs/" -> "runs", "/" stays
      const under = (name: string) => joinPath(dir, name);
      const csv = under("workload.csv");
      // Everything the demo writes, checked before minutes of work rather than after.
      checkOutputDirs([
        ["--out-dir", dir],
        ...DEMO_MODES.map(({ mode }): [string, string] => [`--out-dir (${mode})`, under(mode)]),
      ]);
      checkOutputFiles([
        ["--out-dir (workload)", csv],
        ...DEMO_MODES.flatMap(({ mode }): Array<[string, string]> => [
          [`--out-dir (${mode} metrics)`, under(`${mode}/metrics.ndjson`)],
          [`--out-dir (${mode} summary)`, under(`${mode}/summary.json`)],
        ]),
        ["--out-dir (adaptive map)", under(DEMO_SNAPSHOT)],
      ]);
      const workload = { ...DEMO_WORKLOAD, ops: opts.ops };
      notice(
        cmd,
        "demo",
        `demo: generating ${opts.ops} ops (Zipf ${workload.keySkew} over ${workload.keySpace} keys) -> ${csv}`,
      );
      // Every output is staged (written and fsynced under a temporary name) and all are renamed
      // at the end, as run-csv does: a demo that fails part-way commits none of them, leaving an
      // earlier demo's files whole, and removes the directories it made.
      const made = makeDirs(dir);
      const staged: StagedFile[] = [];
      let writer: MetricsNdjsonWriter | null = null;
      const rows: Array<{ label: string; mode: Mode; s: RunSummary }> = [];
      let probeKey: Key | undefined; // a key of the saved map, to show a probe on
      // Alerts stay in each run's ticks; one line after the table beats a warning per crossing.
      const alerts: string[] = [];
      try {
        const workloadFile = await stageFile(csv, generateCsvChunks(workload), made);
        staged.push(workloadFile);
        // The replays read the workload before it is committed with the rest.
        const tmp = workloadFile.tmp;
        const config = commandConfig();
        const warmRows = Math.min(opts.ops, DEMO_WARMUP_ROWS);
        notice(cmd, "demo", `demo: warming up: ${warmRows} rows on each mode, not measured`);
        await warmUp(tmp, warmRows, DEMO_MODES.map(({ mode }) => () => newMap(mode, config)));
        for (const { mode, label } of DEMO_MODES) {
          notice(cmd, "demo", `demo: replaying on ${label}`);
          // runCsv commits the outputs it is asked for: the demo stages its own instead.
          const metrics = MetricsNdjsonWriter.open(under(mode));
          writer = metrics;
          const flags: RunCsvFlags = {
            ...RUN_CSV_DEFAULTS,
            csv: tmp,
            csvMaxRows: 0, // the demo's own file: no guards
            csvMaxBytes: 0,
          };
          const out = await runCsv(flags, {
            mode,
            config,
            onAlert: () => {},
            onTick: (t) => metrics.write(t),
          });
          if (out.kind !== "summary") throw new Error("demo: runCsv did not replay");
          const s: RunSummary = { ...out.summary, csv, metrics_file: metrics.path };
          staged.push(await metrics.stage());
          writer = null;
          staged.push(
            await stageFile(under(`${mode}/summary.json`), `${JSON.stringify(s, null, 2)}\n`),
          );
          if (mode === "adaptive") {
            // The map itself, so that its probe paths can be looked at after the demo.
            const map = out.result.finalMap as AnyMap<unknown>;
            staged.push(await stageSnapshotAt(under(DEMO_SNAPSHOT), map));
            probeKey = longestProbe(map);
          }
          rows.push({ label, mode, s });
          if (s.alerts > 0) alerts.push(`${label} ${s.alerts}`);
        }
        commitAll(staged);
      } catch (err) {
        writer?.abort();
        // Latest first: a mode's directory is emptied and removed before the --out-dir ones.
        // A file already committed has no temporary file left: nothing to undo.
        for (const f of staged.toReversed()) f.discard();
        removeDirs(made);
        throw err;
      }
      const table = formatDemoTable(rows);
      const metricsFile = under("adaptive/metrics.ndjson");
      // The whole run on the dashboard: by default it keeps the last 360 ticks, which left out
      // the adaptive map's switch, a few ticks in.
      const ticks = rows.find(({ mode }) => mode === "adaptive")?.s.ticks ?? 0;
      const history = ticks > DEFAULT_HISTORY_LIMIT
        ? ` --history-limit ${Math.min(ticks, MAX_SERVE_HISTORY)}`
        : "";
      emitSuccess(
        cmd,
        {
          workload: csv,
          runs: rows.map(({ mode, s }) => ({
            mode,
            ops_per_second: s.ops_per_second,
            p50_ms: s.latency_ms.overall.p50,
            p99_ms: s.latency_ms.overall.p99,
            final_backend: s.final_backend,
            migrations: s.migrations_triggered,
            bytes_per_entry: s.bytes_per_entry,
            metrics_file: s.metrics_file,
          })),
        },
        () =>
          [
            "",
            table,
            "",
            ...(alerts.length > 0
              ? [`watchdog alerts (thresholds crossed, listed in the ticks): ${alerts.join(", ")}`]
              : []),
            `workload: ${csv}`,
            ...rows.map(({ mode, s }) =>
              `metrics (${mode}): ${s.metrics_file}  summary: ${under(`${mode}/summary.json`)}`
            ),
            `validate:  ${selfCommand("validate-metrics")} ${shellWord(metricsFile)}`,
            `dashboard: ${selfCommand("serve")} --source ${shellWord(metricsFile)}${history}`,
            ...(probeKey === undefined ? [] : [
              // A CSV's keys are strings: no --numeric.
              `probe:     ${selfCommand("probe-visualize")} --key ${
                shellWord(String(probeKey))
              } --snapshot ${shellWord(under(DEMO_SNAPSHOT))}`,
            ]),
          ].join("\n"),
      );
    });
}
