import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AdaptiveMap,
  type AdaptivePolicy,
  ChainingMap,
  createMap,
  DEFAULT_POLICY,
  hashKey,
  indexFor,
  type Key,
  keyRepr,
  type MapEvent,
  type PolicyChanges,
  type ProbeTrace,
  restoreBackend,
  RobinHoodMap,
  validatePolicy,
} from "../../mod.ts";
import {
  GENERATE_DEFAULTS,
  generateCsvChunks,
  type GenerateOptions,
} from "../../src/workload/generate.ts";

Deno.test("AdaptiveMap with the default policy migrates on a growing uniform workload", () => {
  const m = new AdaptiveMap<number>();
  const events: MapEvent[] = [];
  m.onEvent((e) => events.push(e));
  for (let i = 0; i < 100_000; i++) m.set(`K${Math.floor(Math.random() * 1e9)}`, i);
  const sw = events.find((e) => e.type === "switch");
  assert.ok(sw, "no switch event");
  assert.equal(sw.from, "chaining");
  assert.equal(sw.to, "robinhood");
  const start = events.find((e) => e.type === "start")!;
  assert.match(start.reason, /load factor 0\.8\d+ > 0\.82|longest chain \d+ > 8/);
  assert.ok(start.time <= sw.time && Math.abs(start.time - Date.now()) < 60_000);
  assert.equal(m.backend, "robinhood");
  assert.equal(m.migrations, 1);
});

Deno.test("AdaptiveMap moves to chaining when Robin Hood probes get long, then rests", () => {
  const m = new AdaptiveMap<number>({
    startBackend: "robinhood",
    maxAvgProbeRobinhood: 0.3,
    incrementalBatch: 8,
  });
  const switches: string[] = [];
  m.onEvent((e) => e.type === "switch" && switches.push(`${e.from}->${e.to}`));
  for (let i = 0; i < 2_000; i++) m.set(i, i);
  assert.equal(switches[0], "robinhood->chaining");
  // The rest period bounds migrations to O(writes / size).
  assert.ok(m.migrations <= 6, `${m.migrations} migrations`);
  for (let i = 0; i < 2_000; i++) assert.equal(m.get(i), i);
});

/** The rows of a generated workload, as [op, key, value]. */
function workload(options: Partial<GenerateOptions>): string[][] {
  const text = [...generateCsvChunks({ ...GENERATE_DEFAULTS, ...options })]
    .map((c) => new TextDecoder().decode(c)).join("");
  return text.trimEnd().split("\n").slice(1).map((line) => line.split(","));
}

Deno.test("AdaptiveMap goes back to a backend only when the one it is on is worse off", () => {
  // Keys that collide in both tables: each switch used to end its rest period with the trigger
  // of the table it had moved to, so the map bounced 7 times in these 200,000 operations and
  // ended on Robin Hood, with a mean probe distance of 13.7.
  const m = new AdaptiveMap<string>();
  const switches: MapEvent[] = [];
  m.onEvent((e) => e.type === "start" && e.from !== e.to && switches.push(e));
  for (const [op, k, v] of workload({ ops: 200_000, adversarialRatio: 0.3, seed: 7 })) {
    if (op === "put") m.set(k!, v!);
    else if (op === "del") m.delete(k!);
    else m.get(k!);
  }
  assert.deepEqual(switches.map((e) => `${e.from}->${e.to}`), [
    "chaining->robinhood",
    "robinhood->chaining",
  ]);
  // Robin Hood was left 6x past its limit; chaining's chains never went that far past theirs.
  assert.match(switches[1]!.reason, /^average probe distance (\d+\.\d+) > 6$/);
  assert.ok(Number(/(\d+\.\d+)/.exec(switches[1]!.reason)![1]) > 6 * 5);
  assert.equal(m.backend, "chaining");
  assert.ok(m.stats().maxGroupLen > DEFAULT_POLICY.maxGroupLen, "chaining is past its trigger too");
  // New limits measure afresh: the map leaves chaining at the next write past them.
  m.setPolicy({ maxGroupLen: DEFAULT_POLICY.maxGroupLen });
  m.set("one more", "1");
  assert.equal(switches.length, 3);
  assert.match(switches[2]!.reason, /^longest chain \d+ > 8$/);
  assert.deepEqual(m.checkInvariants(), []);
});

Deno.test("AdaptiveMap compacts a Robin Hood table whose tombstones reach the limit", () => {
  const m = new AdaptiveMap<number>({
    startBackend: "robinhood",
    rhDeletion: "tombstone",
    initialCapacityRh: 1024,
  });
  const compactions: MapEvent[] = [];
  m.onEvent((e) => e.type === "compaction" && compactions.push(e));
  for (let i = 0; i < 800; i++) m.set(i, i);
  // 256 tombstones in 1024 slots reach the 0.25 limit; the 44 deletions after it do not.
  for (let i = 0; i < 256; i++) m.delete(i);
  assert.ok(m.migrating);
  m.finishMigration();
  for (let i = 256; i < 300; i++) m.delete(i);
  assert.equal(compactions.length, 1);
  assert.match(compactions[0]!.reason, /tombstone ratio 0\.250 >= 0\.25/);
  assert.equal(m.compactions, 1);
  assert.equal(m.stats().tombstones, 44);
  assert.equal(m.size, 500);
});

