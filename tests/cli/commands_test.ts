import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ROOT, runCli, runScript, successData, tempDir } from "./_run.ts";
import { linuxTest } from "../_helpers.ts";
import { RunSummary } from "../../src/contracts/run_summary.ts";
import { MetricsTick } from "../../src/contracts/metrics.ts";
import { DEFAULT_POLICY } from "../../src/core/adaptive_map.ts";
import { filePath, shellWord } from "../../src/cli/self_command.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function lastLine(s: string): string {
  return s.trimEnd().split("\n").at(-1) ?? "";
}

async function workload(dir: string, ops: number, extra: string[] = []): Promise<string> {
  const path = `${dir}/w.csv`;
  const r = await runCli(["generate-csv", "--outfile", path, "--ops", String(ops), ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return path;
}

/** The names in `dir`, none when it does not exist (yet). */
function names(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return [];
  }
}

/** Waits (up to 5 s) for a first file in `dir`: a write under way. */
async function firstFile(dir: string): Promise<string> {
  for (let i = 0; i < 1000 && names(dir).length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return names(dir)[0] ?? "";
}

Deno.test("generate-csv writes the same bytes for the same flags, to a file or stdout", async () => {
  const dir = tempDir();
  const flags = ["--ops", "20000", "--key-skew", "1.1", "--adversarial-ratio", "0.05"];
  const a = await runCli(["generate-csv", "--outfile", `${dir}/a.csv`, ...flags]);
  const b = await runCli(["generate-csv", "--outfile", `${dir}/b.csv`, ...flags]);
  const out = await runCli(["generate-csv", "--outfile", "-", ...flags]);
  for (const r of [a, b, out]) assert.equal(r.code, 0, r.stderr);
  const fa = await Deno.readFile(`${dir}/a.csv`);
  assert.equal(sha256(fa), sha256(await Deno.readFile(`${dir}/b.csv`)));
  assert.equal(sha256(fa), sha256(new TextEncoder().encode(out.stdout)));
  assert.match(a.stdout, /Wrote 20000 rows/);
  const seeded = await runCli(["generate-csv", "--outfile", "-", ...flags, "--seed", "1"]);
  assert.notEqual(seeded.stdout, out.stdout);
  // The original's defaults: 100000 ops, header, K-prefixed keys.
  const d = await runCli(["generate-csv", "--outfile", "-"]);
  const rows = d.stdout.trimEnd().split("\n");
  assert.equal(rows[0], "op,key,value");
  assert.equal(rows.length, 100_001);
});

Deno.test("generate-csv creates a missing output directory", async () => {
  const dir = tempDir();
  const ok = await runCli(["generate-csv", "--outfile", `${dir}/new/dir/x.csv`, "--ops", "10"]);
  assert.equal(ok.code, 0);
  assert.equal(Deno.readTextFileSync(`${dir}/new/dir/x.csv`).split("\n")[0], "op,key,value");
});

Deno.test("an output under a link to a directory not there yet is IO (5), and the link stays", async () => {
  // Say the link leads to an unmounted volume: the failed write deleted the link.
  const dir = tempDir();
  Deno.symlinkSync(`${dir}/not-yet`, `${dir}/latest`);
  for (
    const args of [
      ["generate-csv", "--outfile", `${dir}/latest/g.csv`, "--ops", "10"],
      ["generate-csv", "--outfile", `${dir}/latest/deeper/g.csv`, "--ops", "10"],
      ["put", "K", "v", "--snapshot", `${dir}/latest/kv.snap`],
    ]
  ) {
    const r = await runCli(args);
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.envelope?.error, "IO");
    assert.equal(
      r.envelope?.detail,
      `${JSON.stringify(`${dir}/latest`)} is a symbolic link to ${
        JSON.stringify(`${dir}/not-yet`)
      }, which does not exist`,
    );
    assert.equal(Deno.readLinkSync(`${dir}/latest`), `${dir}/not-yet`);
  }
});

linuxTest("an argument whose bytes are not UTF-8 is BadInput, not another text", async (dir) => {
  // Deno reads arguments as UTF-8 and puts U+FFFD for bad bytes: `out\xfe.csv` was written as
  // `out\uFFFD.csv`, an input that exists was "not found", and the keys `a\xff` and `a\xfe`
  // were one key.
  const cli = filePath(new URL("../../cli.ts", import.meta.url));
  const run = async (args: string) => {
    const r = await new Deno.Command("sh", {
      args: [
        "-c",
        `exec "$0" run --allow-read --allow-write --allow-env "$1" ${args}`,
        Deno.execPath(),
        cli,
      ],
      env: { LANG: "C", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
  };
  for (
    const args of [
      `generate-csv --outfile "$(printf '%s/out\\376.csv' ${shellWord(dir)})" --ops 3`,
      `validate-metrics "$(printf '%s/\\377.ndjson' ${shellWord(dir)})"`,
      `put "$(printf 'a\\377')" v --snapshot ${shellWord(`${dir}/s.adhsnap`)}`,
      `put k "$(printf 'v\\376')" --snapshot ${shellWord(`${dir}/s.adhsnap`)}`,
    ]
  ) {
    const r = await run(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /holds U\+FFFD, which Deno puts for bytes that are not UTF-8/);
  }
  assert.deepEqual([...Deno.readDirSync(dir)], []);
});

Deno.test("outputs written over existing files keep their mode, owner and group", async () => {
  // Written whole and renamed into place, they came out 0644 and the caller's: a snapshot made
  // private became world-readable after one put.
  const dir = tempDir();
  const root = Deno.uid() === 0; // only root may hand a file to another group of its choice
  const outputs: Array<[string, string[]]> = [
    [`${dir}/kv.snap`, ["put", "K", "v", "--snapshot", `${dir}/kv.snap`]],
    [`${dir}/w.csv`, ["generate-csv", "--outfile", `${dir}/w.csv`, "--ops", "10"]],
    [`${dir}/m/metrics.ndjson`, [
      "run-csv",
      "--csv",
      `${dir}/w.csv`,
      "--metrics-out-dir",
      `${dir}/m`,
    ]],
  ];
  for (
    const [mode, [path, args]] of [0o600, 0o640, 0o444].map((m, i) => [m, outputs[i]!] as const)
  ) {
    assert.equal((await runCli(args)).code, 0);
    Deno.chmodSync(path, mode);
    if (root) Deno.chownSync(path, 0, 1);
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    const info = Deno.statSync(path);
    assert.equal((info.mode! & 0o777).toString(8), mode.toString(8), path);
    if (root) assert.deepEqual([info.uid, info.gid], [0, 1], path);
  }
  // A new file is made as the umask says.
  const fresh = await runCli(["generate-csv", "--outfile", `${dir}/new.csv`, "--ops", "10"]);
  assert.equal(fresh.code, 0);
  const umask = Deno.umask();
  assert.equal(Deno.statSync(`${dir}/new.csv`).mode! & 0o777, 0o644 & ~umask);
});

Deno.test("generate-csv failures: unwritable path is IO (5), bad values BadInput (2)", async () => {
  const dir = tempDir();
  // A name of 240 bytes is valid (its temporary file's name is shortened); one of 300 is not,
  // even for root.
  const ok = await runCli([
    "generate-csv",
    "--ops",
    "5",
    "--outfile",
    `${dir}/${"y".repeat(236)}.csv`,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  Deno.removeSync(`${dir}/${"y".repeat(236)}.csv`);
  const wide = `${dir}/${"漢".repeat(80)}.csv`; // 244 bytes in UTF-8
  const okWide = await runCli(["generate-csv", "--ops", "5", "--outfile", wide]);
  assert.equal(okWide.code, 0, okWide.stderr);
  Deno.removeSync(wide);
  const long = `${dir}/${"x".repeat(300)}.csv`;
  const io = await runCli(["generate-csv", "--outfile", long]);
  assert.equal(io.code, 5, io.stderr);
  assert.equal(io.envelope?.error, "IO");
  assert.equal(io.envelope?.detail, `Cannot write '${long}': File name too long (os error 36)`);
  assert.deepEqual(names(dir), []);
  const zipf = await runCli([
    "generate-csv",
    "--outfile",
    `${dir}/x.csv`,
    "--key-skew",
    "1",
    "--key-space",
    "20000000",
  ]);
  assert.equal(zipf.code, 2);
  assert.match(String(zipf.envelope?.detail), /--key-space 20000000/);
  assert.deepEqual([...Deno.readDirSync(dir)], [], "no partial output");
});

Deno.test("run-csv replays, prints a summary and writes metrics and summary files", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 5000);
  const r = await runCli([
    "run-csv",
    "--csv",
    csv,
    "--metrics-out-dir",
    `${dir}/m`,
    "--json-summary-out",
    `${dir}/summary.json`,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 1);
  const env = JSON.parse(lines[0]!);
  assert.equal(env.ok, true);
  assert.equal(env.command, "run-csv");
  const { ok: _ok, command: _c, ...summary } = env;
  RunSummary.parse(summary);
  assert.equal(summary.total_ops, 5000);
  assert.equal(summary.mode, "adaptive");
  assert.equal(summary.latency_sample.every_n_ops, 128);
  assert.equal(summary.latency_sample.reservoir_k_overall, 1000);
  assert.equal(summary.latency_histogram_preset, "default");
  assert.equal(summary.metrics_file, `${dir}/m/metrics.ndjson`);
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)), summary);
  const ticks = (await Deno.readTextFile(`${dir}/m/metrics.ndjson`)).trimEnd().split("\n").map((
    l,
  ) => MetricsTick.parse(JSON.parse(l)));
  assert.deepEqual(ticks.map((t) => t.ops), [0, 1024, 2048, 3072, 4096, 5000]);
  assert.equal(ticks.at(-1)!.latency_hist_ms.overall!.length, 9, "default preset");
  assert.equal(summary.ticks, 6);
});

Deno.test("run-csv text summary, --tick-every, --metrics-max-ticks and micro buckets", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 3000);
  const r = await runCli([
    "run-csv",
    "--csv",
    csv,
    "--metrics-out-dir",
    dir,
    "--tick-every",
    "500",
    "--metrics-max-ticks",
    "3",
    "--latency-buckets",
    "micro",
    "--mode",
    "fast-insert",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^run-csv: 3000 ops in /);
  assert.match(r.stdout, /final backend chaining/);
  // 7 ticks made, of which the file keeps the last 3 (it said "(7 ticks)" of a 3-line file).
  assert.match(
    r.stdout,
    new RegExp(`metrics: ${dir}/metrics.ndjson \\(7 ticks, the last 3 kept\\)`),
  );
  const ticks = (await Deno.readTextFile(`${dir}/metrics.ndjson`)).trimEnd().split("\n").map((
    l,
  ) => JSON.parse(l));
  assert.deepEqual(ticks.map((t) => t.ops), [2000, 2500, 3000]);
  assert.equal(ticks[0].latency_hist_ms.overall.length, 14, "micro preset");
  const env = await runCli(["run-csv", "--csv", csv, "--json"], {
    env: { ADHASH_LATENCY_BUCKETS: "micro" },
  });
  assert.equal(JSON.parse(env.stdout).latency_histogram_preset, "micro");
  const bad = await runCli(["run-csv", "--csv", csv], { env: { ADHASH_LATENCY_BUCKETS: "nano" } });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /value 'nano' from env 'ADHASH_LATENCY_BUCKETS' is invalid/);
});

