/**
 * The CLI against writes that fail as on a full disk: stdout and stderr on /dev/full (ENOSPC),
 * and files past a size limit (`ulimit -f`: EFBIG). Each command is run once without the limit
 * first, so that deno's own cache writes are done before the limit applies.
 */
import assert from "node:assert/strict";
import { runCli } from "./_run.ts";
import { linuxTest } from "../_helpers.ts";

/** Names in `dir`, sorted (hidden temporary files included). */
function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

linuxTest(
  "a failure keeps its exit code when stderr cannot take the envelope (2>/dev/full)",
  async (dir) => {
    const full = { stderr: "/dev/full" };
    assert.equal((await runCli(["no-such-command"], { shell: full })).code, 2);
    const missing = await runCli(["run-csv", "--csv", "/no/such/w.csv"], { shell: full });
    assert.equal(missing.code, 5);
    assert.equal(missing.stderr, "");
    // Its problems are stderr lines of their own before the envelope.
    Deno.writeTextFileSync(`${dir}/m.ndjson`, "not json\n");
    const invalid = await runCli(["validate-metrics", `${dir}/m.ndjson`], { shell: full });
    assert.equal(invalid.code, 2);
  },
);

linuxTest("a notice to a stderr that cannot take it does not fail the command", async (dir) => {
  const csv = `${dir}/w.csv`;
  assert.equal((await runCli(["generate-csv", "--outfile", csv, "--ops", "2000"])).code, 0);
  // --metrics-port prints the dashboard's address on stderr; --json keeps stdout one line.
  const r = await runCli(
    ["--json", "run-csv", "--csv", csv, "--metrics-port", "0"],
    { shell: { stderr: "/dev/full" }, perms: ["-A"] },
  );
  assert.equal(r.code, 0);
  assert.equal(JSON.parse(r.stdout).ok, true);
});

linuxTest(
  "generate-csv and items report a stdout that takes no more as IO naming stdout",
  async (dir) => {
    const snap = `${dir}/s.adh`;
    const put = await runCli(["put", "--snapshot", snap, "k", "v".repeat(100_000)]);
    assert.equal(put.code, 0, put.stderr);
    const cases = [
      ["generate-csv", "--outfile", "-", "--ops", "50000"],
      ["items", "--snapshot", snap],
      ["--json", "items", "--snapshot", snap],
    ];
    for (const args of cases) {
      assert.equal((await runCli(args)).code, 0, args.join(" "));
      const limited = await runCli(args, {
        shell: { fileKiB: 64, stdout: `${dir}/out` },
      });
      assert.equal(limited.code, 5, limited.stderr);
      assert.deepEqual(limited.envelope, {
        error: "IO",
        detail: "Cannot write to stdout: File too large (os error 27)",
      });
      const full = await runCli(args, { shell: { stdout: "/dev/full" } });
      assert.equal(full.code, 5, full.stderr);
      assert.deepEqual(full.envelope, {
        error: "IO",
        detail: "Cannot write to stdout: No space left on device (os error 28)",
      });
    }
  },
);