Deno.test("AdaptiveMap.compact() rebuilds the Robin Hood table now, without tombstones and shrunk", () => {
  const m = new AdaptiveMap<number>({
    startBackend: "robinhood",
    rhDeletion: "tombstone",
    initialCapacityRh: 64,
    maxTombstoneRatio: 1,
  });
  for (let i = 0; i < 1_000; i++) m.set(i, i);
  for (let i = 0; i < 800; i++) m.delete(i); // 200 left: not sparse enough to shrink by itself
  const before = m.stats();
  assert.ok(before.tombstones > 0 && before.capacity >= 1_024, JSON.stringify(before));
  const events: MapEvent[] = [];
  m.onEvent((e) => events.push(e));
  m.compact();
  assert.deepEqual(events.map((e) => [e.type, e.from, e.to]), [
    ["compaction", "robinhood", "robinhood"],
  ]);
  assert.match(events[0]!.reason, /^compact\(\): \d+ tombstones, 200 entries in \d+ slots$/);
  const after = m.stats();
  assert.equal(after.tombstones, 0);
  assert.equal(after.capacity, 512);
  assert.equal(m.compactions, 1);
  assert.deepEqual([...m.keys()].sort((a, b) => Number(a) - Number(b)), [
    ...Array.from({ length: 200 }, (_, i) => 800 + i),
  ]);
  assert.deepEqual(m.checkInvariants(), []);
});

Deno.test("AdaptiveMap.compact() finishes a migration first, and packs a chaining table", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 1, initialBuckets: 2, groupsPerBucket: 4 });
  const events: string[] = [];
  m.onEvent((e) => events.push(`${e.type} ${e.fromCapacity}->${e.capacity}`));
  m.set("a", 1);
  m.compact();
  assert.deepEqual(events, ["compaction 8->8"]);
  assert.equal(m.backend, "chaining");
  assert.equal(m.compactions, 1);
  let i = 0;
  while (!m.migrating) m.set(i, i++);
  m.compact();
  assert.equal(m.migrating, false);
  assert.equal(m.backend, "robinhood");
  assert.deepEqual(events.map((e) => e.split(" ")[0]), [
    "compaction",
    "start",
    "switch",
    "compaction",
  ]);
  // A migration's events give the source's capacity before and the target's after.
  const [, start, done] = events.map((e) => e.split(" ")[1]!.split("->"));
  assert.deepEqual([start![0], start![1]], [done![0], done![1]]);
  assert.notEqual(start![0], start![1]);
  assert.equal(m.size, i + 1);
  assert.deepEqual(m.checkInvariants(), []);
});

Deno.test("AdaptiveMap gives memory back as entries go, a bounded batch per operation", () => {
  for (const startBackend of ["chaining", "robinhood"] as const) {
    const m = new AdaptiveMap<number>({ startBackend });
    const shrinks: string[] = [];
    const grows: string[] = [];
    m.onEvent((e) => {
      if (e.type !== "resize") return;
      (e.capacity < e.fromCapacity ? shrinks : grows).push(`${e.to} ${e.reason}`);
    });
    const ref = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) m.set(i, i), ref.set(i, i);
    assert.ok(grows.length > 0 && shrinks.length === 0, `${startBackend}: ${shrinks.join(", ")}`);
    const full = m.stats();
    const rh = RobinHoodMap.prototype as unknown as { rebuild: () => void };
    const { rebuild } = rh;
    rh.rebuild = () => assert.fail("a table was rebuilt whole inside one operation");
    try {
      for (let i = 0; i < 100_000 - 20; i++) {
        assert.equal(m.delete(i), ref.delete(i));
        if (i % 997 === 0) assert.equal(m.get(i + 1), ref.get(i + 1));
      }
    } finally {
      rh.rebuild = rebuild;
    }
    for (let i = 0; m.migrating && i < 1000; i++) m.get(-1);
    const s = m.stats();
    assert.ok(
      s.capacity < 16 * s.size,
      `${startBackend}: ${s.capacity} slots for ${s.size} entries`,
    );
    assert.ok(
      s.bytesEstimate * 100 < full.bytesEstimate,
      `${startBackend}: ${s.bytesEstimate} of ${full.bytesEstimate} bytes`,
    );
    assert.ok(shrinks.length >= 4, `${startBackend}: ${shrinks.join(", ")}`);
    assert.ok(
      shrinks.every((e) => e.startsWith(m.backend) && e.endsWith("under 1/16 full")),
      shrinks.join(", "),
    );
    assert.deepEqual(new Map(m), ref);
    assert.deepEqual(m.checkInvariants(), []);
    assert.equal(m.compactions, 0);
  }
});

Deno.test("AdaptiveMap does not shrink below its initial table, nor grow back and forth", () => {
  const m = new AdaptiveMap<number>({ startBackend: "robinhood", initialCapacityRh: 4096 });
  const events: string[] = [];
  m.onEvent((e) => events.push(`${e.type} ${e.capacity}`));
  for (let i = 0; i < 3; i++) m.set(i, i);
  for (let n = 0; n < 1000; n++) m.delete(n % 3), m.set(n % 3, n);
  assert.deepEqual(events, []);
  assert.equal(m.stats().capacity, 4096);
  // Around the shrink point, deleting and re-adding one key rebuilds nothing more.
  for (let i = 3; i < 100_000; i++) m.set(i, i);
  for (let i = 0; i < 100_000 - 8_000; i++) m.delete(i);
  m.finishMigration();
  const settled = events.length;
  for (let n = 0; n < 20_000; n++) m.delete(-1 - (n % 2)), m.set(-1 - (n % 2), n);
  assert.equal(events.length, settled, events.slice(settled).join(", "));
});

Deno.test("AdaptiveMap keeps every write, delete and read exact during a migration", () => {
  const m = new AdaptiveMap<string>({ incrementalBatch: 3 });
  const ref = new Map<string, string>();
  let i = 0;
  while (!m.migrating) {
    m.set(`K${i}`, "old");
    ref.set(`K${i}`, "old");
    i++;
  }
  // Overwrite keys not yet moved, delete others, and add new ones while the migration runs.
  for (let j = 0; m.migrating; j++) {
    const k = `K${(j * 7) % i}`;
    if (j % 3 === 0) {
      m.set(k, `new${j}`);
      ref.set(k, `new${j}`);
    } else if (j % 3 === 1) assert.equal(m.delete(k), ref.delete(k));
    else {
      m.set(`N${j}`, "n");
      ref.set(`N${j}`, "n");
    }
    assert.equal(m.size, ref.size);
    assert.equal(m.get(k), ref.get(k));
    const s = m.stats();
    assert.equal(s.size, ref.size);
    assert.equal(s.loadFactor, s.size / s.capacity);
  }
  assert.deepEqual(m.checkInvariants(), []);
  assert.deepEqual(new Map(m), ref);
});

