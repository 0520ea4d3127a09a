import assert from "node:assert/strict";
import { inspect as nodeInspect } from "node:util";
import {
  AdaptiveMap,
  type AnyMap,
  ChainingMap,
  createMap,
  hashKey,
  type HashMapLike,
  indexFor,
  type Key,
  MODES,
  RobinHoodMap,
} from "../../mod.ts";
import { runPeakScript } from "../_peak.ts";
import { linuxTest } from "../_helpers.ts";

const all = (): Array<HashMapLike<number>> => [
  new ChainingMap<number>(),
  new RobinHoodMap<number>(),
  new RobinHoodMap<number>({ deletion: "tombstone" }),
  new AdaptiveMap<number>(),
];

Deno.test("set() refuses NaN and keys that are not strings or numbers", () => {
  for (const m of all()) {
    assert.throws(() => m.set(NaN, 1), { name: "TypeError", message: /NaN/ });
    assert.throws(() => m.set({} as unknown as Key, 1), {
      name: "TypeError",
      message: /received object/,
    });
    assert.throws(() => m.set(null as unknown as Key, 1), /received null/);
    assert.equal(m.get(NaN), undefined);
    assert.equal(m.has(NaN), false);
  }
});

Deno.test("set() and fromState() quote a refused key after its type", () => {
  const cases: Array<[unknown, string]> = [
    [true, "received boolean true"],
    [10n, "received bigint 10n"],
    [Symbol("id"), "received symbol Symbol(id)"],
    [[1, "a"], 'received object [1,"a"]'],
    [undefined, "received undefined"],
    // By its tag: its own text can be a million numbers or a function's source, and its
    // toString() is the caller's code, which Map never runs.
    [new Uint8Array(1e6), "received object [object Uint8Array]"],
    [() => "source", "received function [object Function]"],
    [{ toString: () => assert.fail("toString() ran") }, "received object [object Object]"],
  ];
  for (const [k, want] of cases) {
    for (const m of all()) {
      assert.throws(() => m.set(k as Key, 1), {
        name: "TypeError",
        message: new RegExp(`${RegExp.escape(want)}$`),
      });
      assert.throws(() => m.getOrInsert(k as Key, 1), {
        name: "TypeError",
        message: new RegExp(`${RegExp.escape(want)}$`),
      });
    }
    const state = { kind: "chaining", bucketCount: 8, maxLoadFactor: 1, keys: [k], values: [1] };
    assert.throws(() => ChainingMap.fromState(state as never), {
      name: "TypeError",
      message: `entry 0: Keys must be strings or numbers: ${want}`,
    });
  }
  // A long string is quoted in part.
  assert.throws(() => new RobinHoodMap({ deletion: "x".repeat(1000) } as never), {
    name: "RangeError",
    message: /received "x{100}"\.\.\. \(1000 characters\)$/,
  });
  const nan = new RobinHoodMap().set(1, 1).exportState();
  nan.keys[0] = NaN;
  assert.throws(() => RobinHoodMap.fromState(nan), {
    name: "TypeError",
    message: "entry 0: Cannot use NaN as a key",
  });
});

Deno.test("get(), has() and delete() find nothing for keys set() refuses, as Map does", () => {
  const odd = [Symbol("s"), 10n, {}, null, undefined, true, NaN] as unknown as Key[];
  for (const m of all()) {
    m.set(0, 1).set("0", 2);
    for (const k of odd) {
      assert.equal(m.get(k), undefined, String(k));
      assert.equal(m.has(k), false, String(k));
      assert.equal(m.delete(k), false, String(k));
      assert.throws(() => m.set(k, 1), TypeError, String(k));
    }
    assert.equal(m.size, 2);
  }
});

