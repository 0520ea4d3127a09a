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