Deno.test("AdaptiveMap iteration during a migration yields each live key once", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 2 });
  let i = 0;
  while (!m.migrating) m.set(`K${i}`, i++);
  for (let j = 0; j < 50; j++) m.get("K1");
  assert.ok(m.migrating);
  const keys = [...m.keys()];
  assert.equal(keys.length, i);
  assert.equal(new Set(keys).size, i);
  assert.equal(m.migrating, false);
});

Deno.test("AdaptiveMap.onEvent() returns an unsubscribe function", () => {
  const m = new AdaptiveMap<number>();
  let n = 0;
  const off = m.onEvent(() => n++);
  off();
  for (let i = 0; i < 5_000; i++) m.set(i, i);
  assert.equal(n, 0);
  assert.ok(m.migrations >= 1);
});

Deno.test("AdaptiveMap.onEvent() unsubscribes one registration at a time and refuses a non-function", () => {
  const m = new AdaptiveMap<number>({ startBackend: "robinhood", initialCapacityRh: 8 });
  let n = 0;
  const count = () => n++;
  const first = m.onEvent(count);
  m.onEvent(count);
  first();
  first(); // a second call removes nothing more
  m.set(0, 0);
  for (let i = 0; i < 20; i++) m.set(i, i); // resizes the 8-slot table
  assert.ok(n >= 1, "the second subscription still hears");
  assert.throws(() => m.onEvent(null as never), {
    name: "TypeError",
    message: "onEvent() needs a function: received null",
  });
});

/** Runs `fn`, then lets a macrotask pass, and returns the errors thrown meanwhile as uncaught. */
async function uncaughtDuring(fn: () => void): Promise<unknown[]> {
  const uncaught: unknown[] = [];
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    uncaught.push(e.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    fn();
    await new Promise((r) => setTimeout(r, 0));
  } finally {
    globalThis.removeEventListener("error", onError);
  }
  return uncaught;
}

Deno.test("AdaptiveMap listener that throws loses no write; its error is rethrown outside the map", async () => {
  const seen = new Set<string>();
  const uncaught = await uncaughtDuring(() => {
    // Every kind of event, from set() (resize, start, switch) and from get() (a step ending a
    // migration), with a listener that always throws.
    const m = new AdaptiveMap<number>({ incrementalBatch: 1 });
    m.onEvent((e) => {
      seen.add(e.type);
      throw new Error(`boom ${e.type}`);
    });
    const model = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      m.set(`K${i}`, i);
      model.set(`K${i}`, i);
      assert.equal(m.get(`K${i >> 1}`), i >> 1);
    }
    for (let j = 0; j < 5000 && m.migrating; j++) m.get("K1");
    assert.deepEqual(new Map(m), model);
    assert.deepEqual(m.checkInvariants(), []);
    for (const t of ["resize", "start", "switch"]) assert.ok(seen.has(t), t);
  });
  assert.ok(uncaught.length >= seen.size);
  assert.match(String(uncaught[0]), /^Error: boom /);
});

/**
 * A map and a `Map` given the same writes; `check()` compares them and the invariants. A listener
 * runs at the end of the operation, so what it does to the model goes in `then`, applied after
 * the model's own copy of that operation.
 */
function shadowed(m: AdaptiveMap<number>) {
  const model = new Map<Key, number>();
  const then: Array<(model: Map<Key, number>) => void> = [];
  const after = () => then.splice(0).forEach((f) => f(model));
  return {
    model,
    then,
    set(k: Key, v: number) {
      m.set(k, v);
      model.set(k, v);
      after();
    },
    delete(k: Key) {
      assert.equal(m.delete(k), model.delete(k));
      after();
    },
    check() {
      m.finishMigration();
      assert.deepEqual(m.checkInvariants(), []);
      assert.equal(m.size, model.size);
      assert.deepEqual(new Map(m), model);
    },
  };
}

/** What a listener does to the map, and then to the model. */
type MapUse = (
  m: {
    set(k: Key, v: number): unknown;
    get(k: Key): unknown;
    delete(k: Key): unknown;
    clear(): void;
  },
) => void;

Deno.test("AdaptiveMap delivers a table's rebuild only once the operation that caused it is done", () => {
  // A small Robin Hood table rebuilds itself in place inside its own set(). Listeners that used
  // the map at that moment lost entries (the outer set() went on with the table it had), left a
  // migration that never ended (iteration hung), or lost that set()'s key.
  // [name, policy, what the listener does, the policy in force while it does it]
  const cases: Array<[string, Partial<AdaptivePolicy>, MapUse, Partial<AdaptivePolicy>?]> = [
    ["deletes that start and step a compaction", {
      startBackend: "robinhood",
      initialCapacityRh: 512,
      rhDeletion: "tombstone",
      maxTombstoneRatio: 0.01,
    }, (m) => {
      for (let k = 0; k < 12; k++) m.delete(k);
    }],
    ["writes that start and step a migration", {
      startBackend: "robinhood",
      initialCapacityRh: 512,
    }, (m) => {
      m.set(-1, -1);
      m.get(-2);
    }, { maxAvgProbeRobinhood: 0.01 }], // so that its writes start a migration
    ["clear()", { startBackend: "robinhood", initialCapacityRh: 64 }, (m) => m.clear()],
  ];
  for (const [name, policy, use, during = {}] of cases) {
    const m = new AdaptiveMap<number>(policy);
    const s = shadowed(m);
    let fired = false;
    m.onEvent((e) => {
      if (e.type !== "resize" || fired) return;
      fired = true;
      const before = m.policy;
      m.setPolicy(during);
      use(m);
      m.setPolicy(before);
      s.then.push(use);
    });
    let i = 0;
    while (!fired) s.set(i++, i);
    assert.equal(m.get(i - 1), s.model.get(i - 1), name);
    s.check();
  }
});

