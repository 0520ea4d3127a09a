import assert from "node:assert/strict";
import { runCli, tempDir } from "../cli/_run.ts";

function badInput(r: { code: number; stdout: string; envelope: Record<string, unknown> | null }) {
  assert.equal(r.code, 2, JSON.stringify(r.envelope));
  assert.equal(r.envelope?.error, "BadInput");
  assert.equal(r.stdout, "");
  return String(r.envelope?.detail);
}

Deno.test("put/get/del/items and probe-visualize refuse a --snapshot that is a directory as BadInput", async () => {
  const dir = tempDir();
  try {
    const cases = [
      ["put", "k", "v", "--snapshot", dir],
      ["get", "k", "--snapshot", dir],
      ["del", "k", "--snapshot", dir],
      ["items", "--snapshot", dir],
      ["probe-visualize", "--operation", "get", "--key", "k", "--snapshot", dir],
      [
        "probe-visualize",
        "--operation",
        "put",
        "--key",
        "k",
        "--value",
        "v",
        "--apply",
        "--snapshot",
        dir,
      ],
    ];
    for (const args of cases) {
      assert.match(badInput(await runCli(args)), /--snapshot ".*" is a directory/, args[0]);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("inspect-snapshot, verify-snapshot, compact-snapshot and run-csv --snapshot-in refuse a directory as BadInput", async () => {
  const dir = tempDir();
  try {
    const csv = `${dir}/w.csv`;
    Deno.writeTextFileSync(csv, "op,key,value\nput,k,v\n");
    const cases = [
      ["inspect-snapshot", "--in", dir],
      ["verify-snapshot", "--in", dir],
      ["compact-snapshot", "--in", dir, "--out", `${dir}/out.snap`],
      ["run-csv", "--csv", csv, "--snapshot-in", dir],
    ];
    for (const args of cases) {
      const detail = badInput(await runCli(args));
      assert.equal(detail, `Cannot read snapshot '${dir}': it is a directory`, args[0]);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.csv"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("snapshot readers refuse a FIFO as BadInput at once, without waiting for a writer", async () => {
  const dir = tempDir();
  try {
    const fifo = `${dir}/p`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success, "mkfifo");
    const csv = `${dir}/w.csv`;
    Deno.writeTextFileSync(csv, "op,key,value\nput,k,v\n");
    const cases = [
      ["inspect-snapshot", "--in", fifo],
      ["verify-snapshot", "--in", fifo],
      ["compact-snapshot", "--in", fifo, "--out", `${dir}/out.snap`],
      ["run-csv", "--csv", csv, "--snapshot-in", fifo],
      ["get", "k", "--snapshot", fifo],
      ["items", "--snapshot", fifo],
    ];
    for (const args of cases) {
      // Opening the FIFO would block the command until a writer comes: after 10 s, be that
      // writer (so the run ends either way) and record that the command had to wait. Opened
      // for reading too, which does not block when no reader is left (the command never
      // opened it, on a busy machine it only took long).
      let waited: Deno.FsFile | null = null;
      const timer = setTimeout(() => {
        waited = Deno.openSync(fifo, { read: true, write: true });
      }, 10_000);
      const r = await runCli(args);
      clearTimeout(timer);
      (waited as Deno.FsFile | null)?.close();
      assert.equal(waited, null, `${args[0]} waited for a writer to the FIFO`);
      assert.equal(badInput(r), `Cannot read snapshot '${fifo}': not a regular file`, args[0]);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["p", "w.csv"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("put/get/del/items and probe-visualize refuse a --snapshot under a file as BadInput, writing nothing", async () => {
  const dir = tempDir();
  try {
    const file = `${dir}/w.csv`;
    Deno.writeTextFileSync(file, "op,key,value\n");
    const under = `${file}/x.adh`;
    const cases = [
      ["put", "k", "v", "--snapshot", under],
      ["get", "k", "--snapshot", under],
      ["del", "k", "--snapshot", under],
      ["items", "--snapshot", under],
      [
        "probe-visualize",
        "--operation",
        "put",
        "--key",
        "k",
        "--value",
        "v",
        "--apply",
        "--snapshot",
        under,
      ],
    ];
    for (const args of cases) {
      assert.match(badInput(await runCli(args)), /is not a directory|is a file/, args[0]);
    }
    assert.equal(Deno.readTextFileSync(file), "op,key,value\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["w.csv"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
