// Model-based property tests: every map against the built-in Map over random op sequences,
// with thresholds small enough that resizes, compactions and migrations in both directions
// happen in the middle of sequences.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AdaptiveMap,
  ChainingMap,
  hashKey,
  type HashMapLike,
  indexFor,
  type Key,
  RobinHoodMap,
} from "../../mod.ts";

type Op =
  | { t: "set"; k: Key; v: number }
  | { t: "get"; k: Key }
  | { t: "has"; k: Key }
  | { t: "del"; k: Key }
  | { t: "iter" }
  | { t: "compact" }
  | { t: "clear" };

const key: fc.Arbitrary<Key> = fc.oneof(
  fc.integer({ min: 0, max: 60 }).map((i) => `K${i}`),
  fc.integer({ min: -30, max: 30 }),
  fc.constantFrom(0.5, -0, 1e21, "", "é", "\u{1F600}"),
);
function opOver(key: fc.Arbitrary<Key>): fc.Arbitrary<Op> {
  return fc.oneof(
    {
      weight: 40,
      arbitrary: fc.record({ t: fc.constant("set" as const), k: key, v: fc.integer() }),
    },
    { weight: 20, arbitrary: fc.record({ t: fc.constant("get" as const), k: key }) },
    { weight: 10, arbitrary: fc.record({ t: fc.constant("has" as const), k: key }) },
    { weight: 25, arbitrary: fc.record({ t: fc.constant("del" as const), k: key }) },
    { weight: 3, arbitrary: fc.constant({ t: "iter" as const }) },
    { weight: 1, arbitrary: fc.constant({ t: "compact" as const }) },
    { weight: 1, arbitrary: fc.constant({ t: "clear" as const }) },
  );
}
const op = opOver(key);

/**
 * A paged Robin Hood table is at least 2^18 slots, where a few dozen random keys would never
 * collide. These keys all have their home in the 16 slots either side of the table's end, so
 * they displace one another, shift back and wrap round.
 */
const PAGED_SLOTS = 1 << 18;
const crowded: Key[] = [];
for (let i = 0; crowded.length < 48; i++) {
  const home = indexFor(hashKey(`P${i}`), 18);
  if (home < 16 || home >= PAGED_SLOTS - 16) crowded.push(`P${i}`);
}
const crowdedOp = opOver(fc.constantFrom(...crowded));

type Tested = HashMapLike<number> & { checkInvariants(): string[]; compact(): void };

function run(map: Tested, ops: Op[]): void {
  const ref = new Map<Key, number>();
  for (const o of ops) {
    switch (o.t) {
      case "set":
        assert.equal(map.set(o.k, o.v), map);
        ref.set(o.k, o.v);
        break;
      case "get":
        assert.equal(map.get(o.k), ref.get(o.k));
        break;
      case "has":
        assert.equal(map.has(o.k), ref.has(o.k));
        break;
      case "del":
        assert.equal(map.delete(o.k), ref.delete(o.k));
        break;
      case "iter": {
        const got = [...map.entries()];
        assert.equal(got.length, ref.size);
        assert.deepEqual(new Map(got), ref);
        assert.deepEqual(new Set(map.keys()), new Set(ref.keys()));
        assert.deepEqual([...map.values()].sort(), [...ref.values()].sort());
        let n = 0;
        map.forEach((v, k, m) => {
          assert.equal(ref.get(k), v);
          assert.equal(m, map);
          n++;
        });
        assert.equal(n, ref.size);
        break;
      }
      case "compact":
        map.compact();
        assert.deepEqual(map.checkInvariants(), []);
        break;
      case "clear":
        map.clear();
        ref.clear();
    }
    assert.equal(map.size, ref.size);
  }
  assert.deepEqual(map.checkInvariants(), []);
  assert.deepEqual(new Map(map), ref);
}

