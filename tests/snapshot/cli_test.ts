import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { ErrorEnvelope, SuccessEnvelope } from "../../src/contracts/error_envelope.ts";
import { ProbeTraceSchema } from "../../src/contracts/probe_trace.ts";
import { SnapshotInspectionSchema } from "../../src/contracts/snapshot.ts";
import { encodeState } from "../../src/snapshot/codec.ts";
import { packSnapshot } from "../../src/snapshot/format.ts";
import { decodeSnapshot, saveSnapshot } from "../../src/snapshot/mod.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import { hashKey, indexFor } from "../../src/core/hash.ts";
import { brokenRobinHoodState } from "./broken_state.ts";
import { lockFile } from "../../src/io/file_lock.ts";
import { runScript } from "../cli/_run.ts";
import { linuxTest } from "../_helpers.ts";
import { filePath, shellWord } from "../../src/cli/self_command.ts";

const CLI = filePath(new URL("../../cli.ts", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** The parsed last stderr line (the envelope on failure). */
  envelope: ErrorEnvelope | null;
}

async function cli(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<Run> {
  const r = await runScript(CLI, args, {
    env,
    perms: ["-A", "--quiet"],
    clearEnv: true,
    ...(cwd === undefined ? {} : { cwd }),
  });
  const last = r.stderr.trimEnd().split("\n").at(-1) ?? "";
  return { ...r, envelope: r.code === 0 ? null : ErrorEnvelope.parse(JSON.parse(last)) };
}

function json(r: Run, command: string): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 1);
  const v = SuccessEnvelope.parse(JSON.parse(lines[0]!));
  assert.equal(v.command, command);
  return v as Record<string, unknown>;
}

function fails(r: Run, code: number, error: string, detail: RegExp): void {
  assert.equal(r.code, code, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.envelope?.error, error);
  assert.match(r.envelope!.detail, detail);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "adhash_cli_snap_" });
}