Deno.test("constructors refuse unknown options, nulls and entries, quoting the value", () => {
  const selfArray: unknown[] = [];
  selfArray.push(selfArray);
  const cases: Array<[() => unknown, string, RegExp]> = [
    [
      () => new ChainingMap([["a", 1]] as never),
      "TypeError",
      /options must be an object: received \[\["a",1\]\]/,
    ],
    [() => new RobinHoodMap(null as never), "TypeError", /received null$/],
    [
      () => new RobinHoodMap({ intialCapacity: 1024 } as never),
      "RangeError",
      /^RobinHoodMap has no option "intialCapacity": its options are initialCapacity, /,
    ],
    [() => new ChainingMap({ buckets: 8 } as never), "RangeError", /no option "buckets"/],
    [() => new RobinHoodMap({ deletion: null } as never), "RangeError", /received null$/],
    [() => new RobinHoodMap({ deletion: 5 } as never), "RangeError", /received 5$/],
    [
      () => new RobinHoodMap({ deletion: Symbol("x") } as never),
      "RangeError",
      /received Symbol\(x\)$/,
    ],
    [() => new ChainingMap({ maxLoadFactor: [2] } as never), "RangeError", /received \[2\]$/],
    [() => new ChainingMap({ maxLoadFactor: 2n } as never), "RangeError", /received 2n$/],
    [
      () => new ChainingMap({ maxLoadFactor: selfArray } as never),
      "RangeError",
      /received \[\[\[an array of 1\]\]\]$/,
    ],
    [
      () => new ChainingMap({ maxLoadFactor: Object.create(null) } as never),
      "RangeError",
      /received \[object Object\]$/,
    ],
    [() => new ChainingMap({ initialBuckets: null } as never), "RangeError", /received null$/],
    [
      () => new ChainingMap(new Map([["a", 1]]) as never),
      "TypeError",
      /\(to add entries, call set/,
    ],
    [() => new AdaptiveMap(null as never), "TypeError", /^AdaptiveMap options .*received null$/],
    [() => new AdaptiveMap(5 as never), "TypeError", /received 5$/],
    [() => new AdaptiveMap(new Map() as never), "TypeError", /\(to add entries, call set/],
    [
      () => new AdaptiveMap().setPolicy(null as never),
      "TypeError",
      /^setPolicy\(\) options .*null$/,
    ],
  ];
  for (const [make, name, message] of cases) assert.throws(make, { name, message });
  assert.equal(new RobinHoodMap({ deletion: undefined } as never).deletion, "backshift");
});

Deno.test("forEach() and getOrInsertComputed() refuse a callback that is not a function, as Map's do", () => {
  for (const m of all()) {
    m.set("a", 1);
    assert.throws(() => m.forEach(5 as never), {
      name: "TypeError",
      message: /forEach\(\) needs a function: received 5/,
    });
    assert.throws(() => m.getOrInsertComputed("a", 5 as never), TypeError);
    assert.throws(() => m.getOrInsertComputed("b", "x" as never), /received "x"/);
    assert.equal(m.size, 1);
  }
});

Deno.test("console.log and JSON.stringify show a map as they show a Map, not its internals", () => {
  for (const m of all()) {
    m.set("a", 1).set(2, 3);
    const name = Object.prototype.toString.call(m).slice(8, -1);
    assert.equal(Deno.inspect(m), `${name}(2) ${Deno.inspect(new Map(m)).slice("Map(2) ".length)}`);
    assert.match(Deno.inspect(m), /^\w+Map\(2\) \{ (("a" => 1|2 => 3)(, )?){2} \}$/);
    assert.equal(JSON.stringify(m), JSON.stringify(new Map(m)));
    m.clear();
    assert.equal(Deno.inspect(m), `${name}(0) {}`);
  }
  // A map among its own values prints as circular, marked as a Map is, instead of running away.
  const self = new ChainingMap<unknown>().set("self", null);
  self.set("self", self);
  const selfMap = new Map<string, unknown>();
  selfMap.set("self", selfMap);
  assert.equal(Deno.inspect(selfMap), '<ref *1> Map(1) { "self" => [Circular *1] }');
  assert.equal(Deno.inspect(self), '<ref *1> ChainingMap(1) { "self" => [Circular *1] }');
  assert.equal(Deno.inspect({ self }), `{ self: ${Deno.inspect(self)} }`);
  const holder: { map?: unknown } = {};
  const adaptive = new AdaptiveMap<unknown>().set("o", holder);
  holder.map = adaptive;
  assert.equal(Deno.inspect(adaptive), '<ref *1> AdaptiveMap(1) { "o" => { map: [Circular *1] } }');
  const other = new RobinHoodMap<unknown>().set("back", adaptive);
  adaptive.set("o", other);
  assert.equal(
    Deno.inspect(adaptive),
    '<ref *1> AdaptiveMap(1) { "o" => RobinHoodMap(1) { "back" => [Circular *1] } }',
  );
  assert.equal(Deno.inspect(other.set("back", 1)), 'RobinHoodMap(1) { "back" => 1 }');
  // Two cycles in one print are numbered in the order they are found, as Map's are.
  const e = new ChainingMap<unknown>();
  const f = new ChainingMap<unknown>();
  e.set("e", e).set("f", f);
  f.set("f", f);
  const E = new Map<string, unknown>();
  const F = new Map<string, unknown>();
  E.set("e", E).set("f", F);
  F.set("f", F);
  assert.equal(Deno.inspect(e), Deno.inspect(E).replaceAll("Map(", "ChainingMap("));
  assert.match(Deno.inspect(e), /<ref \*2> ChainingMap\(1\) \{ "f" => \[Circular \*2\] \}/);
  assert.equal(Deno.inspect(f), '<ref *1> ChainingMap(1) { "f" => [Circular *1] }');
  // The depth option holds as for a Map: deeper maps are [Name], so a long chain prints short.
  const inner = new RobinHoodMap<unknown>().set("a", { b: { c: 1 } });
  assert.equal(Deno.inspect(inner, { depth: 0 }), 'RobinHoodMap(1) { "a" => [Object] }');
  assert.equal(Deno.inspect({ x: { y: inner } }, { depth: 1 }), "{ x: { y: [RobinHoodMap] } }");
  let chain = new ChainingMap<unknown>();
  for (let i = 0; i < 20_000; i++) chain = new ChainingMap<unknown>().set("k", chain);
  assert.ok(Deno.inspect(chain).length < 500);
  // Node's util.inspect calls its own hook with the depth left, its options and itself.
  const own = new ChainingMap<unknown>().set("a", { b: { c: 1 } });
  own.set("self", own);
  const hook = (own as unknown as Record<symbol, (...a: unknown[]) => string>)[
    Symbol.for("nodejs.util.inspect.custom")
  ]!.bind(own);
  assert.equal(hook(-1, { depth: 2 }, nodeInspect), "[ChainingMap]");
  assert.equal(
    hook(0, { depth: 0 }, nodeInspect),
    "<ref *1> ChainingMap(2) { 'a' => [Object], 'self' => [Circular *1] }",
  );
});

Deno.test("set() treats -0 as 0 and keeps '1' and 1 apart, as Map does", () => {
  for (const m of all()) {
    m.set(-0, 1).set("1", 2).set(1, 3);
    assert.equal(m.get(0), 1);
    assert.ok(Object.is([...m.keys()].find((k) => k === 0), 0));
    assert.equal(m.get("1"), 2);
    assert.equal(m.get(1), 3);
    assert.equal(m.size, 3);
  }
});

Deno.test("entries() throws TypeError when the map gains or loses keys during iteration", () => {
  for (const m of all()) {
    for (let i = 0; i < 10; i++) m.set(i, i);
    assert.throws(() => {
      for (const [k] of m) m.delete(k);
    }, TypeError);
    // Updating values of existing keys is allowed.
    for (const [k, v] of m) m.set(k, v + 1);
  }
});

Deno.test("entries() throws TypeError when set() adds a key during iteration, into a tombstone too", () => {
  for (const m of all()) {
    for (let i = 0; i < 10; i++) m.set(i, i);
    let added = 0; // bounded: an iterator that missed the change would go on over the new keys
    assert.throws(() => {
      for (const [k] of m) if (added++ < 100) m.set(`new ${k}`, 0);
    }, { name: "TypeError", message: /modified during iteration/ });
  }
  // A key set again after its deletion takes its tombstone back: the map still gains a key.
  const m = new RobinHoodMap<number>({ deletion: "tombstone" });
  for (let i = 0; i < 10; i++) m.set(i, i);
  m.delete(3);
  const keys = m.keys();
  keys.next();
  m.set(3, 3);
  assert.equal(m.tombstones, 0, "set() reused the tombstone");
  assert.throws(() => keys.next(), TypeError);
});

Deno.test("RobinHoodMap iterators throw when the entry in the table's last slot is deleted", () => {
  // The key's home is the last of 8 slots: no slot follows to notice the change before the end.
  let last = 0;
  while (indexFor(hashKey(last), 3) !== 7) last++;
  for (const deletion of ["backshift", "tombstone"] as const) {
    const m = new RobinHoodMap<number>({ deletion, initialCapacity: 8 }).set(last, 1);
    assert.deepEqual([...m.exportState().slots], [7]);
    assert.throws(() => {
      for (const [k] of m) m.delete(k);
    }, { name: "TypeError", message: /modified during iteration/ });
  }
});

Deno.test("clear() during iteration makes the iterator throw, on every map", () => {
  for (const m of all()) {
    for (let i = 0; i < 5; i++) m.set(i, i);
    const seen: Key[] = [];
    assert.throws(() => {
      for (const [k] of m) {
        if (seen.length === 0) m.clear();
        seen.push(k);
      }
    }, { name: "TypeError", message: /modified during iteration/ });
    assert.equal(seen.length, 1, `${m}: no entry yielded after clear()`);
  }
});

Deno.test("AdaptiveMap iterators made before a migration see the table it ends on", () => {
  const m = new AdaptiveMap<number>({
    initialBuckets: 1,
    groupsPerBucket: 8,
    maxLfChaining: 0.5,
    incrementalBatch: 1,
  });
  for (let i = 0; i < 4; i++) m.set(`k${i}`, i);
  const keys = m.keys();
  const values = m.values();
  const entries = m.entries();
  m.set("k4", 4); // starts chaining -> Robin Hood
  assert.ok(m.migrating);
  for (let i = 0; i < 20 && m.migrating; i++) m.get("k0");
  assert.equal(m.backend, "robinhood");
  assert.ok(!m.migrating);
  const want = ["k0", "k1", "k2", "k3", "k4"];
  assert.deepEqual([...keys].sort(), want);
  assert.deepEqual([...values].sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual([...entries].map(([k]) => k).sort(), want);
});

Deno.test("getOrInsert() and getOrInsertComputed() behave as Map's", () => {
  for (const m of all()) {
    const ref = new Map<Key, number>();
    assert.equal(m.getOrInsert("a", 1), 1);
    assert.equal(m.getOrInsert("a", 2), 1);
    assert.equal(m.getOrInsert(-0, 3), 3);
    assert.ok(m.has(0));
    let calls = 0;
    assert.equal(m.getOrInsertComputed("b", (k) => (calls++, String(k).length + 9)), 10);
    assert.equal(m.getOrInsertComputed("b", () => (calls++, 0)), 10);
    assert.equal(calls, 1);
    // The callback may write the key itself; its result still wins, as with Map.
    const cb = (t: { set(k: Key, v: number): unknown }) => (k: Key) => (t.set(k, 7), 8);
    assert.equal(m.getOrInsertComputed("c", cb(m)), ref.getOrInsertComputed("c", cb(ref)));
    assert.equal(m.get("c"), ref.get("c"));
    assert.equal(m.size, 4);
    assert.throws(() => m.getOrInsertComputed(NaN, () => assert.fail("called")), TypeError);
    assert.throws(() => m.getOrInsert({} as unknown as Key, 1), /received object/);
  }
  // A key stored with the value undefined is present: its value is returned, nothing stored.
  for (const m of all() as Array<HashMapLike<number | undefined>>) {
    const ref = new Map<Key, number | undefined>([["u", undefined]]);
    m.set("u", undefined);
    assert.equal(m.getOrInsert("u", 1), ref.getOrInsert("u", 1));
    assert.equal(m.getOrInsertComputed("u", () => assert.fail("called")), undefined);
    assert.deepEqual(new Map(m), ref);
  }
});

Deno.test("the maps are ReadonlyMaps, with MapIterator iterators and a toStringTag", () => {
  for (const m of all()) {
    m.set("x", 1).set(2, 2);
    const r: ReadonlyMap<Key, number> = m;
    assert.deepEqual(r.keys().toArray().sort(), [2, "x"].sort());
    assert.deepEqual(r.values().map((v) => v * 10).toArray().sort(), [10, 20]);
    assert.deepEqual(new Map(r), new Map<Key, number>([["x", 1], [2, 2]]));
    assert.equal(
      Object.prototype.toString.call(m),
      `[object ${m.constructor.name}]`,
    );
  }
});

Deno.test("keys(), values() and entries() go on after a break, as Map's iterators do", () => {
  for (const m of all()) {
    for (let i = 0; i < 10; i++) m.set(`K${i}`, i);
    // Batches of 3 from one iterator: `break` must not close it.
    const keys = m.keys();
    const batches: Key[][] = [];
    for (let batch: Key[] = []; batches.length === 0 || batch.length > 0;) {
      batch = [];
      for (const k of keys) {
        batch.push(k);
        if (batch.length === 3) break;
      }
      if (batch.length > 0) batches.push(batch);
    }
    assert.deepEqual(batches.map((b) => b.length), [3, 3, 3, 1], m.constructor.name);
    assert.deepEqual(batches.flat(), [...m.keys()]);
    // Destructuring and take() read what they need and leave the rest, as with a Map.
    const values = m.values();
    const [first] = values;
    assert.deepEqual([first, ...values], [...m.values()]);
    const entries = m.entries();
    assert.deepEqual([...entries.take(2).toArray(), ...entries], [...m]);
    assert.ok(!("return" in m.keys()), "Map's iterators have no return()");
  }
});

Deno.test("stats() reports load, probes and bytes without scanning", () => {
  for (const m of [new ChainingMap<number>(), new RobinHoodMap<number>()]) {
    for (let i = 0; i < 1000; i++) m.set(`K${i}`, i);
    const s = m.stats();
    assert.equal(s.size, 1000);
    assert.equal(s.loadFactor, 1000 / s.capacity);
    assert.equal(s.probeHistogram.reduce((a, [, c]) => a + c, 0), 1000);
    const avg = s.probeHistogram.reduce((a, [d, c]) => a + d * c, 0) / 1000;
    assert.ok(Math.abs(avg - s.avgProbeDistance) < 1e-9);
    assert.equal(
      s.maxGroupLen,
      Math.max(...s.probeHistogram.map(([d]) => d)) + (m.backend === "chaining" ? 1 : 0),
    );
    assert.ok(s.bytesEstimate > 1000 * 8);
  }
});

Deno.test("set() and insertAbsent() never fill a table past its maxLoadFactor", () => {
  const limit = (m: { capacity: number }, lf: number) => Math.floor(m.capacity * lf);
  for (const maxLoadFactor of [0.5, 0.85, 0.97]) {
    for (const deletion of ["backshift", "tombstone"] as const) {
      const bySet = new RobinHoodMap<number>({ initialCapacity: 8, maxLoadFactor, deletion });
      const byInsert = new RobinHoodMap<number>({ initialCapacity: 8, maxLoadFactor, deletion });
      for (let i = 0; i < 2_000; i++) {
        bySet.set(`K${i}`, i);
        byInsert.insertAbsent(`K${i}`, i, hashKey(`K${i}`));
        if (i % 3 === 0) {
          bySet.delete(`K${i >> 1}`);
          byInsert.delete(`K${i >> 1}`);
        }
        for (const m of [bySet, byInsert]) {
          const used = m.size + m.tombstones;
          assert.ok(
            used <= limit(m, maxLoadFactor),
            `${used} entries and tombstones in ${m.capacity} slots at ${maxLoadFactor} (${deletion})`,
          );
        }
      }
    }
  }
  for (const maxLoadFactor of [0.5, 1, 4]) {
    const bySet = new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor });
    const byInsert = new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor });
    for (let i = 0; i < 2_000; i++) {
      bySet.set(`K${i}`, i);
      byInsert.insertAbsent(`K${i}`, i, hashKey(`K${i}`));
      for (const m of [bySet, byInsert]) {
        assert.ok(m.size <= limit(m, maxLoadFactor), `${m.size} entries in ${m.capacity} chains`);
      }
    }
  }
});

