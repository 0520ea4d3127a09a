import assert from "node:assert/strict";
import {
  atomicWrite,
  commitAll,
  creationMode,
  rewriteInPlace,
  stageFile,
  writeError,
} from "../../src/io/atomic_write.ts";
import { withoutDots } from "../../src/io/path.ts";
import { IOError } from "../../src/errors.ts";
import { runScript } from "../cli/_run.ts";
import { linuxTest } from "../_helpers.ts";
import { filePath } from "../../src/cli/self_command.ts";

Deno.test("atomicWrite() creates missing directories and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a/b/out.txt`;
    await atomicWrite(path, "hello");
    assert.equal(await Deno.readTextFile(path), "hello");
    assert.deepEqual([...Deno.readDirSync(`${dir}/a/b`)].map((e) => e.name), ["out.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function* failing(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode("partial");
  throw new Error("source failed");
}

Deno.test("atomicWrite() keeps the old file when writing fails part-way", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/out.txt`;
    await atomicWrite(path, "old");
    await assert.rejects(() => atomicWrite(path, failing()), /source failed/);
    assert.equal(await Deno.readTextFile(path), "old");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a signal removes staged files and the directories made for them; leaveSignalsToProgram() lets a program that handles SIGTERM finish its writes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = filePath(new URL("./_signal_script.ts", import.meta.url));
    const run = async (mode: string) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--allow-write=${dir}`,
          `--allow-read=${dir}`,
          script,
          `${dir}/${mode}.txt`,
          mode,
        ],
        stdout: "piped",
      }).output();
      return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
    };
    const cleanup = await run("cleanup");
    assert.equal(cleanup.code, 143);
    assert.deepEqual([...Deno.readDirSync(dir)], []); // the temporary file was removed
    // And the directories made for it, the inner one first, so that the outer one is empty.
    assert.equal((await run("nested")).code, 143);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // And a lock's side file, which would keep the directories made for it.
    assert.equal((await run("locked")).code, 143);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // But not a file of the user's that took the lock's name.
    assert.equal((await run("lock-named")).code, 143);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [".lock-named.txt.lock"]);
    assert.equal(await Deno.readTextFile(`${dir}/.lock-named.txt.lock`), '{"kept":true}\n');
    await Deno.remove(`${dir}/.lock-named.txt.lock`);
    const leave = await run("leave");
    assert.equal(leave.code, 0);
    assert.equal(leave.stdout, "handled by the program\n");
    assert.equal(await Deno.readTextFile(`${dir}/leave.txt`), "data\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeError() names the output, not its temporary file, and leaves Deno's refusals alone", () => {
  const denied = new Deno.errors.PermissionDenied(
    "Permission denied (os error 13): open 'ro/.out.csv.1.2.tmp'",
  );
  const io = writeError("ro/out.csv", denied);
  assert.ok(io instanceof IOError);
  assert.equal(io.message, "Cannot write 'ro/out.csv': Permission denied (os error 13)");
  assert.equal(io.cause, denied);
  const refused = new Deno.errors.NotCapable('Requires write access to "ro"');
  assert.equal(writeError("ro/out.csv", refused), refused, "Policy, naming the flag");
  const bug = new TypeError("not the system's");
  assert.equal(writeError("ro/out.csv", bug), bug);
});

Deno.test("withoutDots() resolves . and .. as written, never above the root", () => {
  const cases: Array<[string, string]> = [
    ["a/b/../c/.", "a/c"],
    ["./m/", "m"],
    ["a/..", "."],
    ["../x/../y", "../y"],
    ["/a/../..", "/"],
    ["//tmp//x/./y/..", "/tmp/x"],
  ];
  for (const [path, expected] of cases) assert.equal(withoutDots(path), expected, path);
});

Deno.test("stageFile() makes the directories of a new output; discard() removes them, commit() keeps them", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    (await stageFile(`${dir}/a/b/out.txt`, "x")).discard();
    assert.deepEqual([...Deno.readDirSync(dir)], [], "discard removes a/b and a");
    // A directory that holds something else stays.
    Deno.mkdirSync(`${dir}/a`);
    Deno.writeTextFileSync(`${dir}/a/keep`, "");
    (await stageFile(`${dir}/a/b/out.txt`, "x")).discard();
    assert.deepEqual([...Deno.readDirSync(`${dir}/a`)].map((e) => e.name), ["keep"]);
    const staged = await stageFile(`${dir}/c/d/out.txt`, "y");
    staged.commit();
    staged.discard(); // after a commit: nothing to undo
    assert.equal(Deno.readTextFileSync(`${dir}/c/d/out.txt`), "y");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("commitAll() names the targets already replaced when a later rename is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const first = await stageFile(`${dir}/a.txt`, "new a\n");
    const second = await stageFile(`${dir}/b/out.txt`, "new b\n");
    // A rename the system refuses once the files are staged: the target became a directory.
    await Deno.mkdir(`${dir}/b/out.txt/held`, { recursive: true });
    const renamed = { count: 0 };
    assert.throws(() => commitAll([first, second], renamed), (err: unknown) => {
      assert.ok(err instanceof IOError);
      assert.match(err.message, /^Cannot write '.*\/b\/out\.txt': .*\(os error \d+\)/);
      assert.match(err.message, /; already replaced: '.*\/a\.txt'$/);
      return true;
    });
    assert.equal(renamed.count, 1);
    assert.equal(await Deno.readTextFile(`${dir}/a.txt`), "new a\n");
    assert.deepEqual([...Deno.readDirSync(`${dir}/b`)].map((e) => e.name), ["out.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

linuxTest(
  "rewriteInPlace() rewrites a file in place, and puts the old text back when the new one fails",
  async (dir) => {
    const path = `${dir}/status.json`;
    await Deno.writeTextFile(path, "old record\n".repeat(100));
    const inode = (await Deno.stat(path)).ino;
    await rewriteInPlace(path, "short\n");
    assert.equal(await Deno.readTextFile(path), "short\n");
    assert.equal((await Deno.stat(path)).ino, inode);
    // 2 KiB per file: the old 1,100 bytes fit, the new 3,000 do not (EFBIG, as a full disk).
    const old = "old record\n".repeat(100);
    await Deno.writeTextFile(path, old);
    const script = filePath(new URL("./_rewrite_script.ts", import.meta.url));
    const out = await runScript(script, [path], { perms: ["-A"], shell: { fileKiB: 2 } });
    assert.match(out.stdout, /File too large \(os error 27\)/);
    assert.equal(await Deno.readTextFile(path), old);
  },
);

linuxTest("creationMode() creates a private file's temporary file private", async (dir) => {
  // Made 0644 and given the target's mode only once open, the temporary file could be opened in
  // between by another user, who kept reading the new snapshot through that handle.
  const target = `${dir}/p.snap`;
  await Deno.writeTextFile(target, "old");
  for (const mode of [0o600, 0o640, 0o444]) {
    Deno.chmodSync(target, mode);
    assert.equal(creationMode(target).toString(8), mode.toString(8));
  }
  assert.equal(creationMode(`${dir}/new.snap`).toString(8), "644"); // less the umask
});
