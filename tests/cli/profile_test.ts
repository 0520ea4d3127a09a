import assert from "node:assert/strict";
import { runCli, successData } from "./_run.ts";
import { ProfileReport } from "../../src/contracts/profile.ts";
import { RunSummary } from "../../src/contracts/run_summary.ts";
import { MODES } from "../../src/core/factory.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../../src/workload/generate.ts";

async function withWorkload(
  ops: number,
  fn: (dir: string, csv: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "adhash_profile_test_" });
  try {
    const csv = `${dir}/w.csv`;
    const chunks = generateCsvChunks({ ...GENERATE_DEFAULTS, ops, keySpace: 2000 });
    await Deno.writeFile(csv, ReadableStream.from(chunks));
    await fn(dir, csv);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("profile replays every mode and recommends the fastest", async () => {
  await withWorkload(6000, async (_dir, csv) => {
    const r = await runCli(["profile", "--csv", csv, "--repeat", "2"]);
    assert.equal(r.code, 0, r.stderr);
    for (const mode of MODES) assert.match(r.stdout, new RegExp(`^${mode} `, "m"));
    assert.match(r.stdout, /Profile of .*w\.csv: all 6,000 rows, 2 measured runs per mode/);
    const rec = /^Recommended: --mode (\S+) \(\d+\.\d\dx (\S+), Mann-Whitney p=[\d.e-]+\)$/m.exec(
      r.stdout,
    );
    assert.ok(rec, r.stdout);
    // The table lists the fastest first: the recommended mode.
    const first = r.stdout.split("\n").find((l) => MODES.some((m) => l.startsWith(`${m} `)));
    assert.ok(first?.startsWith(`${rec[1]} `), r.stdout);

    const j = await runCli(["--json", "profile", "--csv", csv, "--repeat", "3"]);
    assert.equal(j.code, 0, j.stderr);
    const report = ProfileReport.parse(successData(j.stdout, "profile"));
    assert.equal(report.sample_rows, 6000);
    assert.equal(report.whole_file, true);
    assert.equal(report.repeat, 3);
    assert.deepEqual(report.modes.map((m) => m.mode).sort(), [...MODES].sort());
    const ops = report.modes.map((m) => m.ops_per_second);
    assert.deepEqual(ops, [...ops].sort((a, b) => b - a));
    assert.equal(report.recommended_mode, report.modes[0]!.mode);
    for (const m of report.modes) {
      assert.ok(
        m.ops_per_second_min <= m.ops_per_second && m.ops_per_second <= m.ops_per_second_max,
      );
      assert.ok(m.ops_per_second > 0 && m.bytes_per_entry > 0);
    }
    assert.equal(report.modes.find((m) => m.mode === "fast-insert")!.final_backend, "chaining");
  });
});

Deno.test("profile --sample-rows replays only the start, --json-out writes the report", async () => {
  await withWorkload(20_000, async (dir, csv) => {
    const out = `${dir}/profile.json`;
    const r = await runCli([
      "--json",
      "profile",
      "--csv",
      csv,
      "--sample-rows",
      "5000",
      "--repeat",
      "1",
      "--json-out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const printed = ProfileReport.parse(successData(r.stdout, "profile"));
    assert.equal(printed.sample_rows, 5000);
    assert.equal(printed.whole_file, false);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(out)), printed);
    // The limits apply to the rows read, and no row past the sample is read.
    for (const [sample, max] of [["4096", "4096"], ["1000", "2000"]] as const) {
      const limited = await runCli([
        "profile",
        "--csv",
        csv,
        "--sample-rows",
        sample,
        "--csv-max-rows",
        max,
        "--repeat",
        "1",
      ]);
      assert.equal(limited.code, 0, limited.stderr);
    }
    // A bad row is the workload's error, as run-csv reports it.
    await Deno.writeTextFile(csv, "op,key,value\nput,a,1\nget,a,\nnoop,b,\n");
    const inside = await runCli(["profile", "--csv", csv, "--repeat", "1"]);
    assert.equal(inside.code, 2);
    assert.deepEqual(inside.envelope, {
      error: "BadInput",
      detail: "Unknown op 'noop' at line 4",
      hint: "See docs/workload_schema.md",
    });
    await Deno.writeTextFile(csv, "op,key,value\n");
    const empty = await runCli(["profile", "--csv", csv]);
    assert.equal(empty.code, 2);
    assert.match(String(empty.envelope?.detail), /has no rows to profile/);
  });
});

Deno.test("profile --then runs the command with the recommended mode", async () => {
  await withWorkload(4000, async (dir, csv) => {
    const out = `${dir}/profile.json`;
    const r = await runCli([
      "--json",
      "profile",
      "--csv",
      csv,
      "--repeat",
      "1",
      "--json-out",
      out,
      "--then",
      "run-csv",
      "--csv",
      csv,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const profile = ProfileReport.parse(JSON.parse(await Deno.readTextFile(out)));
    // stdout is the run's alone; the recommendation is logged.
    const summary = RunSummary.parse(successData(r.stdout, "run-csv"));
    assert.equal(summary.mode, profile.recommended_mode);
    assert.equal(summary.total_ops, 4000);
    assert.match(r.stderr, new RegExp(`Recommended --mode "?${profile.recommended_mode}"?`));

    // The --then command's own failure, found as it runs, is the exit code and envelope.
    await Deno.writeTextFile(`${dir}/bad.csv`, "op,key,value\nget,K1,\nbad,K2,\n");
    const failing = await runCli([
      "profile",
      "--csv",
      csv,
      "--repeat",
      "1",
      "--then",
      "run-csv",
      "--csv",
      `${dir}/bad.csv`,
    ]);
    assert.equal(failing.code, 2, failing.stderr);
    assert.match(String(failing.envelope?.detail), /line 3/);
    assert.match(failing.stderr, /Recommended --mode/);
  });
});

Deno.test("profile --then refuses a command line it cannot run, before profiling", async () => {
  await withWorkload(1000, async (dir, csv) => {
    const out = `${dir}/profile.json`;
    const cases: Array<[string[], RegExp]> = [
      [["run-csv", "--mode", "adaptive", "--csv", csv], /sets --mode, which profile chooses/],
      [["run-csv", "--config", "x.toml", "--csv", csv], /sets --config/],
      [["--log-file", `${dir}/then.log`, "run-csv", "--csv", csv], /sets --log-file, but logging/],
      [["run-csv", "--log-json", "--csv", csv], /sets --log-json/],
      [["profile", "--csv", csv], /names no command to run/],
      [["--json"], /names no command to run/],
      [["nope"], /unknown command 'nope'/],
      [["run-csv", "--bogus"], /unknown option '--bogus'/],
    ];
    for (const [then, detail] of cases) {
      const r = await runCli(["profile", "--csv", csv, "--json-out", out, "--then", ...then]);
      assert.equal(r.code, 2, `${then.join(" ")}: ${r.stderr}`);
      assert.match(String(r.envelope?.detail), detail);
      await assert.rejects(Deno.stat(out), Deno.errors.NotFound); // nothing was profiled
    }
    // The --then command's files are checked too, as that command would, before profiling.
    await Deno.mkdir(`${dir}/d`);
    await Deno.writeTextFile(`${dir}/cut.snap`, "ADHSNAP");
    const files: Array<[string[], number, RegExp]> = [
      [["run-csv", "--csv", `${dir}/missing.csv`], 5, /^CSV file not found: '.*missing\.csv'$/],
      [["run-csv", "--csv", `${dir}/d`], 2, /^CSV path '.*\/d' is a directory$/],
      [["run-csv", "--csv", csv, "--snapshot-in", `${dir}/no.snap`], 5, /^Snapshot not found/],
      [["run-csv", "--csv", csv, "--snapshot-in", `${dir}/cut.snap`], 5, /./],
      [["run-csv", "--csv", csv, "--snapshot-out", `${dir}/d`], 2, /--snapshot-out .* directory/],
      [["run-csv", "--csv", csv, "--json-summary-out", csv], 2, /--csv/],
      [["ab-compare", "--csv", `${dir}/missing.csv`], 5, /^CSV file not found/],
      [["ab-compare", "--csv", csv, "--out-dir", `${dir}/cut.snap`], 2, /--out-dir/],
      [
        ["ab-compare", "--csv", csv, "--no-artifacts", "--json-out", `${dir}/ab.json`],
        2,
        /--no-artifacts/,
      ],
      [["ab-compare", "--csv", csv, "--baseline-label", "a/b"], 2, /label/],
      [["ab-compare", "--csv", csv, "--baseline-config", `${dir}/no.toml`], 2, /not found/],
    ];
    for (const [then, code, detail] of files) {
      const r = await runCli(["profile", "--csv", csv, "--json-out", out, "--then", ...then]);
      // The same envelope as the command alone gives.
      const alone = await runCli(then);
      assert.equal(r.code, code, `${then.join(" ")}: ${r.stderr}`);
      assert.match(String(r.envelope?.detail), detail);
      assert.deepEqual(r.envelope, alone.envelope);
      await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
    }
    // Commands the recommended mode would not change, refused before profiling too.
    assert.equal((await runCli(["put", "--snapshot", `${dir}/s.snap`, "K", "1"])).code, 0);
    const unchanged: Array<[string[], RegExp, RegExp]> = [
      [
        ["run-csv", "--csv", csv, "--snapshot-in", `${dir}/s.snap`],
        /^--then ".*": run-csv --snapshot-in replays on the saved map, whose backend --mode does not change: the recommended --mode would change nothing$/,
        /^Drop --snapshot-in/,
      ],
      [
        ["ab-compare", "--csv", csv, "--baseline-mode", "fast-insert"],
        /ab-compare --baseline-mode sets the mode of the side --mode would/,
        /^Drop --baseline-mode/,
      ],
      [
        ["put", "--snapshot", `${dir}/s.snap`, "K", "2"],
        /put works on the map saved in ".*s\.snap"/,
        /^Give a --snapshot that does not exist yet/,
      ],
      [
        ["probe-visualize", "--snapshot", `${dir}/s.snap`, "--operation", "get", "--key", "K"],
        /probe-visualize works on the map saved in/,
        /^Give a --snapshot/,
      ],
      [["del", "K"], /del without --snapshot keeps its map nowhere/, /^Add --snapshot/],
      [["get", "K"], /get builds no map with --mode/, /^Run get on its own; --then runs run-csv/],
      [["workload-dna", "--csv", csv], /workload-dna builds no map with --mode/, /on its own/],
    ];
    for (const [then, detail, hint] of unchanged) {
      const r = await runCli(["profile", "--csv", csv, "--json-out", out, "--then", ...then]);
      assert.equal(r.code, 2, `${then.join(" ")}: ${r.stderr}`);
      assert.match(String(r.envelope?.detail), detail);
      assert.match(String(r.envelope?.hint), hint);
      await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
    }
    const stdin = await runCli(["profile", "--csv", "-", "--then", "run-csv", "--csv", csv], {
      stdin: await Deno.readTextFile(csv),
    });
    assert.equal(stdin.code, 2);
    assert.match(String(stdin.envelope?.detail), /cannot follow a profile of stdin/);
    // After "--" a word is a value, even one spelled like a refused flag.
    const value = await runCli([
      "profile",
      "--csv",
      csv,
      "--repeat",
      "1",
      "--json-out",
      out,
      "--then",
      "put",
      "--snapshot",
      `${dir}/new.snap`,
      "--",
      "K",
      "--mode",
    ]);
    assert.equal(value.code, 0, value.stderr);
    assert.equal(value.stdout, "OK\n");
    // The snapshot it made holds the map that mode makes.
    const recommended = JSON.parse(await Deno.readTextFile(out)).recommended_mode;
    const put = ["put", "--snapshot", `${dir}/ref.snap`, "--", "K", "--mode"];
    assert.equal((await runCli(["--mode", recommended, ...put])).code, 0);
    const [made, ref] = await Promise.all(
      ["new", "ref"].map(async (name) => {
        const r = await runCli(["--json", "inspect-snapshot", "--in", `${dir}/${name}.snap`]);
        return (successData(r.stdout, "inspect-snapshot") as { configuration: unknown })
          .configuration;
      }),
    );
    assert.deepEqual(made, ref);
    await Deno.remove(out);
    // --help in the --then command line is that command's help, and nothing runs.
    const help = await runCli([
      "profile",
      "--csv",
      csv,
      "--json-out",
      out,
      "--then",
      "run-csv",
      "--help",
    ]);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: hashmap-cli run-csv/);
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  });
});

Deno.test("profile reads no row past its sample: --sample-rows may equal --csv-max-rows", async () => {
  await withWorkload(6000, async (_dir, csv) => {
    // 5000 is no multiple of the reader's batches; the row after the sample is malformed.
    const lines = (await Deno.readTextFile(csv)).split("\n");
    lines[5001] = "bad,K1,";
    await Deno.writeTextFile(csv, lines.join("\n"));
    const r = await runCli([
      "--json",
      "profile",
      "--csv",
      csv,
      "--sample-rows",
      "5000",
      "--csv-max-rows",
      "5000",
      "--repeat",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = ProfileReport.parse(successData(r.stdout, "profile"));
    assert.deepEqual([report.sample_rows, report.whole_file], [5000, false]);
  });
});