Deno.test("RobinHoodMap.set() compacts a table full of tombstones in place while its entries fill at most half the limit", () => {
  // 64 slots at 0.85 rebuild at 54 entries and tombstones: half of that is 27.
  for (const [live, want] of [[26, "compaction 64"], [27, "resize 128"]] as const) {
    const m = new RobinHoodMap<number>({ deletion: "tombstone", initialCapacity: 64 });
    const rebuilds: string[] = [];
    m.onRebuild = (type, _from, to) => rebuilds.push(`${type} ${to}`);
    for (let i = 0; i < live; i++) m.set(i, i);
    // Each new key comes in while `live` entries are in the table, with ever more tombstones.
    for (let i = live; rebuilds.length === 0; i++) m.set(i, i).delete(i - live);
    assert.deepEqual(rebuilds, [want], `${live} entries`);
    assert.equal(m.size, live);
    assert.deepEqual(m.checkInvariants(), []);
  }
});

Deno.test("a map of numbers passes where a map of unknown values is expected", () => {
  // A type error here fails the test run: deno test type-checks this file.
  const maps: Array<AnyMap<unknown>> = [
    new AdaptiveMap<number>(),
    new RobinHoodMap<number>(),
    new ChainingMap<number>(),
  ];
  const like: HashMapLike<unknown> = new AdaptiveMap<number>();
  assert.equal(maps.length + like.size, 3);
});