const makers: Record<string, () => Tested> = {
  "ChainingMap": () => new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor: 0.75 }),
  "RobinHoodMap (backshift)": () => new RobinHoodMap<number>({ initialCapacity: 8 }),
  "RobinHoodMap (tombstone)": () =>
    new RobinHoodMap<number>({ initialCapacity: 8, deletion: "tombstone" }),
  "AdaptiveMap (both directions)": () =>
    new AdaptiveMap<number>({
      initialBuckets: 8,
      groupsPerBucket: 1,
      initialCapacityRh: 8,
      incrementalBatch: 2,
      maxLfChaining: 0.5,
      maxGroupLen: 3,
      maxAvgProbeRobinhood: 0.4,
    }),
  "AdaptiveMap (tombstones, compaction)": () =>
    new AdaptiveMap<number>({
      startBackend: "robinhood",
      initialCapacityRh: 8,
      initialBuckets: 8,
      groupsPerBucket: 1,
      incrementalBatch: 3,
      rhDeletion: "tombstone",
      maxTombstoneRatio: 0.1,
      maxAvgProbeRobinhood: 0.7,
      maxLfChaining: 0.6,
    }),
};

for (const [name, make] of Object.entries(makers)) {
  Deno.test(`${name} behaves like Map over random operation sequences`, () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300, size: "max" }), (ops) => run(make(), ops)),
      {
        numRuns: 300,
      },
    );
  });
}

for (const deletion of ["backshift", "tombstone"] as const) {
  Deno.test(`RobinHoodMap.withCapacity() paged (${deletion}) behaves like Map over random operation sequences`, () => {
    fc.assert(
      fc.property(fc.array(crowdedOp, { maxLength: 300, size: "max" }), (ops) => {
        const m = RobinHoodMap.withCapacity<number>(PAGED_SLOTS, { deletion }, true);
        run(m, ops);
        // compact() rebuilds from the paged storage (into a flat table).
        const before = new Map(m);
        m.compact();
        assert.deepEqual(m.checkInvariants(), []);
        assert.deepEqual(new Map(m), before);
      }),
      { numRuns: 150 },
    );
  });
}

for (const deletion of ["backshift", "tombstone"] as const) {
  Deno.test(`RobinHoodMap.drainEntriesInto() a table sharing the slab (${deletion}) keeps every key as Map does`, () => {
    // As an AdaptiveMap drives it: new keys go to the target, every other write to the table
    // holding the key, and the source drains some entries between operations. A small target
    // rebuilds itself while sharing, which ends the sharing mid-migration, possibly mid-step.
    // A source of 256 slots (a paged table made small through withSlabOf()) is dense enough
    // for a step to move many entries.
    const step = fc.record({ op, max: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(key, fc.integer()), { maxLength: 100, size: "max" }),
        fc.array(step, { maxLength: 200, size: "max" }),
        fc.constantFrom(16, 64, PAGED_SLOTS),
        fc.constantFrom(256, PAGED_SLOTS),
        (initial, steps, capacity, sourceSlots) => {
          const big = RobinHoodMap.withCapacity<number>(PAGED_SLOTS, { deletion }, true);
          const source = sourceSlots === PAGED_SLOTS
            ? big
            : RobinHoodMap.withSlabOf<number>(sourceSlots, { deletion }, big);
          if (source !== big) big.endSharing();
          const ref = new Map<Key, number>();
          for (const [k, v] of initial) {
            source.set(k, v);
            ref.set(k, v);
          }
          for (const [k] of initial.slice(0, 10)) source.delete(k) && ref.delete(k);
          const target = RobinHoodMap.withSlabOf<number>(capacity, { deletion }, source);
          const check = () => {
            assert.deepEqual(source.checkInvariants(), []);
            assert.deepEqual(target.checkInvariants(), []);
          };
          check();
          let cursor = 0;
          const holder = (k: Key) => (source.has(k) ? source : target);
          for (const [n, { op: o, max }] of steps.entries()) {
            if (o.t === "set") {
              holder(o.k).set(o.k, o.v);
              ref.set(o.k, o.v);
            } else if (o.t === "get") assert.equal(holder(o.k).get(o.k), ref.get(o.k));
            else if (o.t === "has") assert.equal(holder(o.k).has(o.k), ref.has(o.k));
            else if (o.t === "del") assert.equal(holder(o.k).delete(o.k), ref.delete(o.k));
            if (source.size > 0) cursor = source.drainEntriesInto(cursor, max, target);
            if (n % 8 === 0) check(); // a check scans both tables: 2^18 slots each
          }
          while (source.size > 0) cursor = source.drainEntriesInto(cursor, 7, target);
          source.endSharing();
          assert.deepEqual(target.checkInvariants(), []);
          assert.deepEqual(new Map(target), ref);
          for (let i = 0; i < 50; i++) target.set(`N${i}`, i); // takes freed entries back
          assert.deepEqual(target.checkInvariants(), []);
        },
      ),
      { numRuns: 100 },
    );
  });
}

