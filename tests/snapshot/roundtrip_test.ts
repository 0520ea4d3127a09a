import assert from "node:assert/strict";
import fc from "fast-check";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import type { AnyMap } from "../../src/core/factory.ts";
import type { Key } from "../../src/core/types.ts";
import { decodeSnapshot, encodeSnapshot } from "../../src/snapshot/mod.ts";
import { type EncodableState, encodeState, encodeStateChunks } from "../../src/snapshot/codec.ts";
import { packSnapshot } from "../../src/snapshot/format.ts";
import { snapshotState } from "../_helpers.ts";

type Op = { op: "set"; key: Key; value: unknown } | { op: "del"; key: Key };

const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc.integer({ min: 0, max: 60 }).map((i) => `K${i}`),
  fc.integer({ min: -20, max: 20 }),
  fc.double({ noNaN: true, min: -1e6, max: 1e6 }),
  fc.string({ maxLength: 6 }),
);
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(null, true, false),
  fc.jsonValue({ maxDepth: 2 }),
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("set" as const), key: keyArb, value: valueArb }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("del" as const), key: keyArb }) },
);
const opsArb = fc.array(opArb, { maxLength: 250 });

function apply(map: AnyMap<unknown>, ops: Op[]): void {
  for (const o of ops) {
    if (o.op === "set") map.set(o.key, o.value);
    else map.delete(o.key);
  }
}

function sorted(map: AnyMap<unknown>): Array<[Key, unknown]> {
  const repr = (k: Key) => `${typeof k}:${String(k)}`;
  return [...map.entries()].sort((a, b) => (repr(a[0]) < repr(b[0]) ? -1 : 1));
}

function assertSame(a: AnyMap<unknown>, b: AnyMap<unknown>): void {
  assert.equal(b.constructor, a.constructor);
  assert.equal(b.backend, a.backend);
  assert.equal(b.size, a.size);
  // bytesEstimate counts a chaining slab's spare room, which a restore does not recreate.
  assert.deepEqual({ ...b.stats(), bytesEstimate: 0 }, { ...a.stats(), bytesEstimate: 0 });
  assert.deepEqual(snapshotState(b), snapshotState(a));
  assert.deepEqual(sorted(b), sorted(a));
  if (a instanceof RobinHoodMap) assert.deepEqual([...b.entries()], [...a.entries()]);
  for (const [k, v] of a.entries()) assert.deepEqual(b.get(k), v);
  assert.deepEqual(b.checkInvariants(), []);
}

function roundTrip(map: AnyMap<unknown>, compress: boolean): AnyMap<unknown> {
  const bytes = encodeSnapshot(map, { compress, key: null });
  return decodeSnapshot(bytes, { key: null }).map;
}

Deno.test("decodeSnapshot(encodeSnapshot()) restores any chaining map exactly", () => {
  fc.assert(
    fc.property(opsArb, fc.boolean(), (ops, compress) => {
      const m = new ChainingMap<unknown>({ initialBuckets: 8 });
      apply(m, ops);
      assertSame(m, roundTrip(m, compress));
    }),
    { numRuns: 150 },
  );
});

