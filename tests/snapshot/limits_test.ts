import assert from "node:assert/strict";
import { InvariantError, PolicyError } from "../../src/errors.ts";
import { IOError } from "../../src/errors.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import type { RobinHoodState } from "../../src/core/types.ts";
import {
  checkTableBudget,
  compactMap,
  decodeSnapshot,
  decodeSnapshotState,
  encodeSnapshot,
  saveSnapshot,
} from "../../src/snapshot/mod.ts";
import { type EncodableState, encodeState } from "../../src/snapshot/codec.ts";
import { packSnapshot } from "../../src/snapshot/format.ts";
import { runCli, tempDir } from "../cli/_run.ts";
import { runPeakScript } from "../_peak.ts";
import { linuxTest } from "../_helpers.ts";

/** What the peak scripts print. */
interface Peak {
  payload: number;
  rise: number;
}

function snapshotBytes(state: EncodableState, compress = false): Uint8Array {
  return packSnapshot(encodeState(state), { key: null, compress });
}

function emptyRobinHood(capacity: number): RobinHoodState {
  return {
    kind: "robinhood",
    capacity,
    maxLoadFactor: 0.85,
    deletion: "backshift",
    slots: new Int32Array(0),
    keys: [],
    values: [],
    tombstoneSlots: new Int32Array(0),
    tombstoneDistances: new Int32Array(0),
  };
}

Deno.test("decodeSnapshotState() reads tables above 2^24 slots that their entries justify, and no others", () => {
  // 2^19 entries justify 2^25 slots; the table itself is not built here (about 1 GB).
  const n = 2 ** 19;
  const slots = new Int32Array(n);
  const keys: string[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    slots[i] = i * 64;
    keys.push(`K${i}`);
    values.push(i);
  }
  const rh: RobinHoodState = { ...emptyRobinHood(2 ** 25), slots, keys, values };
  const raw = decodeSnapshotState(snapshotBytes(rh), { key: null });
  assert.equal(raw.state.kind === "robinhood" && raw.state.capacity, 2 ** 25);
  // So do chaining tables: their buckets cost little memory, but every one is walked.
  const ch = decodeSnapshotState(
    snapshotBytes({ kind: "chaining", bucketCount: 2 ** 25, maxLoadFactor: 1, keys, values }),
    { key: null },
  );
  assert.equal(ch.state.kind === "chaining" && ch.state.bucketCount, 2 ** 25);
  const emptyChains = snapshotBytes({
    kind: "chaining",
    bucketCount: 2 ** 30,
    maxLoadFactor: 1,
    keys: [],
    values: [],
  });
  assert.ok(emptyChains.length < 200);
  assert.throws(
    () => decodeSnapshot(emptyChains, { key: null }),
    (e: unknown) => e instanceof IOError && /chaining table of 1073741824 buckets/.test(e.message),
  );
});

Deno.test("decodeSnapshot() refuses Robin Hood tables their entries do not justify, before building them", () => {
  const tiny: EncodableState = {
    kind: "adaptive",
    policy: {},
    active: emptyRobinHood(2 ** 25),
    target: emptyRobinHood(2 ** 25),
    migrations: 0,
    compactions: 0,
  };
  const bytes = snapshotBytes(tiny);
  assert.ok(bytes.length < 200);
  assert.throws(
    () => decodeSnapshot(bytes, { key: null }),
    (e: unknown) =>
      e instanceof IOError &&
      /^Malformed payload: active Robin Hood table of 33554432 slots exceeds the 16777216 a/
        .test(e.message),
  );
  // A reader may keep files to less than that.
  const small = snapshotBytes({ ...tiny, active: emptyRobinHood(2 ** 21), target: null });
  assert.throws(() => decodeSnapshot(small, { key: null, freeSlots: 2 ** 20 }), IOError);
  const policy: EncodableState = {
    kind: "adaptive",
    policy: { startBackend: "robinhood", initialCapacityRh: 2 ** 25 },
    active: emptyRobinHood(64),
    target: null,
    migrations: 0,
    compactions: 0,
  };
  assert.throws(
    () => decodeSnapshot(snapshotBytes(policy), { key: null }),
    (e: unknown) => e instanceof IOError && /policy's initial Robin Hood table/.test(e.message),
  );
});

