/**
 * Replays batches of workload rows on a map and produces metrics.v1 ticks.
 *
 * The hot loop runs plain `get`/`set`/`delete` calls between two "stops": the next latency
 * sample (one op in `latencySampleEvery` is timed with `performance.now()`) and the next tick
 * (every `tickEvery` ops). Everything costly (stats, heatmap, percentiles, JSON) happens at
 * ticks only; the key heatmap scans the table, so it is refreshed at most every
 * `heatmapIntervalMs` of wall time (and when the table's capacity or, by more than a quarter,
 * its entry count changes) and reused in between.
 *
 * Ticks: one at start (ops 0), one each time `ops` reaches a multiple of `tickEvery`, and one at
 * completion. A periodic tick that would coincide with the end of the input is replaced by the
 * completion tick, so `ops` never repeats (5000 ops, tickEvery 1024: 0, 1024, 2048, 3072, 4096,
 * 5000; 4096 ops: 0, 1024, 2048, 3072, 4096).
 *
 * @module
 */

import type { MapEvent, MapEventListener, MapStats, RebuildHook } from "../core/types.ts";
import type { Alert, MetricsTick, TickEvent } from "../contracts/metrics.ts";
import type { WatchdogConfig } from "../contracts/config.ts";
import type { OpBatch } from "../workload/csv_reader.ts";
import { type LatencyPreset, LatencyRecorder, type Percentiles } from "./latency.ts";
import { Watchdog } from "./watchdog.ts";
import { round } from "../format.ts";
import { Sfc32 } from "../workload/prng.ts";

/** What the replay needs from a map (every adhash map qualifies). */
export interface ReplayMap {
  readonly size: number;
  readonly backend: string;
  get(key: string): unknown;
  set(key: string, value: string): unknown;
  delete(key: string): boolean;
  stats(): MapStats;
  occupancy(cells: number): number[];
}

/** Extra members of an adaptive map, used when present. */
interface AdaptiveExtras {
  onEvent(listener: MapEventListener): () => void;
  readonly migrations: number;
  readonly compactions: number;
}

/** A plain table's rebuild hook (`ChainingMap`, `RobinHoodMap`), used when present. */
interface RebuildExtras {
  onRebuild: RebuildHook | undefined;
}

/** Options of {@linkcode replay}. */
export interface ReplayOptions {
  /** Ops between periodic ticks (default 1024). */
  tickEvery?: number;
  /** Time one op in this many on average, at random gaps (default 128; 0 disables sampling). */
  latencySampleEvery?: number;
  /** Reservoir size, overall and per op (default 1000). */
  latencySampleK?: number;
  /** Histogram bucket preset (default `default`). */
  latencyBuckets?: LatencyPreset;
  /** Watchdog thresholds (default: disabled). */
  watchdog?: WatchdogConfig;
  /** Minimum wall time between two heatmap scans (default 250 ms). */
  heatmapIntervalMs?: number;
  /** Heatmap grid (default 8 x 16). */
  heatmapRows?: number;
  heatmapCols?: number;
  /**
   * Called with every tick, in order. A promise is awaited before the replay continues, so a
   * slow consumer slows the replay rather than losing ticks. The metrics server (issue 5,
   * `run-csv --metrics-port`) and the NDJSON writer plug in here.
   */
  onTick?: ((tick: MetricsTick) => void | Promise<void>) | undefined;
  /** Called with each alert the first time its threshold is crossed (e.g. to log it). */
  onAlert?: (alert: Alert) => void;
  /**
   * Periodic maintenance (`run-csv --compact-interval`): at the first tick at least
   * `everySeconds` after the previous run, `run(map)` is called and the replay continues on the
   * map it returns (compaction may rebuild the map). `note` is recorded as a tick event.
   */
  maintenance?: {
    everySeconds: number;
    run: (map: ReplayMap) => { map: ReplayMap; note: string; compacted: boolean };
  };
  /** Checked at every tick; an aborted signal stops the replay with its reason. */
  signal?: AbortSignal;
}

