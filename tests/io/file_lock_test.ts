import assert from "node:assert/strict";
import { lockFile } from "../../src/io/file_lock.ts";
import { withTempDir } from "../_helpers.ts";

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
