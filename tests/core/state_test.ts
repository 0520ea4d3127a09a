import assert from "node:assert/strict";
import {
  AdaptiveMap,
  type AnyMap,
  ChainingMap,
  DEFAULT_POLICY,
  hashKey,
  indexFor,
  type MapEvent,
  type MapState,
  restoreMap,
  RobinHoodMap,
} from "../../mod.ts";

function fill(map: AnyMap<unknown>, n: number, deleteEvery = 3): AnyMap<unknown> {
  for (let i = 0; i < n; i++) map.set(i % 2 ? `K${i}` : i, { i, tag: `v${i}` });
  for (let i = 0; i < n; i += deleteEvery) map.delete(i % 2 ? `K${i}` : i);
  return map;
}

/** Statistics without the byte estimate (a restored slab has no freed entries to carry). */
function shape(m: AnyMap<unknown>): object {
  const { bytesEstimate: _, ...rest } = m.stats();
  return rest;
}

function assertSame(a: AnyMap<unknown>, b: AnyMap<unknown>): void {
  assert.equal(b.backend, a.backend);
  assert.deepEqual(shape(b), shape(a));
  assert.deepEqual(b.exportState(), a.exportState()); // same layout, slot by slot
  assert.deepEqual(new Map(b), new Map(a));
  assert.deepEqual(b.checkInvariants(), []);
}

Deno.test("restoreMap() rebuilds the exact table of every backend", () => {
  const maps: AnyMap<unknown>[] = [
    fill(new ChainingMap({ initialBuckets: 8 }), 500),
    fill(new RobinHoodMap({ initialCapacity: 8 }), 500),
    fill(new RobinHoodMap({ initialCapacity: 8, deletion: "tombstone" }), 500),
    fill(new AdaptiveMap(), 2_000),
  ];
  for (const m of maps) {
    const state = m.exportState();
    const copy = restoreMap(structuredClone(state) as MapState);
    assertSame(m, copy);
  }
});

Deno.test("restoreMap() resumes an adaptive map in the middle of a migration", () => {
  const m = new AdaptiveMap<unknown>({ incrementalBatch: 4 });
  let i = 0;
  while (!m.migrating) m.set(`K${i++}`, i);
  // Prepare the target, then move some entries (but not all).
  let state = m.exportState();
  for (let j = 0; j < 1000 && state.target?.keys.length === 0; j++) {
    m.get("K0");
    state = m.exportState();
  }
  assert.ok(m.migrating);
  assert.ok(state.target !== null && state.target.kind === "robinhood");
  assert.ok(state.target.keys.length > 0 && state.active.keys.length > 0, "split between tables");
  const copy = restoreMap(structuredClone(state) as MapState) as AdaptiveMap<unknown>;
  assert.ok(copy.migrating);
  assert.equal(copy.size, m.size);
  assert.deepEqual(shape(copy), shape(m));
  assert.deepEqual(copy.checkInvariants(), []);
  // Both finish the migration and agree on every entry (the order entries move in, and so
  // the final slot of keys that tie, follows the restored source's slab order).
  m.finishMigration();
  copy.finishMigration();
  assert.deepEqual(new Map(copy), new Map(m));
  assert.equal(copy.backend, "robinhood");
  assert.equal(copy.migrations, m.migrations);
});

Deno.test("AdaptiveMap.fromState() keeps the policy but builds no table of its initial size", () => {
  // Loading built the initial table the restored one replaces: 2^22 slots, ~100 MB, for a
  // snapshot of one entry.
  const source = new RobinHoodMap<number>();
  source.set("a", 1);
  const state = {
    kind: "adaptive" as const,
    policy: { ...DEFAULT_POLICY, startBackend: "robinhood" as const, initialCapacityRh: 2 ** 22 },
    active: source.exportState(),
    target: null,
    migrations: 0,
    compactions: 0,
  };
  const used = () => {
    const u = Deno.memoryUsage();
    return u.heapUsed + u.external;
  };
  const before = used();
  const m = AdaptiveMap.fromState<number>(state);
  const grew = used() - before;
  assert.ok(grew < 16 << 20, `loading one entry took ${(grew / 2 ** 20).toFixed(1)} MB`);
  assert.deepEqual(m.policy, state.policy);
  assert.equal(m.stats().capacity, source.capacity);
  m.clear();
  assert.equal(m.stats().capacity, 2 ** 22, "clear() starts again at the policy's size");
});