Deno.test("checkTableBudget() counts tombstones as stored entries", () => {
  // 1024 slots need 16 entries and tombstones at 64 per entry (above 8 free slots).
  const table = (entries: number, tombstones: number): RobinHoodState => ({
    ...emptyRobinHood(1024),
    deletion: "tombstone",
    slots: Int32Array.from({ length: entries }, (_, i) => i),
    keys: Array.from({ length: entries }, (_, i) => i),
    values: new Array(entries).fill(0),
    tombstoneSlots: Int32Array.from({ length: tombstones }, (_, i) => 100 + i),
    tombstoneDistances: new Int32Array(tombstones),
  });
  assert.equal(checkTableBudget(table(2, 14), 8), null);
  assert.match(
    checkTableBudget(table(2, 13), 8)!,
    /^Robin Hood table of 1024 slots exceeds the 960 a snapshot of 15 entries and tombstones may/,
  );
});

Deno.test("decodeSnapshotState() reads an adaptive policy whose initial tables reach maxCapacity", () => {
  const bytes = encodeSnapshot(new AdaptiveMap<number>().set("a", 1), { key: null });
  // 64 x 8 = 512 initial chains; the Robin Hood table's 64 slots.
  assert.equal(decodeSnapshotState(bytes, { key: null, maxCapacity: 512 }).state.kind, "adaptive");
  assert.throws(
    () => decodeSnapshotState(bytes, { key: null, maxCapacity: 256 }),
    (e: unknown) => e instanceof IOError && /exceed/.test(e.message),
  );
});