Deno.test("run-csv --csv - reads stdin", async () => {
  const r = await runCli(["run-csv", "--csv", "-", "--json"], {
    stdin: "op,key,value\nput,a,1\nget,a,\ndel,a,\n",
  });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.ops_by_type, { put: 1, get: 1, del: 1 });
  assert.equal(s.final_stats.size, 0);
});

Deno.test("run-csv --dry-run validates without replaying", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 1234);
  const r = await runCli(["run-csv", "--csv", csv, "--dry-run", "--metrics-out-dir", `${dir}/m`]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const size = (await Deno.stat(csv)).size;
  assert.deepEqual(report, {
    status: "validated",
    csv,
    mode: "adaptive",
    rows: 1234,
    size_bytes: size,
    size_mib: Math.round((size / (1 << 20)) * 1000) / 1000,
  });
  assert.throws(() => Deno.statSync(`${dir}/m`), Deno.errors.NotFound, "nothing written");
  const bad = await runCli(["run-csv", "--csv", "-", "--dry-run"], {
    stdin: "op,key,value\nput,a,1\nfly,b,\n",
  });
  assert.equal(bad.code, 2);
  assert.equal(bad.envelope?.detail, "Unknown op 'fly' at line 3");
});

Deno.test("run-csv --dry-run reads a row of exactly 1 MiB and refuses invalid UTF-8 in a get's value", async () => {
  const dir = tempDir();
  const row = `put,k,${"v".repeat((1 << 20) - 6)}`;
  await Deno.writeTextFile(`${dir}/long.csv`, `op,key,value\n${row}\r\n`);
  const long = await runCli(["--json", "run-csv", "--csv", `${dir}/long.csv`, "--dry-run"]);
  assert.equal(long.code, 0, long.stderr);
  assert.equal(JSON.parse(long.stdout).rows, 1);
  const bytes = new TextEncoder().encode("op,key,value\nget,k,x\n");
  bytes[bytes.length - 2] = 0xff;
  await Deno.writeFile(`${dir}/bad.csv`, bytes);
  const bad = await runCli(["run-csv", "--csv", `${dir}/bad.csv`, "--dry-run"]);
  assert.equal(bad.code, 2);
  assert.equal(bad.envelope?.detail, "Invalid UTF-8 at line 2");
});

