import assert from "node:assert/strict";
import { runCli, tempDir } from "./_run.ts";
import { RunSummary } from "../../src/contracts/run_summary.ts";

const CSV = "op,key,value\nput,a,1\nput,b,2\nget,a,\n";

Deno.test("an output that is a FIFO is refused before any work, and stays a FIFO", async () => {
  const dir = tempDir();
  const fifo = `${dir}/p`;
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(made.success, "mkfifo");
  const r = await runCli(["generate-csv", "--outfile", fifo, "--ops", "2"]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.envelope?.detail,
    `--outfile "${fifo}" is not a regular file (a FIFO or a device)`,
  );
  assert.ok(Deno.lstatSync(fifo).isFifo);
  assert.equal(r.stdout, "");
});

Deno.test("an output that is a symbolic link writes its target and keeps the link", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  Deno.mkdirSync(`${dir}/real`);
  await Deno.writeTextFile(`${dir}/real/summary.json`, "old");
  Deno.symlinkSync("real/summary.json", `${dir}/latest.json`);
  Deno.symlinkSync(`${dir}/real/gone.json`, `${dir}/dangling.json`);
  const r = await runCli([
    "run-csv",
    "--csv",
    `${dir}/w.csv`,
    "--json-summary-out",
    `${dir}/latest.json`,
    "--snapshot-out",
    `${dir}/dangling.json`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Deno.lstatSync(`${dir}/latest.json`).isSymlink);
  const summary = RunSummary.parse(JSON.parse(await Deno.readTextFile(`${dir}/real/summary.json`)));
  assert.equal(summary.total_ops, 3);
  // A link to a file not there yet creates that file.
  assert.ok(Deno.lstatSync(`${dir}/dangling.json`).isSymlink);
  assert.ok(Deno.statSync(`${dir}/real/gone.json`).isFile);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "dangling.json",
    "latest.json",
    "real",
    "w.csv",
  ]);
});

Deno.test("an output that is a hard link of an input is refused, naming both flags", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  Deno.linkSync(`${dir}/w.csv`, `${dir}/hard.csv`);
  const r = await runCli([
    "run-csv",
    "--csv",
    `${dir}/hard.csv`,
    "--json-summary-out",
    `${dir}/w.csv`,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(String(r.envelope?.detail), /^--csv and --json-summary-out name the same file/);
  assert.equal(await Deno.readTextFile(`${dir}/w.csv`), CSV);
});

Deno.test("- is refused for an output that cannot go to stdout, and kept where it can", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  for (const flag of ["--json-summary-out", "--snapshot-out"]) {
    const r = await runCli(["run-csv", "--csv", `${dir}/w.csv`, flag, "-"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(
      r.envelope?.detail,
      `${flag} "-" is not a file: this output cannot go to stdout`,
    );
  }
  const log = await runCli(["--log-file", "-", "run-csv", "--csv", `${dir}/w.csv`]);
  assert.equal(log.code, 2, log.stderr);
  const out = await runCli(["generate-csv", "--outfile", "-", "--ops", "2"]);
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stdout, /^op,key,value\n/);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.csv"]);
});

Deno.test("--log-file is refused when it names a file the command reads or writes", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  await Deno.writeTextFile(`${dir}/k.toml`, "[adaptive]\n");
  const cases: Array<[string[], RegExp]> = [
    [["--log-file", `${dir}/w.csv`, "run-csv", "--csv", `${dir}/w.csv`], /^--log-file and --csv/],
    [["--log-file", `${dir}/w.csv`, "validate-metrics", `${dir}/w.csv`], /^--log-file and file/],
    [[
      "--config",
      `${dir}/k.toml`,
      "--log-file",
      `${dir}/k.toml`,
      "run-csv",
      "--csv",
      `${dir}/w.csv`,
    ], /^--log-file and --config/],
  ];
  for (const [args, detail] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(String(r.envelope?.detail), detail);
  }
  assert.equal(await Deno.readTextFile(`${dir}/w.csv`), CSV);
  assert.equal(await Deno.readTextFile(`${dir}/k.toml`), "[adaptive]\n");
});