Deno.test("AdaptiveMap lets a listener use the map when a migration step rebuilds its target", () => {
  // Tombstones make the migration target rebuild itself mid-drain, with an entry in flight:
  // compact() there moved that entry twice, and clear() broke the map for good.
  for (const use of ["compact", "clear"] as const) {
    const m = new AdaptiveMap<number>({
      startBackend: "robinhood",
      incrementalBatch: 1,
      rhDeletion: "tombstone",
      maxTombstoneRatio: 0.01,
      initialCapacityRh: 4096,
    });
    const s = shadowed(m);
    let fired = false;
    m.onEvent((e) => {
      if (fired || e.type !== "resize" || !m.migrating) return;
      fired = true;
      m[use]();
      if (use === "clear") s.model.clear();
    });
    for (let i = 0; i < 3_000; i++) s.set(i, i);
    for (let i = 0; i < 60; i++) s.delete(i);
    for (let i = 3_000; i < 30_000; i++) s.set(i, i);
    assert.ok(fired, use);
    s.check();
  }
});

Deno.test("AdaptiveMap events show the map whole, even when a step moved part of a chain", () => {
  // A chaining source whose one chain of 3 keys is moved by a step into a Robin Hood target one
  // entry short of its rebuild: the target's resize came with the chain half moved, so the
  // event's size counted a key twice and exportState() showed undefined keys.
  const chain: string[] = [];
  const others: string[] = [];
  for (let i = 0; chain.length < 3 || others.length < 5; i++) {
    const k = `k${i}`;
    if (hashKey(k) >>> 29 === 0) chain.length < 3 && chain.push(k);
    else if (others.length < 5) others.push(k);
  }
  const target = new RobinHoodMap<number>({ initialCapacity: 8 });
  for (const k of others) target.set(k, 0);
  const m = AdaptiveMap.fromState<number>({
    kind: "adaptive",
    policy: { ...DEFAULT_POLICY, incrementalBatch: 8 },
    active: {
      kind: "chaining",
      bucketCount: 8,
      maxLoadFactor: 1.025,
      keys: chain,
      values: [1, 2, 3],
    },
    target: target.exportState(),
    migrations: 0,
    compactions: 0,
  });
  const seen: string[] = [];
  m.onEvent((e) => {
    seen.push(e.type);
    assert.equal(e.size, 8);
    assert.equal(m.size, 8);
    assert.deepEqual(m.checkInvariants(), []);
    const state = m.exportState();
    const keys = [state.active, state.target].flatMap((t) => t === null ? [] : t.keys);
    assert.deepEqual(keys.filter((k) => k === undefined), []);
  });
  m.finishMigration();
  assert.deepEqual(seen, ["resize", "switch"]);
  assert.equal(m.size, 8);
});

Deno.test("validatePolicy() names the bad field", () => {
  assert.throws(
    () => validatePolicy({ ...DEFAULT_POLICY, maxLfChaining: 0 }),
    /policy\.maxLfChaining/,
  );
  assert.throws(() => new AdaptiveMap({ incrementalBatch: 1.5 }), /policy\.incrementalBatch/);
  assert.throws(
    () => new AdaptiveMap({ startBackend: "btree" as never }),
    /policy\.startBackend.*"btree"/,
  );
});

Deno.test("validatePolicy() refuses numbers passed as strings and quotes the value as given", () => {
  // Accepted before, such a policy was saved in snapshots that could not be loaded.
  for (const f of ["maxLfChaining", "maxAvgProbeRobinhood", "maxTombstoneRatio"]) {
    assert.throws(() => new AdaptiveMap({ [f]: "0.5" }), {
      name: "RangeError",
      message: new RegExp(`policy\\.${f} must be a (finite )?number .*received "0\\.5"$`),
    });
  }
  const m = new AdaptiveMap();
  assert.throws(() => m.setPolicy({ maxLfChaining: "2" as never }), /received "2"/);
  assert.equal(m.policy.maxLfChaining, DEFAULT_POLICY.maxLfChaining);
  assert.throws(() => new AdaptiveMap({ incrementalBatch: Infinity }), /received Infinity$/);
  assert.throws(() => new AdaptiveMap({ maxTombstoneRatio: NaN }), /received NaN$/);
  assert.throws(() => new AdaptiveMap({ maxAvgProbeRobinhood: Infinity }), /received Infinity$/);
  assert.throws(
    () => new AdaptiveMap({ initialBuckets: 65536, groupsPerBucket: 65536 }),
    /policy\.initialBuckets must be at most 2\^30 \/ groupsPerBucket: received 65536$/,
  );
  assert.throws(() => new RobinHoodMap({ initialCapacity: "100" as never }), /received "100"/);
  assert.throws(() => new ChainingMap({ maxLoadFactor: "2" as never }), /received "2"/);
});

Deno.test("AdaptiveMap regrow events state a true inequality", () => {
  const m = new AdaptiveMap<number>({
    startBackend: "robinhood",
    initialCapacityRh: 8,
    incrementalBatch: 4,
  });
  const reasons: string[] = [];
  m.onEvent((e) => reasons.push(e.reason));
  for (let i = 0; i < 6; i++) m.set(i, i);
  m.finishMigration();
  assert.deepEqual(reasons, ["entries fill 6 of 8 slots >= 6 (0.8 of the slots)"]);
});