Deno.test("run-csv --dry-run reads --snapshot-in as the run would, and reports its mode", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 300);
  const snap = `${dir}/s.bin`;
  const made = await runCli([
    "--mode",
    "fast-lookup",
    "run-csv",
    "--csv",
    csv,
    "--snapshot-out",
    snap,
  ]);
  assert.equal(made.code, 0, made.stderr);
  const ok = await runCli(["run-csv", "--csv", csv, "--dry-run", "--snapshot-in", snap]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).mode, "snapshot:robinhood");
  await Deno.writeFile(`${dir}/junk.bin`, new TextEncoder().encode("not a snapshot at all"));
  for (const input of [`${dir}/missing.bin`, `${dir}/junk.bin`]) {
    const dry = await runCli(["run-csv", "--csv", csv, "--dry-run", "--snapshot-in", input]);
    const run = await runCli(["run-csv", "--csv", csv, "--snapshot-in", input]);
    assert.equal(dry.code, 5, dry.stderr);
    assert.equal(dry.code, run.code);
    assert.deepEqual(dry.envelope, run.envelope);
  }
});

Deno.test("run-csv failing part-way leaves no metrics or summary that look complete", async () => {
  const dir = tempDir();
  const lines = ["op,key,value"];
  for (let i = 0; i < 5000; i++) lines.push(`put,k${i},${i}`);
  lines.push("put,broken,");
  await Deno.writeTextFile(`${dir}/bad.csv`, lines.join("\n") + "\n");
  // An earlier good run's outputs must survive the failed run untouched.
  await Deno.writeTextFile(`${dir}/good.csv`, "op,key,value\nput,a,1\n");
  const good = await runCli([
    "run-csv",
    "--csv",
    `${dir}/good.csv`,
    "--metrics-out-dir",
    `${dir}/m`,
    "--json-summary-out",
    `${dir}/m/summary.json`,
  ]);
  assert.equal(good.code, 0, good.stderr);
  const before = await Deno.readTextFile(`${dir}/m/metrics.ndjson`);
  const summaryBefore = await Deno.readTextFile(`${dir}/m/summary.json`);
  const r = await runCli([
    "run-csv",
    "--csv",
    `${dir}/bad.csv`,
    "--metrics-out-dir",
    `${dir}/m`,
    "--json-summary-out",
    `${dir}/m/summary.json`,
  ]);
  assert.equal(r.code, 2);
  assert.equal(r.envelope?.error, "BadInput");
  assert.equal(r.envelope?.detail, "PUT missing value at line 5002");
  assert.equal(r.envelope?.hint, "See docs/workload_schema.md");
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /Run failed; no metrics, summary or snapshot written\n/);
  assert.equal(await Deno.readTextFile(`${dir}/m/metrics.ndjson`), before);
  assert.equal(await Deno.readTextFile(`${dir}/m/summary.json`), summaryBefore);
  assert.deepEqual(
    [...Deno.readDirSync(`${dir}/m`)].map((e) => e.name).sort(),
    ["metrics.ndjson", "summary.json"],
    "no temporary files left",
  );
});

Deno.test("run-csv that cannot write one output commits none of them", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, "op,key,value\nput,a,1\nput,b,2\n");
  Deno.mkdirSync(`${dir}/out`);
  Deno.mkdirSync(`${dir}/locked`);
  // Writes are allowed under out/ only: the summary, staged after the snapshot, is refused.
  const r = await runCli([
    "run-csv",
    "--csv",
    `${dir}/w.csv`,
    "--metrics-out-dir",
    `${dir}/out/m`,
    "--snapshot-out",
    `${dir}/out/s.snap`,
    "--json-summary-out",
    `${dir}/locked/summary.json`,
  ], {
    perms: ["--allow-read", `--allow-write=${dir}/out`, "--allow-env", "--allow-sys"],
  });
  assert.equal(r.code, 4, r.stderr);
  assert.equal(r.envelope?.error, "Policy");
  assert.match(r.stderr, /Run could not write its outputs; 0 of them written/);
  // No temporary files, and not the metrics directory the run created either.
  assert.deepEqual([...Deno.readDirSync(`${dir}/out`)], []);
  assert.deepEqual([...Deno.readDirSync(`${dir}/locked`)], []);
});

Deno.test("run-csv refuses outputs that would overwrite its input, each other or a directory", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 100);
  const original = await Deno.readFile(csv);
  Deno.mkdirSync(`${dir}/adir`);
  const cases: Array<[string[], RegExp]> = [
    [["--json-summary-out", `${dir}/./w.csv`], /--csv and --json-summary-out name the same file/],
    [["--snapshot-out", csv], /--csv and --snapshot-out name the same file/],
    [
      ["--snapshot-out", `${dir}/o`, "--json-summary-out", `${dir}/o`],
      /--json-summary-out and --snapshot-out name the same file/,
    ],
    [
      ["--metrics-out-dir", dir, "--json-summary-out", `${dir}/metrics.ndjson`],
      /--metrics-out-dir and --json-summary-out name the same file/,
    ],
    [["--json-summary-out", `${dir}/adir`], /--json-summary-out ".*adir" is a directory/],
    [["--json-summary-out", ""], /A path cannot be empty/],
  ];
  for (const [flags, message] of cases) {
    const r = await runCli(["run-csv", "--csv", csv, ...flags]);
    assert.equal(r.code, 2, `${flags.join(" ")}: ${r.stderr}`);
    assert.equal(r.envelope?.error, "BadInput");
    assert.match(String(r.envelope?.detail), message);
  }
  assert.deepEqual(await Deno.readFile(csv), original);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["adir", "w.csv"]);
  // Saving the continued map back over its own snapshot is allowed.
  const first = await runCli(["run-csv", "--csv", csv, "--snapshot-out", `${dir}/s.snap`]);
  assert.equal(first.code, 0, first.stderr);
  const again = await runCli(
    ["run-csv", "--csv", csv, "--snapshot-in", `${dir}/s.snap`, "--snapshot-out", `${dir}/s.snap`],
  );
  assert.equal(again.code, 0, again.stderr);
});

