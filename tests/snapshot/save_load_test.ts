import assert from "node:assert/strict";
// The error classes as a library user imports them.
import { BadInputError, InvariantError, IOError } from "../../mod.ts";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import {
  checkSnapshotFile,
  compactMap,
  decodeSnapshot,
  decodeSnapshotState,
  encodeSnapshot,
  inspectSnapshot,
  loadSnapshot,
  rebuildFromState,
  saveSnapshot,
} from "../../src/snapshot/mod.ts";
import type { RobinHoodState } from "../../src/core/types.ts";
import { encodeState } from "../../src/snapshot/codec.ts";
import { packSnapshot } from "../../src/snapshot/format.ts";
import { SnapshotInspectionSchema } from "../../src/contracts/snapshot.ts";
import { brokenRobinHoodState } from "./broken_state.ts";
import { snapshotState, withTempDir } from "../_helpers.ts";

Deno.test("saveSnapshot() and loadSnapshot() round-trip through a file", async () => {
  await withTempDir(async (dir) => {
    const m = new RobinHoodMap<unknown>({ deletion: "tombstone" });
    for (let i = 0; i < 100; i++) m.set(`K${i}`, { i });
    m.delete("K5");
    const info = await saveSnapshot(`${dir}/m.adhsnap`, m, { key: null });
    assert.equal(info.compressed, false);
    assert.equal(info.keyed, false);
    assert.equal(info.kind, "robinhood");
    assert.equal(info.size, 99);
    assert.equal(info.bytes, (await Deno.stat(`${dir}/m.adhsnap`)).size);
    const back = await loadSnapshot<{ i: number }>(`${dir}/m.adhsnap`, { key: null });
    assert.ok(back instanceof RobinHoodMap);
    const typed: number | undefined = back.get("K7")?.i; // the type parameter reaches the values
    assert.equal(typed, 7);
    assert.deepEqual([...back.entries()], [...m.entries()]);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), ["m.adhsnap"]);
    const keyed = await saveSnapshot(`${dir}/k.adhsnap`, m, { key: "secret" });
    assert.equal(keyed.keyed, true);
    assert.equal((await loadSnapshot(`${dir}/k.adhsnap`, { key: "secret" })).size, 99);
  });
});

Deno.test("saveSnapshot() compresses .gz names and refuses .gz with compression off", async () => {
  await withTempDir(async (dir) => {
    const m = new ChainingMap<unknown>();
    m.set("a", "b".repeat(1000));
    const gz = await saveSnapshot(`${dir}/m.adhsnap.gz`, m, { key: null });
    assert.equal(gz.compressed, true);
    const bytes = await Deno.readFile(`${dir}/m.adhsnap.gz`);
    assert.equal(bytes[10]! & 1, 1);
    assert.ok(gz.bytes < 300);
    await assert.rejects(
      () => saveSnapshot(`${dir}/x.gz`, m, { compress: false, key: null }),
      (e: unknown) =>
        e instanceof BadInputError && /ends in \.gz but compression is off/.test(e.message),
    );
    const plain = await saveSnapshot(`${dir}/m.bin`, m, { compress: true, key: null });
    assert.equal(plain.compressed, true);
    assert.deepEqual(
      (await loadSnapshot(`${dir}/m.bin`, { key: null })).get("a"),
      "b".repeat(1000),
    );
  });
});

Deno.test("saveSnapshot() refuses values that are not JSON-compatible, leaving no file", async () => {
  await withTempDir(async (dir) => {
    const m = new ChainingMap<unknown>();
    for (let i = 0; i < 30_000; i++) m.set(`K${i}`, "v".repeat(40));
    m.set("zzz", new Date(0));
    // Met past the first MiB of payload: a chunk is in the file when the write fails.
    assert.ok(m.exportState().keys.indexOf("zzz") * 45 > 1 << 20);
    for (const name of ["m.adhsnap", "m.adhsnap.gz"]) {
      await assert.rejects(
        () => saveSnapshot(`${dir}/${name}`, m, { key: null }),
        (err: unknown) =>
          err instanceof TypeError &&
          err.message === "Cannot encode value of type Date in a snapshot",
      );
    }
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  });
});