Deno.test("encodeSnapshot() writes every table a map grows to, and refuses what readers refuse", async () => {
  // With readers of 2^20 free slots (2^24 by default: a table past it takes a GB to build), the
  // sparsest table growth makes: load factor 0.1, just past the free slots.
  const tight = { key: null, freeSlots: 2 ** 20 };
  const grown = new RobinHoodMap<unknown>({ maxLoadFactor: 0.1, initialCapacity: 8 });
  for (let i = 0; grown.capacity <= 2 ** 20; i++) grown.set(i, i);
  const back = decodeSnapshotState(encodeSnapshot(grown, tight), tight);
  assert.equal(back.state.kind === "robinhood" && back.state.capacity, grown.capacity);

  const sparse = new RobinHoodMap<unknown>({ initialCapacity: 2 ** 21 });
  sparse.set("k", "v");
  assert.throws(() => encodeSnapshot(sparse, tight), PolicyError);
  // Every table up to 2^24 slots is written and read by default, as before the rule.
  decodeSnapshotState(encodeSnapshot(sparse, { key: null }), { key: null });
  const dir = tempDir();
  try {
    await assert.rejects(() => saveSnapshot(`${dir}/s.adh`, sparse, tight), PolicyError);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // A grown table that lost its entries is refused until compact() shrinks it.
    for (let i = 1; grown.size > 1; i++) grown.delete(i);
    assert.throws(() => encodeSnapshot(grown, tight), PolicyError);
    grown.compact();
    await saveSnapshot(`${dir}/c.adh`, grown, tight);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  // Nor a chaining table its entries do not justify.
  const chains = new ChainingMap<unknown>({ initialBuckets: 2 ** 21 });
  assert.throws(() => encodeSnapshot(chains, tight), PolicyError);
  decodeSnapshotState(encodeSnapshot(chains, { key: null }), { key: null });
});

Deno.test("run-csv --snapshot-out refuses, writing nothing, a map whose initial tables no reader loads", async () => {
  const dir = tempDir();
  try {
    // Before the rule such a snapshot was written, and every reader refused it.
    Deno.writeTextFileSync(`${dir}/w.csv`, "op,key,value\nPUT,K1,1\nPUT,K2,2\nGET,K1,\n");
    const cases: Array<[string, RegExp]> = [
      ["initial_capacity_rh = 33554432", /initial_capacity_rh/],
      ["initial_buckets = 4194304", /initial_buckets x groups_per_bucket/],
    ];
    for (const [setting, hint] of cases) {
      Deno.writeTextFileSync(`${dir}/c.toml`, `[adaptive]\n${setting}\n`);
      const r = await runCli([
        "--config",
        `${dir}/c.toml`,
        "run-csv",
        "--csv",
        `${dir}/w.csv`,
        "--snapshot-out",
        `${dir}/p.adh`,
      ]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(String(r.envelope?.hint), hint);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["c.toml", "w.csv"]);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("verify-snapshot refuses a tiny snapshot that declares huge empty Robin Hood tables", async () => {
  const dir = tempDir();
  try {
    const state: EncodableState = {
      kind: "adaptive",
      policy: {},
      active: emptyRobinHood(2 ** 25),
      target: emptyRobinHood(2 ** 25),
      migrations: 0,
      compactions: 0,
    };
    Deno.writeFileSync(`${dir}/t.adh`, snapshotBytes(state));
    for (const args of [["verify-snapshot", "--in"], ["get", "k", "--snapshot"]]) {
      const r = await runCli([...args, `${dir}/t.adh`]);
      assert.equal(r.code, 5, r.stderr);
      assert.match(
        String(r.envelope?.detail),
        /^Malformed payload: .* exceeds the 16777216 a snapshot/,
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

linuxTest(
  "unpackSnapshot() inflates a gzip payload in about the memory of its output",
  async (dir) => {
    const size = 64 * 1024 * 1024;
    const file = `${dir}/z.adh`;
    Deno.writeFileSync(file, packSnapshot(new Uint8Array(size), { key: null, compress: true }));
    const { payload, rise } = await runPeakScript<Peak>("snapshot/_gunzip_peak.ts", file);
    assert.equal(payload, size);
    // Chunks joined at the end and then copied took three times the output.
    assert.ok(rise < 1.5 * size, `peak rose by ${rise} bytes for a ${size}-byte payload`);
  },
);

Deno.test("a file written before the table-size rule, with a sparse table, still reads", async () => {
  const dir = tempDir();
  try {
    const old = new RobinHoodMap<unknown>({ initialCapacity: 2 ** 22 });
    old.set("k", "v");
    Deno.writeFileSync(`${dir}/old.adh`, snapshotBytes(old.exportState()));
    let r = await runCli(["verify-snapshot", "--in", `${dir}/old.adh`]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(["get", "k", "--snapshot", `${dir}/old.adh`]);
    assert.equal(r.stdout, "v\n");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("compactMap() shrinks a chaining table that lost its entries, so that it can be saved", () => {
  const tight = { key: null, freeSlots: 2 ** 16 };
  const chains = new ChainingMap<unknown>();
  for (let i = 0; chains.capacity <= 2 ** 16; i++) chains.set(i, i);
  for (let i = 100; chains.size > 100; i++) chains.delete(i);
  assert.throws(() => encodeSnapshot(chains, tight), PolicyError);
  const { map, compacted } = compactMap(chains);
  assert.ok(compacted);
  assert.equal(map.stats().capacity, 128);
  const back = decodeSnapshot(encodeSnapshot(map, tight), tight).map;
  assert.deepEqual([...back.keys()].sort((a, b) => Number(a) - Number(b)), [...Array(100).keys()]);
  // One that fits is left as it is.
  assert.equal(compactMap(map).compacted, false);
});

Deno.test("encodeSnapshot() and saveSnapshot() refuse a payload their readers would refuse", async () => {
  const map = new RobinHoodMap<unknown>();
  for (let i = 0; i < 200; i++) map.set(`K${i}`, "v".repeat(50));
  const exact = encodeSnapshot(map, { key: null }).length - 86;
  // Readers with a limit of exactly the payload's size read it; one byte less, none does.
  const bytes = encodeSnapshot(map, { key: null, maxPayloadBytes: exact });
  assert.equal(decodeSnapshot(bytes, { key: null, maxPayloadBytes: exact }).map.size, 200);
  assert.throws(
    () => encodeSnapshot(map, { key: null, maxPayloadBytes: exact - 1 }),
    (err: unknown) =>
      err instanceof PolicyError &&
      err.message ===
        `Cannot save the map as a snapshot: its payload of ${exact} bytes exceeds the ${
          exact - 1
        } bytes readers accept`,
  );
  // Gzipped: the decompressed payload counts, as readers count it.
  assert.throws(
    () => encodeSnapshot(map, { key: null, compress: true, maxPayloadBytes: exact - 1 }),
    PolicyError,
  );
  const dir = tempDir();
  try {
    const path = `${dir}/s.snap`;
    await assert.rejects(
      () => saveSnapshot(path, map, { key: null, maxPayloadBytes: exact - 1 }),
      PolicyError,
    );
    assert.throws(() => Deno.statSync(path), Deno.errors.NotFound);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("saveSnapshot() stops a payload of many chunks at the first past the limit", async () => {
  const map = new RobinHoodMap<unknown>();
  for (let i = 0; i < 20_000; i++) map.set(`K${i}`, "v".repeat(200)); // about 4 MiB
  const dir = tempDir();
  try {
    for (const path of [`${dir}/s.snap`, `${dir}/s.snap.gz`]) {
      await assert.rejects(
        () => saveSnapshot(path, map, { key: null, maxPayloadBytes: 1 << 20 }),
        (err: unknown) => {
          assert.ok(err instanceof PolicyError);
          // Cut after the first chunk that passes 1 MiB, not after encoding all 4.
          const m =
            /^Cannot save the map as a snapshot: its payload of at least (\d+) bytes exceeds the 1048576 bytes readers accept$/
              .exec(err.message);
          assert.ok(m !== null && Number(m[1]) < 1.1 * (1 << 20), err.message);
          return true;
        },
      );
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

linuxTest("saveSnapshot() writes a payload without holding it in memory whole", async (dir) => {
  const { payload, rise } = await runPeakScript<Peak>(
    "snapshot/_save_peak.ts",
    "200000",
    `${dir}/big.adh`,
  );
  assert.equal(Deno.statSync(`${dir}/big.adh`).size, payload + 86);
  // Encoded whole, then copied behind its header, it took about three times the payload.
  assert.ok(payload > 200e6 && rise < payload / 2, `peak rose by ${rise} bytes for ${payload}`);
});

Deno.test("encodeSnapshot() and decodeSnapshot() bound the memory a state takes decoded, alike", async () => {
  // 20 entries, each an array of 10 empty objects and a string: 20 x (32 + 11 x 8) for the
  // arrays, 200 x 32 for the objects, 20 x (16 + 2) for the strings "é" (two UTF-8 bytes).
  // Keys and entries are not counted.
  const map = new ChainingMap<unknown>();
  for (let i = 0; i < 20; i++) map.set(`K${i}`, [...Array.from({ length: 10 }, () => ({})), "é"]);
  const cost = 20 * (32 + 88) + 200 * 32 + 20 * 18;
  const bytes = encodeSnapshot(map, { key: null, maxDecodedBytes: cost });
  assert.equal(decodeSnapshot(bytes, { key: null, maxDecodedBytes: cost }).map.size, 20);
  assert.throws(
    () => decodeSnapshot(bytes, { key: null, maxDecodedBytes: cost - 1 }),
    (err: unknown) =>
      err instanceof IOError &&
      /^Malformed payload: string value: the state would take over 9159 bytes of memory decoded \(estimated\) at byte \d+$/
        .test(err.message),
  );
  assert.throws(
    () => encodeSnapshot(map, { key: null, maxDecodedBytes: cost - 1 }),
    (err: unknown) =>
      err instanceof PolicyError &&
      err.message ===
        `Cannot save the map as a snapshot: decoding it would take over ${
          cost - 1
        } bytes of memory (estimated), more than readers accept`,
  );
  // Entries, keys (strings too), numbers and null are not counted: such a map passes any limit.
  const plain = new ChainingMap<unknown>();
  for (let i = 0; i < 1000; i++) plain.set(i % 2 ? i : `K${i}`, i % 3 ? i * 0.5 : null);
  const none = { key: null, maxDecodedBytes: 0 };
  assert.equal(decodeSnapshot(encodeSnapshot(plain, none), none).map.size, 1000);
  const dir = tempDir();
  try {
    await assert.rejects(
      () => saveSnapshot(`${dir}/s.snap`, map, { key: null, maxDecodedBytes: cost - 1 }),
      PolicyError,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("verify-snapshot refuses a small gzip file whose value would decode into 2 GiB of arrays", async () => {
  // One entry whose value is an array of 56 million empty arrays: 112 MB of payload, about 110
  // KB gzipped, 2.2 GB of memory decoded. It was decoded (and a bigger one ran V8 out of
  // memory, exit 133); now refused once the arrays made pass 2 GiB, estimated.
  const n = 56_000_000;
  const varint = (v: number): number[] => {
    const out = [];
    for (; v >= 0x80; v = Math.floor(v / 0x80)) out.push((v & 0x7f) | 0x80);
    return [...out, v];
  };
  const lf = [...new Uint8Array(new Float64Array([0.75]).buffer)].reverse();
  const head = [0x01, 0x08, ...lf, 0x01, 0x05, 0x01, 0x6b, 0x06, ...varint(n)];
  const payload = new Uint8Array(head.length + 2 * n);
  payload.set(head);
  for (let i = head.length; i < payload.length; i += 2) payload[i] = 0x06; // 06 00: []
  const dir = tempDir();
  try {
    const file = `${dir}/bomb.adh.gz`;
    Deno.writeFileSync(file, packSnapshot(payload, { key: null, compress: true }));
    assert.ok(Deno.statSync(file).size < 1 << 20);
    const r = await runCli(["verify-snapshot", "--in", file]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(
      String(r.envelope?.detail),
      /^Malformed payload: array: the state would take over 2147483648 bytes of memory decoded/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a snapshot with more entries than its chains hold is refused, not loaded in quadratic time", async () => {
  // 150,000 keys in 8 chains (no chaining table holds more than 16 per chain) took 7 s to load,
  // the time growing with the square of the entries, from a 200 KB gzip file.
  const n = 150_000;
  const keys = Array.from({ length: n }, (_, i) => i);
  const state: EncodableState = {
    kind: "chaining",
    bucketCount: 8,
    maxLoadFactor: 16,
    keys,
    values: keys.map(() => null),
  };
  const bytes = snapshotBytes(state, true);
  const started = performance.now();
  assert.throws(
    () => decodeSnapshot(bytes, { key: null }),
    (e: unknown) => e instanceof InvariantError && /150000 entries in 8 chains/.test(e.message),
  );
  // Described (inspect, verify) as the map its entries make, as a table stored twice is.
  const lenient = decodeSnapshot(bytes, { key: null, checkInvariants: false });
  assert.equal(lenient.map.size, n);
  assert.deepEqual(lenient.map.checkInvariants(), []);
  assert.match(lenient.problems[0]!, /150000 entries in 8 chains/);
  assert.ok(performance.now() - started < 3000, `took ${performance.now() - started} ms`);
  // Exactly 16 per chain is a table a map reaches, and loads.
  const full = { ...state, keys: keys.slice(0, 128), values: keys.slice(0, 128) };
  assert.equal(decodeSnapshot(snapshotBytes(full), { key: null }).map.size, 128);
  const dir = tempDir();
  try {
    Deno.writeFileSync(`${dir}/long.adh`, bytes);
    let r = await runCli(["verify-snapshot", "--in", `${dir}/long.adh`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(String(r.envelope?.detail), /150000 entries in 8 chains/);
    r = await runCli([
      "--json",
      "verify-snapshot",
      "--in",
      `${dir}/long.adh`,
      "--repair",
      "--out",
      `${dir}/fixed.adh`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"kept":150000,"dropped":0/);
    r = await runCli(["verify-snapshot", "--in", `${dir}/fixed.adh`]);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
