/**
 * Types shared by every map in adhash.
 *
 * @module
 */

/** A key: a string or a number. Numbers compare by SameValueZero except that `NaN` is refused. */
export type Key = string | number;

/** The name of a storage backend. */
export type BackendName = "chaining" | "robinhood";

/** How a Robin Hood table removes entries. */
export type DeletionStrategy = "backshift" | "tombstone";

/**
 * A cheap summary of a map's state, suitable for metrics. Every field is maintained
 * incrementally or derived from small counters: computing it never scans the table.
 */
export interface MapStats {
  /** The backend holding the entries (for an adaptive map, the one it is on or moving to). */
  backend: BackendName;
  /** Live entries. */
  size: number;
  /** Chains (chaining) or slots (Robin Hood). */
  capacity: number;
  /** `size / capacity`. */
  loadFactor: number;
  /** Longest chain (chaining) or largest probe distance (Robin Hood). */
  maxGroupLen: number;
  /** Mean probe distance of live entries: 0 means every key sits where it hashes. */
  avgProbeDistance: number;
  /** Tombstones in a Robin Hood table with tombstone deletion; 0 otherwise. */
  tombstones: number;
  /** `tombstones / capacity`. */
  tombstoneRatio: number;
  /** `[distance, count]` pairs for every distance with a non-zero count, ascending. */
  probeHistogram: Array<[number, number]>;
  /** Estimated bytes held by the map's own storage (keys' and values' own memory excluded). */
  bytesEstimate: number;
}

/** What an adaptive map reports through its listener. */
export interface MapEvent {
  /** `start`: a migration began; `switch`: it finished; `compaction`; `resize`. */
  type: "start" | "switch" | "compaction" | "resize";
  /** Backend before the event. */
  from: BackendName;
  /** Backend after the event (same as `from` for compaction and resize). */
  to: BackendName;
  /** Why, in words with the numbers, e.g. `load factor 0.83 > 0.82`. */
  reason: string;
  /** `Date.now()` when it happened. */
  time: number;
  /** Entries in the map when the listener runs (at the end of the operation that caused it). */
  size: number;
  /**
   * Capacity before the event: for `start` and `switch`, the table the map migrates from; for
   * `resize` and `compaction`, the table rebuilt. A resize to fewer is a shrink.
   */
  fromCapacity: number;
  /** Capacity after the event (for `start`: the table the map migrates to). */
  capacity: number;
}

/**
 * Called when the table is rebuilt: `resize` changes capacity as it grows; `compaction` drops
 * tombstones or free entries (and `compact()` may shrink the table).
 */
export type RebuildHook = (
  type: "resize" | "compaction",
  fromCapacity: number,
  toCapacity: number,
  reason: string,
) => void;

/** A listener for {@linkcode MapEvent}s. */
export type MapEventListener = (event: MapEvent) => void;

/** The interface every adhash map implements, shaped like the built-in `Map`. */
export interface HashMapLike<V> extends ReadonlyMap<Key, V> {
  /** Live entries. */
  readonly size: number;
  /** The backend holding the entries now. */
  readonly backend: BackendName;
  /** The value stored under `key`, or `undefined`. */
  get(key: Key): V | undefined;
  /** Stores `value` under `key`; throws TypeError for a key that is not a string or number, or NaN. */
  set(key: Key, value: V): this;
  /** Whether `key` is present. */
  has(key: Key): boolean;
  /** Removes `key`; returns whether it was present. */
  delete(key: Key): boolean;
  /** Removes every entry. */
  clear(): void;
  /** Keys, in the table's order (not insertion order). */
  keys(): MapIterator<Key>;
  /** Values, in the order of {@linkcode HashMapLike.keys}. */
  values(): MapIterator<V>;
  /** `[key, value]` pairs, in the order of {@linkcode HashMapLike.keys}. */
  entries(): MapIterator<[Key, V]>;
  /** Same as {@linkcode HashMapLike.entries}. */
  [Symbol.iterator](): MapIterator<[Key, V]>;
  /** Calls `callback(value, key, map)` for each entry, in the order of {@linkcode HashMapLike.keys}. */
  forEach(callback: (value: V, key: Key, map: this) => void, thisArg?: unknown): void;
  /** The value under `key`; if absent, stores `value` under it first and returns `value`. */
  getOrInsert(key: Key, value: V): V;
  /**
   * The value under `key`; if absent, stores `callback(key)` under it first and returns that.
   * The callback runs before the map is changed, so it may use the map.
   */
  getOrInsertComputed(key: Key, callback: (key: Key) => V): V;
  /** Current statistics; never scans the table. */
  stats(): MapStats;
}

/** One step of a Robin Hood probe trace. */
export interface RobinHoodTraceStep {
  /** 0-based index of the step. */
  step: number;
  /** Slot visited. */
  slot: number;
  /** What the slot holds. */
  state: "empty" | "tombstone" | "occupied";
  /** Home slot of the key found in this slot (null when empty). */
  ideal_slot: number | null;
  /** Probe distance of the key found in this slot (null when empty). */
  probe_distance: number | null;
  /** Probe distance of the key being placed/looked up at this step. */
  carried_distance: number;
  /** The key in this slot as text (strings JSON-quoted), null unless occupied. */
  key_repr: string | null;
  /** Whether the key in this slot is the key traced. */
  matches: boolean;
  /** What the operation does here; `swap` evicts the richer entry (Robin Hood displacement). */
  action: "advance" | "swap" | "insert" | "update" | "match" | "stop";
}