Deno.test("every writer refuses a directory for a file and a file for a directory, before any work", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 100);
  Deno.mkdirSync(`${dir}/adir`);
  const file = `${dir}/afile`;
  Deno.writeTextFileSync(file, "not a directory");
  const snap = `${dir}/s.snap`;
  assert.equal((await runCli(["put", "a", "1", "--snapshot", snap])).code, 0);
  Deno.mkdirSync(`${dir}/demo`);
  Deno.writeTextFileSync(`${dir}/demo/fast-lookup`, "in the way");
  const spec = `${dir}/spec.toml`;
  Deno.writeTextFileSync(spec, '[[jobs]]\nname = "a"\nkind = "run-csv"\ncsv = "w.csv"\n');
  const before = names(dir).sort();
  const adir = `${dir}/adir`;
  const cases: Array<[string[], RegExp]> = [
    [["generate-csv", "--ops", "10", "--outfile", adir], /^--outfile ".*adir" is a directory$/],
    [
      ["generate-csv", "--ops", "10", "--outfile", `${file}/w.csv`],
      /^--outfile ".*afile\/w\.csv": ".*afile" is not a directory$/,
    ],
    [
      ["probe-visualize", "--operation", "get", "--key", "a", "--export-json", adir],
      /^--export-json ".*adir" is a directory$/,
    ],
    [["compact-snapshot", "--in", snap, "--out", adir], /^--out ".*adir" is a directory$/],
    [
      ["verify-snapshot", "--in", snap, "--repair", "--out", `${file}/x/r.snap`],
      /^--out ".*r\.snap": ".*afile" is not a directory$/,
    ],
    [["run-csv", "--csv", csv, "--metrics-out-dir", file], /^--metrics-out-dir ".*afile" is not/],
    [
      ["run-csv", "--csv", csv, "--json-summary-out", `${file}/s.json`],
      /^--json-summary-out ".*s\.json": ".*afile" is not a directory$/,
    ],
    [["--log-file", `${file}/x.log`, "run-csv", "--csv", csv], /^--log-file ".*x\.log": /],
    [["demo", "--ops", "10", "--out-dir", file], /^--out-dir ".*afile" is not a directory$/],
    // A trailing slash names a directory even before it exists.
    [
      ["generate-csv", "--ops", "10", "--outfile", `${dir}/new/`],
      /^--outfile ".*new\/" is a directory$/,
    ],
    [
      ["run-csv", "--csv", csv, "--json-summary-out", `${dir}/sums/.`],
      /^--json-summary-out ".*sums\/\." is a directory$/,
    ],
    [
      ["batch", "--spec", spec, "--out-dir", `${file}/x`, "--dry-run"],
      /^Invalid batch spec ".*spec\.toml": --out-dir ".*afile\/x": ".*afile" is not a directory$/,
    ],
    [
      ["batch", "--spec", spec, "--out-dir", file],
      /^Invalid batch spec ".*": --out-dir ".*afile" is not a directory$/,
    ],
    // One output where another would need a directory: the second write failed after the work.
    [
      ["run-csv", "--csv", csv, "--json-summary-out", `${dir}/m`, "--metrics-out-dir", `${dir}/m`],
      /^--metrics-out-dir ".*m\/metrics\.ndjson" lies under --json-summary-out ".*m", which is a file$/,
    ],
    [
      ["run-csv", "--csv", csv, "--json-summary-out", `${dir}/s`, "--snapshot-out", `${dir}/s/x`],
      /^--snapshot-out ".*s\/x" lies under --json-summary-out ".*s", which is a file$/,
    ],
    [
      ["ab-compare", "--csv", csv, "--out-dir", `${dir}/ab`, "--json-out", `${dir}/ab`],
      /^--markdown-out ".*ab\/ab\.md" lies under --json-out ".*ab", which is a file$/,
    ],
    [
      [
        "profile",
        "--csv",
        csv,
        "--json-out",
        `${dir}/p`,
        "--then",
        "run-csv",
        "--csv",
        csv,
        "--metrics-out-dir",
        `${dir}/p/sub`,
      ],
      /^--metrics-out-dir ".*p\/sub\/metrics\.ndjson" lies under --json-out ".*p", which/,
    ],
    // demo checks the directories it writes under --out-dir too.
    [
      ["demo", "--ops", "10", "--out-dir", `${dir}/demo`],
      /^--out-dir \(fast-lookup\) ".*demo\/fast-lookup" is not a directory$/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.envelope?.error, "BadInput");
    assert.match(String(r.envelope?.detail), message);
    assert.equal(r.stdout, "");
  }
  assert.deepEqual(names(dir).sort(), before, "nothing written");
  assert.deepEqual(names(adir), []);
  assert.deepEqual(names(`${dir}/demo`), ["fast-lookup"], "demo wrote no workload");
  assert.equal(Deno.readTextFileSync(file), "not a directory");
});

Deno.test("run-csv input failures map to the documented exit codes", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, "op,key,value\nput,a,1\nput,b,2\n");
  const missing = await runCli(["run-csv", "--csv", `${dir}/nope.csv`]);
  assert.equal(missing.code, 5);
  assert.equal(missing.envelope?.error, "IO");
  assert.equal(missing.envelope?.detail, `CSV file not found: '${dir}/nope.csv'`);
  const rows = await runCli(["run-csv", "--csv", `${dir}/w.csv`, "--csv-max-rows", "1"]);
  assert.equal(rows.code, 2);
  assert.equal(rows.envelope?.detail, "CSV row limit exceeded (2 > 1)");
  const bytes = await runCli(["run-csv", "--csv", `${dir}/w.csv`, "--csv-max-bytes", "10"]);
  assert.equal(bytes.code, 2);
  assert.equal(bytes.envelope?.detail, "CSV file is 29 bytes which exceeds limit 10");
  const header = await runCli(["run-csv", "--csv", "-"], { stdin: "op,key\nput,a\n" });
  assert.equal(header.code, 2);
  assert.equal(header.envelope?.detail, "Missing header columns: value");
  const dirAsCsv = await runCli(["run-csv", "--csv", dir]);
  assert.equal(dirAsCsv.code, 2);
  assert.match(String(dirAsCsv.envelope?.detail), /is a directory/);
  const compress = await runCli(["run-csv", "--csv", `${dir}/w.csv`, "--compress"]);
  assert.equal(compress.code, 2);
  assert.equal(compress.envelope?.detail, "--compress gzips --snapshot-out, which is not given");
  const plain = await runCli(["run-csv", "--csv", `${dir}/w.csv`, "--no-compress"]);
  assert.equal(plain.code, 2);
  assert.equal(plain.envelope?.detail, "--no-compress concerns --snapshot-out, which is not given");
  const both = await runCli([
    ...["run-csv", "--csv", `${dir}/w.csv`, "--snapshot-out", `${dir}/s`],
    ...["--compress", "--no-compress"],
  ]);
  assert.equal(both.code, 2);
  assert.equal(both.envelope?.detail, "--compress and --no-compress contradict each other");
});