linuxTest(
  "run-csv whose snapshot passes the file-size limit commits none of its outputs",
  async (dir) => {
    const csv = `${dir}/w.csv`;
    const gen = ["generate-csv", "--outfile", csv, "--ops", "20000", "--key-space", "20000"];
    assert.equal((await runCli([...gen, "--read-ratio", "0"])).code, 0);
    const out = `${dir}/out`;
    Deno.mkdirSync(out);
    Deno.writeTextFileSync(`${out}/snap.adh`, "old snapshot");
    const args = [
      "run-csv",
      "--csv",
      csv,
      "--snapshot-out",
      `${out}/snap.adh`,
      "--json-summary-out",
      `${out}/summary.json`,
      "--metrics-out-dir",
      `${out}/metrics`,
    ];
    assert.equal((await runCli(args)).code, 0); // its snapshot is over 64 KiB
    Deno.writeTextFileSync(`${out}/snap.adh`, "old snapshot");
    Deno.removeSync(`${out}/summary.json`);
    Deno.removeSync(`${out}/metrics`, { recursive: true });
    const r = await runCli(args, { shell: { fileKiB: 64 } });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(r.envelope?.error, "IO");
    assert.match(String(r.envelope?.detail), /snap\.adh'?: File too large \(os error 27\)$/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.deepEqual(names(out), ["snap.adh"]);
    assert.equal(Deno.readTextFileSync(`${out}/snap.adh`), "old snapshot");
  },
);

linuxTest(
  "a gzipped snapshot that passes the file-size limit is IO naming it, not an internal AbortError",
  async (dir) => {
    const csv = `${dir}/w.csv`;
    // A payload of over 1 MiB: the gzip stream still has input when the first write fails.
    const gen = ["generate-csv", "--outfile", csv, "--ops", "200000", "--key-space", "200000"];
    assert.equal((await runCli([...gen, "--read-ratio", "0"])).code, 0);
    const out = `${dir}/out`;
    const run = ["run-csv", "--csv", csv, "--snapshot-out", `${out}/snap.adh.gz`];
    assert.equal((await runCli(run)).code, 0); // 750 KB gzipped
    const compact = ["compact-snapshot", "--in", `${out}/snap.adh.gz`, "--out", `${dir}/c.adh.gz`];
    for (const args of [run, compact]) {
      const r = await runCli(args, { shell: { fileKiB: 64 } });
      assert.equal(r.code, 5, r.stderr);
      assert.equal(r.envelope?.error, "IO");
      assert.match(String(r.envelope?.detail), /\.adh\.gz'?: File too large \(os error 27\)$/);
    }
    assert.deepEqual(names(out), ["snap.adh.gz"]);
    assert.deepEqual(names(dir), ["out", "w.csv"]);
  },
);

linuxTest(
  "put, del, run-csv in place and probe-visualize --apply that fail leave no lock file nor new directory",
  async (dir) => {
    const big = "v".repeat(100_000); // the snapshot passes the 64 KiB limit
    const snap = `${dir}/new/deeper/s.adh`;
    const put = ["put", "--snapshot", snap, "k", big];
    assert.equal((await runCli(put)).code, 0);
    Deno.removeSync(`${dir}/new`, { recursive: true });
    const r = await runCli(put, { shell: { fileKiB: 64 } });
    assert.equal(r.code, 5, r.stderr);
    assert.match(String(r.envelope?.detail), /s\.adh'?: File too large \(os error 27\)$/);
    assert.deepEqual(names(dir), []);

    Deno.writeTextFileSync(`${dir}/bad.adh`, "not a snapshot");
    const bad = await runCli(["del", "--snapshot", `${dir}/bad.adh`, "k"]);
    assert.equal(bad.code, 5, bad.stderr);
    assert.deepEqual(names(dir), ["bad.adh"]);
    const inPlace = ["--snapshot-in", `${dir}/bad.adh`, "--snapshot-out", `${dir}/bad.adh`];
    const run = await runCli(["run-csv", "--csv", "-", ...inPlace], { stdin: "op,key,value\n" });
    assert.equal(run.code, 5, run.stderr);
    assert.deepEqual(names(dir), ["bad.adh"]);

    // A trace that fits, and a snapshot that does not: neither is committed.
    const small = `${dir}/small.adh`;
    assert.equal((await runCli(["put", "--snapshot", small, "a", "1"])).code, 0);
    const before = Deno.readFileSync(small);
    const probe = [
      "probe-visualize",
      "--operation",
      "put",
      "--key",
      "k",
      "--value",
      big,
      "--snapshot",
      small,
      "--export-json",
      `${dir}/trace.json`,
      "--apply",
    ];
    const p = await runCli(probe, { shell: { fileKiB: 64 } });
    assert.equal(p.code, 5, p.stderr);
    assert.match(String(p.envelope?.detail), /small\.adh'?: File too large \(os error 27\)$/);
    assert.deepEqual(names(dir), ["bad.adh", "small.adh"]);
    assert.deepEqual(Deno.readFileSync(small), before);
  },
);

linuxTest(
  "a file-size limit's SIGXFSZ does not kill the CLI: the write fails as IO and cleans up",
  async (dir) => {
    // Without the handler the signal killed the process (exit 153) mid-write, leaving its
    // temporary file. The first run, with the signal ignored, writes Deno's caches for the
    // failure's code path, so that the second meets the limit in the CLI's own write.
    const gen = ["generate-csv", "--outfile", `${dir}/g.csv`, "--ops", "200000"];
    const warm = await runCli(gen, { shell: { fileKiB: 256 } });
    assert.equal(warm.code, 5, warm.stderr);
    const r = await runCli(gen, { shell: { fileKiB: 256, sigxfszKills: true } });
    assert.equal(r.code, 5, r.stderr);
    assert.match(String(r.envelope?.detail), /g\.csv'?: File too large \(os error 27\)$/);
    assert.deepEqual(names(dir), []);
  },
);