Deno.test("an output naming the global --config file is refused before any work", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  await Deno.writeTextFile(`${dir}/k.toml`, "[adaptive]\n");
  const cases = [
    ["generate-csv", "--outfile", `${dir}/k.toml`, "--ops", "2"],
    ["run-csv", "--csv", `${dir}/w.csv`, "--json-summary-out", `${dir}/k.toml`],
  ];
  for (const args of cases) {
    const r = await runCli(["--config", `${dir}/k.toml`, ...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(String(r.envelope?.detail), /^--config and --\S+ name the same file/);
  }
  assert.equal(await Deno.readTextFile(`${dir}/k.toml`), "[adaptive]\n");
});

Deno.test("outputs that would land on one file are refused, through a link to a file not there yet", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  Deno.symlinkSync(`${dir}/out.json`, `${dir}/link.json`);
  const r = await runCli([
    "run-csv",
    "--csv",
    `${dir}/w.csv`,
    "--json-summary-out",
    `${dir}/link.json`,
    "--snapshot-out",
    `${dir}/out.json`,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(String(r.envelope?.detail), /^--json-summary-out and --snapshot-out name the same/);
  assert.throws(() => Deno.statSync(`${dir}/out.json`), Deno.errors.NotFound);
});

Deno.test("--log-file and profile's own files are kept from every output, --then's included", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  await Deno.writeTextFile(`${dir}/w2.csv`, CSV);
  const w = `${dir}/w.csv`;
  const cases: Array<[string[], RegExp]> = [
    [[
      "--log-file",
      `${dir}/m/metrics.ndjson`,
      "run-csv",
      "--csv",
      w,
      "--metrics-out-dir",
      `${dir}/m`,
    ], /^--log-file and --metrics-out-dir/],
    [[
      "--log-file",
      `${dir}/l.txt`,
      "profile",
      "--csv",
      w,
      "--then",
      "run-csv",
      "--csv",
      w,
      "--json-summary-out",
      `${dir}/l.txt`,
    ], /^--log-file and --json-summary-out/],
    [[
      "profile",
      "--csv",
      w,
      "--json-out",
      `${dir}/p.json`,
      "--then",
      "run-csv",
      "--csv",
      w,
      "--json-summary-out",
      `${dir}/p.json`,
    ], /^--json-out and --json-summary-out/],
    [[
      "profile",
      "--csv",
      `${dir}/w2.csv`,
      "--then",
      "run-csv",
      "--csv",
      w,
      "--json-summary-out",
      `${dir}/w2.csv`,
    ], /^--csv and --json-summary-out/],
    [[
      "profile",
      "--csv",
      w,
      "--json-out",
      `${dir}/w2.csv`,
      "--then",
      "run-csv",
      "--csv",
      `${dir}/w2.csv`,
    ], /^--json-out and --csv/],
  ];
  for (const [args, detail] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(String(r.envelope?.detail), detail);
    assert.doesNotMatch(r.stderr, /Recommended --mode/); // refused before profiling
  }
  assert.equal(await Deno.readTextFile(`${dir}/w2.csv`), CSV);
  // Only the logs asked for were written, each holding why the command failed.
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "l.txt",
    "m",
    "w.csv",
    "w2.csv",
  ]);
  assert.match(await Deno.readTextFile(`${dir}/l.txt`), /profile.* failed \(exit 2\)/);
});

Deno.test("config-edit may replace the config ADHASH_CONFIG names, with --force", async () => {
  const dir = tempDir();
  const c = `${dir}/c.toml`;
  await Deno.writeTextFile(c, "[adaptive]\n");
  const r = await runCli(
    [
      "config-edit",
      "--infile",
      c,
      "--outfile",
      c,
      "--force",
      "--set",
      "adaptive.max_lf_chaining=3",
    ],
    { env: { ADHASH_CONFIG: c } },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(await Deno.readTextFile(c), /max_lf_chaining = 3/);
});

Deno.test("the log file's rotated backups are kept from every file of the command", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/lg.1`, CSV);
  const log = ["--log-file", `${dir}/lg`, "--log-max-bytes", "100", "--log-backup-count", "2"];
  const cases: Array<[string[], RegExp]> = [
    [[...log, "run-csv", "--csv", `${dir}/lg.1`], /^--log-file's backup and --csv/],
    [
      [...log, "generate-csv", "--outfile", `${dir}/lg.2`, "--ops", "2"],
      /^--log-file's backup and --outfile/,
    ],
  ];
  for (const [args, detail] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(String(r.envelope?.detail), detail);
  }
  assert.equal(await Deno.readTextFile(`${dir}/lg.1`), CSV);
  // Past the backups kept, a name is free.
  const free = await runCli([...log, "generate-csv", "--outfile", `${dir}/lg.3`, "--ops", "2"]);
  assert.equal(free.code, 0, free.stderr);
});

Deno.test("an output not there yet is seen through a linked directory on its path", async () => {
  const dir = tempDir();
  await Deno.writeTextFile(`${dir}/w.csv`, CSV);
  Deno.mkdirSync(`${dir}/real`);
  Deno.symlinkSync(`${dir}/real`, `${dir}/linked`);
  const r = await runCli([
    "run-csv",
    "--csv",
    `${dir}/w.csv`,
    "--json-summary-out",
    `${dir}/linked/out.json`,
    "--snapshot-out",
    `${dir}/real/out.json`,
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(String(r.envelope?.detail), /^--json-summary-out and --snapshot-out name the same/);
  assert.deepEqual([...Deno.readDirSync(`${dir}/real`)], []);
});

Deno.test("run-csv whose metrics directory is removed mid-run commits none of its outputs", async () => {
  const dir = tempDir();
  try {
    const fifo = `${dir}/w.csv`;
    assert.equal((await new Deno.Command("mkfifo", { args: [fifo] }).output()).code, 0);
    const run = runCli([
      "run-csv",
      "--csv",
      fifo,
      "--metrics-out-dir",
      `${dir}/m`,
      "--json-summary-out",
      `${dir}/s.json`,
      "--snapshot-out",
      `${dir}/snap.adhsnap`,
    ]);
    // Opening the FIFO waits for the run to open it, after it made its metrics file.
    const input = await Deno.open(fifo, { write: true });
    await input.write(new TextEncoder().encode("op,key,value\nput,a,1\n"));
    Deno.removeSync(`${dir}/m`, { recursive: true });
    input.close();
    const r = await run;
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.envelope?.error, "IO");
    assert.match(String(r.envelope?.detail), /m\/metrics\.ndjson/);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.csv"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
