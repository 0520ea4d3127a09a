/**
 * A map that moves its entries between a chaining table and a Robin Hood table when its
 * policy says so, a bounded batch per operation.
 *
 * ## Policy (checked after every insertion and deletion, in O(1))
 * - On chaining: migrate to Robin Hood when `load factor > maxLfChaining` or the longest chain
 *   is longer than `maxGroupLen`. The chaining table itself doubles its chains only at a load
 *   of `max(1, 1.25 * maxLfChaining)`, above the trigger, so a growing map reaches the trigger
 *   first (the original never migrated on uniform keys because it rehashed at 0.8 < 0.82).
 * - On Robin Hood: migrate to chaining when the average probe distance exceeds
 *   `maxAvgProbeRobinhood`; compact when `tombstones / capacity >= maxTombstoneRatio`.
 * - On either: regrow a table near full, and shrink one under 1/16 full (above its initial
 *   size) to a quarter full, both by migration into a table of the same backend.
 * - After a migration finishes, the policy rests for `max(size, incrementalBatch)` writes, so
 *   the O(size) cost of a migration is paid at most once per O(size) writes.
 * - Back to the backend it last left only when the one it is on is further past its trigger,
 *   measured as a multiple of the limit (chaining: the larger of `load factor / maxLfChaining`
 *   and `longest chain / maxGroupLen`; Robin Hood: `average probe / maxAvgProbeRobinhood`),
 *   than that one was when left. Keys that collide in both tables otherwise bounced the map
 *   between them after every rest. {@linkcode setPolicy} and {@linkcode clear} forget it.
 *
 * ## Migration
 * A migration allocates the target table at a size that holds every entry without a rebuild
 * (cheap at any size: a big target keeps keys and values in a slab that grows as entries
 * arrive, and a Robin Hood table growing or compacting lends its slab to the new one, so its
 * entries move by number), then moves up to `incrementalBatch` entries per operation (the
 * first steps move fewer: 64 entries, doubling every four steps, so the code that moves
 * entries is optimised before a step is big). Each key lives
 * in exactly one table: reads look in both, an update of a key not yet moved changes it in
 * place, a new key goes to the target, a delete removes it wherever it is. No write is lost,
 * no deleted key comes back. Iterating a migrating map first completes the migration, so
 * iteration yields each live key once.
 *
 * @module
 */

import { ChainingMap } from "./chaining_map.ts";
import { RobinHoodMap } from "./robin_hood_map.ts";
import {
  checkCallback,
  checkOptionsObject,
  copyWithNewMapOrASnapshot,
  DENO_INSPECT,
  denoInspect,
  getOrInsertVia,
  isKey,
  mapIterator,
  NODE_INSPECT,
  nodeInspect,
  numberKey,
  showValue,
} from "./storage.ts";
import type {
  BackendName,
  BackendState,
  DeletionStrategy,
  HashMapLike,
  Key,
  MapEvent,
  MapEventListener,
  MapStats,
  ProbeTrace,
} from "./types.ts";

/** Thresholds and sizes of an {@linkcode AdaptiveMap}. */
export interface AdaptivePolicy {
  /** Backend of a new map. Default `chaining`. */
  startBackend: BackendName;
  /** Buckets of the original's chaining table; adhash starts with `initialBuckets * groupsPerBucket` chains. Default 64. */
  initialBuckets: number;
  /** Groups per bucket in the original; here a multiplier of chains. Default 8. */
  groupsPerBucket: number;
  /** Slots of a new Robin Hood table. Default 64. */
  initialCapacityRh: number;
  /** Entries moved per operation while migrating. Default 512 (the original's 2048, quartered). */
  incrementalBatch: number;
  /** Chaining load factor above which the map migrates to Robin Hood. Default 0.82. */
  maxLfChaining: number;
  /** Chain length above which the map migrates to Robin Hood. Default 8. */
  maxGroupLen: number;
  /** Robin Hood average probe distance above which the map migrates to chaining. Default 6. */
  maxAvgProbeRobinhood: number;
  /** Robin Hood tombstone ratio at which the table is compacted. Default 0.25. */
  maxTombstoneRatio: number;
  /** Size above which tools warn that the map is large (the map itself does nothing). Default 1,000,000. */
  largeMapWarnThreshold: number;
  /** Deletion strategy of the Robin Hood backend. Default `backshift`. */
  rhDeletion: DeletionStrategy;
}

/**
 * Fields of an {@linkcode AdaptivePolicy} to set; a missing or `undefined` field keeps the
 * default (or, for {@linkcode AdaptiveMap.setPolicy}, the value in force).
 */
export type PolicyChanges = { [F in keyof AdaptivePolicy]?: AdaptivePolicy[F] | undefined };

/** `changes` without its `undefined` fields, which mean "unchanged" as they do for the tables. */
function given(changes: PolicyChanges): Partial<AdaptivePolicy> {
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
}

/** The defaults of the original implementation (see docs/adaptive_policy.md). */
export const DEFAULT_POLICY: Readonly<AdaptivePolicy> = Object.freeze({
  startBackend: "chaining",
  initialBuckets: 64,
  groupsPerBucket: 8,
  initialCapacityRh: 64,
  incrementalBatch: 512,
  maxLfChaining: 0.82,
  maxGroupLen: 8,
  maxAvgProbeRobinhood: 6.0,
  maxTombstoneRatio: 0.25,
  largeMapWarnThreshold: 1_000_000,
  rhDeletion: "backshift",
});