Deno.test("AdaptiveMap.policy is frozen: a field cannot be changed around validation", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 64 });
  assert.throws(() => {
    (m.policy as { incrementalBatch: number }).incrementalBatch = 0;
  }, TypeError);
  assert.equal(m.policy.incrementalBatch, 64);
});

Deno.test("AdaptiveMap.setPolicy() rejects a bad field and keeps the policy in force", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 64 });
  let i = 0;
  while (!m.migrating) m.set(`K${i++}`, i);
  const before = m.policy;
  assert.throws(() => m.setPolicy({ maxGroupLen: 4, incrementalBatch: 0 }), {
    name: "RangeError",
    message: /policy\.incrementalBatch .*received 0/,
  });
  assert.throws(() => m.setPolicy({ maxLfChainig: 0.5 } as never), {
    name: "RangeError",
    message: /policy\.maxLfChainig is not a policy field/,
  });
  assert.equal(m.policy, before);
  assert.equal(m.policy.maxGroupLen, DEFAULT_POLICY.maxGroupLen);
  assert.equal([...m.keys()].length, i); // the migration under way finishes
  assert.equal(m.migrating, false);
});

Deno.test("AdaptiveMap.setPolicy() applies new limits from the next write and keeps the rest", () => {
  const m = new AdaptiveMap<number>({ maxLfChaining: 4, maxGroupLen: 1_000, incrementalBatch: 64 });
  const events: MapEvent[] = [];
  m.onEvent((e) => events.push(e));
  for (let i = 0; i < 1_000; i++) m.set(`K${i}`, i);
  assert.equal(m.backend, "chaining");
  assert.equal(events.filter((e) => e.type === "start").length, 0);
  m.setPolicy({ maxLfChaining: 0.5 });
  assert.equal(m.policy.maxLfChaining, 0.5);
  assert.equal(m.policy.maxGroupLen, 1_000);
  assert.equal(m.policy.incrementalBatch, 64);
  assert.ok(Object.isFrozen(m.policy));
  m.set("one more", -1);
  const start = events.find((e) => e.type === "start");
  assert.ok(start, "no migration started");
  assert.match(start.reason, /load factor [\d.]+ > 0\.5/);
  m.finishMigration();
  assert.equal(m.backend, "robinhood");
  assert.equal(m.size, 1_001);
  assert.deepEqual(m.checkInvariants(), []);
  assert.equal(m.exportState().policy.maxLfChaining, 0.5);
});

Deno.test("AdaptiveMap.setPolicy() raising the chaining trigger keeps the table from rebuilding itself", () => {
  const proto = ChainingMap.prototype as unknown as { relink: (...a: unknown[]) => unknown };
  const { relink } = proto;
  let whole = 0;
  proto.relink = function (this: unknown, ...a: unknown[]) {
    whole++;
    return relink.apply(this, a);
  };
  try {
    const m = new AdaptiveMap<number>({ maxGroupLen: 1_000, incrementalBatch: 64 });
    for (let i = 0; i < 300; i++) m.set(`K${i}`, i);
    m.setPolicy({ maxLfChaining: 8 });
    const switches: string[] = [];
    m.onEvent((e) => {
      if (e.type === "switch") switches.push(`${e.from}->${e.to}`);
    });
    for (let i = 300; i < 20_000; i++) m.set(`K${i}`, i);
    assert.equal(whole, 0, "the chaining table rebuilt itself inside one operation");
    assert.deepEqual(switches, ["chaining->robinhood"]);
    assert.equal(m.size, 20_000);
  } finally {
    proto.relink = relink;
  }
});

Deno.test("validatePolicy() rejects a field that is not a policy field", () => {
  assert.throws(
    () => new AdaptiveMap({ incrementalBatch: 64, batch: 1 } as never),
    { name: "RangeError", message: "policy.batch is not a policy field" },
  );
});

Deno.test("AdaptiveMap grows and compacts by incremental migrations, never a whole-table rebuild", () => {
  type Rebuilds = { rebuild: (...a: unknown[]) => unknown; relink: (...a: unknown[]) => unknown };
  const rh = RobinHoodMap.prototype as unknown as Rebuilds;
  const ch = ChainingMap.prototype as unknown as Rebuilds;
  const { rebuild } = rh;
  const { relink } = ch;
  let whole = 0;
  rh.rebuild = function (this: unknown, ...a: unknown[]) {
    whole++;
    return rebuild.apply(this, a);
  };
  ch.relink = function (this: unknown, ...a: unknown[]) {
    whole++;
    return relink.apply(this, a);
  };
  try {
    const m = new AdaptiveMap<number>({
      rhDeletion: "tombstone",
      maxTombstoneRatio: 0.1,
      incrementalBatch: 64,
    });
    const seen = new Map<string, number>();
    m.onEvent((e) => seen.set(e.type, (seen.get(e.type) ?? 0) + 1));
    const ref = new Map<string, number>();
    for (let i = 0; i < 200_000; i++) {
      const k = `K${(i * 7919) % 60_000}`;
      if (i > 100_000 && i % 3 === 0) assert.equal(m.delete(k), ref.delete(k));
      else {
        m.set(k, i);
        ref.set(k, i);
      }
    }
    assert.equal(whole, 0, "a backend rebuilt a whole table inside one operation");
    assert.ok((seen.get("resize") ?? 0) >= 5, `resizes: ${seen.get("resize")}`);
    assert.ok((seen.get("compaction") ?? 0) >= 1, `compactions: ${seen.get("compaction")}`);
    assert.deepEqual(new Map(m), ref);
  } finally {
    rh.rebuild = rebuild;
    ch.relink = relink;
  }
});

