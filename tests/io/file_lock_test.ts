import assert from "node:assert/strict";
import { lockFile, lockName } from "../../src/io/file_lock.ts";
import { withTempDir } from "../_helpers.ts";
import { filePath } from "../../src/cli/self_command.ts";
import { runCli } from "../cli/_run.ts";

Deno.test("lockFile() lets a waiter in after the holder removed the directories it made", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/new/deeper/s.adh`;
    const releaseA = await lockFile(path);
    let waited = false;
    const b = lockFile(path).then((release) => {
      waited = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(waited, false, "the second lock waits for the first");
    // The first holder failed to save: its release removes the lock file and the empty directories.
    releaseA();
    const releaseB = await b;
    assert.deepEqual([...Deno.readDirSync(`${dir}/new/deeper`)].map((e) => e.name), [
      ".s.adh.lock",
    ]);
    releaseB();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  });
});

/** The first 16 hex digits of SHA-256 of 255 "a"s (`sha256sum`). */
const SHA256_A255 = "b0f3323e7a3cad8a";

Deno.test("lockName() fits beside any name a file system takes, and tells long names apart", async () => {
  assert.equal(await lockName("kv.snap"), ".kv.snap.lock");
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  for (const long of ["a".repeat(255), "é".repeat(127), "a".repeat(199) + "😀".repeat(14)]) {
    assert.ok(bytes(long) <= 255);
    const lock = await lockName(long);
    assert.ok(bytes(lock) <= 255, long);
    assert.notEqual(lock, await lockName(long.slice(0, -1) + "b"));
    assert.equal(lock, await lockName(long)); // every process takes the same lock
  }
  // The same name as earlier versions gave (node:crypto's SHA-256): their locks are these.
  assert.equal(await lockName("a".repeat(255)), `.${"a".repeat(180)}.${SHA256_A255}.lock`);
});

Deno.test("put on a snapshot whose name is 255 bytes long saves it", async () => {
  // `.NAME.lock` was 261 bytes: put failed with "File name too long", naming no file.
  await withTempDir(async (dir) => {
    const snap = `${dir}/${"s".repeat(255)}`;
    const perms = ["--allow-read", "--allow-write", "--allow-env"];
    const cli = filePath(new URL("../../cli.ts", import.meta.url));
    for (const [k, v] of [["K1", "a"], ["K2", "b"]]) {
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...perms, cli, "put", k!, v!, "--snapshot", snap],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    }
    const items = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...perms, cli, "items", "--snapshot", snap],
      stdout: "piped",
    }).output();
    assert.deepEqual(new TextDecoder().decode(items.stdout).trim().split("\n").sort(), [
      "K1,a",
      "K2,b",
    ]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["s".repeat(255)]);
  });
});

Deno.test("lockFile() never removes a file of the user's that has the lock's name", async () => {
  await withTempDir(async (dir) => {
    const snap = `${dir}/x.snap`;
    const lock = `${dir}/.x.snap.lock`;
    await Deno.writeTextFile(`${dir}/w.csv`, "op,key,value\nput,k1,a\nput,k2,b\n");
    assert.equal(
      (await runCli(["run-csv", "--csv", `${dir}/w.csv`, "--snapshot-out", snap])).code,
      0,
    );
    // An output that takes the lock's name while the lock is held: the release kept it.
    const run = await runCli([
      "run-csv",
      "--csv",
      `${dir}/w.csv`,
      "--snapshot-in",
      snap,
      "--snapshot-out",
      snap,
      "--json-summary-out",
      lock,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(lock)).schema, "run_summary.v1");
    // A file with data under the lock's name is no lock: refused, and kept.
    const before = await Deno.readTextFile(lock);
    const put = await runCli(["put", "k3", "c", "--snapshot", snap]);
    assert.equal(put.code, 2, put.stderr);
    assert.equal(put.envelope?.error, "BadInput");
    assert.match(
      String(put.envelope?.detail),
      /\.x\.snap\.lock' holds data, but adhash takes it as the lock of /,
    );
    assert.equal(await Deno.readTextFile(lock), before);
    // Moved away, the lock is taken and removed again.
    await Deno.remove(lock);
    assert.equal((await runCli(["put", "k3", "c", "--snapshot", snap])).code, 0);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
      "w.csv",
      "x.snap",
    ]);
  });
});