Deno.test("run-csv --snapshot-out then --snapshot-in continues from the saved map", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/a.csv`, "op,key,value\nput,a,1\nput,b,2\n");
  await Deno.writeTextFile(`${dir}/b.csv`, "op,key,value\nput,c,3\ndel,a,\n");
  const first = await runCli([
    "--json",
    "run-csv",
    "--csv",
    `${dir}/a.csv`,
    "--snapshot-out",
    `${dir}/s.adhsnap.gz`,
    "--compress",
  ]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).snapshot_out, `${dir}/s.adhsnap.gz`);
  const second = await runCli([
    "--json",
    "run-csv",
    "--csv",
    `${dir}/b.csv`,
    "--snapshot-in",
    `${dir}/s.adhsnap.gz`,
  ]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout).final_stats.size, 2, "a, b + c - a");
  // Continued into a file whose name does not say gzip, it stays gzipped as its input was.
  const third = await runCli([
    "run-csv",
    "--csv",
    `${dir}/b.csv`,
    "--snapshot-in",
    `${dir}/s.adhsnap.gz`,
    "--snapshot-out",
    `${dir}/next.snap`,
  ]);
  assert.equal(third.code, 0, third.stderr);
  assert.equal(Deno.readFileSync(`${dir}/next.snap`)[10]! & 1, 1);
  // Unless told not to.
  const from = ["run-csv", "--csv", `${dir}/b.csv`, "--snapshot-in", `${dir}/s.adhsnap.gz`];
  const fourth = await runCli([...from, "--snapshot-out", `${dir}/plain.snap`, "--no-compress"]);
  assert.equal(fourth.code, 0, fourth.stderr);
  assert.equal(Deno.readFileSync(`${dir}/plain.snap`)[10]! & 1, 0);
  const gzName = await runCli([...from, "--snapshot-out", `${dir}/p.gz`, "--no-compress"]);
  assert.equal(gzName.code, 2);
  assert.match(String(gzName.envelope?.detail), /ends in \.gz but compression is off/);
  // Before the replay: a workload that would fail part-way is not read.
  await Deno.writeTextFile(`${dir}/bad.csv`, "op,key,value\nput,a,1\nbad,b,\n");
  const early = await runCli([
    ...from.slice(0, 2),
    `${dir}/bad.csv`,
    "--snapshot-out",
    `${dir}/q.gz`,
    "--no-compress",
  ]);
  assert.match(String(early.envelope?.detail), /ends in \.gz but compression is off/);
  const missing = await runCli(["run-csv", "--csv", `${dir}/b.csv`, "--snapshot-in", `${dir}/x`]);
  assert.equal(missing.code, 5);
});

Deno.test("run-csv --snapshot-in and put --snapshot give a saved adaptive map the configuration's policy fields", async () => {
  const dir = tempDir();
  const csv = `${dir}/w.csv`;
  const snap = `${dir}/s.snap`;
  await Deno.writeTextFile(csv, "op,key,value\nput,a,1\n");
  const policy = async (): Promise<Record<string, unknown>> => {
    const r = await runCli(["--json", "inspect-snapshot", "--in", snap]);
    const data = successData(r.stdout, "inspect-snapshot");
    return (data.configuration as { policy: Record<string, unknown> }).policy;
  };
  const saved = await runCli(["run-csv", "--csv", csv, "--snapshot-out", snap]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.equal((await policy()).incrementalBatch, DEFAULT_POLICY.incrementalBatch);
  const batch = { ADAPTIVE_INCREMENTAL_BATCH: "77" };
  const run = await runCli(
    ["run-csv", "--csv", csv, "--snapshot-in", snap, "--snapshot-out", snap],
    { env: batch },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stderr,
    /incremental_batch from the configuration overrides the policy saved in/,
  );
  assert.doesNotMatch(run.stderr, /--mode/); // not given, so nothing replaced it
  assert.equal((await policy()).incrementalBatch, 77);
  // A dry run reports the run's mode, and reads the snapshot as it would.
  const dry = await runCli(["run-csv", "--csv", csv, "--snapshot-in", snap, "--dry-run"], {
    env: batch,
  });
  assert.match(dry.stderr, /incremental_batch from the configuration overrides/);
  const put = await runCli(["put", "k", "v", "--snapshot", snap], {
    env: { ADAPTIVE_MAX_GROUP_LEN: "5" },
  });
  assert.equal(put.code, 0, put.stderr);
  assert.deepEqual(
    [(await policy()).incrementalBatch, (await policy()).maxGroupLen],
    [77, 5],
    "the fields not set keep the saved values",
  );
  const mode = await runCli([
    "--mode",
    "fast-lookup",
    "run-csv",
    "--csv",
    csv,
    "--snapshot-in",
    snap,
  ]);
  assert.equal(mode.code, 0, mode.stderr);
  assert.match(
    mode.stderr,
    /Loaded 2 entries \("chaining"\) from ".*"; its map replaces --mode "fast-lookup"/,
  );
});

Deno.test("run-csv --compact-interval compacts during the replay and counts it", async () => {
  const dir = tempDir();
  // A table left mostly empty (fast-lookup), and one whose deletions leave tombstones.
  const rows = ["op,key,value"];
  for (let i = 0; i < 20_000; i++) rows.push(`put,k${i},${i}`);
  for (let i = 0; i < 19_500; i++) rows.push(`del,k${i},`);
  const csv = `${dir}/drain.csv`;
  await Deno.writeTextFile(csv, rows.join("\n") + "\n");
  await Deno.writeTextFile(
    `${dir}/t.toml`,
    '[adaptive]\nrh_deletion = "tombstone"\nmax_tombstone_ratio = 1.0\n',
  );
  await checkCompactions(dir, csv, "fast-lookup");
  await checkCompactions(dir, csv, "adaptive", ["--config", `${dir}/t.toml`]);
  // A full table without tombstones has nothing to give back: it is not rebuilt at every
  // interval (a 3M-entry replay with 0.05 s took 254 s against 2.7 s).
  const dense = await workload(dir, 20_000, ["--read-ratio", "0", "--del-ratio", "0"]);
  const r = await runCli([
    "--json",
    "--mode",
    "fast-lookup",
    "run-csv",
    "--csv",
    dense,
    "--compact-interval",
    "0.001",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).compactions_triggered, 0);
});

async function checkCompactions(
  dir: string,
  csv: string,
  mode: string,
  extra: string[] = [],
): Promise<void> {
  const r = await runCli([
    ...extra,
    "--json",
    "--mode",
    mode,
    "run-csv",
    "--csv",
    csv,
    "--compact-interval",
    "0.001",
    "--metrics-out-dir",
    dir,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const ticks = (await Deno.readTextFile(`${dir}/metrics.ndjson`)).trimEnd().split("\n").map((
    l,
  ) => JSON.parse(l));
  const events = ticks.flatMap((t) => t.events).filter((e) => e.type === "compaction").length;
  assert.ok(events > 0, mode);
  // The counters agree with the events: a plain table's compactions count too.
  assert.equal(ticks.at(-1).compactions, events, mode);
  assert.equal(JSON.parse(r.stdout).compactions_triggered, events, mode);
}

Deno.test("validate-metrics accepts run-csv output and reports invalid lines", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 3000);
  assert.equal((await runCli(["run-csv", "--csv", csv, "--metrics-out-dir", dir])).code, 0);
  const ok = await runCli(["validate-metrics", `${dir}/metrics.ndjson`]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /OK: 4 metrics.v1 ticks valid/);
  const okJson = await runCli(["validate-metrics-ndjson", `${dir}/metrics.ndjson`, "--json"]);
  assert.deepEqual(JSON.parse(okJson.stdout), {
    ok: true,
    command: "validate-metrics",
    file: `${dir}/metrics.ndjson`,
    ticks: 4,
    valid: true,
  });

  const good = (await Deno.readTextFile(`${dir}/metrics.ndjson`)).trimEnd().split("\n");
  const disordered = JSON.parse(good[1]!);
  disordered.latency_ms.get = { p50: 3, p90: 2, p99: 1 };
  const missing = JSON.parse(good[2]!);
  delete missing.backend;
  missing.ops_by_type.put = "many";
  await Deno.writeTextFile(
    `${dir}/bad.ndjson`,
    [good[0], JSON.stringify(disordered), JSON.stringify(missing), "not json", good[3]].join(
      "\n",
    ) + "\n",
  );
  const bad = await runCli(["validate-metrics", `${dir}/bad.ndjson`]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, "");
  assert.equal(bad.envelope?.error, "BadInput");
  assert.match(String(bad.envelope?.detail), /3 of 5 lines/);
  assert.match(bad.stderr, /\[invalid line 2\] latency_ms\.get: percentiles out of order/);
  assert.match(bad.stderr, /\[invalid line 3\] backend: /);
  assert.match(bad.stderr, /\[invalid line 3\] ops_by_type\.put: /);
  assert.match(bad.stderr, /\[invalid line 4\] not JSON/);
  assert.doesNotMatch(bad.stderr, /\[invalid line (1|5)\]/);
  assert.equal(JSON.parse(lastLine(bad.stderr)).error, "BadInput");

  // Any text can be a key of latency_hist_ms: it is quoted, and cannot act on the terminal.
  const crafted = JSON.parse(good[0]!);
  crafted.latency_hist_ms["\x1b]0;PWNED\x07\x1b[8m\n[invalid line 9] forged"] = [{ le: "x" }];
  await Deno.writeTextFile(
    `${dir}/crafted.ndjson`,
    `${JSON.stringify(crafted)}\n\x1b[2Jnot json\n`,
  );
  const shown = await runCli(["validate-metrics", `${dir}/crafted.ndjson`]);
  assert.equal(shown.code, 2);
  assert.ok(
    !shown.stderr.includes("\x1b") && !shown.stderr.includes("\x07"),
    JSON.stringify(shown.stderr),
  );
  assert.match(
    shown.stderr,
    /^\[invalid line 1\] latency_hist_ms\["\\u001b\]0;PWNED\\u0007\\u001b\[8m\\n\[invalid line 9\] forged"\]\[0\]/m,
  );
  assert.match(shown.stderr, /^\[invalid line 2\] not JSON: .*\\u001b\[2J/m);
  assert.doesNotMatch(shown.stderr, /^\[invalid line 9\]/m);

  await Deno.writeTextFile(`${dir}/empty.ndjson`, "");
  const empty = await runCli(["validate-metrics", `${dir}/empty.ndjson`]);
  assert.equal(empty.code, 2);
  const none = await runCli(["validate-metrics", `${dir}/none.ndjson`]);
  assert.equal(none.code, 5);
  assert.equal(none.envelope?.detail, `Metrics file not found: '${dir}/none.ndjson'`);
  // A directory is the wrong argument, as for run-csv --csv (not an unreadable file).
  const folder = await runCli(["validate-metrics", dir]);
  assert.equal(folder.code, 2, folder.stderr);
  assert.equal(folder.envelope?.detail, `Metrics path '${dir}' is a directory`);

  // A 100 MB line is reported without being read whole (it took 52 s), and of 300
  // problems the first 100 are printed and the rest counted.
  const long = await Deno.open(`${dir}/long.ndjson`, { write: true, create: true });
  await long.write(new TextEncoder().encode(`${good[0]}\n`));
  const block = new TextEncoder().encode("x".repeat(1 << 20));
  for (let i = 0; i < 100; i++) await long.write(block);
  await long.write(new TextEncoder().encode(`\n${"not json\n".repeat(300)}${good[1]}\n`));
  long.close();
  const started = performance.now();
  const tooLong = await runCli(["validate-metrics", `${dir}/long.ndjson`]);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(tooLong.code, 2, tooLong.stderr);
  assert.match(tooLong.stderr, /^\[invalid line 2\] longer than 4194304 bytes$/m);
  assert.match(tooLong.stderr, /^\[invalid line 101\] not JSON: /m);
  assert.doesNotMatch(tooLong.stderr, /\[invalid line 102\]/);
  assert.match(tooLong.stderr, /^\.\.\. 201 more problems$/m);
  assert.match(String(tooLong.envelope?.detail), /301 of 303 lines/);
  assert.ok(seconds < 20, `${seconds.toFixed(1)} s`);
  // Bytes, as `serve --source` counts: 2.2M two-byte characters are over the limit.
  await Deno.writeTextFile(`${dir}/wide.ndjson`, `${"é".repeat(2_200_000)}\n`);
  const wide = await runCli(["validate-metrics", `${dir}/wide.ndjson`]);
  assert.equal(wide.code, 2, wide.stderr);
  assert.match(wide.stderr, /^\[invalid line 1\] longer than 4194304 bytes$/m);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("demo run outside the source tree's directory suggests commands that work there", async () => {
  const dir = tempDir();
  const r = await runScript(`${ROOT}cli.ts`, ["demo", "--out-dir", "rel", "--ops", "2000"], {
    cwd: dir,
  });
  assert.equal(r.code, 0, r.stderr);
  // `deno task` would run in the tree's directory, where `rel/` is not.
  const cli = RegExp.escape(shellWord(`${ROOT}cli.ts`));
  const line = new RegExp(`^validate: +(deno run --allow-read ${cli} validate-metrics \\S+)$`, "m")
    .exec(r.stdout)?.[1];
  assert.ok(line, r.stdout);
  const run = await new Deno.Command("sh", { args: ["-c", line], cwd: dir, stdout: "piped" })
    .output();
  assert.equal(run.code, 0, line);
  assert.match(
    new TextDecoder().decode(run.stdout),
    /^OK: \d+ metrics\.v1 ticks valid in rel\/adaptive\/metrics\.ndjson$/m,
  );
});

Deno.test("demo generates a workload and compares the three backends", async () => {
  const dir = tempDir();
  const r = await runCli(["demo", "--out-dir", dir, "--ops", "20000"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /demo: warming up: 20000 rows on each mode, not measured/);
  for (const label of ["adaptive", "chaining (fast-insert)", "robin hood (fast-lookup)"]) {
    assert.match(r.stdout, new RegExp(label.replace(/[()]/g, "\\$&")));
  }
  assert.match(r.stdout, /ops\/s +p50 µs +p99 µs +final backend +migrations +bytes\/entry/);
  // In the source tree, the follow-up commands are its tasks, the path a shell word.
  const metrics = RegExp.escape(shellWord(`${dir}/adaptive/metrics.ndjson`));
  assert.match(r.stdout, new RegExp(`^validate: +deno task cli validate-metrics ${metrics}$`, "m"));
  assert.match(r.stdout, new RegExp(`^dashboard: +deno task serve --source ${metrics}$`, "m"));
  // The adaptive map is saved, with a key whose lookup shows a probe path worth seeing.
  const snap = RegExp.escape(shellWord(`${dir}/adaptive/map.snap`));
  const probe = new RegExp(
    `^probe: +deno task cli probe-visualize --key (K\\d+) --snapshot ${snap}$`,
    "m",
  )
    .exec(r.stdout);
  assert.ok(probe, r.stdout);
  const traced = await runCli([
    "--json",
    "probe-visualize",
    "--key",
    probe[1]!,
    "--snapshot",
    `${dir}/adaptive/map.snap`,
  ]);
  const { trace } = successData(traced.stdout, "probe-visualize") as {
    trace: { found: boolean; path: unknown[] };
  };
  assert.equal(trace.found, true);
  assert.ok(trace.path.length > 1, `${trace.path.length} steps`);
  for (const mode of ["adaptive", "fast-insert", "fast-lookup"]) {
    const path = RegExp.escape(`${dir}/${mode}/metrics.ndjson`);
    assert.match(r.stdout, new RegExp(`metrics \\(${mode}\\): ${path}`));
    const v = await runCli(["validate-metrics", `${dir}/${mode}/metrics.ndjson`]);
    assert.equal(v.code, 0, v.stderr);
    const summary = RunSummary.parse(
      JSON.parse(await Deno.readTextFile(`${dir}/${mode}/summary.json`)),
    );
    assert.equal(summary.total_ops, 20000); // the warm-up is not in the measured run
  }
  const json = await runCli(["--json", "--log-json", "demo", "--out-dir", dir, "--ops", "2000"]);
  // With --log-json the progress lines are log records too: stderr is JSON lines only.
  const logs = json.stderr.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.ok(
    logs.some((r) => r.logger === "adhash.demo" && r.message === "demo: replaying on adaptive"),
  );
  const env = JSON.parse(json.stdout);
  assert.equal(env.command, "demo");
  assert.deepEqual(env.runs.map((x: { mode: string }) => x.mode), [
    "adaptive",
    "fast-insert",
    "fast-lookup",
  ]);
});

/** Runs the CLI, reads its first stdout chunk, closes the pipe; asserts it ended quietly. */
async function assertStopsQuietlyOnClosedPipe(args: string[]): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", `${ROOT}cli.ts`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.getReader();
  const first = await reader.read();
  assert.ok(first.value && first.value.length > 0);
  await reader.cancel();
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  assert.equal(status.code, 0, stderr);
  assert.equal(stderr, "");
}

Deno.test("generate-csv --outfile - stops quietly when the reader closes the pipe", async () => {
  await assertStopsQuietlyOnClosedPipe(["generate-csv", "--outfile", "-", "--ops", "2000000"]);
});

Deno.test("an interrupted generate-csv exits 130, 143 or 129 and leaves no temporary file", async () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
    const dir = tempDir();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}cli.ts`,
        "generate-csv",
        "--outfile",
        `${dir}/g.csv`,
        "--ops",
        "1000000000",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    assert.match(await firstFile(dir), /^\.g\.csv\.\d+\.\d+\.tmp$/, "the write is under way");
    child.kill(signal);
    assert.equal((await child.status).code, code, signal);
    assert.deepEqual(names(dir), [], signal);
  }
});