Deno.test("RobinHoodMap.fromState() refuses impossible tables and reports broken order", () => {
  const m = fill(new RobinHoodMap({ initialCapacity: 64 }), 40) as RobinHoodMap<unknown>;
  const s = m.exportState();
  assert.throws(() => RobinHoodMap.fromState({ ...s, capacity: 48 }), RangeError);
  assert.throws(() => RobinHoodMap.fromState({ ...s, slots: s.slots.map(() => 0) }), RangeError);
  assert.throws(
    () => RobinHoodMap.fromState({ ...s, keys: [...s.keys.slice(1), null as never] }),
    TypeError,
  );
  // Move one entry one slot away from where it belongs: buildable, but not a Robin Hood table.
  const slots = Int32Array.from(s.slots);
  const j = slots.findIndex((slot, idx) => !s.slots.includes((slot + 1) & 63) && idx >= 0);
  slots[j] = (slots[j]! + 1) & 63;
  const broken = RobinHoodMap.fromState({ ...s, slots });
  assert.ok(broken.checkInvariants().length > 0);
});

Deno.test("RobinHoodMap.fromState() refuses a capacity below 8, a full table and a tombstone as far as the capacity", () => {
  const state = (slots: number[], tombstoneSlots: number[] = [], distance = 0) => ({
    kind: "robinhood" as const,
    capacity: 8,
    maxLoadFactor: 0.85,
    deletion: "tombstone" as const,
    slots: Int32Array.from(slots),
    keys: slots.map((s) => `k${s}`),
    values: slots.map((s) => s),
    tombstoneSlots: Int32Array.from(tombstoneSlots),
    tombstoneDistances: Int32Array.from(tombstoneSlots, () => distance),
  });
  assert.throws(() => RobinHoodMap.fromState({ ...state([0, 1]), capacity: 4 }), {
    name: "RangeError",
    message: /capacity must be a power of two in \[8, 2\^30\]: received 4/,
  });
  // No empty slot: a lookup of an absent key would never stop.
  assert.throws(
    () => RobinHoodMap.fromState(state([0, 1, 2, 3, 4, 5, 6, 7])),
    /do not fit 8 slots/,
  );
  assert.throws(() => RobinHoodMap.fromState(state([0, 1, 2, 3], [4, 5, 6, 7])), /do not fit/);
  assert.throws(
    () => RobinHoodMap.fromState(state([], [3], 8)),
    /tombstone 0: slot 3 or distance 8/,
  );
  assert.equal(RobinHoodMap.fromState(state([], [3], 7)).tombstones, 1);
});

Deno.test("RobinHoodMap.fromState() of a backshift table without tombstones deletes by shifting back", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 64 });
  for (let i = 0; i < 40; i++) m.set(i, i);
  const copy = RobinHoodMap.fromState<number>(m.exportState());
  for (let i = 0; i < 40; i += 2) copy.delete(i);
  assert.equal(copy.size, 20);
  assert.equal(copy.tombstones, 0);
  assert.deepEqual(copy.checkInvariants(), []);
});

Deno.test("ChainingMap.fromState() refuses repeated keys and bad bucket counts", () => {
  const s = fill(new ChainingMap(), 30).exportState();
  assert.equal(s.kind, "chaining");
  if (s.kind !== "chaining") return;
  assert.throws(() => ChainingMap.fromState({ ...s, bucketCount: 100 }), RangeError);
  assert.throws(
    () => ChainingMap.fromState({ ...s, keys: [...s.keys, s.keys[0]!], values: [...s.values, 1] }),
    /appears twice/,
  );
});