/** The outcome of a replay. */
export interface ReplayResult {
  elapsedSeconds: number;
  totalOps: number;
  opsByType: { put: number; get: number; del: number };
  opsPerSecond: number;
  latencyMs: { overall: Percentiles; put: Percentiles; get: Percentiles; del: Percentiles };
  latencySample: {
    reservoir_k_overall: number;
    reservoir_k_each: number;
    seen_overall: number;
    every_n_ops: number;
  };
  latencyPreset: LatencyPreset;
  finalStats: MapStats;
  finalBackend: string;
  migrations: number;
  compactions: number;
  ticks: number;
  alerts: number;
  /** The map at the end (differs from the input map when maintenance rebuilt it). */
  finalMap: ReplayMap;
  /** The last tick emitted (the completion tick). */
  lastTick: MetricsTick;
}

/** Longest stretch of a replay without a turn of the event loop, in ms. */
const YIELD_MS = 50;
/** Seed of the gaps between timed ops (any fixed value: it only has to be the same every run). */
const SAMPLE_SEED = 0x5a3c_1e07;

function isAdaptive(map: ReplayMap): map is ReplayMap & AdaptiveExtras {
  return typeof (map as Partial<AdaptiveExtras>).onEvent === "function";
}

function isRebuildable(map: ReplayMap): map is ReplayMap & RebuildExtras {
  return "onRebuild" in map;
}

const MAP_EVENT_TYPE: Record<MapEvent["type"], string> = {
  start: "migration_start",
  switch: "switch",
  compaction: "compaction",
  resize: "resize",
};

/**
 * Applies rows `[from, to)` of `batch` to `map`. A function of its own so V8 optimises (and
 * inlines the map's methods into) this loop apart from the large replay function: inline, the
 * loop ran ~7% slower whenever latency sampling split it into short stretches.
 */
function applyOps(
  map: ReplayMap,
  batch: OpBatch,
  from: number,
  to: number,
  counts: Float64Array,
): void {
  const ops = batch.ops;
  const keys = batch.keys;
  const values = batch.values;
  for (let i = from; i < to; i++) {
    const op = ops[i]!;
    if (op === 1) map.get(keys[i]!);
    else if (op === 0) map.set(keys[i]!, values[i]!);
    else map.delete(keys[i]!);
    counts[op]!++;
  }
}

/** Applies one op and returns how long it took in ms, rounded to the nanosecond. */
function timedOp(map: ReplayMap, op: number, key: string, value: string): number {
  const t0 = performance.now();
  if (op === 1) map.get(key);
  else if (op === 0) map.set(key, value);
  else map.delete(key);
  // Rounded to the nanosecond: the timer resolution, and no float noise in the output.
  return Math.round((performance.now() - t0) * 1e6) / 1e6;
}

/**
 * Replays `batches` on `map`. Throws what the batch source throws (e.g. a validation error
 * part-way); ticks emitted before that have already been delivered to `onTick`.
 */