/** The probe path of one operation on a Robin Hood table. */
export interface RobinHoodTrace {
  /** Always `"probe_trace.v1"`. */
  schema: "probe_trace.v1";
  /** The backend traced. */
  backend: "robinhood";
  /** The operation traced. */
  operation: "get" | "put";
  /** The key as text: strings JSON-quoted, numbers bare. */
  key_repr: string;
  /** The key's 32-bit hash, unsigned. */
  hash: number;
  /** Slots in the table. */
  capacity: number;
  /** The key's home slot (the top bits of its hash). */
  ideal_slot: number;
  /** Whether the key is present. */
  found: boolean;
  /**
   * How the probe ended: `match` (get found it), `update` (put found it), `insert` (put places
   * it), `empty` (get reached an empty slot), `stop` (get reached an entry or tombstone closer
   * to its home).
   */
  terminal: "match" | "empty" | "insert" | "update" | "stop";
  /** One step per slot visited. */
  path: RobinHoodTraceStep[];
  /** Set when the put first rebuilds the table (`capacity` and the path are the new table's). */
  rebuild?: TraceRebuild;
}

/** One position visited in a chain. */
export interface ChainingTraceStep {
  /** 0-based position in the chain, head first. */
  position: number;
  /** The key at this position as text. */
  key_repr: string;
  /** Whether it is the key traced. */
  matches: boolean;
}

/** The probe path of one operation on a chaining table. */
export interface ChainingTrace {
  /** Always `"probe_trace.v1"`. */
  schema: "probe_trace.v1";
  /** The backend traced. */
  backend: "chaining";
  /** The operation traced. */
  operation: "get" | "put";
  /** The key as text: strings JSON-quoted, numbers bare. */
  key_repr: string;
  /** The key's 32-bit hash, unsigned. */
  hash: number;
  /** Chains (buckets) in the table. */
  capacity: number;
  /** The chain the key hashes to. */
  bucket: number;
  /** Whether the key is present. */
  found: boolean;
  /** How the walk ended: `match` or `miss` for a get, `update` or `insert` for a put. */
  terminal: "match" | "miss" | "insert" | "update";
  /** Each entry of the chain visited, head first. */
  path: ChainingTraceStep[];
  /** Set when the put first doubles the chains (`capacity` and the path are the new table's). */
  rebuild?: TraceRebuild;
}

/**
 * The rebuild a put of an absent key sets off before it places the key: a table at its load
 * limit grows (`resize`), or one full of tombstones is rebuilt at its size (`compaction`).
 */
export interface TraceRebuild {
  /** `resize` (more slots or chains) or `compaction` (same size, tombstones dropped). */
  type: "resize" | "compaction";
  /** Capacity before the rebuild. */
  from_capacity: number;
  /** Capacity after it, the one the trace's path is in. */
  to_capacity: number;
}

/** A probe trace of either backend. */
export type ProbeTrace = RobinHoodTrace | ChainingTrace;

/** Exact state of a chaining table: entries listed bucket by bucket in chain order. */
export interface ChainingState {
  /** Always `"chaining"`. */
  kind: "chaining";
  /** Chains in the table (a power of two). */
  bucketCount: number;
  /** Load at which the table doubles its chains. */
  maxLoadFactor: number;
  /**
   * Chains `clear()` returns to and `compact()` keeps at least (a power of two). Optional, for
   * states from before it was exported and from snapshots, which do not store it: without it,
   * the default of `ChainingMap`, 64.
   */
  initialBuckets?: number | undefined;
  /** Keys, bucket by bucket, each chain head first. */
  keys: Key[];
  /** Values, parallel to `keys`. */
  values: unknown[];
}

/** Exact state of a Robin Hood table: every occupied slot and every tombstone. */
export interface RobinHoodState {
  /** Always `"robinhood"`. */
  kind: "robinhood";
  /** Slots in the table (a power of two). */
  capacity: number;
  /** Entries plus tombstones per slot at which the table is rebuilt. */
  maxLoadFactor: number;
  /** How entries are removed. */
  deletion: DeletionStrategy;
  /**
   * Slots `clear()` returns to and `compact()` keeps at least (a power of two). Optional, for
   * states from before it was exported and from snapshots, which do not store it: without it,
   * the default of `RobinHoodMap`, 64.
   */
  initialCapacity?: number | undefined;
  /** Slot index of each entry, ascending; parallel to keys and values. */
  slots: Int32Array;
  /** Keys, parallel to `slots`. */
  keys: Key[];
  /** Values, parallel to `slots`. */
  values: unknown[];
  /** Slots holding tombstones, ascending. */
  tombstoneSlots: Int32Array;
  /** The probe distance each tombstone keeps, parallel to `tombstoneSlots`. */
  tombstoneDistances: Int32Array;
}

/** Exact state of one backend. */
export type BackendState = ChainingState | RobinHoodState;