Deno.test("loadSnapshot() reports missing, empty and oversized files as IOError", async () => {
  await withTempDir(async (dir) => {
    await assert.rejects(
      () => loadSnapshot(`${dir}/none`),
      (e: unknown) =>
        e instanceof IOError && e.name === "IOError" && e.code === "IO" && e.exitCode === 5 &&
        /not found/.test(e.message),
    );
    await Deno.writeFile(`${dir}/empty`, new Uint8Array());
    await assert.rejects(
      () => loadSnapshot(`${dir}/empty`),
      (e: unknown) => e instanceof IOError && e.message === "Truncated snapshot",
    );
    const m = new ChainingMap<unknown>();
    for (let i = 0; i < 1000; i++) m.set(i, i);
    await saveSnapshot(`${dir}/big`, m, { key: null });
    await assert.rejects(
      () => loadSnapshot(`${dir}/big`, { key: null, maxPayloadBytes: 100 }),
      (e: unknown) =>
        e instanceof IOError && /^Snapshot payload exceeds maximum allowed size/.test(e.message),
    );
    // One byte short: the header's check finds it without reading the file.
    const whole = await Deno.readFile(`${dir}/big`);
    await Deno.writeFile(`${dir}/short`, whole.subarray(0, whole.length - 1));
    for (const read of [checkSnapshotFile, loadSnapshot]) {
      await assert.rejects(
        () => read(`${dir}/short`),
        (e: unknown) => e instanceof IOError && e.message === "Truncated snapshot",
      );
    }
    await checkSnapshotFile(`${dir}/big`);
  });
});

Deno.test("loadSnapshot() throws InvariantError for a well-formed snapshot of a broken table", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(
      `${dir}/broken`,
      packSnapshot(encodeState(brokenRobinHoodState()), { key: null }),
    );
    await assert.rejects(
      () => loadSnapshot(`${dir}/broken`, { key: null }),
      (e: unknown) => e instanceof InvariantError && e.exitCode === 3 && /distance/.test(e.message),
    );
  });
});

Deno.test("decodeSnapshot() throws InvariantError for a snapshot with a single problem", () => {
  // A load factor the format holds but the core refuses: the map is built with 0.97 instead.
  const state = { ...new RobinHoodMap<unknown>().set("a", 1).exportState(), maxLoadFactor: 0.98 };
  const bytes = packSnapshot(encodeState(state), { key: null });
  assert.throws(
    () => decodeSnapshot(bytes, { key: null }),
    (e: unknown) =>
      e instanceof InvariantError &&
      /max load factor 0\.98 is outside \[0\.1, 0\.97\]/.test(e.message),
  );
  const lenient = decodeSnapshot(bytes, { key: null, checkInvariants: false });
  assert.equal(lenient.problems.length, 1);
  assert.equal(lenient.map.get("a"), 1);
});

Deno.test("decodeSnapshot() reports a full Robin Hood table as broken, and rebuildFromState() repairs it", () => {
  const full: RobinHoodState = {
    kind: "robinhood",
    capacity: 8,
    maxLoadFactor: 0.85,
    deletion: "backshift",
    slots: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
    keys: ["a", "b", "c", "d", "e", "f", "g", "h"],
    values: [0, 1, 2, 3, 4, 5, 6, 7],
    tombstoneSlots: new Int32Array(0),
    tombstoneDistances: new Int32Array(0),
  };
  const bytes = packSnapshot(encodeState(full), { key: null });
  assert.deepEqual(decodeSnapshotState(bytes, { key: null }).state, full);
  assert.throws(
    () => decodeSnapshot(bytes, { key: null }),
    (e: unknown) => e instanceof InvariantError && /do not fit 8 slots/.test(e.message),
  );
  const { map, kept } = rebuildFromState(full);
  assert.equal(kept, 8);
  assert.deepEqual(map.checkInvariants(), []);
  assert.equal(map.get("h"), 7);
});