/** Exact state of an adaptive map, mid-migration included. */
export interface AdaptiveState {
  /** Always `"adaptive"`. */
  kind: "adaptive";
  /** The thresholds in force. */
  policy: AdaptivePolicy;
  /** The table the map is on (the migration source while migrating). */
  active: BackendState;
  /** The migration target, or null when not migrating. */
  target: BackendState | null;
  /** Completed migrations between backends. */
  migrations: number;
  /** Compactions: rebuilds at the same size without tombstones, and `compact()` calls. */
  compactions: number;
}

/** Exact state of any adhash map. */
export type MapState = BackendState | AdaptiveState;

type Backend<V> = ChainingMap<V> | RobinHoodMap<V>;

const RH_MAX_LOAD = 0.85;
/** Load (entries and tombstones) at which a Robin Hood table is regrown, below its own limit. */
const RH_GROW_AT = 0.8;
/** Share of a chaining table's own doubling limit at which it is regrown. */
const CHAIN_GROW_AT = 0.9;
/**
 * A table above its backend's initial size whose entries fill less than `1 / SHRINK_BELOW` of
 * its slots or chains is rebuilt, incrementally, at a quarter full (as `Map` gives memory back).
 * Between that quarter and this sixteenth lie at least `capacity / 16` deletions, so the
 * rebuild's O(capacity) work is paid at most once per O(capacity) deletions.
 */
const SHRINK_BELOW = 16;

/**
 * `value` (which exceeds `limit`) with `digits` decimals, or as many more as it takes to show
 * it above the limit: 420/512 reads `0.8203 > 0.82`, not `0.820 > 0.82`.
 */
function above(value: number, limit: number, digits: number): string {
  let text = value.toFixed(digits);
  while (Number(text) <= limit && digits < 12) text = value.toFixed(++digits);
  return text;
}

/** Two `[distance, count]` histograms as one, ascending. */
function mergeHistograms(
  a: Array<[number, number]>,
  b: Array<[number, number]>,
): Array<[number, number]> {
  const counts = new Map<number, number>();
  for (const [d, c] of [...a, ...b]) counts.set(d, (counts.get(d) ?? 0) + c);
  return [...counts].sort((x, y) => x[0] - y[0]);
}

/** Checks a policy, throwing RangeError naming the first bad or unknown field. */
export function validatePolicy(p: AdaptivePolicy): AdaptivePolicy {
  const bad = (field: string, want: string, got: unknown): never => {
    throw new RangeError(`policy.${field} must be ${want}: received ${showValue(got)}`);
  };
  for (const f of Object.keys(p)) {
    // An unknown field would be saved in snapshots that then fail to load.
    if (!Object.hasOwn(DEFAULT_POLICY, f)) {
      throw new RangeError(`policy.${f} is not a policy field`);
    }
  }
  if (p.startBackend !== "chaining" && p.startBackend !== "robinhood") {
    bad("startBackend", `"chaining" or "robinhood"`, p.startBackend);
  }
  if (p.rhDeletion !== "backshift" && p.rhDeletion !== "tombstone") {
    bad("rhDeletion", `"backshift" or "tombstone"`, p.rhDeletion);
  }
  const ints: Array<keyof AdaptivePolicy> = [
    "initialBuckets",
    "groupsPerBucket",
    "initialCapacityRh",
    "incrementalBatch",
    "maxGroupLen",
    "largeMapWarnThreshold",
  ];
  for (const f of ints) {
    const v = p[f];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 2 ** 30) {
      bad(f, "an integer in [1, 2^30]", v);
    }
  }
  if (p.initialBuckets * p.groupsPerBucket > 2 ** 30) {
    bad("initialBuckets", "at most 2^30 / groupsPerBucket", p.initialBuckets);
  }
  // Typed as numbers, but callers from JavaScript can pass strings, which the comparisons
  // below would coerce and snapshots would then store as strings.
  const num = (v: unknown): number => typeof v === "number" ? v : NaN;
  if (!(num(p.maxLfChaining) > 0 && p.maxLfChaining <= 8)) {
    bad("maxLfChaining", "a number in (0, 8]", p.maxLfChaining);
  }
  if (!(num(p.maxAvgProbeRobinhood) > 0 && p.maxAvgProbeRobinhood < Infinity)) {
    bad("maxAvgProbeRobinhood", "a finite number > 0", p.maxAvgProbeRobinhood);
  }
  if (!(num(p.maxTombstoneRatio) > 0 && p.maxTombstoneRatio <= 1)) {
    bad("maxTombstoneRatio", "a number in (0, 1]", p.maxTombstoneRatio);
  }
  return p;
}

/** Its argument: the item function of an iterator that passes a table's items on as they are. */
function same<T>(x: T): T {
  return x;
}

function pow2AtLeast(n: number): number {
  let c = 8;
  while (c < n) c *= 2;
  return c;
}