Deno.test("a small map stays small: a one-entry map holds a few KB, not a whole page", () => {
  for (const m of all()) {
    m.set("a", 1);
    const bytes = m.stats().bytesEstimate;
    assert.ok(bytes < 4096, `${m}: ${bytes} bytes for one entry`);
  }
  // Past the first page's doubling, whole pages: every entry still readable.
  const m = new ChainingMap<number>();
  for (let i = 0; i < 40_000; i++) m.set(i, i);
  for (let i = 0; i < 40_000; i += 997) assert.equal(m.get(i), i);
  assert.deepEqual(m.checkInvariants(), []);
});

Deno.test("occupancy() counts every live entry once", () => {
  for (const mode of MODES) {
    const m = createMap<number>(mode);
    for (let i = 0; i < 3000; i++) m.set(i, i);
    const cells = m.occupancy(64);
    assert.equal(cells.reduce((a, b) => a + b, 0), 3000);
  }
});

Deno.test("RobinHoodMap.occupancy() counts each slice's live slots, tombstones excluded", () => {
  const m = new RobinHoodMap<number>({ deletion: "tombstone", initialCapacity: 1024 });
  for (let i = 0; i < 700; i++) m.set(`k${i}`, i);
  for (let i = 0; i < 700; i += 3) m.delete(`k${i}`);
  const { slots, capacity } = m.exportState();
  assert.ok(m.tombstones > 0);
  for (const cells of [1, 7, 64, 100, 1024, 5000]) {
    const n = Math.min(cells, capacity);
    const want = new Array<number>(n).fill(0);
    for (const slot of slots) want[Math.floor((slot * n) / capacity)]!++;
    assert.deepEqual(m.occupancy(cells), want, `${cells} cells`);
  }
});