Deno.test("ChainingMap.fromState() refuses fewer than 8 buckets and keeps those of a table above its load limit", () => {
  assert.throws(
    () =>
      ChainingMap.fromState({
        kind: "chaining",
        bucketCount: 4,
        maxLoadFactor: 1,
        keys: ["a"],
        values: [1],
      }),
    /bucketCount must be a power of two in \[8, 2\^30\]: received 4/,
  );
  // A table whose load factor was lowered below its load doubles at its next insertion only.
  const m = new ChainingMap<number>({ initialBuckets: 64 });
  for (let i = 0; i < 64; i++) m.set(i, i);
  m.setMaxLoadFactor(0.5);
  const copy = ChainingMap.fromState<number>(m.exportState());
  assert.equal(copy.capacity, 64);
  assert.deepEqual(copy.exportState(), m.exportState());
  m.set(64, 64);
  copy.set(64, 64);
  assert.equal(m.capacity, 256);
  assert.equal(copy.capacity, m.capacity);
});

Deno.test("checkInvariants() reports a counter that disagrees with a recount", () => {
  const m = fill(new RobinHoodMap(), 100) as RobinHoodMap<unknown>;
  (m as unknown as { sumDist: number }).sumDist += 1;
  assert.match(m.checkInvariants().join("\n"), /probe distance sum/);
  const c = fill(new ChainingMap(), 100) as ChainingMap<unknown>;
  (c as unknown as { count: number }).count += 1;
  assert.match(c.checkInvariants().join("\n"), /size is/);
});

Deno.test("checkInvariants() reports a wrong tombstone count, histogram or position sum, and a full table", () => {
  type Counters = { tombs: number; hist: { add(d: number): void }; meta: Int32Array };
  const t = fill(new RobinHoodMap({ deletion: "tombstone" }), 100) as RobinHoodMap<unknown>;
  const fields = t as unknown as Counters;
  fields.tombs += 1;
  assert.match(
    t.checkInvariants().join("\n"),
    /tombstone count is 35 but 34 slots hold tombstones/,
  );
  fields.tombs -= 1;
  fields.hist.add(3);
  assert.match(t.checkInvariants().join("\n"), /probe histogram .* differs from recount/);
  // A tombstone at distance 0 in every slot: no slot left empty.
  const full = new RobinHoodMap<unknown>({ deletion: "tombstone", initialCapacity: 8 });
  (full as unknown as Counters).meta.fill(1 << 8);
  assert.match(full.checkInvariants().join("\n"), /table has no empty slot/);
  // A paged table's slab: two slots sharing an entry, and a free list through a used one.
  type Slab = { ent: Int32Array; meta: Int32Array; free: number };
  const paged = RobinHoodMap.withCapacity<unknown>(1 << 18, {}, true);
  for (let i = 0; i < 100; i++) paged.set(`S${i}`, i);
  const slab = paged as unknown as Slab;
  const [a, b] = [...slab.meta.keys()].filter((i) => slab.meta[i] !== 0);
  const entryOfB = slab.ent[b!]!;
  slab.ent[b!] = slab.ent[a!]!;
  assert.match(
    paged.checkInvariants().join("\n"),
    /slab entry \d+ is out of range, free or another slot's/,
  );
  slab.ent[b!] = entryOfB;
  assert.deepEqual(paged.checkInvariants(), []);
  slab.free = entryOfB - 1;
  assert.match(
    paged.checkInvariants().join("\n"),
    /slab: 100 entries used and 1 free, but 100 handed out/,
  );
  const c = fill(new ChainingMap(), 100) as ChainingMap<unknown>;
  (c as unknown as { sumPos: number }).sumPos += 1;
  assert.match(c.checkInvariants().join("\n"), /chain position sum is/);
});

