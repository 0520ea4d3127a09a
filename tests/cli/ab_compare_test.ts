import assert from "node:assert/strict";
import { ROOT, runCli, runScript, successData, tempDir } from "./_run.ts";
import { AbCompareReport } from "../../src/contracts/ab_compare.ts";
import { MetricsTick } from "../../src/contracts/metrics.ts";
import type { RunSummary } from "../../src/contracts/run_summary.ts";
import {
  buildAbReport,
  checkLabels,
  formatAbMarkdown,
  formatAbText,
  medianIndex,
  ratio,
} from "../../src/replay/ab_compare.ts";
import { BadInputError } from "../../src/errors.ts";

const CLI = `${ROOT}cli.ts`;

/** A temp dir holding a generated workload of `ops` rows, removed after `fn`. */
async function withWorkload(
  ops: number,
  fn: (dir: string, csv: string) => Promise<void>,
): Promise<void> {
  const dir = tempDir();
  try {
    const csv = `${dir}/w.csv`;
    const r = await runCli(["generate-csv", "--outfile", csv, "--ops", String(ops)]);
    assert.equal(r.code, 0, r.stderr);
    await fn(dir, csv);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** The report in a `--json` success line. */
function reportOf(stdout: string): AbCompareReport {
  return AbCompareReport.parse(successData(stdout, "ab-compare"));
}

/** The dashboard's Compare view flattens each side to dotted keys (web/app.js flatten). */
function flatKeys(obj: object, prefix = ""): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? flatKeys(v, `${prefix}${k}.`)
      : [`${prefix}${k}`]
  );
}