Deno.test("ChainingMap.occupancy() counts each slice's entries by their chain", () => {
  const m = new ChainingMap<number>({ initialBuckets: 256, maxLoadFactor: 4 });
  for (let i = 0; i < 700; i++) m.set(`k${i}`, i);
  for (const cells of [1, 7, 64, 100, 256, 5000]) {
    const n = Math.min(cells, 256);
    const want = new Array<number>(n).fill(0);
    for (let i = 0; i < 700; i++) want[Math.floor((indexFor(hashKey(`k${i}`), 8) * n) / 256)]!++;
    assert.deepEqual(m.occupancy(cells), want, `${cells} cells`);
  }
});

Deno.test("stats().maxGroupLen drops to what is left when the longest chain or probe goes", () => {
  const sameHome: number[] = [];
  for (let i = 0; sameHome.length < 2; i++) if (indexFor(hashKey(i), 3) === 2) sameHome.push(i);
  for (
    const m of [
      new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor: 4 }),
      new RobinHoodMap<number>({ initialCapacity: 8 }),
    ]
  ) {
    m.set(sameHome[0]!, 0).set(sameHome[1]!, 1);
    assert.equal(m.stats().maxGroupLen, m.backend === "chaining" ? 2 : 1);
    m.delete(sameHome[1]!);
    assert.equal(m.stats().maxGroupLen, m.backend === "chaining" ? 1 : 0, m.backend);
    m.delete(sameHome[0]!);
    assert.equal(m.stats().maxGroupLen, 0, m.backend);
  }
});