Deno.test("AdaptiveMap migrates both ways and compacts inside property sequences", () => {
  // Guards the test above against thresholds that never fire: count events over the same runs.
  const seen = new Set<string>();
  fc.assert(
    fc.property(fc.array(op, { minLength: 100, maxLength: 300, size: "max" }), (ops) => {
      for (
        const make of [
          makers["AdaptiveMap (both directions)"]!,
          makers["AdaptiveMap (tombstones, compaction)"]!,
        ]
      ) {
        const m = make() as AdaptiveMap<number>;
        m.onEvent((e) => seen.add(e.type === "switch" ? `switch ${e.from}->${e.to}` : e.type));
        run(m, ops);
      }
    }),
    { numRuns: 100, seed: 42 },
  );
  for (
    const want of [
      "start",
      "switch chaining->robinhood",
      "switch robinhood->chaining",
      "compaction",
      "resize",
    ]
  ) {
    assert.ok(seen.has(want), `no ${want} event in any run: ${[...seen].join(", ")}`);
  }
});

Deno.test("AdaptiveMap shrinks back as entries go, inside property sequences", () => {
  // Sequences that fill the map, then delete nearly every key among other operations: each
  // table shrinks while the model holds.
  const ids = Array.from({ length: 400 }, (_, i) => i);
  const fill = fc.shuffledSubarray(ids, { minLength: 300 }).map((keep) =>
    keep.map((i): Op => ({ t: "set", k: `W${i}`, v: i }))
  );
  const other = fc.oneof(
    fc.constantFrom(...ids).map((i): Op => ({ t: "set", k: `W${i}`, v: -i })),
    fc.constantFrom(...ids).map((i): Op => ({ t: "get", k: `W${i}` })),
    fc.constant<Op>({ t: "iter" }),
  );
  const drain = fc.tuple(fc.shuffledSubarray(ids, { minLength: 390 }), fc.array(other)).map(
    ([gone, rest]) => {
      const ops = gone.map((i): Op => ({ t: "del", k: `W${i}` }));
      rest.forEach((o, n) => ops.splice((n * 37) % (ops.length + 1), 0, o));
      return ops;
    },
  );
  const shrunk = new Set<string>();
  fc.assert(
    fc.property(fill, drain, (a, b) => {
      for (
        const name of ["AdaptiveMap (both directions)", "AdaptiveMap (tombstones, compaction)"]
      ) {
        const m = makers[name]!() as AdaptiveMap<number>;
        let capacity = m.stats().capacity; // the table's before each event
        m.onEvent((e) => {
          if (e.type === "resize" && e.capacity < capacity) shrunk.add(`${name} ${e.to}`);
          if (e.type !== "start") capacity = e.capacity;
        });
        run(m, [...a, ...b]);
      }
    }),
    { numRuns: 60, seed: 7 },
  );
  for (
    const want of [
      "AdaptiveMap (both directions) robinhood",
      "AdaptiveMap (both directions) chaining",
      "AdaptiveMap (tombstones, compaction) robinhood",
    ]
  ) assert.ok(shrunk.has(want), `no shrink: ${want}; saw ${[...shrunk].join(", ")}`);
});