Deno.test("an interrupted run-csv writing metrics exits 143 at once and leaves no file", async () => {
  // The metrics file's clean-up listener replaces SIGTERM's default action; it runs only when
  // the replay gives the event loop a turn, which it must do while replaying.
  const dir = tempDir();
  const csv = await workload(dir, 3_000_000, ["--key-space", "100000"]);
  const out = `${dir}/m/n`; // two directories the run makes, and removes again
  const child = new Deno.Command(Deno.execPath(), {
    // One tick at the start and one at the end: the turns cannot wait for ticks.
    args: [
      "run",
      "-A",
      `${ROOT}cli.ts`,
      "run-csv",
      "--csv",
      csv,
      "--metrics-out-dir",
      out,
      "--tick-every",
      "1000000000",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  assert.match(
    await firstFile(out),
    /^\.metrics\.ndjson\.\d+\.\d+\.tmp$/,
    "the replay is under way",
  );
  const sent = performance.now();
  child.kill("SIGTERM");
  const status = await child.status;
  const ms = performance.now() - sent;
  // A replay of 3M rows takes about a second here; 143 means it stopped before its end.
  assert.equal(status.code, 143, `exited ${status.code} ${ms.toFixed(0)} ms after SIGTERM`);
  assert.ok(ms < 500, `took ${ms.toFixed(0)} ms to stop`);
  assert.deepEqual(names(dir), ["w.csv"]);
});

Deno.test("a job's run-csv stops, removing its temporary files, when its job service dies", async () => {
  // The job service sets ADHASH_JOB_PARENT_PID to its pid; here a shell stands in for it and is
  // killed with SIGKILL, as the OOM killer would.
  const dir = tempDir();
  const csv = await workload(dir, 3_000_000, ["--key-space", "100000"]);
  const out = `${dir}/m`;
  const parent = new Deno.Command("bash", {
    args: [
      "-c",
      `ADHASH_JOB_PARENT_PID=$$ "$0" run -A "$1" run-csv --csv "$2" --metrics-out-dir "$3" ` +
      "--tick-every 1000000000 >/dev/null 2>&1 & wait",
      Deno.execPath(),
      `${ROOT}cli.ts`,
      csv,
      out,
    ],
    stdout: "null",
  }).spawn();
  assert.match(await firstFile(out), /\.tmp$/, "the replay is under way");
  parent.kill("SIGKILL");
  await parent.status;
  // (/proc/<pid> is not readable under the test task's permissions: the files tell instead.)
  const killed = performance.now();
  while (names(out).length > 0 && performance.now() - killed < 3000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - killed;
  assert.deepEqual(names(out), [], "the temporary file is removed");
  assert.ok(ms < 1000, `stopped ${ms.toFixed(0)} ms after its parent died`);
  // Stopped, not finished: a replay left running would commit metrics.ndjson within seconds.
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual(names(out), [], "the orphaned job ran on and wrote its metrics");
});

Deno.test("items stops quietly when the reader closes the pipe (items | head)", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 300_000, ["--key-space", "100000"]);
  const run = await runCli(["run-csv", "--csv", csv, "--snapshot-out", `${dir}/s.snap`]);
  assert.equal(run.code, 0, run.stderr);
  await assertStopsQuietlyOnClosedPipe(["items", "--snapshot", `${dir}/s.snap`]);
});

Deno.test("adaptive.large_map_warn_threshold: run-csv and the commands reading a snapshot warn above it", async () => {
  const dir = tempDir();
  const csv = await workload(dir, 200, ["--key-space", "50", "--read-ratio", "0"]);
  const snap = `${dir}/s.adh`;
  const warning = (what: string) =>
    new RegExp(
      `\\[WRN\\] adhash·\\S+: ${what} holds \\d+ entries, above adaptive\\.large_map_warn_threshold \\(10\\)`,
    );
  const env = { ADAPTIVE_LARGE_MAP_WARN_THRESHOLD: "10" };
  const run = await runCli(["run-csv", "--csv", csv, "--snapshot-out", snap], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, warning("The map"));
  for (
    const args of [
      ["inspect-snapshot", "--in", snap],
      ["verify-snapshot", "--in", snap],
      ["compact-snapshot", "--in", snap, "--out", `${dir}/c.adh`],
      ["items", "--snapshot", snap],
      ["put", "--snapshot", snap, "k", "v"],
    ]
  ) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, warning(`Snapshot "${snap}"`), args[0]);
    // Under the default (1,000,000) nothing is said.
    assert.doesNotMatch((await runCli(args)).stderr, /large_map_warn_threshold/, args[0]);
  }
  assert.doesNotMatch((await runCli(["run-csv", "--csv", csv])).stderr, /large_map_warn/);
});