Deno.test("rebuildFromState() repairs a broken table keeping every entry", () => {
  const state = brokenRobinHoodState();
  const { map, kept, dropped } = rebuildFromState(state);
  assert.equal(kept, 6);
  assert.equal(dropped, 0);
  assert.deepEqual(map.checkInvariants(), []);
  for (let i = 0; i < 6; i++) assert.equal(map.get(`K${i}`), i);
  const dup = { ...state, keys: state.keys.map((k, i) => (i === 1 ? state.keys[0]! : k)) };
  const r = rebuildFromState(dup);
  assert.equal(r.kept, 5);
  assert.equal(r.dropped, 1);
});

Deno.test("compactMap() drops tombstones of Robin Hood tables, adaptive ones included", () => {
  const m = new RobinHoodMap<unknown>({ initialCapacity: 64, deletion: "tombstone" });
  for (let i = 0; i < 40; i++) m.set(i, i);
  for (let i = 0; i < 30; i++) m.delete(i);
  assert.ok(m.stats().tombstones > 0);
  const r = compactMap(m);
  assert.equal(r.compacted, true);
  assert.equal(r.map.stats().tombstones, 0);
  assert.equal(r.map.size, 10);
  const a = new AdaptiveMap<unknown>({
    startBackend: "robinhood",
    rhDeletion: "tombstone",
    maxTombstoneRatio: 1,
  });
  for (let i = 0; i < 40; i++) a.set(i, i);
  for (let i = 0; i < 30; i++) a.delete(i);
  assert.ok(a.stats().tombstones > 0);
  const before = a.compactions;
  const heard: string[] = [];
  a.onEvent((e) => heard.push(e.type));
  const ra = compactMap(a);
  assert.equal(ra.compacted, true);
  assert.equal(ra.map, a, "compacted in place, listeners kept");
  assert.equal(ra.map.stats().tombstones, 0);
  assert.equal(a.compactions, before + 1);
  assert.deepEqual(heard, ["compaction"]);
  assert.equal(compactMap(new ChainingMap<unknown>()).compacted, false);
});

Deno.test("compactMap() reports a Robin Hood table it leaves as it was not compacted", () => {
  const m = new RobinHoodMap<unknown>().set("a", 1).set("b", 2);
  const before = m.exportState();
  const r = compactMap(m);
  assert.deepEqual(m.exportState(), before);
  assert.deepEqual([r.compacted, r.note], [false, "Robin Hood table: nothing to compact"]);
  const a = new AdaptiveMap<unknown>({ startBackend: "robinhood" }).set("a", 1);
  assert.equal(compactMap(a).compacted, false);
  // Shrunk, it is compacted.
  for (let i = 0; i < 1000; i++) m.set(i, i);
  for (let i = 0; i < 1000; i++) m.delete(i);
  assert.deepEqual([compactMap(m).compacted, m.capacity], [true, 64]);
});

Deno.test("compactMap() leaves a migrating adaptive map alone unless asked to finish", () => {
  const a = new AdaptiveMap<unknown>({
    incrementalBatch: 1,
    initialBuckets: 2,
    groupsPerBucket: 4,
  });
  let i = 0;
  while (!a.migrating) a.set(i, i++);
  const skipped = compactMap(a);
  assert.equal(skipped.compacted, false);
  assert.equal(skipped.map, a);
  assert.equal(a.migrating, true);
  const done = compactMap(a, { finishMigration: true });
  assert.equal(done.compacted, true);
  assert.equal(done.note, "migration finished; compacted");
  assert.equal((done.map as AdaptiveMap<unknown>).migrating, false);
  assert.equal(done.map.backend, "robinhood");
  assert.equal(done.map.size, i);
  assert.deepEqual(done.map.checkInvariants(), []);
});