Deno.test("AdaptiveMap.stats() mid-migration covers both tables' entries and no drained slots", () => {
  for (const start of ["chaining", "robinhood"] as const) {
    // Default backshift deletion: a Robin Hood source leaves a tombstone in every slot it
    // drains, which must not read as the map's tombstones.
    const m = new AdaptiveMap<number>({ startBackend: start, incrementalBatch: 64 });
    let i = 0;
    while (m.size < 5000 || !m.migrating) m.set(`K${i}`, i++);
    for (let j = 0; j < 20 && m.migrating; j++) m.get("K1");
    assert.ok(m.migrating, `${start}: the migration ended too soon for the test`);
    const s = m.stats();
    const counted = s.probeHistogram.reduce((sum, [, c]) => sum + c, 0);
    assert.equal(counted, m.size, `${start}: histogram counts every entry once`);
    const mean = s.probeHistogram.reduce((sum, [d, c]) => sum + d * c, 0) / m.size;
    assert.ok(Math.abs(s.avgProbeDistance - mean) < 1e-9, `${start}: ${s.avgProbeDistance}`);
    assert.equal(s.tombstones, 0, start);
    assert.equal(s.tombstoneRatio, 0, start);
    assert.ok(s.probeHistogram.every(([d], k, a) => k === 0 || a[k - 1]![0] < d));
  }
});

Deno.test("AdaptiveMap's migration reasons show the value above its limit, not rounded onto it", () => {
  const m = new AdaptiveMap<number>();
  const starts: MapEvent[] = [];
  m.onEvent((e) => e.type === "start" && starts.push(e));
  let i = 0;
  while (starts.length === 0) m.set(i, i++);
  // 420 entries in 512 chains: 0.8203..., which three decimals would show as 0.820.
  assert.equal(starts[0]!.reason, "load factor 0.8203 > 0.82");
});

Deno.test("validatePolicy() accepts the ends of its ranges", () => {
  const ends: Array<Partial<AdaptivePolicy>> = [
    { maxLfChaining: 8 },
    { maxTombstoneRatio: 1 },
    { incrementalBatch: 1 },
    { incrementalBatch: 2 ** 30 },
    { initialBuckets: 2 ** 15, groupsPerBucket: 2 ** 15 },
  ];
  for (const changes of ends) {
    const p = { ...DEFAULT_POLICY, ...changes };
    assert.deepEqual(validatePolicy(p), p);
  }
});

Deno.test("AdaptiveMap's triggers are strict: a load, chain or probe distance equal to its limit starts nothing", () => {
  // Load: 4 entries in 8 chains are 0.5, not above it; the fifth is.
  const byLoad = new AdaptiveMap<number>({
    initialBuckets: 1,
    groupsPerBucket: 8,
    maxLfChaining: 0.5,
  });
  for (let i = 0; i < 4; i++) byLoad.set(i, i);
  assert.equal(byLoad.migrating, false);
  byLoad.set(4, 4);
  assert.equal(byLoad.migrating, true);
  // Chain: keys of one chain of 8.
  const sameChain: number[] = [];
  for (let i = 0; sameChain.length < 3; i++) if (indexFor(hashKey(i), 3) === 5) sameChain.push(i);
  const byChain = new AdaptiveMap<number>({
    initialBuckets: 1,
    groupsPerBucket: 8,
    maxLfChaining: 8,
    maxGroupLen: 2,
  });
  const reasons: string[] = [];
  byChain.onEvent((e) => reasons.push(e.reason));
  byChain.set(sameChain[0]!, 0).set(sameChain[1]!, 1);
  assert.equal(byChain.migrating, false);
  byChain.set(sameChain[2]!, 2);
  assert.deepEqual(reasons, ["longest chain 3 > 2"]);
  // Probe distance: two keys of one home in 64 slots, at distances 0 and 1, average 0.5. A
  // tombstone elsewhere makes every write check the policy.
  const home = (k: number) => indexFor(hashKey(k), 6);
  const pair: number[] = [];
  for (let i = 0; pair.length < 3; i++) if (home(i) === 20) pair.push(i);
  let other = 0;
  while (home(other) < 30) other++;
  const byProbe = new AdaptiveMap<number>({
    startBackend: "robinhood",
    initialCapacityRh: 64,
    rhDeletion: "tombstone",
    maxAvgProbeRobinhood: 0.5,
  });
  byProbe.set(other, 0).delete(other);
  byProbe.set(pair[0]!, 1).set(pair[1]!, 2);
  assert.equal(byProbe.stats().avgProbeDistance, 0.5);
  assert.equal(byProbe.migrating, false);
  byProbe.set(pair[2]!, 3); // distance 2: average 1
  assert.equal(byProbe.migrating, true);
});

Deno.test("AdaptiveMap lets a Robin Hood table of one batch rebuild itself, and migrates a bigger one", () => {
  // 8 slots regrow at 6 entries: with a batch of 6 the table rebuilds itself, with 5 it migrates.
  for (const [incrementalBatch, migrating] of [[6, false], [5, true]] as const) {
    const m = new AdaptiveMap<number>({
      startBackend: "robinhood",
      initialCapacityRh: 8,
      incrementalBatch,
    });
    for (let i = 0; i < 6; i++) m.set(i, i);
    assert.equal(m.migrating, migrating, `batch ${incrementalBatch}`);
  }
});

Deno.test("AdaptiveMap regrows a Robin Hood table to twice its size once entries fill half the regrow limit", () => {
  // 128 slots regrow at 102 entries and tombstones: 51 entries or more double the table.
  for (const [live, want] of [[50, "compaction 128"], [51, "resize 256"]] as const) {
    const m = new AdaptiveMap<number>({
      startBackend: "robinhood",
      initialCapacityRh: 128,
      rhDeletion: "tombstone",
      incrementalBatch: 8,
      maxTombstoneRatio: 1,
      maxAvgProbeRobinhood: 100,
    });
    const events: string[] = [];
    m.onEvent((e) => events.push(`${e.type} ${e.capacity}`));
    for (let i = 0; i < live - 1; i++) m.set(i, i);
    // Each new key comes in while `live - 1` entries are in the table, with ever more tombstones.
    for (let i = live - 1; !m.migrating; i++) m.set(i, i).delete(i - live + 1);
    m.finishMigration();
    assert.deepEqual(events, [want], `${live} entries`);
  }
});

