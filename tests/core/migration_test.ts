import assert from "node:assert/strict";
import { AdaptiveMap, ChainingMap, hashKey, indexFor, type Key, RobinHoodMap } from "../../mod.ts";

Deno.test("ChainingMap.drain() keeps the statistics exact when a step stops inside a chain", () => {
  // 8 chains of ~25 entries: every step of 3 moves stops part-way through a chain.
  const m = new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor: 16 });
  for (let i = 0; i < 200; i++) m.set(`K${i}`, i);
  assert.ok(m.longestChain > 10, `longest chain ${m.longestChain}`);
  const moved = new Map<Key, number>();
  let cursor = 0;
  while (m.size > 0) {
    cursor = m.drain(cursor, 3, (k, v, h) => {
      assert.equal(h >>> 0, hashKey(k), `hash passed for ${k}`);
      moved.set(k, v);
    });
    assert.deepEqual(m.checkInvariants(), []);
    assert.equal(m.size + moved.size, 200);
  }
  assert.equal(moved.size, 200);
  for (let i = 0; i < 200; i++) assert.equal(moved.get(`K${i}`), i);
});

Deno.test("drain() moves at most max entries per call and scans a sparse table a bounded stretch at a time", () => {
  for (
    const m of [
      new ChainingMap<number>({ initialBuckets: 1024 }),
      new RobinHoodMap<number>({ initialCapacity: 1024 }),
    ]
  ) {
    // Keys whose home is in the top half: the first 512 chains or slots are empty.
    for (let i = 0, n = 0; n < 200; i++) {
      if (indexFor(hashKey(i), 10) >= 512) m.set(i, n++);
    }
    // A step's budget is 16 empty chains or slots per entry it may move.
    assert.equal(m.drain(0, 1, () => assert.fail("moved an entry")), 16, m.constructor.name);
  }
  for (
    const m of [
      new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor: 16 }),
      new RobinHoodMap<number>({ initialCapacity: 128 }),
    ]
  ) {
    for (let i = 0; i < 100; i++) m.set(`K${i}`, i);
    let cursor = 0;
    let moved = 0;
    while (m.size > 0) {
      const before = m.size;
      cursor = m.drain(cursor, 5, () => moved++);
      const n = before - m.size;
      assert.ok(n >= 1 && n <= 5, `${m.constructor.name}: ${n} entries moved in a step of 5`);
    }
    assert.equal(moved, 100);
  }
  // Moving entries out changes the map under an open iterator.
  for (const m of [new ChainingMap<number>(), new RobinHoodMap<number>()]) {
    for (let i = 0; i < 10; i++) m.set(i, i);
    const keys = m.keys();
    keys.next();
    m.drain(0, 64, () => {});
    assert.equal(m.size, 0);
    assert.throws(() => keys.next(), { name: "TypeError", message: /modified during iteration/ });
  }
});

Deno.test("RobinHoodMap.clear() after drain() makes deletions shift entries back again", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 64 });
  for (let i = 0; i < 40; i++) m.set(i, i);
  m.drain(0, 4, () => {}); // deletions leave tombstones while the table drains
  assert.ok(m.tombstones > 0);
  m.clear();
  for (let i = 0; i < 40; i++) m.set(i, i);
  for (let i = 0; i < 40; i += 2) m.delete(i);
  assert.equal(m.tombstones, 0);
  assert.deepEqual(m.checkInvariants(), []);
});

Deno.test("insertAbsent() stores entries that get(), stats() and checkInvariants() agree on", () => {
  for (const m of [new ChainingMap<number>(), new RobinHoodMap<number>()]) {
    for (let i = 0; i < 5_000; i++) m.insertAbsent(`K${i}`, i, hashKey(`K${i}`));
    assert.equal(m.size, 5_000, m.constructor.name);
    assert.deepEqual(m.checkInvariants(), [], m.constructor.name);
    for (let i = 0; i < 5_000; i++) assert.equal(m.get(`K${i}`), i);
    assert.equal(m.get("K5000"), undefined);
  }
});