Deno.test("inspectSnapshot() describes header, checksum, statistics, entries and lookups", async () => {
  await withTempDir(async (dir) => {
    const m = new AdaptiveMap<unknown>();
    for (let i = 0; i < 50; i++) m.set(`K${i}`, i);
    m.set(7, "seven");
    await saveSnapshot(`${dir}/s.adhsnap.gz`, m, { key: "k" });
    const r = await inspectSnapshot(`${dir}/s.adhsnap.gz`, {
      checksumKey: "k",
      key: "7",
      contains: "K1",
      limit: 3,
    });
    SnapshotInspectionSchema.parse(r);
    assert.equal(r.header.version, 2);
    assert.equal(r.header.flags, 3);
    assert.equal(r.checksum.algorithm, "hmac-blake2b-512");
    assert.equal(r.kind, "adaptive");
    assert.equal(r.stats.size, 51);
    assert.equal(r.invariants.ok, true);
    assert.equal(r.entries.matched, 11); // K1, K10..K19
    assert.equal(r.entries.shown.length, 3);
    assert.equal(r.entries.truncated, true);
    assert.ok(r.entries.shown.every((e) => String(e.key).includes("K1")));
    assert.deepEqual(r.lookup, {
      key: "7",
      found: true,
      matched_key: 7,
      matched_key_repr: "7",
      value: "seven",
    });
    const miss = await inspectSnapshot(`${dir}/s.adhsnap.gz`, { checksumKey: "k", key: "nope" });
    assert.deepEqual(miss.lookup, {
      key: "nope",
      found: false,
      matched_key: null,
      matched_key_repr: null,
      value: null,
    });
    assert.equal(miss.entries.shown.length, 20);
    await assert.rejects(
      () => inspectSnapshot(`${dir}/s.adhsnap.gz`, { checksumKey: null }),
      IOError,
    );
  });
});

Deno.test("inspectSnapshot() reports a broken table instead of throwing", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(
      `${dir}/broken`,
      packSnapshot(encodeState(brokenRobinHoodState()), { key: null }),
    );
    const r = await inspectSnapshot(`${dir}/broken`, { checksumKey: null });
    SnapshotInspectionSchema.parse(r);
    assert.equal(r.invariants.ok, false);
    assert.ok(r.invariants.problems.length > 0);
  });
});

Deno.test("saveSnapshot() writes a payload of many chunks as encodeSnapshot() encodes it", async () => {
  await withTempDir(async (dir) => {
    // Over 2 MiB of payload each: the file is written in several chunks.
    const fill = (m: ChainingMap<unknown> | RobinHoodMap<unknown> | AdaptiveMap<unknown>) => {
      for (let i = 0; i < 60_000; i++) m.set(`K${i}`, `value ${i} `.padEnd(40, "."));
      for (let i = 0; i < 60_000; i += 7) m.delete(`K${i}`);
      return m;
    };
    const migrating = new AdaptiveMap<unknown>({ incrementalBatch: 1 });
    fill(migrating);
    while (!migrating.migrating) migrating.set(`M${migrating.size}`, 0);
    const maps = [
      fill(new ChainingMap<unknown>()),
      fill(new RobinHoodMap<unknown>({ deletion: "tombstone" })),
      migrating,
    ];
    for (const m of maps) {
      for (const key of [null, "k3y"]) {
        const bytes = encodeSnapshot(m, { key });
        assert.ok(bytes.length > 2 << 20, `${bytes.length} bytes`);
        const info = await saveSnapshot(`${dir}/m.adh`, m, { key });
        assert.deepEqual(Deno.readFileSync(`${dir}/m.adh`), bytes);
        assert.equal(info.bytes, bytes.length);
        assert.equal(info.payloadBytes, bytes.length - 86);
        assert.equal(info.keyed, key !== null);
        assert.equal(info.checksum, decodeSnapshot(bytes, { key }).checksum);
        // Gzipped on the way: what it reads back is the same map.
        const gz = await saveSnapshot(`${dir}/m.adh.gz`, m, { key });
        const file = Deno.readFileSync(`${dir}/m.adh.gz`);
        assert.equal(gz.bytes, file.length);
        assert.equal(gz.payloadBytes, bytes.length - 86);
        const back = decodeSnapshot(file, { key });
        assert.equal(back.checksum, gz.checksum);
        assert.equal(back.payloadBytes, gz.payloadBytes);
        assert.deepEqual(snapshotState(back.map), snapshotState(m));
      }
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["m.adh", "m.adh.gz"]);
  });
});

