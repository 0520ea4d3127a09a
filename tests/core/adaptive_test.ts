import assert from "node:assert/strict";
import {
  AdaptiveMap,
  ChainingMap,
  DEFAULT_POLICY,
  type MapEvent,
  RobinHoodMap,
  validatePolicy,
} from "../../mod.ts";

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

const NONE = { used: Infinity, tombstones: Infinity, writes: Infinity, avgProbe: Infinity };

Deno.test("RobinHoodMap.watch() calls back after the insertion or deletion that reaches a limit", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 256, deletion: "tombstone" });
  const calls: string[] = [];
  const seen = () => calls.push(`size ${m.size} tombstones ${m.tombstones} writes ${m.writes}`);
  m.watch({ ...NONE, used: 10 }, seen);
  for (let i = 0; i < 9; i++) m.set(i, i);
  m.set(0, 100); // an update is not a write
  assert.deepEqual(calls, []);
  m.set(9, 9);
  assert.deepEqual(calls, ["size 10 tombstones 0 writes 10"]);
  m.delete(9); // a tombstone: entries plus tombstones still 10
  assert.equal(calls.length, 2);

  calls.length = 0;
  m.watch({ ...NONE, tombstones: 3 }, seen);
  m.delete(1);
  m.delete(42); // absent: not a write
  assert.deepEqual(calls, []);
  m.delete(2);
  assert.deepEqual(calls, ["size 7 tombstones 3 writes 13"]);

  calls.length = 0;
  m.watch({ ...NONE, writes: 15 }, seen);
  m.delete(3);
  assert.deepEqual(calls, []);
  m.set(3, 3); // into the tombstone the deletion left
  assert.deepEqual(calls, ["size 7 tombstones 3 writes 15"]);

  calls.length = 0;
  m.watch(null);
  for (let i = 200; i < 220; i++) m.set(i, i);
  assert.deepEqual(calls, []);
});

Deno.test("RobinHoodMap.watch() reports the first write that takes the mean probe distance past its limit", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 1024 });
  let calledAt = -1;
  m.watch({ ...NONE, avgProbe: 0.25 }, () => {
    if (calledAt < 0) calledAt = m.size;
  });
  let crossedAt = -1;
  for (let i = 0; i < 800 && crossedAt < 0; i++) {
    m.set(`K${i}`, i);
    if (m.avgProbe > 0.25) crossedAt = m.size;
  }
  assert.ok(crossedAt > 0);
  assert.equal(calledAt, crossedAt);
});

Deno.test("RobinHoodMap.writes does not count growth, and a watched table is not called back while it grows", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 64 });
  let calls = 0;
  m.watch({ ...NONE, used: 40 }, () => calls++);
  for (let i = 0; i < 54; i++) m.set(i, i);
  assert.equal(m.capacity, 64);
  assert.equal(m.writes, 54);
  assert.equal(calls, 54 - 39); // from the 40th insertion on
  m.set(54, 54); // the table doubles, re-placing 54 entries, then inserts
  assert.equal(m.capacity, 128);
  assert.equal(m.writes, 55);
  assert.equal(calls, 16);
  m.clear();
  assert.equal(m.writes, 56);
});

Deno.test("AdaptiveMap on Robin Hood applies its policy at the write that reaches a limit", () => {
  // Regrowth: by migration once entries reach 0.8 of the slots.
  const grow = new AdaptiveMap<number>({
    startBackend: "robinhood",
    initialCapacityRh: 4096,
    incrementalBatch: 64,
  });
  for (let i = 0; i < 3276 - 1; i++) grow.set(i, i);
  assert.equal(grow.migrating, false);
  grow.set(-1, 0);
  assert.equal(grow.migrating, true);

  // A switch to chaining: at the first insertion that takes the mean probe distance past 0.4.
  const probe = new AdaptiveMap<number>({
    startBackend: "robinhood",
    initialCapacityRh: 1 << 14,
    maxAvgProbeRobinhood: 0.4,
  });
  const starts: MapEvent[] = [];
  probe.onEvent((e) => e.type === "start" && starts.push(e));
  let i = 0;
  while (!probe.migrating) {
    assert.ok(probe.stats().avgProbeDistance <= 0.4);
    probe.set(`K${i++}`, i);
  }
  assert.ok(probe.stats().avgProbeDistance > 0.4);
  assert.equal(starts.length, 1);
  assert.match(starts[0]!.reason, /^average probe distance 0\.4\d > 0\.4$/);
});

Deno.test("AdaptiveMap rests for max(size, incrementalBatch) writes after a switch", () => {
  // Probes are always "too long" on Robin Hood, so only the rest keeps the map there.
  const m = new AdaptiveMap<number>({ maxAvgProbeRobinhood: 1e-9, incrementalBatch: 500 });
  const events: MapEvent[] = [];
  m.onEvent((e) => (e.type === "switch" || e.type === "start") && events.push(e));
  let i = 0;
  while (m.migrations === 0) m.set(`K${i++}`, i);
  assert.equal(m.backend, "robinhood");
  const size = m.size;
  const rest = Math.max(size, 500);
  events.length = 0;
  // Insertions and deletions in turn: the size stays put, so the table never needs to regrow
  // (a migration would pause the rest).
  const write = (w: number) => w % 2 === 0 ? m.set(`N${w}`, w) : m.delete(`N${w - 1}`);
  // The write that completed the switch was the first of the rest.
  for (let w = 2; w <= rest; w++) write(w);
  m.set("K0", -1); // updates do not count
  assert.deepEqual(events, [], "a migration started while resting");
  write(rest + 1);
  const first = events[0] as MapEvent | undefined;
  assert.equal(first?.type, "start");
  assert.equal(first?.to, "chaining");
});

Deno.test("AdaptiveMap.policy is frozen: a table's limits always follow it", () => {
  const m = new AdaptiveMap<number>({ maxAvgProbeRobinhood: 3 });
  assert.ok(Object.isFrozen(m.policy));
  assert.throws(() => {
    (m.policy as { maxAvgProbeRobinhood: number }).maxAvgProbeRobinhood = 0.1;
  }, TypeError);
  // A policy changes by restoring the tables under another one.
  for (let i = 0; i < 5_000; i++) m.set(i, i);
  assert.equal(m.backend, "robinhood");
  const state = m.exportState();
  const lowered = AdaptiveMap.fromState<number>({
    ...state,
    policy: { ...state.policy, maxAvgProbeRobinhood: 0.01 },
  });
  assert.equal(lowered.migrating, false);
  lowered.set(-1, -1);
  assert.equal(lowered.migrating, true);
});

Deno.test("AdaptiveMap regrows while it rests, and the regrowth pauses the rest", () => {
  const m = new AdaptiveMap<number>({ maxAvgProbeRobinhood: 1e-9, incrementalBatch: 64 });
  const events: MapEvent[] = [];
  m.onEvent((e) => events.push(e));
  let i = 0;
  while (m.migrations === 0) m.set(`K${i++}`, i);
  const rest = Math.max(m.size, 64);
  const capacity = m.stats().capacity;
  events.length = 0;
  // Insertions only: the table reaches 0.8 of its slots within the rest and regrows.
  for (let w = 2; w <= rest; w++) m.set(`N${w}`, w);
  assert.ok(m.stats().capacity > capacity || m.migrating, "no regrowth");
  assert.deepEqual(events.filter((e) => e.type === "start"), []);
});