Deno.test("createMap() builds the backend of each mode and refuses unknown modes", () => {
  assert.equal(createMap("fast-insert").backend, "chaining");
  assert.equal(createMap("fast-lookup").backend, "robinhood");
  assert.equal((createMap("memory-tight") as RobinHoodMap<unknown>).maxLoadFactor, 0.95);
  assert.ok(createMap("adaptive") instanceof AdaptiveMap);
  assert.throws(() => createMap("fast" as never), /Unknown mode "fast"/);
});

Deno.test("clear() empties the map and returns it to its initial capacity", () => {
  for (const m of [new ChainingMap<number>(), new RobinHoodMap<number>()]) {
    const cap = m.capacity;
    for (let i = 0; i < 5000; i++) m.set(i, i);
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.capacity, cap);
    assert.equal(m.get(1), undefined);
    m.set(1, 1);
    assert.equal(m.get(1), 1);
  }
});

Deno.test("constructors and fromState() refuse load factors that would make growth loop", () => {
  assert.throws(
    () => new RobinHoodMap({ maxLoadFactor: 1e-30 }),
    /\[0\.1, 0\.97\]: received 1e-30/,
  );
  assert.throws(() => new RobinHoodMap({ maxLoadFactor: 0.98 }), RangeError);
  assert.throws(() => new ChainingMap({ maxLoadFactor: 0.05 }), /\[0\.1, 16\]/);
  const s = new RobinHoodMap().exportState();
  assert.throws(() => RobinHoodMap.fromState({ ...s, maxLoadFactor: 0 }), RangeError);
  // The lowest allowed load factor still grows to fit: every table keeps room for an entry.
  for (
    const m of [
      new RobinHoodMap<number>({ maxLoadFactor: 0.1 }),
      new ChainingMap<number>({ maxLoadFactor: 0.1 }),
    ]
  ) {
    for (let i = 0; i < 1000; i++) m.set(i, i);
    assert.equal(m.size, 1000);
    assert.ok(m.stats().loadFactor <= 0.1);
  }
});

Deno.test("ChainingMap.setMaxLoadFactor() checks the load and moves the doubling point", () => {
  const m = new ChainingMap<number>({ initialBuckets: 64, maxLoadFactor: 1 });
  assert.throws(() => m.setMaxLoadFactor(16.5), /\[0\.1, 16\]: received 16\.5/);
  assert.equal(m.maxLoadFactor, 1);
  m.setMaxLoadFactor(4);
  for (let i = 0; i < 256; i++) m.set(i, i);
  assert.equal(m.capacity, 64); // 4 per chain, not doubled
  m.set(256, 256);
  assert.equal(m.capacity, 128);
  m.setMaxLoadFactor(0.5); // already above: doubles at the next new key, as often as it takes
  m.set(-1, -1);
  assert.equal(m.capacity, 1024);
  assert.equal(m.exportState().maxLoadFactor, 0.5);
  assert.equal(m.size, 258);
  assert.deepEqual(m.checkInvariants(), []);
});

linuxTest(
  "RobinHoodMap allocates a big table's slots once: its first write copies nothing",
  async () => {
    const { capacity, array, rise } = await runPeakScript<
      { capacity: number; array: number; rise: number }
    >("core/_table_peak.ts");
    assert.equal(capacity, 2 ** 22);
    // Filled with `undefined` by Array.prototype.fill, V8 15 stored the array as doubles and the
    // first write converted it: three copies at once (a rise of 209 MB for this 67 MB array).
    assert.ok(rise < 2 * array, `peak rose by ${rise} bytes for a ${array}-byte array`);
  },
);