Deno.test("RobinHoodMap.compact() leaves a table without tombstones as it is, entries that wrap past its end included", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 64 });
  // Keys whose home is the last slot: all but the first wrap round to slots 0, 1, 2.
  for (let i = 0, n = 0; n < 4; i++) {
    if (indexFor(hashKey(`W${i}`), 6) === 63) m.set(`W${i}`, n++);
  }
  for (let i = 0; i < 30; i++) m.set(`K${i}`, i);
  const before = m.exportState();
  assert.equal(before.capacity, 64);
  m.compact();
  assert.deepEqual(m.exportState(), before);
  // A tombstone table compacts to the table that never had the deleted keys, at any start.
  const t = new RobinHoodMap<number>({ initialCapacity: 64, deletion: "tombstone" });
  for (const [k, v] of m) t.set(k, v);
  t.set("gone", 0);
  t.delete("gone");
  t.compact();
  const u = RobinHoodMap.fromState<number>(t.exportState());
  u.compact();
  assert.deepEqual(u.exportState(), t.exportState());
});

Deno.test("AdaptiveMap.fromState() mid-migration: the event that ends it gives a reason", () => {
  // The reason a migration started is not in the state: restored, a shrink ended with "".
  const m = new AdaptiveMap<number>({ startBackend: "robinhood", incrementalBatch: 16 });
  for (let i = 0; i < 20_000; i++) m.set(i, i);
  let i = 0;
  while (!m.migrating) m.delete(i++);
  const back = AdaptiveMap.fromState<number>(m.exportState());
  const events: MapEvent[] = [];
  back.onEvent((e) => events.push(e));
  back.finishMigration();
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [[
    "resize",
    "restored mid-migration: 32768 slots to 8192 slots",
  ]]);
});

Deno.test("fromState() keeps the initial size that clear() and compact() return to, 64 for a state without it", () => {
  const maps: Array<[AnyMap<unknown>, number]> = [
    [new RobinHoodMap(), 64],
    [new RobinHoodMap({ initialCapacity: 1024 }), 1024],
    [new ChainingMap({ initialBuckets: 1024 }), 1024],
    [new ChainingMap({ initialBuckets: 8 }), 8],
  ];
  for (const [m, initial] of maps) {
    for (let i = 0; i < 3000; i++) m.set(i, i);
    for (let i = 0; i < 3000; i++) m.delete(i);
    const copy = restoreMap<unknown>(m.exportState());
    assert.deepEqual(copy.exportState(), m.exportState());
    copy.compact();
    assert.equal(copy.stats().capacity, initial, `${m.backend} ${initial}: compact()`);
    copy.set("a", 1).clear();
    assert.equal(copy.stats().capacity, initial, `${m.backend} ${initial}: clear()`);
  }
  // A state from before the field, as a snapshot gives: each class's default.
  const rh = new RobinHoodMap<number>({ initialCapacity: 8 }).set("a", 1).exportState();
  const ch = new ChainingMap<number>({ initialBuckets: 8 }).set("a", 1).exportState();
  delete rh.initialCapacity;
  delete ch.initialBuckets;
  const old = [RobinHoodMap.fromState(rh), ChainingMap.fromState(ch)];
  for (const m of old) m.clear();
  assert.deepEqual(old.map((m) => m.capacity), [64, 64]);
  assert.throws(
    () => RobinHoodMap.fromState({ ...rh, initialCapacity: 2 ** 31 }),
    new RangeError("initialCapacity must be a number in [1, 2^30]: received 2147483648"),
  );
  assert.throws(
    () => ChainingMap.fromState({ ...ch, initialBuckets: "8" as unknown as number }),
    new TypeError(`initialBuckets must be a number in [1, 2^30]: received "8"`),
  );
});

Deno.test("fromState() stores a -0 key as the key 0, as set() does", () => {
  const rh = new RobinHoodMap<string>().set(0, "zero").exportState();
  const ch = new ChainingMap<string>().set(0, "zero").exportState();
  for (const state of [{ ...rh, keys: [-0] }, { ...ch, keys: [-0] }]) {
    const m = restoreMap<string>(state);
    assert.ok(Object.is([...m.keys()][0], 0), state.kind);
    assert.equal(m.get(0), "zero");
    assert.deepEqual(m.checkInvariants(), []);
  }
});