Deno.test("AdaptiveMap regrows a chaining table while resting once it holds 0.9 of its doubling load", () => {
  // Probes longer than 0.01 move a Robin Hood map to chaining at its first collision.
  const m = new AdaptiveMap<number>({ startBackend: "robinhood", maxAvgProbeRobinhood: 0.01 });
  let i = 0;
  while (!m.migrating) m.set(i, i++);
  m.finishMigration();
  assert.equal(m.backend, "chaining");
  // The table doubles itself at 1.25 x maxLfChaining entries per chain.
  const { capacity } = m.stats();
  const limit = Math.floor(capacity * (1.25 * DEFAULT_POLICY.maxLfChaining) * 0.9);
  while (m.size < limit - 1) m.set(i, i++);
  assert.equal(m.migrating, false);
  m.set(i, i++);
  assert.equal(m.migrating, true, `${m.size} entries in ${capacity} chains`);
  m.finishMigration();
  assert.deepEqual([m.backend, m.stats().capacity], ["chaining", 2 * capacity]);
});

Deno.test("AdaptiveMap sizes a migration's target to take the moved entries and new ones without a rebuild", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 1 });
  const events: string[] = [];
  m.onEvent((e) => events.push(e.type));
  let i = 0;
  while (!m.migrating) m.set(`K${i}`, i++);
  const moved = m.size;
  // A new key every other step: the target ends with half as many entries again.
  while (m.migrating) m.set(`K${i}`, i++).get("K0");
  assert.ok(m.size > 1.4 * moved, `${m.size} entries after moving ${moved}`);
  assert.deepEqual(events, ["start", "switch"]);
});

Deno.test("AdaptiveMap rests for incrementalBatch writes after moving a smaller map, and clear() ends the rest", () => {
  const m = new AdaptiveMap<number>({
    initialBuckets: 1,
    groupsPerBucket: 8,
    maxLfChaining: 0.5,
    maxAvgProbeRobinhood: 0.01,
    incrementalBatch: 64,
  });
  const starts: string[] = [];
  m.onEvent((e) => e.type === "start" && starts.push(`${e.from}->${e.to}`));
  for (let i = 0; i < 5; i++) m.set(i, i); // load 5/8 > 0.5
  m.finishMigration();
  assert.deepEqual(starts, ["chaining->robinhood"]);
  // Any probe longer than 0.01 on average would move the map back, but it rests for 64 writes.
  for (let i = 5; i < 60; i++) m.set(i, i);
  assert.ok(m.stats().avgProbeDistance > 0.01);
  assert.deepEqual(starts, ["chaining->robinhood"]);
  m.clear(); // back on chaining, and no longer resting
  for (let i = 0; i < 5; i++) m.set(i, i);
  assert.deepEqual(starts, ["chaining->robinhood", "chaining->robinhood"]);
});

Deno.test("AdaptiveMap.traceGet() mid-migration traces the table that holds the key", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 4 });
  let n = 0;
  while (!m.migrating) m.set(`K${n}`, n++);
  for (let j = 0; j < 20; j++) m.get("K0");
  m.set("new", -1); // a new key goes to the target
  const { active, target } = m.exportState();
  assert.ok(m.migrating && target !== null && target.keys.length > 1);
  // Each trace first moves a batch, as get() does: the source's last chain is moved last.
  const holders: Array<[Key, string]> = [
    [active.keys.at(-1)!, "chaining"],
    [target.keys[0]!, "robinhood"],
    ["new", "robinhood"],
  ];
  for (const [key, backend] of holders) {
    const t = m.traceGet(key);
    assert.deepEqual([t.found, t.backend], [true, backend], String(key));
  }
  // A key in neither table is looked for last in the target, where set() would put it.
  assert.deepEqual([m.traceGet("absent").backend, m.tracePut("absent", 0).backend], [
    "robinhood",
    "robinhood",
  ]);
  assert.ok(m.migrating);
});

Deno.test("AdaptiveMap.traceGet() and tracePut() with step false move no entry", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 4 });
  let n = 0;
  while (!m.migrating) m.set(`K${n}`, n++);
  const tables = () =>
    JSON.stringify(m.exportState(), (_k, v) => v instanceof Int32Array ? [...v] : v);
  const before = tables();
  m.traceGet("K1", { step: false });
  m.tracePut("K2", 0, { step: false });
  m.tracePut("fresh", 0, { step: false });
  assert.equal(tables(), before);
  m.traceGet("K1"); // the default moves a batch, as get() does
  assert.notEqual(tables(), before);
});