Deno.test("saveSnapshot() keeps an adaptive map that is shrinking, and the load finishes the shrink", async () => {
  await withTempDir(async (dir) => {
    const m = new AdaptiveMap<number>({ startBackend: "robinhood", incrementalBatch: 16 });
    for (let i = 0; i < 50_000; i++) m.set(`k${i}`, i);
    let gone = 0;
    while (!m.migrating) m.delete(`k${gone++}`);
    const from = m.stats().capacity;
    const target = m.exportState().target!;
    assert.ok(target.kind === "robinhood" && target.capacity * 4 <= from, `${from} slots`);
    await saveSnapshot(`${dir}/s.adhsnap`, m, { key: null });
    const back = await loadSnapshot<number>(`${dir}/s.adhsnap`, { key: null }) as AdaptiveMap<
      number
    >;
    assert.equal(back.migrating, true);
    assert.deepEqual(new Map(back), new Map(m));
    for (let i = gone; i < 50_000 - 5; i++) back.delete(`k${i}`);
    back.finishMigration();
    assert.ok(back.stats().capacity <= 128, `${back.stats().capacity} slots for 5 entries`);
    assert.deepEqual(back.checkInvariants(), []);
  });
});

Deno.test("decodeSnapshot(), loadSnapshot() and encodeSnapshot() refuse arguments of the wrong kind, quoting them", async () => {
  const bytes = encodeSnapshot(new ChainingMap<unknown>().set("a", 1), { key: null });
  // Each was an engine error: a DataView, a BigInt or an exportState() that is not a function.
  assert.throws(
    () => decodeSnapshot(bytes.buffer as unknown as Uint8Array, { key: null }),
    new TypeError(
      "Snapshot bytes must be a Uint8Array: received [object ArrayBuffer] " +
        "(view it with new Uint8Array(buffer))",
    ),
  );
  for (const bad of [NaN, -1, 1.5, Infinity]) {
    assert.throws(
      () => decodeSnapshot(bytes, { key: null, maxPayloadBytes: bad }),
      new RangeError(`maxPayloadBytes must be a non-negative integer: received ${bad}`),
    );
  }
  assert.throws(
    () => decodeSnapshot(bytes, { key: null, maxPayloadBytes: "100" as unknown as number }),
    TypeError,
  );
  await withTempDir(async (dir) => {
    Deno.writeFileSync(`${dir}/m.adh`, bytes);
    await assert.rejects(
      () => loadSnapshot(`${dir}/m.adh`, { key: null, maxPayloadBytes: NaN }),
      RangeError,
    );
    await assert.rejects(
      () => saveSnapshot(`${dir}/n.adh`, new Map() as never, { key: null }),
      TypeError,
    );
  });
  assert.throws(
    () => encodeSnapshot(new Map() as never),
    new TypeError(
      "Only a ChainingMap, RobinHoodMap or AdaptiveMap is saved as a snapshot: received [object Map]",
    ),
  );
  assert.equal(decodeSnapshot(bytes, { key: null }).map.get("a"), 1);
});