Deno.test("RobinHoodMap.withCapacity() paged keeps keys and values for its entries, not its slots, and reuses freed ones", () => {
  // A paged table held its keys and values by slot, in pages made on first write: 10,000 keys
  // in 2^21 slots touched all 128 pages of each array, 32 MiB of heap, all of it young during a
  // migration and scanned by the young generation's collection (a 2-4 ms operation).
  const keys = Array.from({ length: 20_000 }, (_, i) => `W${i}`);
  const m = RobinHoodMap.withCapacity<number>(2 ** 21, {}, true);
  const ref = new Map<string, number>();
  const heap = () => Deno.memoryUsage().heapUsed;
  const before = heap();
  for (let i = 0; i < 10_000; i++) {
    m.set(keys[i]!, i);
    ref.set(keys[i]!, i);
  }
  const rise = heap() - before;
  assert.ok(rise < 4 * 2 ** 20, `heap rose by ${rise} bytes for 10,000 entries`);
  const bytes = m.stats().bytesEstimate;
  // Deleted entries' storage is taken by the next new keys: the slab does not grow.
  for (let i = 0; i < 5_000; i++) {
    m.delete(keys[2 * i]!);
    ref.delete(keys[2 * i]!);
  }
  for (let i = 10_000; i < 15_000; i++) {
    m.set(keys[i]!, i);
    ref.set(keys[i]!, i);
  }
  assert.equal(m.stats().bytesEstimate, bytes);
  assert.deepEqual(m.checkInvariants(), []);
  assert.deepEqual(new Map(m), ref);
  assert.equal(m.capacity, 2 ** 21);
});

Deno.test("RobinHoodMap.endSharing() refuses a table that still has entries", () => {
  // Given away with entries in it, the slab's next insertions in the other table overwrote them.
  const source = RobinHoodMap.withCapacity<number>(2 ** 18, {}, true);
  source.set("s0", 0);
  const target = RobinHoodMap.withSlabOf<number>(2 ** 18, {}, source);
  assert.throws(() => source.endSharing(), {
    name: "RangeError",
    message: /the table must be drained first \(1 entries\)/,
  });
  for (let cursor = 0; source.size > 0;) cursor = source.drainEntriesInto(cursor, 8, target);
  source.endSharing();
  target.set("t0", 1);
  assert.deepEqual(target.checkInvariants(), []);
  assert.deepEqual(new Map(target), new Map([["s0", 0], ["t0", 1]]));
});

Deno.test("structuredClone() refuses every map, naming how to copy one", () => {
  // A ChainingMap or RobinHoodMap came back as a plain object of its internals, no methods.
  for (const m of all()) {
    m.set("a", 1);
    assert.throws(() => structuredClone(m), {
      name: "DataCloneError",
      message: /copyWithNewMapOrASnapshot/,
    });
  }
});

Deno.test("Deno.inspect() shows a map beside a deeply nested value as it shows a Map", () => {
  // Deno passed the depth of the sibling printed before: the map showed as [RobinHoodMap].
  const deep = { a: { b: { c: { d: 1 } } } };
  for (const m of all()) {
    m.set("i", 1);
    const name = m.constructor.name;
    const shown = Deno.inspect({ d: deep, inner: m });
    assert.equal(shown, Deno.inspect({ d: deep, inner: new Map([["i", 1]]) }).replace("Map", name));
  }
});

Deno.test("set() that fails to allocate a bigger table leaves the map as it was", () => {
  // The new size was recorded before the new arrays were made: a failed allocation left the
  // map with the new geometry and the old arrays, its keys lost (a simulated failure).
  const Real = Int32Array;
  let failFrom = Infinity;
  globalThis.Int32Array = new Proxy(Real, {
    construct(target, args) {
      if (typeof args[0] === "number" && args[0] >= failFrom) {
        throw new RangeError("Array buffer allocation failed");
      }
      return Reflect.construct(target, args);
    },
  });
  try {
    for (const m of [new ChainingMap<number>(), new RobinHoodMap<number>()]) {
      for (let i = 0; i < 40; i++) m.set(i, i);
      failFrom = 2 * m.stats().capacity;
      let added = 40;
      assert.throws(() => {
        for (; added < 10_000; added++) m.set(added, added);
      }, RangeError);
      failFrom = Infinity;
      assert.equal(m.size, added);
      for (let i = 0; i < added; i++) assert.equal(m.get(i), i);
      assert.deepEqual(m.checkInvariants(), []);
      m.set("after", 1); // and it grows once it can
      assert.equal(m.size, added + 1);
    }
  } finally {
    globalThis.Int32Array = Real;
  }
});

Deno.test("AdaptiveMap.set() of a refused key moves no migration forward", () => {
  // Each refused set still ran a migration step: enough of them finished the migration, and
  // its listeners ran, all from calls that failed.
  const m = new AdaptiveMap<number>({ incrementalBatch: 1 });
  for (let i = 0; m.migrations === 0 && !m.migrating; i++) m.set(`F${i}`, i);
  assert.ok(m.migrating);
  const before = m.exportState();
  for (let i = 0; i < 50; i++) assert.throws(() => m.set(NaN, 1), TypeError);
  assert.deepEqual(m.exportState(), before);
});