/** Options of {@linkcode AdaptiveMap.traceGet} and {@linkcode AdaptiveMap.tracePut}. */
export interface TraceOptions {
  /**
   * Whether a migration under way first moves its batch of entries, as the operation traced
   * does (default true). `false` traces the tables as they are: for a map kept to show one state,
   * such as a snapshot whose first operation's step has been run once already.
   */
  step?: boolean;
}

/**
 * A map that migrates between chaining and Robin Hood under load. Iteration order is the
 * order of the backend it is on.
 *
 * @example
 * ```ts
 * import { AdaptiveMap } from "./adaptive_map.ts";
 * const m = new AdaptiveMap<number>({ incrementalBatch: 64 });
 * const switches: string[] = [];
 * m.onEvent((e) => { if (e.type === "switch") switches.push(`${e.from}->${e.to}`); });
 * for (let i = 0; i < 10_000; i++) m.set(`K${i}`, i);
 * console.assert(m.get("K42") === 42 && m.size === 10_000);
 * console.assert(switches[0] === "chaining->robinhood");
 * ```
 */
export class AdaptiveMap<V> implements HashMapLike<V> {
  /** Makes `structuredClone` refuse the map (see {@linkcode copyWithNewMapOrASnapshot}). */
  private readonly noClone = copyWithNewMapOrASnapshot;
  /** The thresholds in force, frozen: {@linkcode setPolicy} replaces them, validated. */
  private current: Readonly<AdaptivePolicy>;
  private active: Backend<V>;
  private target: Backend<V> | null = null;
  /**
   * `active` when it is a Robin Hood table and no migration is under way, else null. Reads and
   * writes go through this field first: V8 inlines the table's methods at a call site that
   * only ever sees one class, not through `active`, which holds two (measured on fresh keys:
   * adaptive 1.27x -> 1.17x the time of a bare Robin Hood table).
   */
  private rh: RobinHoodMap<V> | null = null;
  /**
   * `shrinkAt(rh)`, kept as the table changes: a write to a presized table would otherwise go
   * through the whole policy check until it is 1/16 full (7% slower, measured).
   */
  private rhShrinkAt = 0;
  private cursor = 0;
  private steps = 0;
  /**
   * Moves one entry into the target. Made once per migration: a closure made per step was
   * measured 6% slower per moved entry (chaining -> Robin Hood, 4 alternating runs). `value`
   * is `unknown`, not `V`: a field with `V` in a parameter would make `AdaptiveMap<number>`
   * unassignable to `AdaptiveMap<unknown>`.
   */
  private sink: (key: Key, value: unknown, hash: number) => void = () => {};
  /**
   * Whether the migration under way moves entries by number, between two Robin Hood tables that
   * share one slab ({@linkcode RobinHoodMap.withSlabOf}).
   */
  private sharing = false;
  /** Why the migration under way started (for its closing event). */
  private reason = "";
  private rest = 0;
  /**
   * How far past its trigger the backend this map last switched away from was then (its measure
   * over the limit: 6.3 for a mean probe distance of 38 against 6), or 0. A switch back needs the
   * backend the map is on to be further past its own: keys that collide in both tables bounced
   * the map between them once per rest period (7 switches in 200,000 operations of
   * `generate-csv --adversarial-ratio 0.3`), ending on the table they hurt more.
   */
  private leftExcess = 0;
  private listeners: MapEventListener[] = [];
  /**
   * Rebuilds a table reported from inside its own method (its `set`, or a migration step
   * moving entries into it), delivered once this map's operation is done: a listener that used
   * the map there found it half-way through that operation.
   */
  private held: Array<[MapEvent["type"], BackendName, string, number, number, number]> | null =
    null;
  private migrationCount = 0;
  private compactionCount = 0;

  /**
   * An empty map; fields missing from `policy` take {@linkcode DEFAULT_POLICY}'s. Throws
   * RangeError for a bad or unknown field.
   */
  constructor(policy: PolicyChanges = {}) {
    checkOptionsObject("AdaptiveMap", policy); // its fields are checked with the policy
    this.current = Object.freeze(validatePolicy({ ...DEFAULT_POLICY, ...given(policy) }));
    this.active = this.initialTable();
    this.settle();
  }

  /** A new table of the starting backend. */
  private initialTable(): Backend<V> {
    return this.current.startBackend === "chaining"
      ? this.newChaining(this.current.initialBuckets * this.current.groupsPerBucket)
      : this.newRobinHood(this.current.initialCapacityRh);
  }

  /** Recomputes the fast path after `active` or `target` changed. */
  private settle(): void {
    this.rh = this.target === null && this.active instanceof RobinHoodMap ? this.active : null;
    this.rhShrinkAt = this.rh === null ? 0 : this.shrinkAt(this.rh);
  }

  /** A chaining table that doubles its chains above the policy's trigger. */
  private newChaining(buckets: number): ChainingMap<V> {
    return this.hook(
      new ChainingMap<V>({ initialBuckets: buckets, maxLoadFactor: this.chainingLoad() }),
    );
  }

  /** A Robin Hood table with the policy's deletion strategy. */
  private newRobinHood(capacity: number): RobinHoodMap<V> {
    return this.hook(
      new RobinHoodMap<V>({
        initialCapacity: capacity,
        maxLoadFactor: RH_MAX_LOAD,
        deletion: this.current.rhDeletion,
      }),
    );
  }