Deno.test("put/get/del/items work as a persistent store across processes", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/store.adhsnap`;
    let r = await cli(["put", "K1", "hello", "--snapshot", snap]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "OK\n");
    r = await cli(["--json", "put", "K2", "world", "--snapshot", snap]);
    const put = json(r, "put");
    assert.equal(put.key, "K2");
    assert.equal(put.created, false);
    assert.equal(put.size, 2);
    // Another process reads what the first wrote.
    r = await cli(["get", "K1", "--snapshot", snap]);
    assert.equal(r.stdout, "hello\n");
    r = await cli(["get", "missing", "--snapshot", snap]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "\n");
    const got = json(await cli(["get", "K2", "--snapshot", snap, "--json"]), "get");
    assert.deepEqual([got.found, got.value], [true, "world"]);
    r = await cli(["items", "--snapshot", snap]);
    assert.deepEqual(r.stdout.trimEnd().split("\n").sort(), ["K1,hello", "K2,world"]);
    r = await cli(["del", "K1", "--snapshot", snap]);
    assert.equal(r.stdout, "1\n");
    r = await cli(["del", "K1", "--snapshot", snap]);
    assert.equal(r.stdout, "0\n");
    const items = json(await cli(["--json", "items", "--snapshot", snap]), "items");
    assert.deepEqual(items.items, [["K2", "world"]]);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort(), [
      "store.adhsnap",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("items --json writes the one line of every entry in table order, written in pieces", async () => {
  const dir = await tempDir();
  try {
    const map = new RobinHoodMap<unknown>({ deletion: "tombstone" });
    for (let i = 0; i < 2_500; i++) {
      map.set(i % 3 === 0 ? i : `k,"${i}"ü`, i % 2 === 0 ? { i, s: [`v${i}`, null] } : -i / 7);
    }
    const snap = `${dir}/s.adhsnap`;
    await saveSnapshot(snap, map, { key: null });
    const r = await cli(["--json", "items", "--snapshot", snap]);
    assert.equal(r.code, 0, r.stderr);
    const entries = [...decodeSnapshot(Deno.readFileSync(snap), { key: null }).map.entries()];
    assert.equal(
      r.stdout,
      `${JSON.stringify({ ok: true, command: "items", count: 2_500, items: entries })}\n`,
    );
    json(r, "items");
    // And of no entry at all.
    const empty = await cli(["--json", "items"]);
    assert.equal(empty.stdout, '{"ok":true,"command":"items","count":0,"items":[]}\n');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("items prints CSV that reads back as the entries, whatever their text", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/s.adhsnap`;
    // Unquoted, the first two printed the same line and the last split into two.
    const entries = [["a,b", "x"], ["a", "b,x"], ['q"k', "line1\nline2"], ["plain", "v"]];
    for (const [k, v] of entries) {
      assert.equal((await cli(["put", k!, v!, "--snapshot", snap])).code, 0);
    }
    const r = await cli(["items", "--snapshot", snap]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^plain,v$/m); // fields that need no quotes get none
    const byKey = (a: string[], b: string[]) => a[0]! < b[0]! ? -1 : 1;
    assert.deepEqual(parse(r.stdout).sort(byKey), entries.sort(byKey));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

linuxTest(
  "get, items and inspect-snapshot show a stored value's controls on a terminal",
  async (dir) => {
    // The value set the terminal's title, hid what followed and forged an "Invariants" line.
    const snap = `${dir}/s.adhsnap`;
    const value = "v1\nInvariants: BROKEN (forged)\x1b]0;OWNED\x07\x1b[8m";
    assert.equal((await cli(["put", "K1", value, "--snapshot", snap])).code, 0);
    const shown = "v1\\u000aInvariants: BROKEN (forged)\\u001b]0;OWNED\\u0007\\u001b[8m";
    // On a terminal (a pty, by script(1)).
    const run = ["get K1", "items", ""].map((args) =>
      args === ""
        ? `inspect-snapshot --in ${shellWord(snap)}`
        : `${args} --snapshot ${shellWord(snap)}`
    ).map((args) => `${shellWord(Deno.execPath())} run -A --quiet ${shellWord(CLI)} ${args}`)
      .join("; ");
    const tty = await new Deno.Command("script", {
      args: ["-qec", run, "/dev/null"],
      env: { NO_COLOR: "1" },
      stdout: "piped",
    }).output();
    const screen = new TextDecoder().decode(tty.stdout);
    assert.ok(!screen.includes("\x1b") && !screen.includes("\x07"), JSON.stringify(screen));
    assert.ok(screen.includes(`${shown}\r\n`)); // get
    assert.ok(screen.includes(`K1,"${shown}"\r\n`)); // items
    assert.ok(screen.includes(`"K1" = ${shown}\r\n`)); // inspect-snapshot
    assert.doesNotMatch(screen, /^Invariants: BROKEN/m);
    // Into a pipe, get and items give the data as it is.
    assert.equal((await cli(["get", "K1", "--snapshot", snap])).stdout, `${value}\n`);
    assert.deepEqual(parse((await cli(["items", "--snapshot", snap])).stdout), [["K1", value]]);
  },
);

Deno.test("put/get/del/items without --snapshot act on an empty in-memory map", async () => {
  const put = await cli(["put", "a", "1"]);
  assert.equal(put.stdout, "OK\n");
  assert.equal((await cli(["get", "a"])).stdout, "\n");
  assert.equal((await cli(["del", "a"])).stdout, "0\n");
  const items = await cli(["items"]);
  assert.equal(items.code, 0);
  assert.equal(items.stdout, "");
  fails(await cli(["put", "onlykey"]), 2, "BadInput", /missing required argument/);
});

Deno.test("put --snapshot keeps the mode it was created with and refuses corrupt files", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/s.adhsnap.gz`;
    assert.equal(
      (await cli(["--mode", "fast-lookup", "put", "x", "1", "--snapshot", snap])).code,
      0,
    );
    const head = await Deno.readFile(snap);
    assert.equal(head[10]! & 1, 1, ".gz name means a compressed file");
    const inspect = json(
      await cli(["--json", "inspect-snapshot", "--in", snap]),
      "inspect-snapshot",
    );
    assert.equal(inspect.kind, "robinhood");
    const bytes = await Deno.readFile(snap);
    bytes[bytes.length - 1]! ^= 0xff;
    await Deno.writeFile(snap, bytes);
    fails(await cli(["put", "y", "2", "--snapshot", snap]), 5, "IO", /^Checksum mismatch$/);
    await Deno.writeTextFile(`${dir}/text`, "not a snapshot at all");
    fails(await cli(["get", "y", "--snapshot", `${dir}/text`]), 5, "IO", /^Bad magic$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify-snapshot verifies, reports broken tables with exit 3, and repairs them", async () => {
  const dir = await tempDir();
  try {
    const good = `${dir}/good.adhsnap`;
    for (let i = 0; i < 3; i++) await cli(["put", `K${i}`, `${i}`, "--snapshot", good]);
    let r = await cli(["verify-snapshot", "--in", good]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "OK: snapshot verified\n");
    r = await cli(["verify-snapshot", "--in", good, "--verbose"]);
    assert.match(r.stdout, /^OK: snapshot verified\nbackend: chaining\nsize: 3\ncapacity: \d+\n/);
    const v = json(
      await cli(["--json", "verify-snapshot", "--in", good, "--verbose"]),
      "verify-snapshot",
    );
    assert.equal(v.verified, true);
    assert.equal((v.stats as { size: number }).size, 3);

    const broken = `${dir}/broken.adhsnap`;
    await Deno.writeFile(broken, packSnapshot(encodeState(brokenRobinHoodState()), { key: null }));
    r = await cli(["verify-snapshot", "--in", broken]);
    fails(r, 3, "Invariant", /breaks its invariants .*distance/);
    assert.equal(r.stdout, "");
    fails(
      await cli(["verify-snapshot", "--in", broken, "--repair"]),
      2,
      "BadInput",
      /--repair needs --out/,
    );
    const brokenBytes = await Deno.readFile(broken);
    fails(
      await cli([
        "verify-snapshot",
        "--in",
        broken,
        "--repair",
        "--out",
        `${dir}/./broken.adhsnap`,
      ]),
      2,
      "BadInput",
      /--in and --out name the same file/,
    );
    assert.deepEqual(await Deno.readFile(broken), brokenBytes, "the input is never modified");
    r = await cli(["verify-snapshot", "--in", broken, "--repair", "--out", `${dir}/fixed.adhsnap`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Found \d+ problem\(s\):\n/);
    assert.match(r.stdout, /Repaired: wrote 6 entries to .*fixed\.adhsnap \(dropped 0\)/);
    r = await cli(["verify-snapshot", "--in", `${dir}/fixed.adhsnap`]);
    assert.equal(r.stdout, "OK: snapshot verified\n");
    assert.equal((await cli(["get", "K3", "--snapshot", `${dir}/fixed.adhsnap`])).stdout, "3\n");

    fails(await cli(["verify-snapshot", "--in", `${dir}/absent`]), 5, "IO", /not found/);
    const trunc = await Deno.readFile(good);
    await Deno.writeFile(`${dir}/trunc`, trunc.subarray(0, trunc.length - 5));
    fails(await cli(["verify-snapshot", "--in", `${dir}/trunc`]), 5, "IO", /^Truncated snapshot$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("snapshot readers name the file in the hint of an error found inside it", async () => {
  const dir = await tempDir();
  try {
    const good = `${dir}/good.adhsnap`;
    assert.equal((await cli(["put", "a", "1", "--snapshot", good])).code, 0);
    const bytes = await Deno.readFile(good);
    const trunc = `${dir}/trunc.adhsnap`;
    await Deno.writeFile(trunc, bytes.subarray(0, bytes.length - 3));
    const text = `${dir}/notes.txt`;
    await Deno.writeTextFile(text, "not a snapshot at all, just some text\n");
    const csv = `${dir}/w.csv`;
    await Deno.writeTextFile(csv, "op,key,value\nPUT,a,1\n");
    for (
      const args of [
        ["inspect-snapshot", "--in"],
        ["verify-snapshot", "--in"],
        ["compact-snapshot", "--out", `${dir}/out.adhsnap`, "--in"],
        ["get", "a", "--snapshot"],
        ["run-csv", "--csv", csv, "--snapshot-in"],
      ]
    ) {
      let r = await cli([...args, trunc]);
      fails(r, 5, "IO", /^Truncated snapshot$/);
      assert.equal(r.envelope!.hint, `In '${trunc}'`, args[0]);
      r = await cli([...args, text]);
      fails(r, 5, "IO", /^Bad magic$/);
      assert.equal(r.envelope!.hint, `In '${text}': This is not an adhash snapshot`, args[0]);
    }
    // A file named by a word of the message still gets the hint (the quoted path is looked for).
    for (const name of ["snapshot", "s"]) {
      Deno.copyFileSync(trunc, `${dir}/${name}`);
      const r = await cli(["verify-snapshot", "--in", name], {}, dir);
      fails(r, 5, "IO", /^Truncated snapshot$/);
      assert.equal(r.envelope!.hint, `In '${name}'`);
      Deno.removeSync(`${dir}/${name}`);
    }
    // A message that names the file already gets no hint about it.
    const r = await cli(["inspect-snapshot", "--in", `${dir}/absent`]);
    fails(r, 5, "IO", /^Snapshot not found: '.*absent'$/);
    assert.equal(r.envelope!.hint, undefined);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "good.adhsnap",
      "notes.txt",
      "trunc.adhsnap",
      "w.csv",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verify-snapshot honours ADHASH_SNAPSHOT_KEY", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/k.adhsnap`;
    assert.equal(
      (await cli(["put", "a", "b", "--snapshot", snap], { ADHASH_SNAPSHOT_KEY: "s3cret" })).code,
      0,
    );
    assert.equal((await Deno.readFile(snap))[10]! & 2, 2);
    let r = await cli(["verify-snapshot", "--in", snap], { ADHASH_SNAPSHOT_KEY: "s3cret" });
    assert.equal(r.stdout, "OK: snapshot verified\n");
    fails(
      await cli(["verify-snapshot", "--in", snap]),
      5,
      "IO",
      /keyed: ADHASH_SNAPSHOT_KEY is needed/,
    );
    r = await cli(["verify-snapshot", "--in", snap], { ADHASH_SNAPSHOT_KEY: "wrong" });
    fails(r, 5, "IO", /^Checksum mismatch$/);
    assert.match(r.envelope!.hint!, /not the key/);
    // A key that went missing is not taken for no key: an unkeyed file, which anyone can write,
    // would then pass where a keyed one is required.
    fails(
      await cli(["verify-snapshot", "--in", snap], { ADHASH_SNAPSHOT_KEY: "" }),
      2,
      "BadInput",
      /^ADHASH_SNAPSHOT_KEY is empty, which would turn the checksum key off$/,
    );
    const noEnv = await runScript(CLI, ["verify-snapshot", "--in", snap], {
      perms: ["--allow-read", "--quiet"],
      clearEnv: true,
    });
    assert.equal(noEnv.code, 4, noEnv.stderr);
    assert.match(noEnv.stderr, /"detail":"ADHASH_SNAPSHOT_KEY cannot be read without --allow-env=/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probe-visualize of a put that fills the table shows the resize and the path in the new table", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/full.adhsnap`;
    // 54 entries fill a 64-slot Robin Hood table to its 0.85 limit: the next new key resizes.
    const seeds = ["--seed", ...Array.from({ length: 54 }, (_, i) => `K${i}=${i}`)];
    const put = [
      "--mode",
      "fast-lookup",
      "probe-visualize",
      "--operation",
      "put",
      "--key",
      "hello",
      "--value",
      "v",
      "--snapshot",
      snap,
      ...seeds,
    ];
    let r = await cli(put);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nThe table is full: this put first grows it from 64 to 128 slots, /);
    assert.match(r.stdout, /\nHash: 0x[0-9a-f]{8}, capacity 128, ideal slot \d+\n/);
    const lands = /\] slot (\d+) [^\n]*-> (?:swap|insert)\n/.exec(r.stdout)?.[1];
    assert.ok(lands !== undefined, r.stdout);
    r = await cli([...put, "--apply"]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(["probe-visualize", "--operation", "get", "--key", "hello", "--snapshot", snap]);
    assert.match(r.stdout, /, capacity 128, /);
    assert.match(r.stdout, new RegExp(`\\] slot ${lands} occupied key="hello" [^\\n]*-> match\\n`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compact-snapshot reports before/after and writes a compacted snapshot", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/t.adhsnap`;
    const seeds = Array.from({ length: 30 }, (_, i) => ["--seed", `K${i}=${i}`]).flat();
    // Build a tombstone-heavy Robin Hood snapshot through the CLI itself.
    const cfg = `${dir}/c.toml`;
    await Deno.writeTextFile(
      cfg,
      '[adaptive]\nstart_backend = "robinhood"\nrh_deletion = "tombstone"\nmax_tombstone_ratio = 1.0\n',
    );
    let r = await cli([
      "--config",
      cfg,
      "probe-visualize",
      "--operation",
      "put",
      "--key",
      "x",
      "--value",
      "1",
      "--snapshot",
      snap,
      "--apply",
      ...seeds,
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 20; i++) await cli(["del", `K${i}`, "--snapshot", snap]);
    const before = json(
      await cli(["--json", "inspect-snapshot", "--in", snap]),
      "inspect-snapshot",
    );
    assert.ok((before.stats as { tombstones: number }).tombstones > 0);
    r = await cli(["compact-snapshot", "--in", snap, "--out", `${dir}/c.adhsnap.gz`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Compacted snapshot .* \(gzip\)\nsize_bytes: \d+ -> \d+\ncapacity: \d+ -> \d+\ntombstone_ratio: 0\.\d{4} -> 0\.0000\n$/,
    );
    const c = json(
      await cli([
        "--json",
        "compact-snapshot",
        "--in",
        snap,
        "--out",
        `${dir}/d.adhsnap`,
        "--compress",
      ]),
      "compact-snapshot",
    );
    assert.equal(c.compacted, true);
    assert.equal(c.compressed, true);
    assert.equal((c.after as { tombstones: number }).tombstones, 0);
    assert.equal((c.after as { size: number }).size, 11);
    r = await cli(["items", "--snapshot", `${dir}/c.adhsnap.gz`]);
    assert.equal(r.stdout.trimEnd().split("\n").length, 11);
    fails(await cli(["compact-snapshot", "--in", snap]), 2, "BadInput", /--out/);
    fails(
      await cli(["compact-snapshot", "--in", `${dir}/nope`, "--out", `${dir}/o`]),
      5,
      "IO",
      /not found/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compact-snapshot and verify-snapshot --repair give back a Robin Hood table without tombstones byte for byte", async () => {
  const dir = await tempDir();
  try {
    // Keys whose home is the last of 64 slots: all but the first wrap round to slots 0, 1, 2.
    const map = new RobinHoodMap<number>({ initialCapacity: 64 });
    for (let i = 0, n = 0; n < 4; i++) {
      if (indexFor(hashKey(`W${i}`), 6) === 63) map.set(`W${i}`, n++);
    }
    for (let i = 0; i < 30; i++) map.set(`K${i}`, i);
    const a = `${dir}/a.adhsnap`;
    await saveSnapshot(a, map, { key: null });
    let r = await cli(["compact-snapshot", "--in", a, "--out", `${dir}/b.adhsnap`]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(["compact-snapshot", "--in", `${dir}/b.adhsnap`, "--out", `${dir}/c.adhsnap`]);
    assert.equal(r.code, 0, r.stderr);
    r = await cli(["verify-snapshot", "--in", a, "--repair", "--out", `${dir}/r.adhsnap`]);
    assert.equal(r.code, 0, r.stderr);
    const bytes = await Deno.readFile(a);
    for (const f of ["b", "c", "r"]) {
      assert.deepEqual(await Deno.readFile(`${dir}/${f}.adhsnap`), bytes, `${f}.adhsnap`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("put, del, probe-visualize, compact-snapshot and repair keep a gzipped snapshot gzipped, whatever its name", async () => {
  const dir = await tempDir();
  try {
    const gz = (path: string) => Deno.readFileSync(path)[10]! & 1;
    const snap = `${dir}/store.snap`; // gzipped, but the name does not say so
    assert.equal((await cli(["put", "a", "1", "--snapshot", `${snap}.gz`])).code, 0);
    await Deno.rename(`${snap}.gz`, snap);
    assert.equal(gz(snap), 1);
    assert.equal((await cli(["put", "b", "2", "--snapshot", snap])).code, 0);
    assert.equal(gz(snap), 1, "put");
    assert.equal((await cli(["del", "a", "--snapshot", snap])).stdout, "1\n");
    assert.equal(gz(snap), 1, "del");
    const compact = async (out: string, ...flags: string[]) => {
      const r = await cli(["--json", "compact-snapshot", "--in", snap, "--out", out, ...flags]);
      return json(r, "compact-snapshot").compressed;
    };
    assert.equal(await compact(`${dir}/c1.snap`), true);
    assert.equal(gz(`${dir}/c1.snap`), 1);
    assert.equal(await compact(`${dir}/c2.snap`, "--no-compress"), false);
    assert.equal(gz(`${dir}/c2.snap`), 0);
    // An uncompressed input stays uncompressed unless asked.
    const plain = `${dir}/c2.snap`;
    assert.equal((await cli(["put", "c", "3", "--snapshot", plain])).code, 0);
    assert.equal(gz(plain), 0);
    fails(
      await cli(["compact-snapshot", "--in", snap, "--out", `${dir}/x.gz`, "--no-compress"]),
      2,
      "BadInput",
      /ends in \.gz but compression is off/,
    );
    fails(
      await cli([
        "compact-snapshot",
        "--in",
        snap,
        "--out",
        `${dir}/y`,
        "--compress",
        "--no-compress",
      ]),
      2,
      "BadInput",
      /contradict/,
    );
    const r = await cli(["verify-snapshot", "--in", snap, "--repair", "--out", `${dir}/r.snap`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(gz(`${dir}/r.snap`), 1, "repair");
    const pv = ["probe-visualize", "--operation", "put", "--key", "z", "--value", "9", "--apply"];
    assert.equal((await cli([...pv, "--snapshot", snap])).code, 0);
    assert.equal(gz(snap), 1, "probe-visualize --apply");
    assert.equal((await cli(["get", "b", "--snapshot", `${dir}/r.snap`])).stdout, "2\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect-snapshot prints header, checksum, stats, preview and lookup", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/i.adhsnap`;
    // One --seed with 25 values (the option is variadic, as `[--seed K=V ...]` documents).
    const seeds = ["--seed", ...Array.from({ length: 25 }, (_, i) => `K${i}=v${i}`)];
    await cli([
      "probe-visualize",
      "--operation",
      "put",
      "--key",
      "Z",
      "--value",
      "z",
      "--snapshot",
      snap,
      "--apply",
      ...seeds,
    ]);
    let r = await cli([
      "inspect-snapshot",
      "--in",
      snap,
      "--key",
      "K7",
      "--contains",
      "K2",
      "--limit",
      "2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Snapshot: .*i\.adhsnap \(\d+ bytes\)\n/);
    assert.match(
      r.stdout,
      /\nHeader: magic ADHSNAP1, version 2, flags 0x00, payload \d+ bytes stored/,
    );
    assert.match(r.stdout, /\nChecksum: blake2b-512 verified [0-9a-f]{32}\.\.\.\n/);
    assert.match(r.stdout, /\nKind: adaptive; backend /);
    assert.match(r.stdout, /\nStats: size 26, /);
    assert.match(r.stdout, /\nInvariants: OK\n/);
    assert.match(
      r.stdout,
      /\nEntries containing 'K2' \(showing 2 of 6\):\n {2}"K2\d?" = v2\d?\n {2}"K2\d?" = v2\d?\n/,
    );
    assert.match(r.stdout, /\nLookup 'K7': found "K7" = v7\n$/);
    const j = json(
      await cli(["--json", "inspect-snapshot", "--in", snap, "--key", "nope"]),
      "inspect-snapshot",
    );
    const { ok: _ok, command: _command, ...rest } = j;
    const parsed = SnapshotInspectionSchema.parse(rest);
    assert.equal(parsed.lookup?.found, false);
    assert.equal(parsed.entries.shown.length, 20);
    fails(
      await cli(["inspect-snapshot", "--in", snap, "--limit", "-1"]),
      2,
      "BadInput",
      /not an integer/,
    );
    r = await cli(["inspect-snapshot"]);
    fails(r, 2, "BadInput", /--in/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect-snapshot describes a table that cannot be built as stored", async () => {
  // A chaining table that stores a key twice: the core refuses to build it, and inspecting it
  // exited 3, though verify-snapshot --repair could rebuild it.
  const dir = await tempDir();
  try {
    const twice = `${dir}/twice.adhsnap`;
    const state = {
      kind: "chaining" as const,
      bucketCount: 8,
      maxLoadFactor: 1,
      keys: ["a", "a", "b"],
      values: [1, 2, 3],
    };
    await Deno.writeFile(twice, packSnapshot(encodeState(state), { key: null }));
    fails(await cli(["verify-snapshot", "--in", twice]), 3, "Invariant", /"a" appears twice/);
    const r = await cli(["--json", "inspect-snapshot", "--in", twice, "--key", "b"]);
    assert.equal(r.code, 0, r.stderr);
    const ins = SnapshotInspectionSchema.parse(json(r, "inspect-snapshot"));
    assert.equal(ins.invariants.ok, false);
    assert.match(ins.invariants.problems.join("\n"), /"a" appears twice/);
    assert.match(ins.invariants.problems.join("\n"), /cannot be built as stored/);
    assert.equal(ins.configuration.active.entries, 3, "the configuration is the file's");
    assert.equal(ins.stats.size, 2, "the figures are the rebuilt map's");
    assert.equal(ins.lookup?.value, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probe-visualize prints Robin Hood and chaining probe paths and exports trace JSON", async () => {
  const dir = await tempDir();
  try {
    // Two seeded keys in a Robin Hood table, looked up by GET K1.
    const traceK1 = [
      "--mode",
      "fast-lookup",
      "probe-visualize",
      "--operation",
      "get",
      "--key",
      "K1",
      "--seed",
      "K1=1",
      "--seed",
      "K2=2",
    ];
    let r = await cli([...traceK1, "--export-json", `${dir}/t.json`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "Probe visualization [robinhood] GET key='K1'");
    assert.match(lines[1]!, /^Hash: 0x[0-9a-f]{8}, capacity 64, ideal slot \d+$/);
    assert.equal(lines[2], "Steps:");
    assert.equal(lines.at(-2), "Result: match (found: true)");
    assert.match(
      lines.at(-3)!,
      /^\(dist: .* ends the search: Robin Hood would have put the key before it\.\)$/,
    );
    assert.match(lines.at(-4)!, /slot \d+ occupied key="K1" .* match -> match$/);
    assert.equal(lines.at(-1), `Trace JSON: ${dir}/t.json`);
    const trace = ProbeTraceSchema.parse(JSON.parse(await Deno.readTextFile(`${dir}/t.json`)));
    assert.equal(trace.backend, "robinhood");
    assert.equal(trace.found, true);
    assert.equal(trace.terminal, "match");
    // Deterministic hash: the same trace in another process.
    const again = json(
      await cli(["--json", ...traceK1]),
      "probe-visualize",
    );
    assert.deepEqual(again.trace, trace);
    r = await cli([
      "--mode",
      "fast-insert",
      "probe-visualize",
      "--operation",
      "put",
      "--key",
      "new",
      "--value",
      "v",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Probe visualization \[chaining\] PUT key='new'\nHash: 0x[0-9a-f]{8}, capacity \d+, bucket \d+\nSteps:\n {2}\(empty chain\)\nResult: insert \(found: false\)\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probe-visualize --apply saves the put to the snapshot; bad flags are BadInput", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/p.adhsnap`;
    let r = await cli([
      "probe-visualize",
      "--operation",
      "put",
      "--key",
      "A",
      "--value",
      "1",
      "--snapshot",
      snap,
      "--apply",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\nApplied: A=1 \(saved to .*p\.adhsnap\)\n$/);
    assert.equal((await cli(["get", "A", "--snapshot", snap])).stdout, "1\n");
    r = await cli(["probe-visualize", "--operation", "get", "--key", "A", "--snapshot", snap]);
    assert.match(r.stdout, /^Probe visualization \[chaining\] GET key='A'\n/);
    assert.match(r.stdout, /\nResult: match \(found: true\)\n$/);
    fails(
      await cli(["probe-visualize", "--operation", "put", "--key", "A"]),
      2,
      "BadInput",
      /needs --value/,
    );
    fails(await cli(["probe-visualize", "--operation", "del", "--key", "A"]), 2, "BadInput", /del/);
    fails(
      await cli(["probe-visualize", "--operation", "get", "--key", "A", "--seed", "novalue"]),
      2,
      "BadInput",
      /not KEY=VALUE/,
    );
    const plain = await cli(["probe-visualize", "--key", "A"]); // --operation is get unless given
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /\] GET key='A'\n/);
    fails(
      await cli([
        "probe-visualize",
        "--operation",
        "get",
        "--key",
        "A",
        "--snapshot",
        snap,
        "--export-json",
        snap,
      ]),
      2,
      "BadInput",
      /--snapshot and --export-json name the same file/,
    );
    assert.equal((await cli(["get", "A", "--snapshot", snap])).stdout, "1\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("items and get print committed test vectors, non-string values as JSON", async () => {
  const fixtures = filePath(new URL("../fixtures/snapshots/", import.meta.url));
  const r = await cli(["items", "--snapshot", `${fixtures}chaining_values.adhsnap`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 21);
  for (
    const line of [
      "k0,plain",
      "k5,2147483647",
      'k15,"[1,""two"",[3,null],{""four"":4}]"', // a CSV field: quoted, quotes doubled
      "k13,null",
      "42,number key",
      "1.5,float key",
    ]
  ) assert.ok(lines.includes(line), line);
  const keyed = `${fixtures}robinhood_keyed.adhsnap`;
  fails(await cli(["get", "secret", "--snapshot", keyed]), 5, "IO", /keyed/);
  const g = await cli(["get", "secret", "--snapshot", keyed], {
    ADHASH_SNAPSHOT_KEY: "adhash-fixture-key",
  });
  assert.equal(g.stdout, '{"level":3}\n');
});

Deno.test("put, get, del and probe-visualize reach a number key with --numeric", async () => {
  const fixtures = filePath(new URL("../fixtures/snapshots/", import.meta.url));
  const values = `${fixtures}chaining_values.adhsnap`; // holds the number keys 42 and 1.5
  assert.equal((await cli(["get", "42", "--snapshot", values])).stdout, "\n");
  assert.equal(
    (await cli(["get", "42", "--numeric", "--snapshot", values])).stdout,
    "number key\n",
  );
  const trace = json(
    await cli([
      "--json",
      "probe-visualize",
      "--operation",
      "get",
      "--key",
      "1.5",
      "--numeric",
      "--snapshot",
      values,
    ]),
    "probe-visualize",
  ).trace as { found: boolean; key_repr: string };
  assert.equal(trace.found, true);
  // The number and the string are two keys, side by side in one snapshot.
  const dir = await tempDir();
  const snap = `${dir}/s.adhsnap`;
  try {
    assert.equal((await cli(["put", "--numeric", "5", "five", "--snapshot", snap])).code, 0);
    assert.equal((await cli(["put", "5", "string five", "--snapshot", snap])).code, 0);
    const put = json(
      await cli(["--json", "put", "5", "FIVE", "--numeric", "--snapshot", snap]),
      "put",
    );
    assert.deepEqual([put.key, put.replaced, put.size], [5, true, 2]);
    assert.equal((await cli(["del", "5", "--numeric", "--snapshot", snap])).stdout, "1\n");
    const items = json(await cli(["--json", "items", "--snapshot", snap]), "items");
    assert.deepEqual(items.items, [["5", "string five"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Text that spells no number, or one a double cannot keep, would write another text's key.
  for (
    const [bad, why] of [
      ["x5", "is not a number in decimal notation"],
      ["", "is not a number"],
      [" 5", "is not a number"],
      ["0x10", "is not a number"],
      ["NaN", "is not a number"],
      ["1e400", "is too large for a number: it would be Infinity"],
      ["1e-400", "is too small for a number: it would be 0"],
      ["9007199254740993", "is not exactly a number: it would be 9007199254740992"],
      ["9007199254740993.0", "is not exactly a number: it would be 9007199254740992"],
    ]
  ) {
    fails(
      await cli(["get", bad!, "--numeric"]),
      2,
      "BadInput",
      new RegExp(`^--numeric: key ${JSON.stringify(bad)} ${why}`),
    );
  }
});

Deno.test("probe-visualize shows a key's and a value's controls as escapes", async () => {
  const r = await cli([
    "probe-visualize",
    "--operation",
    "put",
    "--key",
    "K\u001b]0;PWN\u0007\u202e1",
    "--value",
    "v\u001b[31mRED",
    "--apply",
  ]);
  assert.equal(r.code, 0, r.stderr);
  for (const c of ["\u001b", "\u0007", "\u202e"]) assert.ok(!r.stdout.includes(c), r.stdout);
  assert.match(r.stdout, /^Probe visualization \[\w+\] PUT key='K\\u001b\]0;PWN\\u0007\\u202e1'\n/);
  assert.match(r.stdout, /\nApplied: K\\u001b\]0;PWN\\u0007\\u202e1=v\\u001b\[31mRED\n?$/);
});

Deno.test("get, items and inspect-snapshot keep numbers JSON has no literal for apart", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/odd.adhsnap`;
    const m = new RobinHoodMap<unknown>();
    m.set(Infinity, NaN).set(-Infinity, -0).set("Infinity", "text").set(5, [1, -Infinity]);
    await saveSnapshot(snap, m, { key: null });
    const text = await cli(["items", "--snapshot", snap]);
    assert.deepEqual(text.stdout.trimEnd().split("\n").sort(), [
      "-Infinity,-0",
      '5,"[1,-Infinity]"',
      "Infinity,NaN",
      "Infinity,text",
    ]);
    // JSON writes NaN as null and -0 as 0; an infinite key is its text, never null.
    const items = json(await cli(["--json", "items", "--snapshot", snap]), "items");
    assert.deepEqual((items.items as unknown[]).map((x) => JSON.stringify(x)).sort(), [
      '["-Infinity",0]',
      '["Infinity","text"]',
      '["Infinity",null]',
      "[5,[1,null]]",
    ]);
    const inspection = SnapshotInspectionSchema.parse(
      json(
        await cli(["--json", "inspect-snapshot", "--in", snap, "--key", "-Infinity"]),
        "inspect-snapshot",
      ),
    );
    assert.deepEqual(
      inspection.entries.shown.map((e) => `${JSON.stringify(e.key)} ${e.key_repr}`).sort(),
      ['"-Infinity" -Infinity', '"Infinity" "Infinity"', '"Infinity" Infinity', "5 5"],
    );
    assert.deepEqual(inspection.lookup, {
      key: "-Infinity",
      found: true,
      matched_key: "-Infinity",
      matched_key_repr: "-Infinity",
      value: 0,
    });
    const inspected = await cli(["inspect-snapshot", "--in", snap]);
    assert.match(inspected.stdout, /\n {2}Infinity = NaN\n/);
    // The number found, not the string "-Infinity" (which the snapshot does not hold).
    const looked = await cli(["inspect-snapshot", "--in", snap, "--key=-Infinity"]);
    assert.match(looked.stdout, /^Lookup '-Infinity': found -Infinity = -0$/m);
    // A negative number is taken for an option unless it comes after `--`, as the hint says.
    const flag = await cli(["get", "-Infinity", "--numeric", "--snapshot", snap]);
    fails(flag, 2, "BadInput", /^unknown option '-Infinity'$/);
    assert.equal(
      flag.envelope!.hint,
      "An argument that starts with '-' goes after '--': ... -- -Infinity",
    );
    const got = await cli(["get", "--numeric", "--snapshot", snap, "--", "-Infinity"]);
    assert.deepEqual([got.code, got.stdout], [0, "-0\n"]);
    // A key asked as the other type than the one stored: found nothing, and says why.
    const missed = await cli(["get", "5", "--snapshot", snap]);
    assert.deepEqual([missed.code, missed.stdout], [0, "\n"]);
    assert.match(missed.stderr, /No string key "5", but the number 5 is a key \(add --numeric\)/);
    const del = await cli(["del", "Infinity", "--numeric", "--snapshot", snap]);
    assert.equal(del.stdout, "1\n");
    assert.equal(del.stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("put and del running at once on one snapshot keep every change", async () => {
  const dir = await tempDir();
  try {
    const snap = `${dir}/kv.adhsnap`;
    assert.equal((await cli(["put", "seed", "0", "--snapshot", snap])).code, 0);
    const runs = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => cli(["put", `key${i}`, `v${i}`, "--snapshot", snap])),
      cli(["del", "seed", "--snapshot", snap]),
    ]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const r = await cli(["items", "--snapshot", snap]);
    const keys = r.stdout.trimEnd().split("\n").map((l) => l.split(",")[0]).sort();
    assert.deepEqual(keys, Array.from({ length: 12 }, (_, i) => `key${i}`).sort());
    // The lock's side file goes with the last holder.
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["kv.adhsnap"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run-csv continuing a snapshot in place and puts on it at once keep every change, however the file is named", async () => {
  const dir = await tempDir();
  try {
    const csv = `${dir}/w.csv`;
    await Deno.writeTextFile(
      csv,
      ["op,key,value", ...Array.from({ length: 20_000 }, (_, i) => `put,r${i},${i}`)].join("\n"),
    );
    Deno.mkdirSync(`${dir}/sub`);
    // --snapshot-out names --snapshot-in's file another way: still a read-modify-write.
    for (const [name, out] of [["a", "a"], ["b", "sub/../b"], ["c", "./c"]]) {
      const snap = `${dir}/${name}.adhsnap`;
      assert.equal((await cli(["put", "seed", "0", "--snapshot", snap])).code, 0);
      const runs = await Promise.all([
        cli([
          "run-csv",
          "--csv",
          csv,
          "--snapshot-in",
          snap,
          "--snapshot-out",
          `${dir}/${out}.adhsnap`,
        ]),
        ...Array.from({ length: 6 }, (_, i) => cli(["put", `k${i}`, "v", "--snapshot", snap])),
      ]);
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      const r = await cli(["--json", "items", "--snapshot", snap]);
      const keys = new Set((json(r, "items").items as Array<[string, string]>).map(([k]) => k));
      for (const k of ["seed", "r0", "r19999", ...Array.from({ length: 6 }, (_, i) => `k${i}`)]) {
        assert.ok(keys.has(k), `${k} kept in ${name}`);
      }
      assert.equal(keys.size, 20_000 + 1 + 6);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("get, items and probe-visualize of a snapshot that is not there warn that the map is empty", async () => {
  const dir = await tempDir();
  try {
    const missing = `${dir}/typo.snp`;
    for (
      const args of [
        ["get", "K5", "--snapshot", missing],
        ["items", "--snapshot", missing],
        ["probe-visualize", "--operation", "get", "--key", "K5", "--snapshot", missing],
      ]
    ) {
      const r = await cli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /\[WRN\] .*No snapshot at ".*typo\.snp": reading a new, empty map/);
    }
    // Writing commands create the snapshot: nothing to warn about.
    const r = await cli(["put", "K5", "v", "--snapshot", missing]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /No snapshot/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

linuxTest(
  "inspect-snapshot omits a value too long to show, which get prints whole",
  async (dir) => {
    const snap = `${dir}/s.adhsnap`;
    const long = "y".repeat(70_000);
    assert.equal((await cli(["put", "L", long, "--snapshot", snap])).code, 0);
    assert.equal((await cli(["put", "S", "short", "--snapshot", snap])).code, 0);
    const text = await cli(["inspect-snapshot", "--in", snap, "--key", "L"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ {2}"L" = \(omitted: too long to show; get prints it\)$/m);
    assert.match(text.stdout, /^ {2}"S" = short$/m);
    assert.match(
      text.stdout,
      /^Lookup 'L': found "L" = \(omitted: too long to show; get prints it\)$/m,
    );
    assert.ok(!text.stdout.includes("y".repeat(100)));
    const report = json(
      await cli(["--json", "inspect-snapshot", "--in", snap]),
      "inspect-snapshot",
    );
    const shown = (report.entries as { shown: Array<Record<string, unknown>> }).shown;
    assert.deepEqual(shown.find((e) => e.key === "L"), {
      key: "L",
      key_repr: '"L"',
      value: null,
      value_omitted: true,
    });
    assert.equal((await cli(["get", "L", "--snapshot", snap])).stdout, `${long}\n`);
    // Keys that would take the preview past 1 MiB end it, and the text says so.
    const keys = new RobinHoodMap<number>();
    for (let i = 0; i < 20; i++) keys.set(`${i}`.padEnd(60_000, "k"), i);
    await saveSnapshot(`${dir}/keys.adhsnap`, keys, { key: null });
    const ended = await cli(["inspect-snapshot", "--in", `${dir}/keys.adhsnap`]);
    assert.match(ended.stdout, /^Entries \(showing [0-9] of 20\):$/m);
    assert.match(ended.stdout, /^ {2}\(the preview ends here: 1 MiB shown\)$/m);
  },
);

linuxTest(
  "compact-snapshot shrinks a chaining table that lost its entries, bare or adaptive",
  async (dir) => {
    // It said "chaining table: nothing to compact" until a table held 64 times the chains its
    // entries need; a bare one now fits them, an adaptive one is left a quarter full.
    const bare = new ChainingMap<number>();
    for (let i = 0; i < 50_000; i++) bare.set(i, i);
    for (let i = 1000; i < 50_000; i++) bare.delete(i);
    await saveSnapshot(`${dir}/bare.adhsnap`, bare, { key: null });
    const adaptive = AdaptiveMap.fromState<number>({
      ...new AdaptiveMap<number>().exportState(),
      active: bare.exportState(),
    });
    await saveSnapshot(`${dir}/adaptive.adhsnap`, adaptive, { key: null });
    for (const [name, chains] of [["bare", 2048], ["adaptive", 4096]] as const) {
      const r = json(
        await cli([
          "--json",
          "compact-snapshot",
          "--in",
          `${dir}/${name}.adhsnap`,
          "--out",
          `${dir}/${name}.c`,
        ]),
        "compact-snapshot",
      );
      assert.equal(r.compacted, true, name);
      assert.deepEqual(
        [(r.before as { capacity: number }).capacity, (r.after as { capacity: number }).capacity],
        [65536, chains],
        name,
      );
      assert.equal((r.after as { size: number }).size, 1000);
    }
  },
);

linuxTest(
  "compact-snapshot in place waits for the snapshot's lock, so a put in between is kept",
  async (dir) => {
    // It read, compacted and wrote without the lock `put` takes: a put in between was lost.
    const snap = `${dir}/s.adhsnap`;
    const map = new RobinHoodMap<string>();
    for (let i = 0; i < 100; i++) map.set(`K${i}`, "v");
    await saveSnapshot(snap, map, { key: null });
    const release = await lockFile(snap); // as a `put` under way holds it
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "compact-snapshot", "--in", snap, "--out", snap],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const waited = await Promise.race([
      child.status.then(() => "ended"),
      new Promise((r) => setTimeout(r, 1500, "waiting")),
    ]);
    map.set("K_NEW", "from the put");
    await saveSnapshot(snap, map, { key: null });
    release();
    const out = await child.output();
    assert.equal(waited, "waiting", "compact-snapshot did not wait for the lock");
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal((await cli(["get", "K_NEW", "--snapshot", snap])).stdout, "from the put\n");
  },
);