export async function replay(
  map: ReplayMap,
  batches: AsyncIterable<OpBatch> | Iterable<OpBatch>,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const tickEvery = options.tickEvery ?? 1024;
  if (!(Number.isInteger(tickEvery) && tickEvery >= 1)) {
    throw new RangeError(`tickEvery must be a positive integer: ${tickEvery}`);
  }
  const every = options.latencySampleEvery ?? 128;
  const k = options.latencySampleK ?? 1000;
  const preset = options.latencyBuckets ?? "default";
  const heatmapInterval = options.heatmapIntervalMs ?? 250;
  const heatRows = options.heatmapRows ?? 8;
  const heatCols = options.heatmapCols ?? 16;
  const onTick = options.onTick;
  const latency = new LatencyRecorder(k, preset);
  const watchdog = new Watchdog(options.watchdog);

  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const pending: TickEvent[] = [];
  let unsubscribe: (() => void) | undefined;
  let adaptive = isAdaptive(map) ? map : null;
  const listener = (e: MapEvent): void => {
    pending.push({
      type: MAP_EVENT_TYPE[e.type] ?? e.type,
      // The run's clock, as ticks have it; `e.time` is the wall clock's, which an NTP step can
      // move by hours. A listener runs as its operation ends, so at most that much later.
      t: round(seconds(), 6),
      from: e.from,
      to: e.to,
      reason: e.reason,
      size: e.size,
      from_capacity: e.fromCapacity,
      capacity: e.capacity,
    });
  };
  // An adaptive map counts its compactions; a plain table does not, so the replay counts them.
  let tableCompactions = 0;
  // Set while maintenance runs: its compaction is reported once, with the maintenance's note.
  let maintaining = false;
  // A plain table has no listeners, only one hook: the replay chains the hook it finds, and puts
  // it back when it lets go of the table.
  const watch = (m: ReplayMap): (() => void) | undefined => {
    if (isAdaptive(m)) return m.onEvent(listener);
    if (!isRebuildable(m)) return undefined;
    const previous = m.onRebuild;
    m.onRebuild = (type, fromCapacity, toCapacity, reason): void => {
      previous?.(type, fromCapacity, toCapacity, reason);
      if (maintaining) return;
      if (type === "compaction") tableCompactions++;
      pending.push({
        type,
        t: round(seconds(), 6),
        from: m.backend,
        to: m.backend,
        reason,
        size: m.size,
        from_capacity: fromCapacity,
        capacity: toCapacity,
      });
    };
    return () => {
      m.onRebuild = previous;
    };
  };
  unsubscribe = watch(map);
  let lastMaintenance = 0;
  const compactions = (): number => adaptive?.compactions ?? tableCompactions;
  const maintain = (): void => {
    const m = options.maintenance;
    if (m === undefined || seconds() - lastMaintenance < m.everySeconds) return;
    maintaining = true;
    let out: ReturnType<typeof m.run>;
    try {
      out = m.run(map);
    } finally {
      maintaining = false;
    }
    // From its end: set at its start, a compaction longer than the interval ran at every tick
    // after it (a 3M-entry replay with 0.05 s took 254 s instead of 2.7).
    lastMaintenance = seconds();
    if (out.compacted) {
      // An adaptive map compacted in place has told its listener already.
      if (out.map !== adaptive) {
        pending.push({ type: "compaction", t: round(seconds(), 6), reason: out.note });
      }
      if (!isAdaptive(out.map)) tableCompactions++;
    }
    if (out.map !== map) {
      unsubscribe?.();
      unsubscribe = undefined;
      map = out.map;
      adaptive = isAdaptive(map) ? map : null;
      unsubscribe = watch(map);
    }
  };

  const counts = new Float64Array(3);
  let done = 0;
  let ticks = 0;
  let alertsRaised = 0;
  let lastTickOps = 0;
  let lastTickTime = 0;
  let heatmap: MetricsTick["key_heatmap"] = undefined;
  let heatmapAt = -Infinity;
  let heatmapSize = 0; // live entries when the heatmap was scanned

  const buildHeatmap = (capacity: number): MetricsTick["key_heatmap"] => {
    const cells = Math.max(1, Math.min(heatRows * heatCols, capacity));
    const cols = Math.min(heatCols, cells);
    const rows = Math.max(1, Math.floor(cells / cols));
    const occ = map.occupancy(rows * cols);
    const matrix: number[][] = [];
    let max = 0;
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const row: number[] = [];
      for (let c = 0; c < cols; c++) {
        const v = occ[r * cols + c] ?? 0;
        row.push(v);
        if (v > max) max = v;
        total += v;
      }
      matrix.push(row);
    }
    return {
      rows,
      cols,
      matrix,
      max,
      total,
      slot_span: Math.max(1, Math.ceil(capacity / (rows * cols))),
      original_slots: capacity,
    };
  };

  const makeTick = (final: boolean): MetricsTick => {
    const t = seconds();
    const stats = map.stats();
    const now = performance.now();
    // Rescanned after a resize, or once the entry count has moved by a quarter, as well: until
    // then the heatmap would show a table that no longer exists (a short run's first heatmap,
    // taken at 0 entries, would otherwise stay empty for 250 ms).
    if (
      final || now - heatmapAt >= heatmapInterval || heatmap?.original_slots !== stats.capacity ||
      Math.abs(stats.size - heatmapSize) * 4 > heatmapSize
    ) {
      heatmap = buildHeatmap(stats.capacity);
      heatmapAt = now;
      heatmapSize = stats.size;
    }
    const alerts = watchdog.check(stats);
    for (const a of alerts) options.onAlert?.(a);
    alertsRaised += alerts.length;
    const events = pending.splice(0, pending.length);
    const dt = t - lastTickTime;
    const tick: MetricsTick = {
      schema: "metrics.v1",
      t: round(t, 6),
      backend: stats.backend,
      ops: done,
      ops_by_type: { put: counts[0]!, get: counts[1]!, del: counts[2]! },
      migrations: adaptive?.migrations ?? 0,
      compactions: compactions(),
      load_factor: round(stats.loadFactor, 6),
      max_group_len: stats.maxGroupLen,
      avg_probe_estimate: round(stats.avgProbeDistance, 6),
      tombstone_ratio: round(stats.tombstoneRatio, 6),
      probe_hist: stats.probeHistogram,
      key_heatmap: heatmap,
      latency_ms: latency.percentilesMs(),
      latency_hist_ms: latency.histogramsMs(),
      latency_ns: latency.overall.percentiles(1e6),
      events,
      alerts,
      alerts_active: watchdog.active(),
      size: stats.size,
      capacity: stats.capacity,
      tombstones: stats.tombstones,
      bytes_per_entry: stats.size === 0 ? 0 : round(stats.bytesEstimate / stats.size, 3),
      ops_per_second: dt > 0 ? round((done - lastTickOps) / dt, 1) : 0,
    };
    if (heatmap === undefined) delete tick.key_heatmap;
    lastTickOps = done;
    lastTickTime = t;
    ticks++;
    return tick;
  };

  try {
    pending.push({ type: "start", t: 0, backend: map.backend });
    await onTick?.(makeTick(false));

    let nextTick = tickEvery;
    let tickDue = false;
    let lastYield = performance.now();
    // Ops left before the next timed op; `every` 0 disables sampling. The gaps are random, 1 to
    // 2 * every - 1 (mean `every`): a fixed gap times only one phase of any pattern whose period
    // divides it (a put-get-put-get workload would have no put timed). Seeded, so a run times
    // the same ops every time, as do both sides of an A/B comparison.
    const gaps = new Sfc32(SAMPLE_SEED);
    const gap = (): number => gaps.nextBelow(2 * every - 1);
    let untilSample = every > 0 ? gap() : Infinity;
    for await (const batch of batches) {
      // Signal listeners (the CLI's temporary-file clean-up on SIGTERM) and timers run only when
      // the event loop gets a turn, which a replay of a synchronously read file never gives it:
      // one short turn every YIELD_MS, checked at every batch (ticks can be rare, --tick-every).
      if (performance.now() - lastYield >= YIELD_MS) {
        // Two turns: a signal that arrived during the replay is not always delivered in the
        // first (measured by review: up to 180 ms to stop with one, under 55 ms with two).
        await new Promise((resolve) => setTimeout(resolve, 0));
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
      const n = batch.length;
      const ops = batch.ops;
      const keys = batch.keys;
      const values = batch.values;
      let i = 0;
      while (i < n) {
        if (tickDue) {
          // Deferred so that a tick at the very end becomes the completion tick.
          tickDue = false;
          options.signal?.throwIfAborted();
          maintain();
          // Awaited only when the consumer returned a promise: the NDJSON writer is
          // synchronous, and each await suspends and resumes this whole function.
          const wait = onTick?.(makeTick(false));
          if (wait !== undefined) await wait;
        }
        const m = map; // a plain local for the hot loop (maintenance may swap the map)
        let stop = n;
        if (i + (nextTick - done) < stop) stop = i + (nextTick - done);
        if (i + untilSample < stop) stop = i + untilSample;
        const run = stop - i;
        applyOps(m, batch, i, stop, counts);
        i = stop;
        done += run;
        untilSample -= run;
        if (untilSample === 0 && i < n && done < nextTick) {
          const op = ops[i]!;
          latency.record(op, timedOp(m, op, keys[i]!, values[i]!));
          counts[op]!++;
          i++;
          done++;
          untilSample = gap();
        }
        if (done === nextTick) {
          tickDue = true;
          nextTick += tickEvery;
        }
      }
    }
    pending.push({ type: "complete", t: round(seconds(), 6), ops: done });
    const last = makeTick(true);
    await onTick?.(last);
    const elapsed = seconds();
    return {
      elapsedSeconds: elapsed,
      totalOps: done,
      opsByType: { put: counts[0]!, get: counts[1]!, del: counts[2]! },
      opsPerSecond: elapsed > 0 ? done / elapsed : 0,
      latencyMs: latency.percentilesMs(),
      latencySample: {
        reservoir_k_overall: k,
        reservoir_k_each: k,
        seen_overall: latency.overall.seen,
        every_n_ops: every,
      },
      latencyPreset: preset,
      finalStats: map.stats(),
      finalBackend: map.backend,
      migrations: adaptive?.migrations ?? 0,
      compactions: compactions(),
      ticks,
      alerts: alertsRaised,
      finalMap: map,
      lastTick: last,
    };
  } finally {
    unsubscribe?.();
  }
}