Deno.test("AdaptiveMap.tracePut() mid-migration gives the path set() takes after its migration step", () => {
  type Op = { t: "set" | "del"; k: string };
  const key = fc.oneof(fc.nat(600).map((i) => `K${i}`), fc.nat(100).map((i) => `N${i}`));
  const op: fc.Arbitrary<Op> = fc.record({ t: fc.constantFrom("set", "set", "del"), k: key });
  const policies = fc.record({
    startBackend: fc.constantFrom("chaining" as const, "robinhood" as const),
    incrementalBatch: fc.constantFrom(8, 64),
    rhDeletion: fc.constantFrom("backshift" as const, "tombstone" as const),
  });
  /** A map filled until it migrates, then given `ops`: the same map each time. */
  const build = (policy: PolicyChanges, ops: Op[]): AdaptiveMap<number> => {
    const m = new AdaptiveMap<number>(policy);
    for (let i = 0; !m.migrating; i++) m.set(`K${i}`, i);
    for (const o of ops) o.t === "set" ? m.set(o.k, 1) : m.delete(o.k);
    return m;
  };
  /** The trace of `get(k)` in the table holding `k` as `m` is now, without a migration step. */
  const traceNow = (m: AdaptiveMap<number>, k: string): ProbeTrace => {
    const { active, target } = m.exportState();
    const a = restoreBackend<unknown>(active);
    return (a.has(k) || target === null ? a : restoreBackend<unknown>(target)).traceGet(k);
  };
  const checked = { migrating: 0, found: 0 };
  fc.assert(
    fc.property(policies, fc.array(op, { maxLength: 40 }), key, (policy, ops, k) => {
      const traced = build(policy, ops);
      if (!traced.migrating) return;
      const put = traced.tracePut(k, 2);
      const set = build(policy, ops).set(k, 2);
      const got = traceNow(set, k);
      checked.migrating++;
      if (put.found) checked.found++;
      assert.deepEqual([got.backend, got.capacity, got.found], [put.backend, put.capacity, true]);
      if (put.backend === "chaining" && got.backend === "chaining") {
        const walked = put.path.map((s) => s.key_repr);
        if (!put.found) walked.push(keyRepr(k));
        assert.deepEqual([got.bucket, got.path.map((s) => s.key_repr)], [put.bucket, walked]);
      } else if (put.backend === "robinhood" && got.backend === "robinhood") {
        // The key lands where the put updates it, or at its first swap or insert step.
        const at = put.path.find((s) => ["update", "swap", "insert"].includes(s.action))!;
        assert.deepEqual([got.ideal_slot, got.path.at(-1)!.slot], [put.ideal_slot, at.slot]);
      }
    }),
    { numRuns: 500, seed: 24 },
  );
  assert.ok(checked.migrating > 250 && checked.found > 50, JSON.stringify(checked));
});

Deno.test("AdaptiveMap.stats().tombstoneRatio mid-migration is its tombstones over its capacity", () => {
  const m = new AdaptiveMap<number>({ incrementalBatch: 4, rhDeletion: "tombstone" });
  let i = 0;
  while (!m.migrating) m.set(`K${i}`, i++); // 512 chains -> 1024 Robin Hood slots
  // New keys go to the target, and deleted there leave tombstones in it.
  for (let j = 0; j < 50; j++) m.set(`N${j}`, j);
  for (let j = 0; j < 50; j++) m.delete(`N${j}`);
  const s = m.stats();
  assert.ok(m.migrating);
  assert.deepEqual([s.capacity, s.tombstones], [512, 50]);
  assert.equal(s.tombstoneRatio, 50 / 512);
});

Deno.test("AdaptiveMap.stats().maxGroupLen mid-migration is the larger of both tables'", () => {
  for (const start of ["chaining", "robinhood"] as const) {
    const m = new AdaptiveMap<number>({ startBackend: start, incrementalBatch: 64 });
    let i = 0;
    while (m.size < 5000 || !m.migrating) m.set(`K${i}`, i++);
    // Near the end: the source keeps a few entries, the target nearly all of them.
    while (m.migrating && m.exportState().active.keys.length > 20) m.get("K1");
    const { active, target } = m.exportState();
    assert.ok(target !== null, `${start}: the migration ended too soon for the test`);
    const source = restoreBackend(active).stats().maxGroupLen;
    const moved = restoreBackend(target).stats().maxGroupLen;
    assert.ok(moved > source, `${start}: ${moved} in the target, ${source} in the source`);
    assert.equal(m.stats().maxGroupLen, moved, start);
  }
});

Deno.test("AdaptiveMap, setPolicy() and createMap() take an undefined field as unchanged", () => {
  // As a caller passes options through (typed `number | undefined` under
  // exactOptionalPropertyTypes too): the tables' options already worked this way.
  const maybe = (n: number): number | undefined => n > 0 ? n : undefined;
  const m = new AdaptiveMap<number>({ maxGroupLen: maybe(0), incrementalBatch: maybe(7) });
  assert.equal(m.policy.maxGroupLen, DEFAULT_POLICY.maxGroupLen);
  assert.equal(m.policy.incrementalBatch, 7);
  m.setPolicy({ incrementalBatch: maybe(0), maxGroupLen: maybe(3) });
  assert.deepEqual([m.policy.incrementalBatch, m.policy.maxGroupLen], [7, 3]);
  const c = createMap<number>("adaptive", { startBackend: undefined }) as AdaptiveMap<number>;
  assert.equal(c.policy.startBackend, "chaining");
  assert.equal(new RobinHoodMap<number>({ initialCapacity: maybe(0) }).capacity, 64);
  assert.equal(new ChainingMap<number>({ maxLoadFactor: maybe(0) }).maxLoadFactor, 1);
  // null is still a bad value, named.
  assert.throws(
    () => new AdaptiveMap({ maxGroupLen: null as unknown as number }),
    /maxGroupLen .*received null/,
  );
});

Deno.test("AdaptiveMap.compact() leaves a chaining table a quarter full, not just under the switch", () => {
  // Fitted to its own doubling load (1.025), 400 entries took 512 chains, a load of 0.78: 20
  // more insertions switched the map to Robin Hood.
  const m = new AdaptiveMap<number>({ initialBuckets: 8, groupsPerBucket: 8 });
  const big = new ChainingMap<number>({ initialBuckets: 4096, maxLoadFactor: 1.025 });
  for (let i = 0; i < 400; i++) big.set(i, i);
  const state = m.exportState();
  const loaded = AdaptiveMap.fromState<number>({ ...state, active: big.exportState() });
  const events: string[] = [];
  loaded.onEvent((e) => events.push(`${e.type} ${e.capacity}`));
  loaded.compact();
  assert.deepEqual(events, ["compaction 2048"]);
  for (let i = 400; i < 420; i++) loaded.set(i, i);
  assert.deepEqual([loaded.backend, loaded.migrating, events.length], ["chaining", false, 1]);
});