Deno.test("ChainingMap.checkInvariants() reports a stored hash that is not the key's", () => {
  const m = new ChainingMap<number>();
  m.insertAbsent("a", 1, hashKey("a") ^ 1);
  assert.match(m.checkInvariants().join("\n"), /key "a" has stored hash/);
});

Deno.test("AdaptiveMap moves 64 entries per step at first, doubling every four steps", () => {
  const m = new AdaptiveMap<number>({ initialBuckets: 1024 });
  let n = 0;
  while (!m.migrating) m.set(`K${n}`, n++);
  const inTarget = () => {
    const t = m.exportState().target;
    return t === null ? n : t.kind === "chaining" ? t.keys.length : t.keys.filter((k) => k !== null)
      .length;
  };
  const ramp = [64, 64, 64, 64, 128, 128, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 1024];
  let before = inTarget();
  let limit = before;
  for (const step of ramp) {
    if (!m.migrating) break;
    m.get("K0");
    const now = inTarget();
    limit += step;
    assert.ok(now > before && now <= limit, `${now} entries moved, at most ${limit} allowed`);
    before = now;
  }
  assert.ok(n > 64 * 4 + 128 * 4, `the migration of ${n} entries outlasted the ramp`);
});

Deno.test("AdaptiveMap grows a Robin Hood table of at most one batch in one operation", () => {
  const m = new AdaptiveMap<number>({ startBackend: "robinhood", incrementalBatch: 1024 });
  const resizes: number[] = [];
  m.onEvent((e) => e.type === "resize" && resizes.push(e.capacity));
  for (let i = 0; i < 1_000; i++) {
    m.set(i, i);
    assert.equal(m.migrating, false, `migrating after ${i + 1} insertions`);
  }
  assert.deepEqual(resizes, [128, 256, 512, 1024, 2048]);
  // A bigger table moves incrementally.
  for (let i = 1_000; !m.migrating; i++) m.set(i, i);
  assert.ok(m.size > 1024);
});

for (const rhDeletion of ["backshift", "tombstone"] as const) {
  Deno.test(`AdaptiveMap grows a paged Robin Hood table (${rhDeletion}) by lending its slab: entries move by number, exact under every operation meanwhile`, () => {
    // Past 2^17 slots a Robin Hood table keeps keys and values in a slab. Growing, it lends the
    // slab to the new table and its entries move by number; the test writes, reads and deletes
    // keys of both tables between steps, and deletes some before, so freed entries are reused.
    const m = new AdaptiveMap<number>({
      startBackend: "robinhood",
      initialCapacityRh: 1 << 17,
      rhDeletion,
    });
    const ref = new Map<Key, number>();
    const view = m as unknown as { sharing: boolean };
    let seed = 3;
    const rnd = () => (seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5 | 0) >>> 0;
    let next = 0;
    let sharedOps = 0;
    for (let op = 0; op < 600_000 && (sharedOps === 0 || m.migrating); op++) {
      const x = rnd() % 10;
      const k = x < 6 ? `G${next++}` : `G${rnd() % Math.max(1, next)}`;
      if (x < 7) {
        m.set(k, op);
        ref.set(k, op);
      } else if (x < 9) assert.equal(m.get(k), ref.get(k), `get(${k}) at op ${op}`);
      else assert.equal(m.delete(k), ref.delete(k), `delete(${k}) at op ${op}`);
      if (view.sharing) {
        sharedOps++;
        if (sharedOps % 64 === 1) assert.deepEqual(m.checkInvariants(), [], `at op ${op}`);
        if (sharedOps === 200) {
          // A copy made mid-migration has tables of its own, with the same entries.
          const copy = AdaptiveMap.fromState<number>(m.exportState());
          assert.deepEqual(copy.checkInvariants(), []);
          assert.deepEqual(new Map(copy), ref);
        }
      }
    }
    assert.ok(sharedOps > 100, `${sharedOps} operations while sharing`);
    assert.equal(m.stats().capacity, 1 << 19);
    assert.deepEqual(m.checkInvariants(), []);
    assert.equal(m.size, ref.size);
    assert.deepEqual(new Map(m), ref);
  });
}