Deno.test("checkInvariants() finds a key stored twice in either table, and checks a long run of one home in linear time", () => {
  type Flat = {
    meta: Int32Array;
    kv: unknown[];
    count: number;
    sumDist: number;
    hist: { add(d: number): void };
  };
  const m = new RobinHoodMap<unknown>({ initialCapacity: 64 });
  m.set("A", 1);
  const t = m as unknown as Flat;
  const at = t.meta.findIndex((x) => x !== 0);
  const next = (at + 1) & (t.meta.length - 1);
  // A second "A" right after the first, at distance 1, every counter agreeing.
  t.meta[next] = (2 << 8) | (t.meta[at]! & 0xff);
  t.kv[next * 2] = "A";
  t.kv[next * 2 + 1] = 2;
  t.count++;
  t.sumDist++;
  t.hist.add(1);
  assert.deepEqual(m.checkInvariants(), [`slot ${next}: key "A" is stored twice`]);
  // And a chaining table: a key of "A"'s chain made a second "A" (its stored hash too).
  type Slab = { kp: unknown[][]; link: Int32Array };
  const c = new ChainingMap<unknown>({ initialBuckets: 8 });
  for (let i = 0; i < 8; i++) c.set(i === 0 ? "A" : `B${i}`, i);
  const home = indexFor(hashKey("A"), 3);
  const twin = Array.from({ length: 8 }, (_, i) => i).find((i) =>
    i > 0 && indexFor(hashKey(`B${i}`), 3) === home
  );
  assert.ok(twin !== undefined, "a key shares A's chain");
  const slab = c as unknown as Slab;
  slab.kp[0]![twin] = "A";
  slab.link[twin * 2 + 1] = slab.link[1]!;
  assert.deepEqual(c.checkInvariants(), [`key "A" appears more than once`]);

  // Keys whose hashes share their top 17 bits (fmix32 inverted): all of one home in 2^17 slots.
  const unfmix = (h: number): number => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x7ed1b41d);
    h ^= (h >>> 13) ^ (h >>> 26);
    h = Math.imul(h, 0xa5cb9243);
    return (h ^ (h >>> 16)) | 0;
  };
  // Laid out by fromState(): set() would itself walk the run for every key.
  const timed = (keys: number[], slots: Int32Array): number => {
    const run = RobinHoodMap.fromState({
      kind: "robinhood",
      capacity: 1 << 17,
      maxLoadFactor: 0.9,
      deletion: "backshift",
      slots,
      keys,
      values: keys.map(() => null),
      tombstoneSlots: new Int32Array(0),
      tombstoneDistances: new Int32Array(0),
    });
    let least = Infinity; // of three: a test on a busy machine must not fail for a pause
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      assert.deepEqual(run.checkInvariants(), []);
      least = Math.min(least, performance.now() - t0);
    }
    return least;
  };
  const n = 30_000;
  const oneHome = Array.from({ length: n }, (_, i) => unfmix(i) ^ 0x9e3779b9);
  assert.ok(oneHome.every((k) => hashKey(k) >>> 15 === 0), "one home");
  const inOrder = Int32Array.from(oneHome, (_, i) => i);
  // Spread keys: 2^17 apart in hash, so each is alone at its home, slot i * 4.
  const spread = Array.from({ length: n }, (_, i) => unfmix(i << 17) ^ 0x9e3779b9);
  const spreadSlots = Int32Array.from(spread, (k) => indexFor(hashKey(k), 17));
  // A find() per entry took 1,500 ms on the run against 4-7 on spread keys; now 25.
  const [plain, run] = [timed(spread, spreadSlots), timed(oneHome, inOrder)];
  assert.ok(run < 20 * plain + 100, `${run.toFixed(1)} ms against ${plain.toFixed(1)} ms`);
});