Deno.test("decodeSnapshot(encodeSnapshot()) restores any Robin Hood map exactly, tombstones included", () => {
  fc.assert(
    fc.property(
      opsArb,
      fc.constantFrom("backshift" as const, "tombstone" as const),
      fc.boolean(),
      (ops, deletion, compress) => {
        const m = new RobinHoodMap<unknown>({ initialCapacity: 8, deletion });
        apply(m, ops);
        const back = roundTrip(m, compress);
        assertSame(m, back);
        assert.equal((back as RobinHoodMap<unknown>).deletion, deletion);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("decodeSnapshot(encodeSnapshot()) restores adaptive maps, policy and counters included", () => {
  fc.assert(
    fc.property(
      opsArb,
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom("chaining" as const, "robinhood" as const),
      fc.constantFrom("backshift" as const, "tombstone" as const),
      (ops, batch, startBackend, rhDeletion) => {
        const m = new AdaptiveMap<unknown>({
          incrementalBatch: batch,
          initialBuckets: 2,
          groupsPerBucket: 4,
          initialCapacityRh: 8,
          startBackend,
          rhDeletion,
          maxAvgProbeRobinhood: 1.5,
        });
        apply(m, ops);
        const back = roundTrip(m, false) as AdaptiveMap<unknown>;
        // Checked before assertSame: its lookups advance a migration.
        assert.deepEqual(back.policy, m.policy);
        assert.equal(back.migrating, m.migrating);
        assert.equal(back.migrations, m.migrations);
        assert.equal(back.compactions, m.compactions);
        assertSame(m, back);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("decodeSnapshot(encodeSnapshot()) restores an adaptive map stopped mid-migration", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 12 }),
      opsArb,
      (batch, extra, later) => {
        const m = new AdaptiveMap<unknown>({
          incrementalBatch: batch,
          initialBuckets: 2,
          groupsPerBucket: 4,
        });
        let i = 0;
        while (!m.migrating) m.set(`M${i}`, i++);
        for (let j = 0; j < extra && m.migrating; j++) m.set(`M${i}`, i++);
        const wasMigrating = m.migrating;
        const back = roundTrip(m, true) as AdaptiveMap<unknown>;
        assert.equal(back.migrating, wasMigrating);
        assertSame(m, back);
        // The restored map carries on exactly like the original.
        apply(m, later);
        apply(back, later);
        assert.deepEqual(sorted(back), sorted(m));
        assert.deepEqual(back.checkInvariants(), []);
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("decodeSnapshot(encodeSnapshot()) restores a migrating map that later resumes and finishes", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 1, initialBuckets: 2, groupsPerBucket: 4 });
  let i = 0;
  while (!m.migrating) m.set(`M${i}`, i++);
  m.set(`M${i}`, i++);
  assert.ok(m.migrating);
  const back = roundTrip(m, false) as AdaptiveMap<unknown>;
  assert.ok(back.migrating);
  back.finishMigration();
  assert.equal(back.migrating, false);
  assert.equal(back.migrations, m.migrations + 1);
  assert.equal(back.backend, "robinhood");
  for (let j = 0; j < i; j++) assert.equal(back.get(`M${j}`), j);
  assert.deepEqual(back.checkInvariants(), []);
});

Deno.test("encodeStateChunks() cuts a payload after entries into chunks that join to encodeState()'s", () => {
  fc.assert(
    fc.property(
      opsArb,
      fc.constantFrom("chaining", "robinhood", "adaptive"),
      fc.integer({ min: 1, max: 300 }),
      (ops, kind, chunkBytes) => {
        const m = kind === "chaining"
          ? new ChainingMap<unknown>({ initialBuckets: 8 })
          : kind === "robinhood"
          ? new RobinHoodMap<unknown>({ initialCapacity: 8, deletion: "tombstone" })
          : new AdaptiveMap<unknown>({
            incrementalBatch: 2,
            initialBuckets: 2,
            groupsPerBucket: 4,
          });
        apply(m, ops);
        const state = m.exportState() as EncodableState;
        const chunks = [...encodeStateChunks(state, chunkBytes)];
        // Chunks are kept, not reused: joined after the last is made, they are the payload.
        const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          joined.set(c, at);
          at += c.length;
        }
        assert.deepEqual(joined, encodeState(state));
        // Every chunk but the last is cut once it reaches chunkBytes, after the entry crossing it.
        for (const c of chunks.slice(0, -1)) assert.ok(c.length >= chunkBytes);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("decodeSnapshot() gives each table its class's initial size, which a snapshot does not store", () => {
  const maps: AnyMap<unknown>[] = [
    new RobinHoodMap({ initialCapacity: 8 }),
    new RobinHoodMap(),
    new ChainingMap({ initialBuckets: 8 }),
  ];
  for (const m of maps) {
    for (let i = 0; i < 200; i++) m.set(i, i);
    const back = roundTrip(m, false);
    assertSame(m, back);
    back.clear();
    assert.equal(back.stats().capacity, 64, m.backend);
  }
});

Deno.test("decodeSnapshot() loads a -0 key as the key 0, in either backend", () => {
  // Maps never hold -0, but the format can: a snapshot written by another writer.
  for (const map of [new RobinHoodMap<unknown>(), new ChainingMap<unknown>()]) {
    const state = map.set(0, "zero").exportState();
    const bytes = packSnapshot(encodeState({ ...state, keys: [-0] }), { key: null });
    const back = decodeSnapshot(bytes, { key: null }).map;
    assert.ok(Object.is([...back.keys()][0], 0), map.backend);
    assert.equal(back.get(0), "zero");
  }
});
