import assert from "node:assert/strict";
import { PERMS, ROOT, runCli, successData } from "./_run.ts";
import { BatchReport } from "../../src/contracts/batch.ts";
import { RunSummary } from "../../src/contracts/run_summary.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../../src/workload/generate.ts";
import { withTempDir } from "../_helpers.ts";

/** The CLI's permissions plus spawning the jobs' `deno`. */
const RUN_PERMS = [...PERMS, `--allow-run=${Deno.execPath()}`];

/** Writes a generated workload CSV of `ops` rows to `dir/name`. */
async function workload(dir: string, name: string, ops: number, keySkew = 0): Promise<void> {
  const chunks = generateCsvChunks({ ...GENERATE_DEFAULTS, ops, keySpace: 1000, keySkew });
  await Deno.writeFile(`${dir}/${name}`, ReadableStream.from(chunks));
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function readReport(out: string): BatchReport {
  return BatchReport.parse(JSON.parse(Deno.readTextFileSync(`${out}/batch.json`)));
}

/** A `[[jobs]]` table. */
function job(fields: Record<string, string | number | boolean>): string {
  return `[[jobs]]\n${
    Object.entries(fields).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("\n")
  }\n`;
}

Deno.test("batch runs 2 workloads x 2 modes and reports the numbers of each job's result.json", async () => {
  await withTempDir(async (dir) => {
    await workload(dir, "zipf.csv", 6000, 1.1);
    await workload(dir, "uni.csv", 6000);
    const modes = ["adaptive", "fast-lookup"];
    const jobs = ["zipf", "uni"].flatMap((w) =>
      modes.map((mode) => job({ name: `${w}-${mode}`, kind: "run-csv", csv: `${w}.csv`, mode }))
    );
    await Deno.writeTextFile(
      `${dir}/spec.toml`,
      `title = "<b>Nightly</b> & co"\nout_dir = "results"\n${jobs.join("")}`,
    );
    const r = await runCli(["batch", "--spec", `${dir}/spec.toml`, "--json"], {
      perms: RUN_PERMS,
    });
    assert.equal(r.code, 0, r.stderr);
    const report = BatchReport.parse(successData(r.stdout, "batch"));
    const out = `${dir}/results`;
    assert.deepEqual(readReport(out), report, "batch.json is the --json data");
    assert.equal(report.all_completed, true);
    assert.deepEqual(report.counts, { jobs: 4, completed: 4, failed: 0, cancelled: 0 });
    assert.deepEqual(report.jobs.map((j) => j.name), [
      "zipf-adaptive",
      "zipf-fast-lookup",
      "uni-adaptive",
      "uni-fast-lookup",
    ]);
    for (const j of report.jobs) {
      const result = RunSummary.parse(
        JSON.parse(Deno.readTextFileSync(`${out}/${j.job_dir}/result.json`)),
      );
      assert.equal(j.status, "completed");
      assert.equal(j.exit_code, 0);
      assert.equal(j.summary?.type, "replay");
      if (j.summary?.type !== "replay") continue;
      assert.equal(j.summary.mode, j.request.mode);
      assert.equal(j.summary.csv, j.request.csv); // as the spec names it
      assert.equal(j.summary.ops_per_second, result.ops_per_second);
      assert.equal(j.summary.p50_ms, result.latency_ms.overall.p50);
      assert.equal(j.summary.p99_ms, result.latency_ms.overall.p99);
      assert.equal(j.summary.final_backend, result.final_backend);
      assert.equal(j.summary.migrations, result.migrations_triggered);
      assert.equal(j.summary.bytes_per_entry, result.bytes_per_entry);
      assert.ok(j.artifacts.includes("metrics.ndjson"));
    }
    // One comparison per workload, fastest first, ratios to the fastest's ops/s.
    assert.deepEqual(report.comparisons.map((c) => c.csv), ["zipf.csv", "uni.csv"]);
    for (const c of report.comparisons) {
      const ops = c.rows.map((row) => row.ops_per_second);
      assert.deepEqual(ops, [...ops].sort((a, b) => b - a));
      assert.deepEqual(c.rows.map((row) => row.ratio), [
        1,
        Math.round(ops[1]! / ops[0]! * 1e4) / 1e4,
      ]);
    }
    const md = Deno.readTextFileSync(`${out}/report.md`);
    assert.ok(md.startsWith("# \\<b\\>Nightly\\</b\\> \\& co\n"));
    for (const j of report.jobs) {
      assert.match(
        md,
        new RegExp(`\\n\\| ${j.name} \\| run-csv \\| completed \\| [\\d.]+ \\| 0 \\| `),
      );
    }
    const zipf = report.comparisons[0]!;
    assert.match(
      md,
      new RegExp(
        "### `zipf\\.csv`\\n\\n.*\\n.*\\n" +
          zipf.rows.map((row) =>
            `\\| ${row.mode} \\| ${row.job} \\| [\\d,]+ \\| ${row.ratio.toFixed(4)} \\|.*\\n`
          )
            .join(""),
      ),
    );
    const html = Deno.readTextFileSync(`${out}/report.html`);
    assert.ok(html.includes("<h1>&#60;b&#62;Nightly&#60;/b&#62; &#38; co</h1>"));
    assert.doesNotMatch(html, /<b>|<script/);
    assert.equal([...html.matchAll(/<svg class="chart"/g)].length, 2);
    assert.equal([...html.matchAll(/<rect /g)].length, 4);
    assert.deepEqual(
      [...Deno.readDirSync(out)].map((e) => e.name).sort(),
      ["batch.json", "jobs", "report.html", "report.md"],
      "no temporary file left",
    );
  });
});

Deno.test("bench/nightly.toml is the spec docs/batch.md shows, and it plans its five jobs", async () => {
  const spec = await Deno.readTextFile(`${ROOT}/bench/nightly.toml`);
  const doc = await Deno.readTextFile(`${ROOT}/docs/batch.md`);
  assert.equal(/## Example\n\n```toml\n([^]*?)```/.exec(doc)?.[1], spec);
  await withTempDir(async (dir) => {
    // Its workload is generated, not committed: a small one stands in.
    await Deno.mkdir(`${dir}/workloads`);
    await workload(dir, "workloads/zipf.csv", 100, 1.1);
    await Deno.writeTextFile(`${dir}/nightly.toml`, spec);
    const r = await runCli(["batch", "--spec", `${dir}/nightly.toml`, "--dry-run", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = successData(r.stdout, "batch");
    assert.deepEqual(
      (plan.jobs as Array<{ name: string; kind: string }>).map((j) => `${j.name}:${j.kind}`),
      [
        "zipf-adaptive:run-csv",
        "zipf-lookup:run-csv",
        "zipf-dna:workload-dna",
        "zipf-ab:ab-compare",
        "zipf-profile:profile",
      ],
    );
    assert.equal(plan.out_dir, `${Deno.realPathSync(dir)}/results/nightly`);
  });
});

Deno.test("batch with a failing job still completes the others, writes the report and exits with that job's code", async () => {
  await withTempDir(async (dir) => {
    await workload(dir, "w.csv", 3000);
    await Deno.writeTextFile(`${dir}/bad.csv`, "op,key,value\nput,K1,a\nfrob,K2,\n");
    await Deno.writeTextFile(
      `${dir}/spec.toml`,
      `out_dir = "ignored"\n` + job({ name: "first", kind: "run-csv", csv: "w.csv" }) +
        job({ name: "broken", kind: "run-csv", csv: "bad.csv" }) +
        job({ name: "dna", kind: "workload-dna", csv: "w.csv" }),
    );
    const out = `${dir}/elsewhere`;
    const r = await runCli(
      ["batch", "--spec", `${dir}/spec.toml`, "--out-dir", out, "--parallel", "2"],
      { perms: RUN_PERMS },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "", "a failed command prints nothing on stdout");
    assert.deepEqual(r.envelope, {
      error: "BadInput",
      detail: "1 of 3 batch jobs did not complete: broken (BadInput: Unknown op 'frob' at line 3)",
      hint: `Report: ${out}/report.md; the exit code is the first failed job's (docs/batch.md)`,
    });
    // Every outcome is printed before the envelope.
    assert.match(r.stderr, /\nfirst +run-csv +completed +[\d.]+ +0 +[\d,]+ ops\/s, p99 /);
    assert.match(
      r.stderr,
      /\nbroken +run-csv +failed +[\d.]+ +2 +BadInput: Unknown op 'frob' at line 3\n/,
    );
    assert.match(r.stderr, /\ndna +workload-dna +completed +[\d.]+ +0 +3,000 rows, /);
    assert.ok(!exists(`${dir}/ignored`), "--out-dir overrides the spec's out_dir");
    const report = readReport(out);
    assert.equal(report.parallel, 2);
    assert.equal(report.all_completed, false);
    assert.deepEqual(report.jobs.map((j) => j.status), ["completed", "failed", "completed"]);
    assert.deepEqual(report.jobs[1]!.error, {
      error: "BadInput",
      detail: "Unknown op 'frob' at line 3",
      hint: "See docs/workload_schema.md",
    });
    assert.equal(report.jobs[2]!.summary?.type, "workload_dna");
    const md = Deno.readTextFileSync(`${out}/report.md`);
    assert.match(
      md,
      /\n\| broken \| run-csv \| failed \| [\d.]+ \| 2 \| BadInput: Unknown op 'frob' at line 3 \|/,
    );
    assert.match(
      md,
      /\n- 3 jobs in [\d.]+ s: 2 completed, 1 failed \(\*\*not all jobs completed\*\*\)\n/,
    );
  });
});

Deno.test("batch stops a job at its timeout_seconds: Timeout, exit 4, and no hang", async () => {
  await withTempDir(async (dir) => {
    await workload(dir, "big.csv", 3_000_000);
    await workload(dir, "small.csv", 2000);
    await Deno.writeTextFile(
      `${dir}/spec.toml`,
      "timeout_seconds = 0.15\n" +
        job({ name: "slow", kind: "run-csv", csv: "big.csv" }) +
        job({ name: "quick", kind: "run-csv", csv: "small.csv", timeout_seconds: 60 }),
    );
    const started = performance.now();
    const r = await runCli(["batch", "--spec", `${dir}/spec.toml`, "--out-dir", `${dir}/out`], {
      perms: RUN_PERMS,
    });
    const seconds = (performance.now() - started) / 1000;
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.envelope?.error, "Policy");
    assert.match(
      String(r.envelope?.detail),
      /^1 of 2 batch jobs did not complete: slow \(Timeout: /,
    );
    assert.ok(seconds < 30, `took ${seconds} s`);
    const report = readReport(`${dir}/out`);
    const [slow, quick] = report.jobs;
    assert.equal(slow!.status, "failed");
    assert.equal(slow!.error?.error, "Timeout");
    assert.equal(slow!.request.timeout_seconds, 0.15, "the spec's default applies");
    assert.ok(slow!.duration_seconds! < 10, `ran ${slow!.duration_seconds} s`);
    assert.equal(quick!.status, "completed");
    assert.equal(quick!.request.timeout_seconds, 60, "a job's own timeout wins");
  });
});

Deno.test("batch spec errors are BadInput naming the job and field, and nothing is written", async () => {
  await withTempDir(async (dir) => {
    await workload(dir, "w.csv", 100);
    const cases: Array<[string, RegExp]> = [
      [
        job({ name: "a", kind: "frob", csv: "w.csv" }),
        /job "a": kind = "frob" is not one of run-csv, workload-dna, ab-compare, profile/,
      ],
      [
        job({ name: "a", kind: "run-csv", csv: "w.csv", mode: "fastest" }),
        /job "a": mode = "fastest": Invalid option/,
      ],
      [
        job({ name: "a", kind: "run-csv", csv: "w.csv", colour: "red" }),
        /job "a": unknown field "colour"/,
      ],
      [
        job({ name: "a", kind: "workload-dna", csv: "w.csv", top_keys: -1 }),
        /job "a": top_keys = -1: Too small/,
      ],
      [
        job({ name: "a", kind: "run-csv", csv: "w.csv" }) +
        job({ name: "a", kind: "workload-dna", csv: "w.csv" }),
        /job "a": name used by jobs\[0\] and jobs\[1\]/,
      ],
      [
        job({ name: "a", kind: "run-csv", csv: "missing.csv" }),
        /job "a": csv "missing\.csv" does not exist in the spec's directory \(\/.*\)$/,
      ],
      [
        job({ name: "a", kind: "run-csv", csv: `${dir}/w.csv` }),
        /job "a": csv "\/.*" must be a relative path inside the spec's directory/,
      ],
      [
        job({ name: "a", kind: "run-csv", csv: "../w.csv" }),
        /job "a": csv "\.\.\/w\.csv" must be a relative path/,
      ],
      [
        job({ name: "a b", kind: "run-csv", csv: "w.csv" }),
        /jobs\[0\]: name = "a b" is not 1-64 of/,
      ],
      [job({ kind: "run-csv" }), /jobs\[0\]: name is missing; jobs\[0\]: csv is missing/],
      [
        "parallel = 0\n" + job({ name: "a", kind: "run-csv", csv: "w.csv" }),
        /: parallel = 0: Too small/,
      ],
      ["jobs = []\n", /: jobs = \[\]: the spec has no \[\[jobs\]\]/],
      ["[[jobs]\nname = 1\n", /Invalid TOML in batch spec ".*" at line 1: /],
    ];
    for (const [text, detail] of cases) {
      await Deno.writeTextFile(`${dir}/spec.toml`, text);
      const r = await runCli(["batch", "--spec", `${dir}/spec.toml`, "--out-dir", `${dir}/out`], {
        perms: RUN_PERMS,
      });
      assert.equal(r.code, 2, `${text}\n${r.stderr}`);
      assert.equal(r.envelope?.error, "BadInput");
      assert.match(String(r.envelope?.detail), detail);
      assert.equal(r.envelope?.hint, "See docs/batch.md");
      assert.equal(r.stdout, "");
      assert.ok(!exists(`${dir}/out`), `nothing written for ${text}`);
    }
    await Deno.writeTextFile(`${dir}/spec.toml`, job({ name: "a", kind: "run-csv", csv: "w.csv" }));
    const noOut = await runCli(["batch", "--spec", `${dir}/spec.toml`], { perms: RUN_PERMS });
    assert.equal(noOut.code, 2);
    assert.match(
      String(noOut.envelope?.detail),
      /no output directory: set out_dir in the spec or pass --out-dir/,
    );
    // The spec's out_dir stays beside it, as its inputs do.
    for (const out of ["../elsewhere", "/tmp/adhash_batch_out"]) {
      await Deno.writeTextFile(
        `${dir}/spec.toml`,
        `out_dir = "${out}"\n${job({ name: "a", kind: "run-csv", csv: "w.csv" })}`,
      );
      const r = await runCli(["batch", "--spec", `${dir}/spec.toml`], { perms: RUN_PERMS });
      assert.equal(r.code, 2, r.stderr);
      assert.match(
        String(r.envelope?.detail),
        new RegExp(`out_dir "${out}" must be a relative path inside the spec's directory`),
      );
    }
    // Nor through a symbolic link, even to a directory the batch would create under it.
    const outside = await Deno.makeTempDir({ prefix: "adhash_batch_outside_" });
    try {
      await Deno.symlink(outside, `${dir}/esc`);
      await Deno.writeTextFile(
        `${dir}/spec.toml`,
        `out_dir = "esc/sub"\n${job({ name: "a", kind: "run-csv", csv: "w.csv" })}`,
      );
      const esc = await runCli(["batch", "--spec", `${dir}/spec.toml`], { perms: RUN_PERMS });
      assert.equal(esc.code, 2, esc.stderr);
      assert.match(
        String(esc.envelope?.detail),
        /out_dir "esc\/sub" must be a relative path inside/,
      );
      assert.deepEqual([...Deno.readDirSync(outside)], []);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
    // A report never replaces the spec, a workload or the global --config.
    await Deno.mkdir(`${dir}/here`);
    await workload(`${dir}/here`, "report.html", 100);
    await Deno.writeTextFile(
      `${dir}/here/report.md`,
      `out_dir = "."\n${job({ name: "a", kind: "run-csv", csv: "report.html" })}`,
    );
    const clash = await runCli(["batch", "--spec", `${dir}/here/report.md`], { perms: RUN_PERMS });
    assert.equal(clash.code, 2, clash.stderr);
    assert.match(
      String(clash.envelope?.detail),
      /^Invalid batch spec ".*report\.md": --spec and report file name the same file/,
    );
    assert.match(await Deno.readTextFile(`${dir}/here/report.md`), /^out_dir = "\."/);
    await Deno.writeTextFile(
      `${dir}/here/spec.toml`,
      `out_dir = "."\n${job({ name: "a", kind: "run-csv", csv: "report.html" })}`,
    );
    const input = await runCli(["batch", "--spec", `${dir}/here/spec.toml`], { perms: RUN_PERMS });
    assert.equal(input.code, 2, input.stderr);
    assert.match(
      String(input.envelope?.detail),
      /^Invalid batch spec ".*": job "a" csv and report file name the same file/,
    );
    assert.equal(input.envelope?.hint, "See docs/batch.md");
    // Reported with the spec's other problems, not after they are fixed.
    await Deno.writeTextFile(
      `${dir}/here/spec.toml`,
      `out_dir = "."\n${job({ name: "a", kind: "run-csv", csv: "report.html" })}${
        job({ name: "b", kind: "run-csv", csv: "nope.csv" })
      }`,
    );
    const both = await runCli(["batch", "--spec", `${dir}/here/spec.toml`], { perms: RUN_PERMS });
    assert.equal(both.code, 2, both.stderr);
    assert.match(
      String(both.envelope?.detail),
      /: 2 problems: job "b": csv "nope\.csv" does not exist .*; job "a" csv and report file name/,
    );
    await Deno.writeTextFile(`${dir}/here/report.html`, "[adaptive]\n");
    await workload(`${dir}/here`, "w.csv", 100);
    await Deno.writeTextFile(
      `${dir}/here/spec.toml`,
      `out_dir = "."\n${job({ name: "a", kind: "run-csv", csv: "w.csv" })}`,
    );
    const config = await runCli([
      "--config",
      `${dir}/here/report.html`,
      "batch",
      "--spec",
      `${dir}/here/spec.toml`,
    ], { perms: RUN_PERMS });
    assert.equal(config.code, 2, config.stderr);
    assert.match(
      String(config.envelope?.detail),
      /^Invalid batch spec ".*": --config and report file name the same file/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/here/report.html`), "[adaptive]\n");
    const missing = await runCli(["batch", "--spec", `${dir}/nope.toml`], { perms: RUN_PERMS });
    assert.equal(missing.code, 5);
    assert.equal(missing.envelope?.detail, `Batch spec not found: "${dir}/nope.toml"`);
    const usage = await runCli(["batch", "--spec", `${dir}/spec.toml`, "--parallel", "0"]);
    assert.equal(usage.code, 2);
  });
});

Deno.test("batch without --allow-run fails with Policy naming the flag and runs nothing", async () => {
  await withTempDir(async (dir) => {
    await workload(dir, "w.csv", 100);
    await Deno.writeTextFile(
      `${dir}/spec.toml`,
      `out_dir = "out"\n${job({ name: "a", kind: "run-csv", csv: "w.csv" })}`,
    );
    const r = await runCli(["batch", "--spec", `${dir}/spec.toml`]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.envelope?.error, "Policy");
    assert.match(String(r.envelope?.detail), /needs --allow-run=deno/);
    assert.match(String(r.envelope?.hint), /--dry-run/);
    assert.ok(!exists(`${dir}/out`));
  });
});

Deno.test("batch --dry-run validates the spec, prints each job's command line and runs nothing", async () => {
  await withTempDir(async (dir) => {
    await workload(dir, "w.csv", 100);
    await Deno.writeTextFile(
      `${dir}/spec.toml`,
      `out_dir = "out"\nparallel = 3\ntimeout_seconds = 90\n` +
        job({ name: "look", kind: "run-csv", csv: "w.csv", mode: "fast-lookup", snapshot: true }) +
        job({ name: "ab", kind: "ab-compare", csv: "w.csv", repeat: 3, timeout_seconds: 5 }),
    );
    const real = Deno.realPathSync(dir);
    // No --allow-run: a dry run spawns nothing.
    const json = await runCli(["batch", "--spec", `${dir}/spec.toml`, "--dry-run", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const plan = successData(json.stdout, "batch");
    assert.equal(plan.dry_run, true);
    assert.equal(plan.out_dir, `${real}/out`);
    assert.equal(plan.parallel, 3);
    assert.deepEqual(plan.jobs, [
      {
        name: "look",
        kind: "run-csv",
        request: { csv: "w.csv", mode: "fast-lookup", snapshot: true, timeout_seconds: 90 },
        timeout_seconds: 90,
        argv: [
          "hashmap-cli",
          "--json",
          "--log-json",
          "--mode",
          "fast-lookup",
          "run-csv",
          "--csv",
          `${real}/w.csv`,
          "--metrics-out-dir",
          `${real}/out/jobs/<id>`,
          "--metrics-max-ticks",
          "50000",
          "--snapshot-out",
          `${real}/out/jobs/<id>/snapshot.bin`,
          "--no-compress",
        ],
      },
      {
        name: "ab",
        kind: "ab-compare",
        request: { csv: "w.csv", repeat: 3, timeout_seconds: 5 },
        timeout_seconds: 5,
        argv: [
          "hashmap-cli",
          "--json",
          "--log-json",
          "ab-compare",
          "--csv",
          `${real}/w.csv`,
          "--out-dir",
          `${real}/out/jobs/<id>`,
          "--repeat",
          "3",
        ],
      },
    ]);
    const text = await runCli(["batch", "--spec", `${dir}/spec.toml`, "--dry-run"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^batch plan \(dry run, nothing started\): 2 jobs from .*spec\.toml, 3 at a time/,
    );
    assert.match(
      text.stdout,
      /\n {2}look {2}run-csv {2}timeout 90 s\n {4}hashmap-cli --json --log-json --mode fast-lookup run-csv --csv /,
    );
    assert.ok(!exists(`${dir}/out`), "a dry run writes nothing");
  });
});

/** The job processes' pids, from the "Started ... (pid N)" lines of their logs. */
function jobPids(jobsDir: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync(jobsDir)) {
    if (!e.isDirectory) continue; // the job root's .lock
    const log = Deno.readTextFileSync(`${jobsDir}/${e.name}/logs.ndjson`);
    for (const m of log.matchAll(/Started [\w-]+ \(pid (\d+)\)/g)) pids.push(Number(m[1]));
  }
  return pids;
}

/** The pids of `pids` still running cli.ts (`ps`: macOS has no /proc, where this always passed). */
async function runningCli(pids: number[]): Promise<number[]> {
  const left: number[] = [];
  for (const pid of pids) {
    const r = await new Deno.Command("ps", {
      args: ["-p", String(pid), "-o", "command="],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (r.code === 0 && new TextDecoder().decode(r.stdout).includes("cli.ts")) left.push(pid);
  }
  return left;
}

Deno.test("SIGTERM during a batch cancels its jobs, leaves no job process and exits 143", async () => {
  await withTempDir(async (dir) => {
    await workload(dir, "big.csv", 2_000_000);
    await Deno.writeTextFile(
      `${dir}/spec.toml`,
      `out_dir = "out"\n` +
        ["one", "two", "three"].map((name) => job({ name, kind: "run-csv", csv: "big.csv" }))
          .join(""),
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...RUN_PERMS, `${ROOT}cli.ts`, "batch", "--spec", `${dir}/spec.toml`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const output = child.output();
    const jobsDir = `${dir}/out/jobs`;
    const deadline = performance.now() + 30_000;
    let running = false;
    while (!running && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      running = exists(jobsDir) && [...Deno.readDirSync(jobsDir)].some((e) => {
        try {
          return JSON.parse(Deno.readTextFileSync(`${jobsDir}/${e.name}/status.json`)).status ===
            "running";
        } catch {
          return false; // being replaced
        }
      });
    }
    assert.ok(running, "a job started");
    await new Promise((resolve) => setTimeout(resolve, 150)); // into its replay, most likely
    child.kill("SIGTERM");
    const out = await output;
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 143, stderr);
    assert.equal(out.signal, "SIGTERM");
    assert.equal(new TextDecoder().decode(out.stdout), "");
    assert.match(stderr, /SIGTERM"? received: cancelling the batch's jobs/);
    assert.match(stderr, /\ninterrupted by SIGTERM\n/);
    const report = readReport(`${dir}/out`);
    assert.equal(report.interrupted, "SIGTERM");
    assert.equal(report.all_completed, false);
    assert.equal(report.jobs.at(-1)!.status, "cancelled", "the last job never ran");
    assert.ok(report.counts.cancelled >= 1);
    const pids = jobPids(jobsDir);
    assert.ok(pids.length >= 1);
    assert.deepEqual(await runningCli(pids), [], "no job process left");
  });
});

Deno.test("batch removes no job directory, its own nor an earlier batch's, however big", async () => {
  // The job service's bound (10 GiB by default) would have removed the oldest finished jobs as
  // the batch's own ended: a sparse 11 GiB file stands in for an earlier batch's output.
  await withTempDir(async (dir) => {
    await workload(dir, "w.csv", 2000);
    const old = `${dir}/out/jobs/20200101T000000Z-0a0b0c`;
    await Deno.mkdir(old, { recursive: true });
    const big = await Deno.open(`${old}/metrics.ndjson`, { write: true, create: true });
    await big.truncate(11 * 1024 ** 3);
    big.close();
    const jobs = [1, 2].map((n) => job({ name: `j${n}`, kind: "run-csv", csv: "w.csv" }));
    await Deno.writeTextFile(`${dir}/spec.toml`, `out_dir = "out"\n${jobs.join("")}`);
    const r = await runCli(["batch", "--spec", `${dir}/spec.toml`, "--json"], { perms: RUN_PERMS });
    assert.equal(r.code, 0, r.stderr);
    const report = BatchReport.parse(successData(r.stdout, "batch"));
    assert.equal(report.all_completed, true);
    assert.ok(exists(`${old}/metrics.ndjson`), "the earlier batch's job was removed");
    for (const j of report.jobs) assert.ok(exists(`${dir}/out/${j.job_dir}/result.json`), j.name);
  });
});