Deno.test("ab-compare compares adaptive with fast-lookup and writes the report, Markdown and metrics", async () => {
  await withWorkload(3000, async (dir, csv) => {
    const out = `${dir}/ab`;
    const r = await runCli(["ab-compare", "--csv", csv, "--out-dir", out, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r.stdout);
    const { baseline: a, candidate: b, comparison: c } = report;
    assert.deepEqual([a.label, a.mode, a.config], ["baseline", "adaptive", null]);
    assert.deepEqual([b.label, b.mode, b.config], ["candidate", "fast-lookup", null]);
    assert.equal(b.summary.final_backend, "robinhood");
    // Both sides replayed the same ops.
    assert.equal(report.ops, 3000);
    assert.equal(a.summary.total_ops, 3000);
    assert.deepEqual(a.summary.ops_by_type, b.summary.ops_by_type);
    assert.equal(report.warmup_rows, 3000, "the default warm-up, cut to the workload");
    // The ratios are those of the two sides' numbers.
    const r4 = (x: number, y: number) => Math.round((x / y) * 10_000) / 10_000;
    assert.deepEqual(a.ops_per_second.runs, [a.summary.ops_per_second]);
    assert.equal(a.ops_per_second.median, a.summary.ops_per_second);
    assert.equal(c.ops_per_second_ratio, r4(b.ops_per_second.median, a.ops_per_second.median));
    for (const op of ["overall", "put", "get", "del"] as const) {
      const pa = a.summary.latency_ms[op].p99;
      assert.equal(c.p99_latency_ratio[op], pa > 0 ? r4(b.summary.latency_ms[op].p99, pa) : null);
    }
    assert.equal(c.bytes_per_entry_ratio, r4(b.summary.bytes_per_entry, a.summary.bytes_per_entry));
    assert.deepEqual(c.final_backend, {
      baseline: a.summary.final_backend,
      candidate: b.summary.final_backend,
    });
    assert.equal(
      c.faster,
      b.ops_per_second.median > a.ops_per_second.median ? "candidate" : "baseline",
    );
    // Artifacts: the report, the table, each side's metrics; no temporary file left.
    assert.deepEqual(report.artifacts, {
      json: `${out}/ab.json`,
      markdown: `${out}/ab.md`,
      metrics: {
        baseline: `${out}/baseline.metrics.ndjson`,
        candidate: `${out}/candidate.metrics.ndjson`,
      },
    });
    assert.deepEqual(names(out), [
      "ab.json",
      "ab.md",
      "baseline.metrics.ndjson",
      "candidate.metrics.ndjson",
    ]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${out}/ab.json`)), report);
    const md = await Deno.readTextFile(`${out}/ab.md`);
    assert.match(md, /^# A\/B comparison: baseline vs candidate\n/);
    assert.match(md, /\| metric \| baseline \| candidate \| candidate\/baseline \|/);
    for (const side of [a, b]) {
      assert.equal(side.summary.metrics_file, `${out}/${side.label}.metrics.ndjson`);
      const ticks = (await Deno.readTextFile(side.summary.metrics_file!)).trimEnd().split("\n")
        .map((l) => MetricsTick.parse(JSON.parse(l)));
      assert.deepEqual(ticks.map((t) => t.ops), [0, 1024, 2048, 3000]);
      assert.equal(side.summary.ticks, 4);
    }
    // serve --compare lines the sides up key by key: both have the same keys.
    assert.deepEqual(flatKeys(a), flatKeys(b));
  });
});

Deno.test("ab-compare names the environment overrides that outrank a side's config file", async () => {
  await withWorkload(1000, async (dir, csv) => {
    await Deno.writeTextFile(`${dir}/rh.toml`, '[adaptive]\nstart_backend = "robinhood"\n');
    const run = (env: Record<string, string>) =>
      runScript(CLI, [
        "ab-compare",
        "--csv",
        csv,
        "--baseline-config",
        "rh.toml",
        "--candidate-mode",
        "fast-insert",
        "--repeat",
        "1",
        "--warmup-rows",
        "0",
        "--no-artifacts",
        "--json",
      ], { cwd: dir, env });
    const plain = reportOf((await run({})).stdout).baseline;
    assert.equal(plain.env_overrides, undefined);
    assert.equal(plain.summary.final_backend, "robinhood");
    const r = await run({ ADAPTIVE_START_BACKEND: "chaining" });
    assert.equal(r.code, 0, r.stderr);
    const { baseline, candidate } = reportOf(r.stdout);
    // The file is named, and so is what overrode it (and decided the backend).
    assert.deepEqual([baseline.config, baseline.env_overrides], ["rh.toml", [
      "ADAPTIVE_START_BACKEND",
    ]]);
    assert.equal(baseline.summary.final_backend, "chaining");
    assert.deepEqual(candidate.env_overrides, ["ADAPTIVE_START_BACKEND"]);
    assert.match(
      r.stderr,
      /\[INF\] adhash·config: ADAPTIVE_START_BACKEND from the environment overrides the defaults\n/,
    );
  });
});

Deno.test("ab-compare --repeat 3 runs each side 3 times and reports the median run", async () => {
  await withWorkload(2000, async (dir, csv) => {
    const r = await runScript(CLI, [
      "--mode",
      "fast-insert",
      "ab-compare",
      "--csv",
      csv,
      "--repeat",
      "3",
      "--no-artifacts",
      "--json",
    ], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const report = reportOf(r.stdout);
    assert.equal(report.repeat, 3);
    assert.equal(report.baseline.mode, "fast-insert", "the baseline defaults to --mode");
    assert.equal(report.baseline.summary.final_backend, "chaining");
    const order = ["baseline", "candidate", "baseline", "candidate", "baseline", "candidate"];
    assert.deepEqual([...r.stderr.matchAll(/"(\w+)" run (\d)\/3/g)].map((m) => m[1]), order);
    for (const side of [report.baseline, report.candidate]) {
      const runs = side.ops_per_second.runs;
      assert.equal(runs.length, 3);
      const sorted = [...runs].sort((x, y) => x - y);
      assert.equal(side.ops_per_second.median, sorted[1]);
      assert.equal(side.ops_per_second.min, sorted[0]);
      assert.equal(side.ops_per_second.max, sorted[2]);
      assert.equal(side.summary.ops_per_second, sorted[1], "the summary is the median run's");
      assert.equal(side.summary.metrics_file, null);
    }
    assert.deepEqual(report.artifacts, {
      json: null,
      markdown: null,
      metrics: { baseline: null, candidate: null },
    });
    assert.deepEqual(names(dir), ["w.csv"], "--no-artifacts writes nothing");
    // 3 runs a side: the exact test gives one of 20 arrangements' tails, never below 0.1.
    assert.ok([0.1, 0.2, 0.4, 0.7, 1].includes(report.comparison.p_value!), r.stdout);
  });
});

Deno.test("ab-compare prints a readable table without --json", async () => {
  await withWorkload(2000, async (dir, csv) => {
    const r = await runScript(CLI, [
      "ab-compare",
      "--csv",
      csv,
      "--baseline-label",
      "old",
      "--candidate-label",
      "new.v2",
      "--no-artifacts",
    ], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(
      lines[0],
      `ab-compare: ${csv}: 2000 ops, 1 run per side, after 2000 warm-up rows per side`,
    );
    assert.match(lines[1]!, /^\s+old\s+new\.v2\s+new\.v2\/old$/);
    for (const row of ["mode", "ops/s (median)", "overall p50 / p99 µs", "del p50 / p99 µs"]) {
      assert.ok(lines.some((l) => l.startsWith(row)), `${row} row:\n${r.stdout}`);
    }
    assert.match(r.stdout, /\nmode +adaptive +fast-lookup\n/);
    assert.match(r.stdout, /\nfinal backend +\w+ +robinhood\n/);
    assert.match(r.stdout, /\n(old|new\.v2) is faster .*: new\.v2\/old ops\/s x\d+\.\d{3}\n/);
    assert.equal(lines.at(-1), "artifacts: none (--no-artifacts)");
    assert.deepEqual(names(dir), ["w.csv"]);
  });
});

Deno.test("ab-compare refuses bad labels, stdin and bad CSVs with the right envelope, writing nothing", async () => {
  await withWorkload(100, async (dir, csv) => {
    await Deno.writeTextFile(`${dir}/bad.csv`, "op,key,value\nput,a,1\nfly,b,\n");
    const cases: Array<[string[], number, string, RegExp]> = [
      [
        ["--baseline-label", "a/b"],
        2,
        "BadInput",
        /^--baseline-label "a\/b" is not a valid label$/,
      ],
      [["--candidate-label", "x".repeat(65)], 2, "BadInput", /--candidate-label "x+" is not/],
      // Its metrics file would be hidden: ..metrics.ndjson.
      [["--candidate-label", "."], 2, "BadInput", /^--candidate-label "\." is not a valid label$/],
      [
        ["--baseline-label", "Same", "--candidate-label", "same"],
        2,
        "BadInput",
        /^--baseline-label "Same" and --candidate-label "same" are the same label$/,
      ],
      [["--candidate-label", "baseline"], 2, "BadInput", /are the same label$/],
      [["--csv", `${dir}/nope.csv`], 5, "IO", /^CSV file not found: '.*\/nope\.csv'$/],
      [["--csv", `${dir}/bad.csv`], 2, "BadInput", /^Unknown op 'fly' at line 3$/],
      [["--csv", `${dir}/bad.csv`, "--warmup-rows", "0"], 2, "BadInput", /at line 3$/],
      [["--csv", "-"], 2, "BadInput", /^--csv - \(stdin\) cannot be replayed twice$/],
      [["--csv-max-rows", "10"], 2, "BadInput", /^CSV row limit exceeded \(11 > 10\)$/],
      // The measured runs hold to the limits too, not only the warm-up.
      [["--csv-max-rows", "10", "--warmup-rows", "0"], 2, "BadInput", /row limit exceeded/],
      [["--csv-max-bytes", "100", "--warmup-rows", "0"], 2, "BadInput", /exceeds limit 100$/],
      [["--repeat", "0"], 2, "BadInput", /'--repeat <n>' argument '0' is invalid/],
      [["--candidate-mode", "turbo"], 2, "BadInput", /Allowed choices are adaptive, /],
    ];
    const runs = await Promise.all(
      cases.map(([flags]) => runScript(CLI, ["ab-compare", "--csv", csv, ...flags], { cwd: dir })),
    );
    runs.forEach((r, i) => {
      const [flags, code, error, detail] = cases[i]!;
      assert.equal(r.code, code, `${flags.join(" ")}: ${r.stderr}`);
      assert.equal(r.envelope?.error, error);
      assert.match(String(r.envelope?.detail), detail);
      assert.equal(r.stdout, "");
    });
    assert.deepEqual(names(dir), ["bad.csv", "w.csv"], "no results/ab, no temporary file");
  });
});

Deno.test("ab-compare refuses --json-out equal to --csv and outputs that collide", async () => {
  await withWorkload(100, async (dir, csv) => {
    const original = await Deno.readFile(csv);
    Deno.writeTextFileSync(`${dir}/a-file`, "");
    const cases: Array<[string[], RegExp]> = [
      [["--json-out", `${dir}/./w.csv`], /^--csv and --json-out name the same file/],
      [["--markdown-out", csv], /^--csv and --markdown-out name the same file/],
      [
        ["--json-out", `${dir}/o`, "--markdown-out", `${dir}/o`],
        /^--json-out and --markdown-out name the same file/,
      ],
      [
        ["--out-dir", dir, "--json-out", `${dir}/baseline.metrics.ndjson`],
        /^--json-out and --out-dir \(baseline metrics\) name the same file/,
      ],
      [["--json-out", dir], /--json-out ".*" is a directory/],
      [["--out-dir", `${dir}/a-file`], /--out-dir ".*a-file" is not a directory/],
      [["--no-artifacts", "--json-out", `${dir}/x.json`], /--no-artifacts writes no file/],
    ];
    const runs = await Promise.all(
      cases.map(([flags]) => runScript(CLI, ["ab-compare", "--csv", csv, ...flags], { cwd: dir })),
    );
    runs.forEach((r, i) => {
      const [flags, detail] = cases[i]!;
      assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
      assert.equal(r.envelope?.error, "BadInput");
      assert.match(String(r.envelope?.detail), detail);
    });
    assert.deepEqual(await Deno.readFile(csv), original);
    assert.deepEqual(names(dir), ["a-file", "w.csv"]);
    // Inputs may be one file: a config named for both sides is read twice, never written.
    const conf = `${dir}/c.toml`;
    await Deno.writeTextFile(conf, "[adaptive]\nincremental_batch = 64\n");
    const sides = ["--baseline-config", conf, "--candidate-config", conf];
    const both = await runScript(CLI, [
      "--config",
      conf,
      "ab-compare",
      "--csv",
      csv,
      ...sides,
      "--no-artifacts",
    ], {
      cwd: dir,
    });
    assert.equal(both.code, 0, both.stderr);
    const over = await runScript(CLI, ["ab-compare", "--csv", csv, ...sides, "--json-out", conf], {
      cwd: dir,
    });
    assert.match(
      String(over.envelope?.detail),
      /^--baseline-config and --json-out name the same file/,
    );
  });
});

Deno.test("ab-compare that cannot write one output commits none of them", async () => {
  await withWorkload(500, async (dir, csv) => {
    Deno.mkdirSync(`${dir}/locked`);
    // Writes are allowed under out/ only: the metrics are staged there, the report is refused.
    const r = await runScript(CLI, [
      "ab-compare",
      "--csv",
      csv,
      "--out-dir",
      `${dir}/out`,
      "--json-out",
      `${dir}/locked/ab.json`,
    ], { perms: ["--allow-read", `--allow-write=${dir}/out`, "--allow-env", "--allow-sys"] });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.envelope?.error, "Policy");
    assert.equal(r.stdout, "");
    assert.deepEqual(names(`${dir}/out`), [], "no metrics, no Markdown, no temporary file");
    assert.deepEqual(names(`${dir}/locked`), []);
  });
});

Deno.test("ab-compare reads each side's config file, and refuses a bad one as --config does", async () => {
  await withWorkload(1000, async (dir, csv) => {
    await Deno.writeTextFile(`${dir}/rh.toml`, '[adaptive]\nstart_backend = "robinhood"\n');
    await Deno.writeTextFile(`${dir}/bad.toml`, "[turbo]\n");
    const [ok, bad, viaGlobal] = await Promise.all([
      runScript(CLI, [
        "ab-compare",
        "--csv",
        csv,
        "--candidate-mode",
        "adaptive",
        "--candidate-config",
        `${dir}/rh.toml`,
        "--no-artifacts",
        "--json",
      ], { cwd: dir }),
      runScript(CLI, ["ab-compare", "--csv", csv, "--candidate-config", `${dir}/bad.toml`], {
        cwd: dir,
      }),
      runScript(CLI, ["run-csv", "--csv", csv, "--config", `${dir}/bad.toml`], { cwd: dir }),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const report = reportOf(ok.stdout);
    assert.equal(report.baseline.config, null);
    assert.equal(report.candidate.config, `${dir}/rh.toml`);
    assert.equal(report.candidate.mode, "adaptive");
    assert.equal(report.candidate.summary.final_backend, "robinhood");
    assert.equal(report.candidate.summary.migrations_triggered, 0);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.envelope, viaGlobal.envelope);
    assert.match(String(bad.envelope?.detail), /Unknown config section or key 'turbo'/);
    assert.deepEqual(names(dir), ["bad.toml", "rh.toml", "w.csv"]);
  });
});

/** A run summary with the numbers a test cares about. */
function summary(opsPerSecond: number, p99 = 0.002, bytesPerEntry = 40): RunSummary {
  const p = { p50: 0.001, p90: 0.0015, p99 };
  return {
    schema: "run_summary.v1",
    csv: "w.csv",
    mode: "adaptive",
    elapsed_seconds: 1,
    total_ops: 10,
    ops_per_second: opsPerSecond,
    ops_by_type: { put: 6, get: 3, del: 1 },
    final_backend: "robinhood",
    migrations_triggered: 1,
    compactions_triggered: 0,
    latency_ms: { overall: p, put: p, get: p, del: { p50: 0, p90: 0, p99: 0 } },
    latency_sample: {
      reservoir_k_overall: 1000,
      reservoir_k_each: 1000,
      seen_overall: 1,
      every_n_ops: 128,
    },
    latency_histogram_preset: "default",
    final_stats: {
      backend: "robinhood",
      size: 5,
      capacity: 64,
      load_factor: 0.078125,
      max_group_len: 1,
      avg_probe_distance: 0,
      tombstones: 0,
      tombstone_ratio: 0,
      bytes_estimate: 200,
    },
    bytes_per_entry: bytesPerEntry,
    ticks: 2,
    alerts: 0,
    metrics_file: null,
    snapshot_in: null,
    snapshot_out: null,
  };
}

Deno.test("medianIndex() picks the middle run, the slower middle one for an even count", () => {
  assert.equal(medianIndex([]), -1);
  assert.equal(medianIndex([5]), 0);
  assert.equal(medianIndex([30, 10, 20]), 2);
  assert.equal(medianIndex([40, 10, 30, 20]), 3);
  assert.equal(medianIndex([7, 7, 7]), 1, "ties: the earlier run");
});

Deno.test("ratio() is candidate / baseline to 4 decimals, null for a zero baseline", () => {
  assert.equal(ratio(2, 3), 0.6667);
  assert.equal(ratio(5, 4), 1.25);
  assert.equal(ratio(0, 4), 0);
  assert.equal(ratio(1, 0), null);
  assert.equal(ratio(Number.NaN, 1), null);
});

Deno.test("checkLabels() accepts file-name labels and refuses others and equal ones", () => {
  checkLabels({ baseline: "main-2024.1_a", candidate: "x".repeat(64) });
  for (
    const [baseline, candidate] of [["", "b"], ["a b", "b"], ["a", "ü"], ["a", "../b"], [
      "AB",
      "ab",
    ]]
  ) {
    assert.throws(() => checkLabels({ baseline: baseline!, candidate: candidate! }), BadInputError);
  }
});

Deno.test("buildAbReport() reports each side's median run and the ratios of their numbers", () => {
  const side = (label: string, runs: number[], p99: number, bpe: number) => ({
    label,
    mode: "adaptive" as const,
    config: null,
    summaries: runs.map((ops) => summary(ops, p99, bpe)),
    metricsFile: `out/${label}.metrics.ndjson`,
  });
  const report = buildAbReport({
    csv: "w.csv",
    repeat: 3,
    warmupRows: 1_000_000,
    baseline: side("a", [100, 300, 200], 0.004, 40),
    candidate: side("b", [250, 150, 350], 0.002, 30),
    json: "out/ab.json",
    markdown: "out/ab.md",
  });
  AbCompareReport.parse(report);
  assert.equal(report.warmup_rows, 10, "no more rows than the workload has");
  assert.deepEqual(report.baseline.ops_per_second, {
    median: 200,
    min: 100,
    max: 300,
    runs: [100, 300, 200],
  });
  assert.equal(report.candidate.ops_per_second.median, 250);
  assert.equal(report.baseline.summary.metrics_file, "out/a.metrics.ndjson");
  assert.deepEqual(report.comparison, {
    ops_per_second_ratio: 1.25,
    p99_latency_ratio: { overall: 0.5, put: 0.5, get: 0.5, del: null },
    bytes_per_entry_ratio: 0.75,
    final_backend: { baseline: "robinhood", candidate: "robinhood" },
    faster: "b",
    ranges_overlap: true,
    p_value: 0.7, // U = 3 of 9: 14 of the 20 arrangements are at least as extreme
  });
  assert.match(formatAbText(report), /\nb is faster \(within the run-to-run spread: .*p=0\.7\)/);
  assert.match(formatAbText(report), /\nops\/s p-value \(Mann-Whitney\) +0\.7\n/);
  assert.match(formatAbText(report), /\nops\/s \(min-max\) +100-300 +150-350\n/);
  const md = formatAbMarkdown({ ...report, csv: "runs/a|b_c.csv" });
  assert.match(md, /Workload runs\/a\\\|b\\_c\.csv: 10 ops, 3 runs per side/);
  assert.match(md, /\n\| ops\/s \(median\) \| 200 \| 250 \| x1\.250 \|\n/);
  // A CSV that changed between runs makes the runs incomparable.
  const changed = side("b", [1, 2, 3], 0.002, 30);
  changed.summaries[1] = { ...summary(2), total_ops: 11, ops_by_type: { put: 7, get: 3, del: 1 } };
  const input = {
    csv: "w.csv",
    repeat: 3,
    warmupRows: 0,
    baseline: side("a", [1, 2, 3], 1, 1),
    candidate: changed,
    json: null,
    markdown: null,
  };
  assert.throws(
    () => buildAbReport(input),
    /The CSV 'w\.csv' changed during the comparison: one run replayed 10 ops \(put 6, get 3, del 1\), another 11 ops/,
  );
});

Deno.test("buildAbReport() calls a difference clear only when the runs' p-value is below 0.05", () => {
  const side = (label: string, runs: number[]) => ({
    label,
    mode: "adaptive" as const,
    config: null,
    summaries: runs.map((ops) => summary(ops)),
    metricsFile: null,
  });
  const report = (a: number[], b: number[]) =>
    buildAbReport({
      csv: "w.csv",
      repeat: a.length,
      warmupRows: 0,
      baseline: side("a", a),
      candidate: side("b", b),
      json: null,
      markdown: null,
    });
  // Four runs each, all of b's above a's: 2 of the 70 arrangements are this extreme.
  const clear = report([1, 2, 3, 4], [5, 6, 7, 8]);
  assert.equal(clear.comparison.p_value, 0.02857);
  assert.equal(clear.comparison.ranges_overlap, false);
  assert.match(
    formatAbText(clear),
    /\nb is faster \(a clear difference, Mann-Whitney p=0\.02857\)/,
  );
  // Three runs each cannot go below p = 0.1, however far apart.
  const few = report([1, 2, 3], [7, 8, 9]);
  assert.equal(few.comparison.p_value, 0.1);
  assert.match(formatAbText(few), /\(ranges apart, but too few runs to be sure, .*--repeat 4/);
  assert.match(formatAbMarkdown(few), /too few runs to be sure/);
  // One run per side has no spread to test.
  const one = report([1], [2]);
  assert.equal(one.comparison.p_value, null);
  assert.doesNotMatch(formatAbText(one), /p-value/);
  // A report written before p_value existed still parses and prints.
  const { p_value: _, ...old } = clear.comparison;
  const older = AbCompareReport.parse({ ...clear, comparison: old });
  assert.match(formatAbText(older), /\nb is faster: b\/a ops\/s x3\.000\n/);
});
