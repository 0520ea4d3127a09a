import assert from "node:assert/strict";
import { replay } from "../../src/replay/replay.ts";
import { LatencyHistogram, SortedReservoir } from "../../src/replay/latency.ts";
import { MetricsNdjsonWriter } from "../../src/replay/metrics_sink.ts";
import { Watchdog } from "../../src/replay/watchdog.ts";
import { Sfc32 } from "../../src/workload/prng.ts";
import fc from "fast-check";
import { OP_DEL, OP_GET, OP_PUT, type OpBatch } from "../../src/workload/csv_reader.ts";
import { MetricsTick } from "../../src/contracts/metrics.ts";
import { createMap } from "../../src/core/factory.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import type { MapStats } from "../../src/core/types.ts";
import { withTempDir } from "../_helpers.ts";

/** Batches of `n` ops over `keys` keys: put, get, put, del cycling, in batches of `size`. */
function* workload(n: number, keys = 1000, size = 700): Generator<OpBatch> {
  const batch: OpBatch = {
    length: 0,
    ops: new Uint8Array(size),
    keys: new Array(size).fill(""),
    values: new Array(size).fill(""),
  };
  const cycle = [OP_PUT, OP_GET, OP_PUT, OP_DEL];
  for (let i = 0; i < n; i++) {
    const k = batch.length;
    batch.ops[k] = cycle[i % 4]!;
    batch.keys[k] = `K${(i * 7919) % keys}`;
    batch.values[k] = String(i);
    batch.length = k + 1;
    if (batch.length === size) {
      yield batch;
      batch.length = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

/** Only puts of distinct keys (makes an adaptive map grow and migrate). */
function* inserts(n: number, size = 1000): Generator<OpBatch> {
  const batch: OpBatch = {
    length: 0,
    ops: new Uint8Array(size),
    keys: new Array(size).fill(""),
    values: new Array(size).fill(""),
  };
  for (let i = 0; i < n; i++) {
    batch.ops[batch.length] = OP_PUT;
    batch.keys[batch.length] = `key-${i}`;
    batch.values[batch.length] = "v";
    if (++batch.length === size) {
      yield batch;
      batch.length = 0;
    }
  }
  if (batch.length > 0) yield batch;
}

async function ticksOf(n: number, tickEvery = 1024): Promise<MetricsTick[]> {
  const ticks: MetricsTick[] = [];
  await replay(createMap("adaptive"), workload(n), {
    tickEvery,
    onTick: (t) => void ticks.push(t),
  });
  return ticks;
}

Deno.test("replay() ticks at start, every tickEvery ops and at completion", async () => {
  assert.deepEqual((await ticksOf(5000)).map((t) => t.ops), [0, 1024, 2048, 3072, 4096, 5000]);
  // A periodic tick at the very end becomes the completion tick: no repeated ops count.
  assert.deepEqual((await ticksOf(4096)).map((t) => t.ops), [0, 1024, 2048, 3072, 4096]);
  assert.deepEqual((await ticksOf(0)).map((t) => t.ops), [0, 0]);
  assert.deepEqual((await ticksOf(10, 3)).map((t) => t.ops), [0, 3, 6, 9, 10]);
});

Deno.test("replay() ticks are valid metrics.v1 with run start and complete events once", async () => {
  const ticks = await ticksOf(5000);
  for (const t of ticks) MetricsTick.parse(t);
  const types = ticks.flatMap((t) => t.events.map((e) => e.type));
  assert.equal(types.filter((x) => x === "start").length, 1);
  assert.equal(types.filter((x) => x === "complete").length, 1);
  assert.ok(ticks[0]!.events.some((e) => e.type === "start"));
  assert.ok(ticks.at(-1)!.events.some((e) => e.type === "complete"));
  const last = ticks.at(-1)!;
  assert.equal(last.ops_by_type.put + last.ops_by_type.get + last.ops_by_type.del, 5000);
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i]!.t >= ticks[i - 1]!.t);
});

Deno.test("replay() reports each map event in exactly one tick", async () => {
  const map = new AdaptiveMap<string>({ incrementalBatch: 64 });
  const seen: string[] = [];
  map.onEvent((e) => seen.push(`${e.type}:${e.reason}`));
  const ticks: MetricsTick[] = [];
  const result = await replay(map, inserts(30_000), { onTick: (t) => void ticks.push(t) });
  const reported = ticks.flatMap((t) =>
    t.events.filter((e) => e.type !== "start" && e.type !== "complete")
  );
  assert.ok(seen.length > 0, "the adaptive map migrated or resized");
  assert.equal(reported.length, seen.length, "every event once, none repeated");
  const kinds = reported.map((e) => e.type);
  assert.ok(kinds.includes("migration_start"));
  assert.ok(kinds.includes("switch"));
  assert.equal(result.migrations, map.migrations);
  assert.equal(ticks.at(-1)!.migrations, map.migrations);
  assert.ok(map.migrations >= 1);
});

Deno.test("replay() reports a plain table's resizes and compactions, and gives its hook back", async () => {
  // A sliding window of keys: a tombstone table fills with tombstones and compacts.
  function* churn(n: number): Generator<OpBatch> {
    const batch: OpBatch = { length: 0, ops: new Uint8Array(2), keys: ["", ""], values: ["", ""] };
    for (let i = 0; i < n; i++) {
      batch.ops[0] = OP_PUT;
      batch.ops[1] = OP_DEL;
      batch.keys[0] = `c${i}`;
      batch.keys[1] = `c${i - 100}`;
      batch.values[0] = "v";
      batch.length = 2;
      yield batch;
    }
  }
  function* both(): Generator<OpBatch> {
    yield* inserts(5000);
    yield* churn(40_000);
  }
  for (
    const map of [
      new RobinHoodMap<string>({ deletion: "tombstone" }),
      new ChainingMap<string>(),
    ]
  ) {
    const own: string[] = [];
    const hook = (type: string, from: number, to: number): void =>
      void own.push(`${type} ${from}>${to}`);
    map.onRebuild = hook;
    const ticks: MetricsTick[] = [];
    const result = await replay(map, both(), { onTick: (t) => void ticks.push(t) });
    const events = ticks.flatMap((t) => t.events).filter((e) =>
      e.type !== "start" && e.type !== "complete"
    );
    const label = map.backend;
    assert.deepEqual(events.map((e) => `${e.type} ${e.from_capacity}>${e.capacity}`), own, label);
    const resizes = events.filter((e) => e.type === "resize");
    assert.ok(resizes.length >= 5, `${label}: ${resizes.length} resizes`);
    assert.equal(resizes.at(-1)!.capacity, result.finalStats.capacity, label);
    for (const e of resizes) {
      assert.equal(e.from, label);
      assert.equal(e.to, label);
      assert.match(String(e.reason), /^load /);
    }
    const compactions = events.filter((e) => e.type === "compaction").length;
    if (label === "robinhood") assert.ok(compactions > 0, "the tombstone table compacted itself");
    assert.equal(result.compactions, compactions, label);
    assert.equal(ticks.at(-1)!.compactions, compactions, label);
    assert.equal(map.onRebuild, hook, `${label}: the caller's hook is back`);
  }
});

Deno.test("replay() times map events on the run's clock, whatever the wall clock does", async () => {
  // An NTP step of an hour put a migration 3601 s into a 2 s run (or at 0, stepped back): the
  // events were timed by Date.now(), the ticks by the monotonic clock.
  const wall = Date.now;
  let step = 0;
  Date.now = () => wall() + step;
  try {
    for (const jump of [3_600_000, -3_600_000]) {
      const map = new AdaptiveMap<string>({ incrementalBatch: 64 });
      const ticks: MetricsTick[] = [];
      step = 0;
      let batches = 0;
      const stepped = (function* () {
        for (const b of inserts(30_000)) {
          if (batches++ === 2) step = jump;
          yield b;
        }
      })();
      await replay(map, stepped, { onTick: (t) => void ticks.push(t), tickEvery: 256 });
      let previous = 0;
      const events = ticks.flatMap((tick) => {
        const inside = tick.events.map((e) => [previous, e.t, tick.t]);
        previous = tick.t;
        return inside;
      });
      assert.ok(events.length > 4, "start, migration, switch, resize, complete");
      for (const [after, t, by] of events) {
        assert.ok(after! <= t! && t! <= by!, `event at ${t} s in a tick at ${by} s (jump ${jump})`);
      }
    }
  } finally {
    Date.now = wall;
  }
});

Deno.test("replay() times each op type as often as it occurs, whatever the workload's period", async () => {
  // put, get, put, del: a period of 4, which divides the default gap of 128.
  const result = await replay(createMap("fast-lookup"), workload(100_000));
  const hist = result.lastTick.latency_hist_ms;
  const timed = (op: string): number => hist[op]!.at(-1)!.count;
  const seen = result.latencySample.seen_overall;
  assert.equal(timed("put") + timed("get") + timed("del"), seen);
  const expected: Record<string, number> = { put: 0.5, get: 0.25, del: 0.25 };
  const shares = Object.keys(expected).map((op) => timed(op) / seen);
  Object.values(expected).forEach((share, i) => {
    assert.ok(Math.abs(shares[i]! - share) < 0.1, `shares of put, get, del: ${shares.join(", ")}`);
  });
});

Deno.test("replay() samples one op in latencySampleEvery into ordered percentiles", async () => {
  const result = await replay(createMap("fast-lookup"), workload(10_000), {
    latencySampleEvery: 99,
    latencySampleK: 50,
    latencyBuckets: "micro",
  });
  // One in 99 on average: the gaps are random (sd of the count here ~6).
  const seen = result.latencySample.seen_overall;
  assert.ok(Math.abs(seen - 10_000 / 99) < 25, String(seen));
  assert.equal(result.latencySample.every_n_ops, 99);
  for (const op of ["overall", "put", "get", "del"] as const) {
    const p = result.latencyMs[op];
    assert.ok(p.p50 <= p.p90 && p.p90 <= p.p99, op);
    assert.ok(p.p50 > 0, `${op} was sampled`);
  }
  const hist = result.lastTick.latency_hist_ms.overall!;
  assert.equal(hist.length, 14);
  assert.equal(hist.at(-1)!.le, "+Inf");
  assert.equal(hist.at(-1)!.count, seen);
  const none = await replay(createMap("fast-lookup"), workload(1000), { latencySampleEvery: 0 });
  assert.equal(none.latencySample.seen_overall, 0);
  assert.deepEqual(none.latencyMs.overall, { p50: 0, p90: 0, p99: 0 });
});

Deno.test("replay() applies the ops to the map", async () => {
  const map = createMap<string>("fast-insert");
  const result = await replay(map, workload(4000, 100));
  // Each key sees put/get/put/del in some order; compare with a plain Map replay.
  const ref = new Map<string, string>();
  for (const b of workload(4000, 100)) {
    for (let i = 0; i < b.length; i++) {
      if (b.ops[i] === OP_PUT) ref.set(b.keys[i]!, b.values[i]!);
      else if (b.ops[i] === OP_DEL) ref.delete(b.keys[i]!);
    }
  }
  assert.equal(map.size, ref.size);
  for (const [k, v] of ref) assert.equal(map.get(k), v);
  assert.equal(result.totalOps, 4000);
  assert.deepEqual(result.opsByType, { put: 2000, get: 1000, del: 1000 });
  assert.equal(result.finalStats.size, ref.size);
});

Deno.test("replay() key heatmap counts the live entries", async () => {
  const map = createMap<string>("fast-lookup");
  const result = await replay(map, inserts(500));
  const h = result.lastTick.key_heatmap!;
  assert.equal(h.total, 500);
  assert.equal(h.matrix.length, h.rows);
  assert.equal(h.matrix.flat().reduce((a, b) => a + b, 0), 500);
  assert.equal(h.original_slots, map.stats().capacity);
});

Deno.test("replay() rescans the key heatmap when the table's capacity changes", async () => {
  const ticks: MetricsTick[] = [];
  await replay(createMap<string>("fast-lookup"), inserts(5000), {
    tickEvery: 256,
    heatmapIntervalMs: 60_000,
    onTick: (t) => void ticks.push(t),
  });
  const resized = ticks.filter((t, i) => i > 0 && t.capacity !== ticks[i - 1]!.capacity);
  assert.ok(resized.length >= 3, `${resized.length} ticks after a resize`);
  for (const t of ticks) assert.equal(t.key_heatmap!.original_slots, t.capacity);
});

Deno.test("replay() rescans the key heatmap when the entry count moves by a quarter", async () => {
  const ticks: MetricsTick[] = [];
  // Presized: no resize forces a rescan, so only the entry count can.
  const map = new RobinHoodMap<string>({ initialCapacity: 8192 });
  await replay(map, inserts(3000), {
    tickEvery: 100,
    heatmapIntervalMs: 60_000,
    onTick: (t) => void ticks.push(t),
  });
  assert.equal(new Set(ticks.map((t) => t.capacity)).size, 1);
  let scans = 0;
  for (const [i, t] of ticks.entries()) {
    const h = t.key_heatmap!;
    if (i === 0 || h !== ticks[i - 1]!.key_heatmap) scans++;
    // Never more than a quarter behind (the scan at 0 entries is behind from the first insert).
    if (h.total > 0) {
      assert.ok(t.size! - h.total <= h.total / 4, `tick ${i}: ${h.total} of ${t.size}`);
    }
  }
  assert.equal(ticks[1]!.key_heatmap!.total, 100);
  assert.ok(scans < ticks.length / 2, `${scans} scans for ${ticks.length} ticks`);
});

Deno.test("replay() stops with the source's error and keeps earlier ticks delivered", async () => {
  const ticks: MetricsTick[] = [];
  async function* failing(): AsyncGenerator<OpBatch> {
    yield* workload(3000);
    throw new Error("bad row at line 3002");
  }
  await assert.rejects(
    () => replay(createMap("adaptive"), failing(), { onTick: (t) => void ticks.push(t) }),
    /line 3002/,
  );
  assert.deepEqual(ticks.map((t) => t.ops), [0, 1024, 2048]);
});

Deno.test("replay() runs maintenance and continues on the returned map", async () => {
  const first = createMap<string>("fast-lookup");
  const second = createMap<string>("fast-lookup");
  let calls = 0;
  const result = await replay(first, workload(5000), {
    maintenance: {
      everySeconds: 0,
      run: (m) => {
        calls++;
        return calls === 1 ? { map: second, note: "swapped", compacted: true } : {
          map: m,
          note: "",
          compacted: false,
        };
      },
    },
  });
  assert.ok(calls >= 1);
  assert.equal(result.finalMap, second);
  assert.ok(second.size > 0, "later ops went to the new map");
  const events = result.lastTick.events;
  assert.ok(Array.isArray(events));
});

Deno.test("Watchdog alerts once per crossing and again after recovery", () => {
  const w = new Watchdog({
    enabled: true,
    load_factor_warn: 0.5,
    avg_probe_warn: 100,
    tombstone_ratio_warn: 0.9,
  });
  const stats = (lf: number): MapStats => ({
    backend: "robinhood",
    size: 1,
    capacity: 1,
    loadFactor: lf,
    maxGroupLen: 0,
    avgProbeDistance: 0,
    tombstones: 0,
    tombstoneRatio: 0,
    probeHistogram: [],
    bytesEstimate: 0,
  });
  assert.equal(w.check(stats(0.4)).length, 0);
  const a = w.check(stats(0.6));
  assert.equal(a.length, 1);
  assert.equal(a[0]!.metric, "load_factor");
  assert.equal(a[0]!.threshold, 0.5);
  assert.deepEqual(w.active(), ["load_factor"]);
  assert.equal(w.check(stats(0.7)).length, 0, "no repeat while above");
  assert.equal(w.check(stats(0.3)).length, 0);
  assert.deepEqual(w.active(), []);
  assert.equal(w.check(stats(0.9)).length, 1, "new crossing");
  const off = new Watchdog({
    ...{ load_factor_warn: 0.1, avg_probe_warn: 1 },
    enabled: false,
    tombstone_ratio_warn: 0.1,
  });
  assert.equal(off.check(stats(0.9)).length, 0);
});

Deno.test("replay() puts watchdog alerts in ticks and reports them", async () => {
  const alerts: string[] = [];
  const ticks: MetricsTick[] = [];
  await replay(createMap("fast-insert"), inserts(3000), {
    watchdog: {
      enabled: true,
      load_factor_warn: 0.5,
      avg_probe_warn: 1e9,
      tombstone_ratio_warn: 1,
    },
    onAlert: (a) => alerts.push(a.metric),
    onTick: (t) => void ticks.push(t),
  });
  const inTicks = ticks.flatMap((t) => t.alerts.map((a) => a.metric));
  assert.ok(alerts.length >= 1);
  assert.deepEqual(inTicks, alerts);
  assert.ok(ticks.some((t) => t.alerts_active?.includes("load_factor")));
});

Deno.test("SortedReservoir keeps at most k samples and ordered quantiles, scaled in whole units", () => {
  const r = new SortedReservoir(100, 7);
  for (let i = 0; i < 10_000; i++) r.add((i * 7919) % 1000);
  assert.equal(r.size, 100);
  assert.equal(r.seen, 10_000);
  const p = r.percentiles();
  assert.ok(p.p50 <= p.p90 && p.p90 <= p.p99);
  assert.ok(p.p50 > 250 && p.p50 < 750, `median of uniform 0..999: ${p.p50}`);
  const small = new SortedReservoir(10);
  for (const v of [5, 1, 3]) small.add(v);
  assert.deepEqual(small.percentiles(), { p50: 3, p90: 5, p99: 5 });
  // Scaled, in whole units: samples in ms rounded to the ns give whole ns.
  const ms = new SortedReservoir(10);
  for (const v of [0.000511, 0.001002, 0.000367]) ms.add(v);
  assert.deepEqual(ms.percentiles(1e6), { p50: 511, p90: 1002, p99: 1002 });
});

Deno.test("SortedReservoir.add() holds what Algorithm R holds, in order", () => {
  // Model: the same random draws, applied as "remove element j, insert the new value".
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 400, size: "max" }),
      (k, seed, samples) => {
        const r = new SortedReservoir(k, seed);
        const rng = new Sfc32(seed);
        const model: number[] = [];
        samples.forEach((v, i) => {
          r.add(v);
          if (model.length < k) model.push(v);
          else {
            const j = Math.floor(rng.nextFloat() * (i + 1));
            if (j < k) model.splice(j, 1, v);
          }
          model.sort((a, b) => a - b);
          assert.deepEqual(Array.from(r.values()), model);
        });
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("LatencyHistogram buckets are cumulative and end at +Inf", () => {
  const h = new LatencyHistogram([0.1, 1]);
  for (const v of [0.05, 0.1, 0.5, 2, 3]) h.add(v);
  assert.deepEqual(h.cumulative(), [{ le: 0.1, count: 2 }, { le: 1, count: 3 }, {
    le: "+Inf",
    count: 5,
  }]);
});

Deno.test("MetricsNdjsonWriter commits atomically and abort leaves the old file", async () => {
  await withTempDir(async (dir) => {
    const ticks = await ticksOf(3000);
    const w = MetricsNdjsonWriter.open(dir);
    for (const t of ticks) w.write(t);
    assert.throws(() => Deno.statSync(`${dir}/metrics.ndjson`), Deno.errors.NotFound);
    (await w.stage()).commit();
    const committed = await Deno.readTextFile(`${dir}/metrics.ndjson`);
    assert.equal(committed.trimEnd().split("\n").length, ticks.length);
    const again = MetricsNdjsonWriter.open(dir);
    again.write(ticks[0]!);
    again.abort();
    assert.equal(await Deno.readTextFile(`${dir}/metrics.ndjson`), committed);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["metrics.ndjson"]);
  });
});

Deno.test("MetricsNdjsonWriter keeps only the last maxTicks ticks", async () => {
  await withTempDir(async (dir) => {
    const ticks = await ticksOf(5000);
    const w = MetricsNdjsonWriter.open(`${dir}/sub`, 2);
    for (const t of ticks) w.write(t);
    (await w.stage()).commit();
    const lines = (await Deno.readTextFile(`${dir}/sub/metrics.ndjson`)).trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => JSON.parse(l).ops), [4096, 5000]);
    // More kept lines than one write batch, the ring wrapped: all of them, oldest first.
    const tick = ticks[0]!;
    const many = MetricsNdjsonWriter.open(`${dir}/many`, 9000);
    for (let i = 0; i < 10_000; i++) many.write({ ...tick, ops: i });
    (await many.stage()).commit();
    const kept = (await Deno.readTextFile(`${dir}/many/metrics.ndjson`)).trimEnd().split("\n");
    assert.deepEqual(
      kept.map((l) => JSON.parse(l).ops),
      Array.from({ length: 9000 }, (_, i) => i + 1000),
    );
  });
});