Deno.test("run-csv: an adaptive map gives back its memory when the workload deletes its keys", async () => {
  const dir = tempDir();
  const rows = ["op,key,value"];
  for (let i = 0; i < 100_000; i++) rows.push(`put,k${i},${i}`);
  for (let i = 0; i < 99_990; i++) rows.push(`del,k${i},`);
  await Deno.writeTextFile(`${dir}/w.csv`, rows.join("\n") + "\n");
  const sizes: Record<string, unknown> = {};
  for (const mode of ["adaptive", "fast-lookup"]) {
    const out = ["--metrics-out-dir", `${dir}/${mode}`];
    const r = await runCli(["run-csv", "--csv", `${dir}/w.csv`, "--mode", mode, "--json", ...out]);
    assert.equal(r.code, 0, r.stderr);
    const s = successData(r.stdout, "run-csv").final_stats as Record<string, number>;
    assert.equal(s.size, 10);
    sizes[mode] = s.capacity;
  }
  // The metrics tell a shrink from a growth: each resize gives the capacity before it.
  const resizes = (await Deno.readTextFile(`${dir}/adaptive/metrics.ndjson`)).trim().split("\n")
    .flatMap((line) => (JSON.parse(line) as MetricsTick).events)
    .filter((e) => e.type === "resize")
    .map((e) => [e.from_capacity, e.capacity] as [number, number]);
  const shrinks = resizes.filter(([from, to]) => to < from);
  assert.ok(shrinks.length >= 3 && shrinks.length < resizes.length, JSON.stringify(resizes));
  assert.deepEqual(resizes.at(-1), [512, 128]);
  // The adaptive map shrank, the last time at 31 entries in 512 slots (to a quarter full: 128);
  // 10 in 128 is not under 1/16. A bare Robin Hood table keeps its size.
  assert.deepEqual(sizes, { adaptive: 128, "fast-lookup": 131072 });
});