  /** Load at which a chaining table doubles itself: above the migration trigger. */
  private chainingLoad(): number {
    return Math.min(16, Math.max(1, 1.25 * this.current.maxLfChaining));
  }

  /** Reports the table's own rebuilds as this map's events, held until the operation ends. */
  private hook<B extends Backend<V>>(b: B): B {
    b.onRebuild = (type: "resize" | "compaction", from: number, to: number, reason: string) => {
      if (type === "compaction") this.compactionCount++;
      if (b === this.rh) this.settle(); // its new capacity
      if (this.listeners.length === 0) return;
      (this.held ??= []).push([type, b.backend, reason, from, to, Date.now()]);
    };
    return b;
  }

  /** The thresholds in force (frozen; see {@linkcode setPolicy}). */
  get policy(): Readonly<AdaptivePolicy> {
    return this.current;
  }

  /**
   * Changes thresholds of a live map; throws RangeError naming the first bad or unknown field,
   * and then changes nothing. Fields not in `changes` keep their values. Limits apply from the next write
   * after any rest period (a migration under way finishes first), `incrementalBatch` from the
   * next step of a migration, `rhDeletion` and `initialCapacityRh` to the Robin Hood tables made
   * from then on, and the starting backend and sizes at the next {@linkcode clear}.
   */
  setPolicy(changes: PolicyChanges): void {
    checkOptionsObject("setPolicy()", changes);
    this.current = Object.freeze(validatePolicy({ ...this.current, ...given(changes) }));
    this.leftExcess = 0; // measured against the old limits
    // A chaining table doubles itself at chainingLoad(). Raised with the trigger, it still holds
    // until the map migrates or grows incrementally, instead of relinking in one operation.
    const load = this.chainingLoad();
    for (const t of [this.active, this.target]) {
      if (t instanceof ChainingMap && t.maxLoadFactor < load) t.setMaxLoadFactor(load);
    }
    this.settle(); // the initial sizes, which shrinking stops at, may have changed
  }