Deno.test("AdaptiveMap.clear() while a Robin Hood table lends its slab leaves an empty map that works", () => {
  const m = new AdaptiveMap<number>({ startBackend: "robinhood", initialCapacityRh: 1 << 17 });
  const view = m as unknown as { sharing: boolean };
  for (let i = 0; i < 400_000 && !view.sharing; i++) m.set(`C${i}`, i);
  assert.ok(view.sharing);
  m.set("mid", 1); // a step with the slab shared
  m.clear();
  assert.equal(m.size, 0);
  for (let i = 0; i < 1000; i++) m.set(`D${i}`, i);
  assert.deepEqual(m.checkInvariants(), []);
  assert.equal(m.get("D999"), 999);
  assert.equal(m.get("C1"), undefined);
});

Deno.test("AdaptiveMap stays exact in Robin Hood tables big enough to be paged: filling one, draining it, rebuilding it", () => {
  // A Robin Hood migration target above 2^17 slots keeps its keys and values in pages, each
  // allocated on its first write. Most other tests' tables are too small to be paged (the model
  // tests of paged tables use keys that crowd a few slots).
  const N = 120_000;
  const m = new AdaptiveMap<number>({
    initialBuckets: 1 << 15,
    maxLfChaining: 8,
    maxGroupLen: 1e6,
  });
  const ref = new Map<Key, number>();
  const keys: Key[] = Array.from({ length: N + N / 4 }, (_, i) => i % 5 === 0 ? i : `K${i}`);
  for (let i = 0; i < N; i++) {
    m.set(keys[i]!, i);
    ref.set(keys[i]!, i);
  }
  let seed = 11;
  const rnd = () => (seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5 | 0) >>> 0;
  let op = 0;
  /** Random sets (half of them new keys), gets and deletes, each checked against `ref`. */
  const run = (count: number) => {
    for (const end = op + count; op < end; op++) {
      const k = keys[rnd() % keys.length]!;
      const x = rnd() % 10;
      if (x < 4) {
        m.set(k, op);
        ref.set(k, op);
      } else if (x < 8) assert.equal(m.get(k), ref.get(k), `get(${String(k)}) at op ${op}`);
      else assert.equal(m.delete(k), ref.delete(k), `delete(${String(k)}) at op ${op}`);
    }
    assert.equal(m.size, ref.size, `size at op ${op}`);
  };
  /** Runs until the map starts migrating to `to` (not a resize), then through the migration. */
  const migrate = (to: "chaining" | "robinhood") => {
    let started = false;
    const off = m.onEvent((e) => started ||= e.type === "start" && e.from !== e.to);
    while (!started) run(1);
    off();
    const target = m.exportState().target!;
    assert.equal(target.kind, to);
    if (target.kind === "robinhood") {
      assert.ok(target.capacity >= 2 ** 18, `${target.capacity} slots`);
    }
    while (m.migrating) {
      run(50);
      assert.deepEqual(m.checkInvariants(), [], `at op ${op}`);
    }
    assert.equal(m.backend, to);
    assert.deepEqual(new Map(m), ref);
  };
  m.setPolicy({ maxLfChaining: 0.01 });
  migrate("robinhood"); // filling a paged table
  m.setPolicy({ maxLfChaining: 8, maxAvgProbeRobinhood: 0.01 });
  migrate("chaining"); // draining one
  m.setPolicy({ maxLfChaining: 0.01, maxAvgProbeRobinhood: 1e6 });
  migrate("robinhood");
  run(5_000);
  m.compact(); // rebuilding one
  assert.deepEqual(m.checkInvariants(), []);
  assert.deepEqual(new Map(m), ref);
  run(5_000);
  assert.deepEqual(new Map(m), ref);
});