linuxTest(
  "generate-csv draws its progress bar on a terminal, but not under --log-json",
  async (dir) => {
    // On a terminal (a pty, by script(1)): the bar, or under --log-json only JSON lines; and a
    // write that fails ends the bar's line, so the error starts one of its own.
    const cli = `${shellWord(Deno.execPath())} run -A --quiet ${shellWord(`${ROOT}cli.ts`)}`;
    const gen = `${cli} generate-csv --ops 1000000 --outfile ${shellWord(`${dir}/w.csv`)}`;
    await runCli(["generate-csv", "--ops", "10", "--outfile", `${dir}/warm.csv`]); // deno's caches
    const screens: string[] = [];
    for (
      const run of [gen, `${gen} --log-json >/dev/null`, `trap '' XFSZ; ulimit -f 2000; ${gen}`]
    ) {
      const tty = await new Deno.Command("script", {
        args: ["-qec", run, "/dev/null"],
        // script(1) runs $SHELL; dash counts `ulimit -f` in 512-byte blocks, bash in KiB.
        env: { NO_COLOR: "1", SHELL: "/bin/bash" },
        stdout: "piped",
      }).output();
      screens.push(new TextDecoder().decode(tty.stdout));
    }
    const [plain, json, failed] = screens as [string, string, string];
    assert.match(plain, /\rgenerate-csv \[#+\] 100% 1000000\/1000000\r\n/);
    assert.ok(!json.includes("\r generate-csv") && !json.includes("["), JSON.stringify(json));
    for (const line of json.trimEnd().split("\r\n")) JSON.parse(line);
    assert.match(failed, /\rgenerate-csv \[[#-]+\] +\d+% \d+\/1000000\r\n\{"error":"IO"/);
  },
);