  /**
   * Subscribes to events; returns a function that removes this subscription (once, even when
   * the same function is subscribed twice). Throws TypeError when `listener` is not a function.
   *
   * A listener runs at the end of the operation that caused the event, before it returns (a
   * migration step's events before the read or write it came with), and may use the map as it
   * likes. If it throws, the operation still completes (no write is lost) and the error is
   * rethrown on a microtask, as an uncaught error, as an `EventTarget` listener's is.
   */
  onEvent(listener: MapEventListener): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(`onEvent() needs a function: received ${showValue(listener)}`);
    }
    // Copied on write, so an emit under way goes on over the listeners it started with.
    this.listeners = [...this.listeners, listener];
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners = [...this.listeners.slice(0, i), ...this.listeners.slice(i + 1)];
    };
  }

  /**
   * Sends an event to the listeners, after the held ones (which came first); builds nothing when
   * there are none.
   */
  private emit(
    type: MapEvent["type"],
    from: BackendName,
    to: BackendName,
    reason: string,
    fromCapacity: number,
    capacity: number,
    time = Date.now(),
  ): void {
    if (this.held !== null) this.deliverHeld();
    if (this.listeners.length === 0) return;
    const event: MapEvent = {
      type,
      from,
      to,
      reason,
      time,
      size: this.size,
      fromCapacity,
      capacity,
    };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  /** Sends the held rebuilds (see {@linkcode held}), each time the map is consistent again. */
  private deliverHeld(): void {
    const held = this.held!;
    this.held = null;
    for (const [type, backend, reason, from, to, time] of held) {
      this.emit(type, backend, backend, reason, from, to, time);
    }
  }

  /** Live entries. */
  get size(): number {
    return this.target === null ? this.active.size : this.active.size + this.target.size;
  }

  /** The backend the map is on (the source while a migration is under way). */
  get backend(): BackendName {
    return this.active.backend;
  }

  /** Whether a migration is under way. */
  get migrating(): boolean {
    return this.target !== null;
  }

  /** Completed migrations. */
  get migrations(): number {
    return this.migrationCount;
  }

  /** Compactions: rebuilds at the same size without tombstones, and `compact()` calls. */
  get compactions(): number {
    return this.compactionCount;
  }

  /** The value stored under `key`, or `undefined`. */
  get(key: Key): V | undefined {
    const rh = this.rh;
    if (rh !== null) return rh.get(key);
    if (this.target === null) return this.active.get(key);
    this.step();
    if (this.target !== null && !this.active.has(key)) return this.target.get(key);
    return this.active.get(key);
  }

  /** Whether `key` is present. */
  has(key: Key): boolean {
    const rh = this.rh;
    if (rh !== null) return rh.has(key);
    if (this.target === null) return this.active.has(key);
    this.step();
    return this.active.has(key) || (this.target !== null && this.target.has(key));
  }

  /** Stores `value` under `key`. Throws TypeError for keys that are not strings or numbers, or NaN. */
  set(key: Key, value: V): this {
    const rh = this.rh;
    if (rh !== null) {
      const n = rh.size;
      rh.set(key, value);
      if (rh.size !== n) this.afterRhWrite(rh);
      return this;
    }
    if (this.target === null) {
      const a = this.active;
      const n = a.size;
      a.set(key, value);
      if (a.size !== n) this.afterWrite();
      return this;
    }
    // A refused key moves nothing: the step would run (and listeners fire) for a failed call.
    if (typeof key !== "string") numberKey(key);
    this.step();
    if (this.target === null) this.active.set(key, value);
    else if (!this.active.update(key, value)) this.target.set(key, value);
    if (this.held !== null) this.deliverHeld();
    return this;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: Key): boolean {
    const rh = this.rh;
    if (rh !== null) {
      if (!rh.delete(key)) return false;
      this.afterRhWrite(rh);
      return true;
    }
    if (this.target === null) {
      if (!this.active.delete(key)) return false;
      this.afterWrite();
      return true;
    }
    this.step();
    if (this.active.delete(key)) return true;
    return this.target !== null && this.target.delete(key);
  }

  /**
   * {@linkcode afterWrite} on the fast path: the same checks in the same order. A table rebuilds
   * itself only in a write that changed its size, so this is where its event is delivered.
   */
  private afterRhWrite(rh: RobinHoodMap<V>): void {
    const full = rh.size + rh.tombstones >= Math.floor(rh.capacity * RH_GROW_AT);
    if (this.rest > 0) {
      this.rest--;
      if (full) this.regrowIfFull();
    } else if (
      full || rh.avgProbe > this.current.maxAvgProbeRobinhood || rh.tombstones > 0 ||
      rh.size < this.rhShrinkAt
    ) {
      this.applyPolicy();
    }
    if (this.held !== null) this.deliverHeld();
  }

  /** Applies the policy after a write that changed the size, then delivers held events. */
  private afterWrite(): void {
    this.applyPolicy();
    if (this.held !== null) this.deliverHeld();
  }

  /** Starts a migration, a resize or a compaction if the policy calls for one. */
  private applyPolicy(): void {
    if (this.rest > 0) {
      this.rest--;
      this.regrowIfFull();
      return;
    }
    const a = this.active;
    if (a instanceof ChainingMap) {
      if (!this.leaveChaining(a) && !this.regrowIfFull()) this.shrinkIfSparse();
      return;
    }
    if (this.leaveRobinHood(a) || this.regrowIfFull() || this.shrinkIfSparse()) return;
    const ratio = a.tombstones / a.capacity;
    const p = this.current;
    if (ratio >= p.maxTombstoneRatio) {
      this.begin(
        "robinhood",
        a.capacity,
        `tombstone ratio ${ratio.toFixed(3)} >= ${p.maxTombstoneRatio}`,
      );
    }
  }

  /**
   * Starts the switch to Robin Hood when chaining is past its trigger, and further past it than
   * Robin Hood was when the map left it ({@linkcode leftExcess}); returns whether it did. Out of
   * {@linkcode applyPolicy}: written there, it made a map growing on Robin Hood, which never runs
   * it, 11% slower on pooled keys (85.8 against 77.2 ms; out of line 77.8 ms; medians of 5
   * alternating processes).
   */
  private leaveChaining(a: ChainingMap<V>): boolean {
    const p = this.current;
    const lf = a.size / a.capacity;
    if (!(lf > p.maxLfChaining || a.longestChain > p.maxGroupLen)) return false;
    const excess = Math.max(lf / p.maxLfChaining, a.longestChain / p.maxGroupLen);
    if (excess <= this.leftExcess) return false;
    this.start(
      "robinhood",
      lf > p.maxLfChaining
        ? `load factor ${above(lf, p.maxLfChaining, 3)} > ${p.maxLfChaining}`
        : `longest chain ${a.longestChain} > ${p.maxGroupLen}`,
      excess,
    );
    return true;
  }

  /** As {@linkcode leaveChaining}, for Robin Hood's mean probe distance. */
  private leaveRobinHood(a: RobinHoodMap<V>): boolean {
    const limit = this.current.maxAvgProbeRobinhood;
    const avg = a.avgProbe;
    if (!(avg > limit) || avg / limit <= this.leftExcess) return false;
    this.start(
      "chaining",
      `average probe distance ${above(avg, limit, 2)} > ${limit}`,
      avg / limit,
    );
    return true;
  }

  /**
   * Starts an incremental rebuild into a fresh table of the same backend when the table nears
   * the point where it would rebuild itself in one operation: doubled when the entries need
   * the room, at the same size when tombstones take it. Returns whether it started one.
   */
  private regrowIfFull(): boolean {
    const a = this.active;
    if (a instanceof RobinHoodMap) {
      const used = a.size + a.tombstones;
      const limit = Math.floor(a.capacity * RH_GROW_AT);
      if (used < limit) return false;
      // A table no bigger than one step rebuilds itself in one operation, faster than moving.
      if (a.size <= this.current.incrementalBatch) return false;
      const grow = a.size >= limit / 2;
      const what = grow ? "entries" : "tombstones and entries";
      this.begin(
        "robinhood",
        grow ? a.capacity * 2 : a.capacity,
        `${what} fill ${used} of ${a.capacity} slots >= ${limit} (${RH_GROW_AT} of the slots)`,
      );
      return true;
    }
    const limit = Math.floor(a.capacity * this.chainingLoad() * CHAIN_GROW_AT);
    if (a.size < limit) return false;
    this.begin("chaining", a.capacity * 2, `load ${(a.size / a.capacity).toFixed(3)}`);
    return true;
  }

  /**
   * Starts an incremental rebuild into a table of the same backend a quarter full when the
   * entries fill less than `1 / SHRINK_BELOW` of a table above the policy's initial size.
   * Returns whether it started one.
   */
  private shrinkIfSparse(): boolean {
    const a = this.active;
    if (a.size >= this.shrinkAt(a)) return false;
    const to = this.quarterFull(a);
    if (to >= a.capacity) return false;
    const rh = a instanceof RobinHoodMap;
    this.begin(
      a.backend,
      to,
      `${a.size} entries in ${a.capacity} ${rh ? "slots" : "chains"}: under 1/${SHRINK_BELOW} full`,
    );
    return true;
  }

  /**
   * Entries under which `table` is rebuilt smaller: `1 / SHRINK_BELOW` of it, or 0 when it is no
   * bigger than its backend's initial table (a presized map filling up, or a small one).
   */
  private shrinkAt(table: Backend<V>): number {
    return table.capacity > this.initialOf(table) ? table.capacity / SHRINK_BELOW : 0;
  }

  /** Slots or chains that hold `table`'s entries a quarter full (at least its initial size). */
  private quarterFull(table: Backend<V>): number {
    return Math.max(pow2AtLeast(this.initialOf(table)), pow2AtLeast(4 * table.size));
  }

  /** The policy's initial size of `table`'s backend, in slots or chains. */
  private initialOf(table: Backend<V>): number {
    const p = this.current;
    return table instanceof RobinHoodMap
      ? p.initialCapacityRh
      : p.initialBuckets * p.groupsPerBucket;
  }

  /** Begins a migration to the other backend, leaving one `excess` times past its trigger. */
  private start(to: BackendName, reason: string, excess: number): void {
    this.leftExcess = excess;
    const n = this.active.size;
    const p = this.current;
    // Sized so the moved entries fill it to about half its limit: no rebuild mid-migration.
    const capacity = to === "robinhood"
      ? pow2AtLeast(Math.max(p.initialCapacityRh, 2 * n))
      : pow2AtLeast(Math.min((2 * n) / p.maxLfChaining, 8 * n + 8));
    const from = this.active.backend;
    this.begin(to, capacity, reason);
    this.emit("start", from, to, reason, this.active.capacity, capacity);
  }

  /**
   * Starts moving every entry into a new `to` table of `capacity` slots or chains: a switch of
   * backend, or (same backend) a resize or a compaction. Big targets are paged, so no single
   * operation allocates the whole table; a paged Robin Hood source growing or compacting lends
   * its slab to the target.
   */
  private begin(to: BackendName, capacity: number, reason: string): void {
    const source = this.active;
    const rh = { maxLoadFactor: RH_MAX_LOAD, deletion: this.current.rhDeletion };
    // A paged Robin Hood table growing or compacting lends its slab to the new table: no key or
    // value moves, and the slab keeps the order the keys arrived in. One shrinking does not, so
    // that the new table's slab is as small as its entries.
    this.sharing = to === "robinhood" && source instanceof RobinHoodMap && source.paged &&
      capacity >= source.capacity;
    const target: Backend<V> = this.sharing
      ? RobinHoodMap.withSlabOf<V>(capacity, rh, source as RobinHoodMap<V>)
      : to === "robinhood"
      ? RobinHoodMap.withCapacity<V>(capacity, rh, true)
      : ChainingMap.withCapacity<V>(capacity, 2 * source.size + 16, {
        maxLoadFactor: this.chainingLoad(),
      });
    this.target = this.hook(target);
    this.settle();
    this.sink = (k, v, h) => target.insertAbsent(k, v as V, h);
    this.cursor = 0;
    this.steps = 0;
    this.reason = reason;
  }

  /** One bounded unit of migration work. */
  private step(): void {
    // Ramp up: the first step of a cold process ran 1.4-1.9 ms at full size (unoptimised code).
    const batch = Math.min(this.current.incrementalBatch, 64 << Math.min(this.steps++ >> 2, 16));
    this.cursor = this.sharing
      ? (this.active as RobinHoodMap<V>).drainEntriesInto(
        this.cursor,
        batch,
        this.target as RobinHoodMap<V>,
      )
      : this.active.drain(this.cursor, batch, this.sink);
    if (this.active.size === 0) this.finish();
    else if (this.held !== null) this.deliverHeld();
  }

  /** Swaps in the target; what the migration was follows from the two tables. */
  private finish(): void {
    const source = this.active;
    const t = this.target!;
    source.onRebuild = undefined;
    if (this.sharing) (source as RobinHoodMap<V>).endSharing();
    this.sharing = false;
    this.active = t;
    this.target = null;
    this.settle();
    this.sink = () => {};
    if (t.backend !== source.backend) {
      this.migrationCount++;
      this.rest = Math.max(t.size, this.current.incrementalBatch);
      this.emit(
        "switch",
        source.backend,
        t.backend,
        "migration complete",
        source.capacity,
        t.capacity,
      );
    } else if (t.capacity !== source.capacity) {
      this.emit("resize", t.backend, t.backend, this.reason, source.capacity, t.capacity);
    } else {
      this.compactionCount++;
      this.emit("compaction", t.backend, t.backend, this.reason, source.capacity, t.capacity);
    }
  }

  /** Runs the migration under way, if any, to its end. */
  finishMigration(): void {
    while (this.target !== null) this.step();
  }

  /**
   * Finishes a migration under way, then rebuilds the table now: a Robin Hood one shrunk to fit
   * its entries, without tombstones ({@linkcode RobinHoodMap.compact}), a chaining one a quarter
   * full, its slab packed ({@linkcode ChainingMap.compact}): a `compaction` event and one more
   * {@linkcode compactions}. The policy compacts and shrinks by itself, a few entries per
   * operation; this is for a pause you choose, and it holds the old and new tables at once only
   * while it runs.
   */
  compact(): void {
    this.finishMigration();
    const a = this.active;
    // Chaining at a quarter full, as a shrink leaves it: its own fit would put it just under
    // the load that switches the map to Robin Hood.
    if (a instanceof ChainingMap) a.compact(this.quarterFull(a));
    else a.compact();
    if (this.held !== null) this.deliverHeld();
  }

  /** Removes every entry and starts again on the starting backend; counters are kept. */
  clear(): void {
    // Clearing the old tables, not just dropping them, makes their open iterators throw.
    if (this.target !== null) {
      this.target.onRebuild = undefined;
      this.target.clear();
    }
    this.active.onRebuild = undefined;
    this.active.clear();
    this.target = null;
    this.sharing = false;
    this.rest = 0;
    this.leftExcess = 0;
    this.active = this.initialTable();
    this.settle();
  }

  /** Keys (the first `next()` completes a migration under way). */
  keys(): MapIterator<Key> {
    return mapIterator(this.onTable((t) => t.keys()), same);
  }

  /** Values (the first `next()` completes a migration under way). */
  values(): MapIterator<V> {
    return mapIterator(this.onTable((t) => t.values()), same);
  }

  /** `[key, value]` pairs (the first `next()` completes a migration under way). */
  entries(): MapIterator<[Key, V]> {
    return mapIterator(this.onTable((t) => t.entries()), same);
  }

  /**
   * What `of` iterates in the table the map is on, from the first `next()`, not when made: a
   * migration in between would leave it on the emptied source table.
   */
  private *onTable<T>(of: (table: Backend<V>) => Iterable<T>): Generator<T, void, undefined> {
    this.finishMigration();
    yield* of(this.active);
  }

  /** Same as {@linkcode entries}. */
  [Symbol.iterator](): MapIterator<[Key, V]> {
    return this.entries();
  }

  /** The value under `key`; if absent, stores `value` under it first (as `Map`'s). */
  getOrInsert(key: Key, value: V): V {
    return this.getOrInsertComputed(key, () => value);
  }

  /**
   * The value under `key`; if absent, stores `callback(key)` under it first (as `Map`'s). Throws
   * TypeError, before calling `callback`, for a key that is not a string or number, or NaN.
   */
  getOrInsertComputed(key: Key, callback: (key: Key) => V): V {
    return getOrInsertVia(this, key, callback);
  }

  /** `"AdaptiveMap"`, for `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return "AdaptiveMap";
  }

  /** `{}`, as for a `Map`: the entries are `Object.fromEntries(map)`, not the internal arrays. */
  toJSON(): Record<string, never> {
    return {};
  }

  /** `console.log` and `Deno.inspect` show the entries, as for a `Map`. */
  [DENO_INSPECT](
    inspect: (value: unknown, options?: unknown) => string,
    options?: unknown,
  ): string {
    return denoInspect("AdaptiveMap", this, inspect, options);
  }

  /** Node's `util.inspect` shows the entries, as for a `Map`. */
  [NODE_INSPECT](
    depth: number,
    options: unknown,
    inspect: (value: unknown, options?: unknown) => string,
  ): string {
    return nodeInspect("AdaptiveMap", this, depth, options, inspect);
  }

  /** Calls `callback(value, key, map)` for each entry. */
  forEach(callback: (value: V, key: Key, map: this) => void, thisArg?: unknown): void {
    checkCallback("forEach", callback);
    this.finishMigration();
    // The table's own loop: through entries() it took about four times as long.
    this.active.forEach((v, k) => callback.call(thisArg, v, k, this));
  }

  /**
   * Statistics of the backend the map is on. While migrating, `backend` and `capacity` are
   * the source table's; `size`, the probe histogram, its mean and maximum cover the entries of
   * both tables (so `loadFactor` is all entries over the source's capacity); tombstones are
   * the target's (and `tombstoneRatio` them over the source's capacity, as `capacity` is);
   * `bytesEstimate` adds both tables.
   */
  stats(): MapStats {
    const s = this.active.stats();
    if (this.target === null) return s;
    // Mid-migration the entries live in two tables: probe figures cover both. Tombstones are
    // the target's only: the source's (nearly all of them slots its moved entries left, even
    // under backshift deletion) go away with it when the migration ends.
    const t = this.target.stats();
    const size = s.size + t.size;
    s.avgProbeDistance = size === 0
      ? 0
      : (s.avgProbeDistance * s.size + t.avgProbeDistance * t.size) / size;
    s.maxGroupLen = Math.max(s.maxGroupLen, t.maxGroupLen);
    s.probeHistogram = mergeHistograms(s.probeHistogram, t.probeHistogram);
    s.size = size;
    s.loadFactor = size / s.capacity;
    s.tombstones = t.tombstones;
    s.tombstoneRatio = t.tombstones / s.capacity;
    s.bytesEstimate += t.bytesEstimate;
    return s;
  }

  /** Occupancy of the backend the map is on (see the backends' `occupancy`). */
  occupancy(cells: number): number[] {
    return this.active.occupancy(cells);
  }

  /** Both tables' checks, plus: no key in both tables while migrating. */
  checkInvariants(): string[] {
    const problems = this.active.checkInvariants().map((p) => `${this.active.backend}: ${p}`);
    if (this.target !== null) {
      const t = this.target;
      problems.push(...t.checkInvariants().map((p) => `target ${t.backend}: ${p}`));
      for (const k of t.keys()) {
        if (this.active.has(k)) {
          problems.push(`key ${JSON.stringify(k)} is in both the source and the target`);
          break;
        }
      }
    }
    return problems;
  }

  /**
   * The probe path of `get(key)`, in the table that holds `key`; a key in neither table of a
   * migration is traced in the target, where `get` looks last. During a migration `get` first
   * moves a batch of entries, and so does this (the contents do not change, as with any read),
   * so the trace is the path of the `get` it stands in for ({@linkcode TraceOptions}: unless
   * `step` is false).
   */
  traceGet(key: Key, options: TraceOptions = {}): ProbeTrace {
    if (this.target !== null && options.step !== false) this.step();
    return this.holder(key).traceGet(key);
  }

  /**
   * The probe path `set(key, value)` would take, in the table that holds `key`; a new key
   * during a migration goes to the target, and is traced there. The map's contents do not
   * change, but during a migration `set` first moves a batch of entries, and so does this (as
   * any read does), so the trace is the path of the `set` it stands in for; a `set` after it
   * moves a batch of its own first, which may move entries the trace passed. With `step` false
   * ({@linkcode TraceOptions}), no batch moves first.
   */
  tracePut(key: Key, value: V, options: TraceOptions = {}): ProbeTrace {
    // set() refuses a key that is not a string or number, or NaN, before its step.
    if (this.target !== null && isKey(key) && options.step !== false) this.step();
    return this.holder(key).tracePut(key, value);
  }

  /**
   * The table `get` and `set` use for `key` once a migration step has run: the one that holds
   * it, else the migration target (a new key's) or the only table.
   */
  private holder(key: Key): Backend<V> {
    if (this.target !== null && !this.active.has(key)) return this.target;
    return this.active;
  }

  /**
   * The exact tables and policy, mid-migration included; not the rest period after a switch, nor
   * how far past its trigger the backend the map last left was (a restored map may switch back
   * sooner).
   */
  exportState(): AdaptiveState {
    return {
      kind: "adaptive",
      policy: { ...this.current },
      active: this.active.exportState(),
      target: this.target === null ? null : this.target.exportState(),
      migrations: this.migrationCount,
      compactions: this.compactionCount,
    };
  }

  /** Restores {@linkcode exportState}; throws RangeError or TypeError for impossible states. */
  static fromState<V>(state: AdaptiveState): AdaptiveMap<V> {
    // Made on the smallest tables, which the restored ones replace: a table of the policy's
    // initial size (up to 2^24 slots) was built only to be dropped.
    const m = new AdaptiveMap<V>({
      ...state.policy,
      initialCapacityRh: 1,
      initialBuckets: 1,
      groupsPerBucket: 1,
    });
    m.current = Object.freeze(validatePolicy({ ...DEFAULT_POLICY, ...state.policy }));
    m.active = m.hook(restoreBackend<V>(state.active));
    if (state.target !== null) {
      const t = m.hook(restoreBackend<V>(state.target));
      m.target = t;
      m.cursor = 0;
      m.sink = (k, v, h) => t.insertAbsent(k, v as V, h);
      // The reason the migration started is not stored; its ending event says what it does.
      const unit = (b: Backend<V>): string => b instanceof RobinHoodMap ? "slots" : "chains";
      m.reason = `restored mid-migration: ${m.active.capacity} ${unit(m.active)} to ` +
        `${t.capacity} ${unit(t)}`;
    }
    if (!(Number.isInteger(state.migrations) && state.migrations >= 0)) {
      throw new RangeError(
        `migrations must be a non-negative integer: received ${state.migrations}`,
      );
    }
    if (!(Number.isInteger(state.compactions) && state.compactions >= 0)) {
      throw new RangeError(
        `compactions must be a non-negative integer: received ${state.compactions}`,
      );
    }
    m.settle();
    m.migrationCount = state.migrations;
    m.compactionCount = state.compactions;
    return m;
  }
}

/** Restores one backend from its state. */
export function restoreBackend<V>(state: BackendState): ChainingMap<V> | RobinHoodMap<V> {
  if (state.kind === "chaining") return ChainingMap.fromState<V>(state);
  if (state.kind === "robinhood") return RobinHoodMap.fromState<V>(state);
  throw new TypeError(`Unknown backend kind: ${JSON.stringify((state as { kind: unknown }).kind)}`);
}