Deno.test("MetricsNdjsonWriter.abort() removes the directories it created, when empty", async () => {
  await withTempDir(async (dir) => {
    const w = MetricsNdjsonWriter.open(`${dir}/new/a/b`);
    w.write((await ticksOf(10))[0]!);
    w.abort();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // Those a path with `..` in it makes as well.
    for (const path of [`${dir}/x/sub/..`, `${dir}/y/./z/../w/`]) {
      MetricsNdjsonWriter.open(path).abort();
      assert.deepEqual([...Deno.readDirSync(dir)], [], path);
    }
    Deno.mkdirSync(`${dir}/old`);
    MetricsNdjsonWriter.open(`${dir}/old`).abort();
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["old"]);
  });
});

Deno.test("replay() waits for an asynchronous onTick before applying more ops", async () => {
  const map = createMap("fast-lookup");
  let applied = 0;
  const counted = {
    get size() {
      return map.size;
    },
    get backend() {
      return map.backend;
    },
    get: (k: string) => (applied++, map.get(k)),
    set: (k: string, v: string) => (applied++, map.set(k, v)),
    delete: (k: string) => (applied++, map.delete(k)),
    stats: () => map.stats(),
    occupancy: (cells: number) => map.occupancy(cells),
  };
  const seen: Array<[number, number, number]> = [];
  const result = await replay(counted, workload(5000), {
    tickEvery: 1000,
    latencySampleEvery: 0,
    onTick: (tick) => {
      const atTick = applied;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push([tick.ops, atTick, applied]);
          resolve();
        }, 1)
      );
    },
  });
  assert.equal(result.totalOps, 5000);
  assert.deepEqual(seen.map(([ops]) => ops), [0, 1000, 2000, 3000, 4000, 5000]);
  for (const [ops, atTick, after] of seen) {
    assert.equal(atTick, ops, `ops applied when tick ${ops} was emitted`);
    assert.equal(after, ops, `no op applied while tick ${ops} was pending`);
  }
});