Deno.test("RobinHoodMap and ChainingMap give a resize the load that passes their limit", () => {
  for (const lf of [0.5, 0.85, 0.97]) {
    const maps = [new RobinHoodMap<number>({ maxLoadFactor: lf }), new ChainingMap<number>()];
    for (const m of maps) {
      const reasons: string[] = [];
      m.onRebuild = (type, _from, _to, reason) => type === "resize" && reasons.push(reason);
      for (let i = 0; i < 5000; i++) m.set(i, i);
      assert.ok(reasons.length > 3, m.backend);
      for (const reason of reasons) {
        const [, load, limit] = /^load ([\d.]+) >=? ([\d.]+)$/.exec(reason) ?? [];
        assert.ok(Number(load) >= Number(limit), `${m.backend} ${lf}: ${reason}`);
      }
    }
  }
});

Deno.test("ChainingMap.compact() packs the slab and shrinks the chains, keeping the order", () => {
  const m = new ChainingMap<number>({ initialBuckets: 16 });
  const rebuilds: string[] = [];
  m.onRebuild = (type, from, to) => rebuilds.push(`${type} ${from} -> ${to}`);
  for (let i = 0; i < 50_000; i++) m.set(`k${i}`, i);
  for (let i = 0; i < 50_000; i++) if (i % 100 !== 7) m.delete(`k${i}`);
  const before = m.stats();
  const order = [...m.entries()];
  rebuilds.length = 0;
  m.compact();
  assert.deepEqual(rebuilds, ["compaction 65536 -> 1024"]);
  assert.deepEqual([...m.entries()], order);
  assert.deepEqual(m.checkInvariants(), []);
  const after = m.stats();
  assert.equal(after.size, 500);
  assert.ok(after.bytesEstimate * 20 < before.bytesEstimate, `${after.bytesEstimate} bytes`);
  // The packed slab has no free entries: new keys go after the old ones.
  m.set("new", 1);
  assert.deepEqual([...m.keys()].at(-1), "new");
  assert.equal(m.get("k7"), 7);
  // Never below the initial chains, never above the present ones.
  m.clear();
  m.set("a", 1);
  m.compact();
  assert.equal(m.capacity, 16);
});

Deno.test("ChainingMap.compact() reports the chains it ends with, also when its entries make it grow", () => {
  const m = new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor: 16 });
  for (let i = 0; i < 128; i++) m.set(i, i);
  m.setMaxLoadFactor(1); // 128 entries over 8 chains: past the new limit
  const rebuilds: Array<[string, number, number]> = [];
  m.onRebuild = (type, from, to) => rebuilds.push([type, from, to]);
  m.compact();
  assert.deepEqual(rebuilds, [["compaction", 8, m.capacity]]);
  assert.ok(m.capacity >= 128, `${m.capacity} chains`);
  assert.deepEqual(m.checkInvariants(), []);
  // With chains asked for: those, or what the entries need at least.
  m.compact(4096);
  assert.equal(m.capacity, 4096);
  m.compact(8);
  assert.ok(m.capacity >= 128);
});

Deno.test("ChainingMap.compact() and the withCapacity() factories refuse sizes outside [1, 2^30], quoting them", () => {
  const m = new ChainingMap<number>().set("a", 1);
  const before = m.exportState();
  // Each used to be taken as "fit" (compact) or never to return (2^31 and Infinity).
  for (const bad of [-1, 0, NaN, 2 ** 31, Infinity]) {
    assert.throws(
      () => m.compact(bad),
      new RangeError(
        `ChainingMap.compact(): chains must be a number in [1, 2^30]: received ${bad}`,
      ),
    );
    assert.throws(() => ChainingMap.withCapacity(bad, 1), RangeError, String(bad));
    assert.throws(() => RobinHoodMap.withCapacity(bad), RangeError, String(bad));
  }
  assert.throws(
    () => m.compact("x" as unknown as number),
    new TypeError(`ChainingMap.compact(): chains must be a number in [1, 2^30]: received "x"`),
  );
  assert.throws(() => ChainingMap.withCapacity(8, NaN), /entries must be a number in \[0, 2\^30\]/);
  assert.throws(() => RobinHoodMap.withCapacity("8" as unknown as number), TypeError);
  assert.deepEqual(m.exportState(), before, "a refused compact() changes nothing");
  // Undefined still fits the chains to the entries, and the largest size is taken.
  m.compact(undefined);
  assert.equal(m.capacity, 64);
  assert.equal(ChainingMap.withCapacity(2 ** 10, 0).capacity, 1024);
});
