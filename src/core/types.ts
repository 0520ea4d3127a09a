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
  /** Entries in the map at that moment. */
  size: number;
  /** Capacity after the event (for resize: the new capacity). */
  capacity: number;
}

/** Called when the table is rebuilt: `resize` changes capacity, `compaction` drops tombstones. */
export type RebuildHook = (
  type: "resize" | "compaction",
  fromCapacity: number,
  toCapacity: number,
  reason: string,
) => void;

/** A listener for {@linkcode MapEvent}s. */
export type MapEventListener = (event: MapEvent) => void;

/** The interface every adhash map implements, shaped like the built-in `Map`. */
export interface HashMapLike<V> extends Iterable<[Key, V]> {
  /** Live entries. */
  readonly size: number;
  /** The backend holding the entries now. */
  readonly backend: BackendName;
  get(key: Key): V | undefined;
  set(key: Key, value: V): this;
  has(key: Key): boolean;
  delete(key: Key): boolean;
  clear(): void;
  keys(): IterableIterator<Key>;
  values(): IterableIterator<V>;
  entries(): IterableIterator<[Key, V]>;
  forEach(callback: (value: V, key: Key, map: this) => void, thisArg?: unknown): void;
  /** Current statistics; never scans the table. */
  stats(): MapStats;
}

/** One step of a Robin Hood probe trace. */
export interface RobinHoodTraceStep {
  step: number;
  slot: number;
  state: "empty" | "tombstone" | "occupied";
  /** Home slot of the key found in this slot (null when empty). */
  ideal_slot: number | null;
  /** Probe distance of the key found in this slot (null when empty). */
  probe_distance: number | null;
  /** Probe distance of the key being placed/looked up at this step. */
  carried_distance: number;
  key_repr: string | null;
  matches: boolean;
  action: "advance" | "swap" | "insert" | "update" | "match" | "stop";
}

/** The probe path of one operation on a Robin Hood table. */
export interface RobinHoodTrace {
  schema: "probe_trace.v1";
  backend: "robinhood";
  operation: "get" | "put";
  key_repr: string;
  hash: number;
  capacity: number;
  ideal_slot: number;
  found: boolean;
  terminal: "match" | "empty" | "insert" | "update" | "stop";
  path: RobinHoodTraceStep[];
}

/** One position visited in a chain. */
export interface ChainingTraceStep {
  position: number;
  key_repr: string;
  matches: boolean;
}

/** The probe path of one operation on a chaining table. */
export interface ChainingTrace {
  schema: "probe_trace.v1";
  backend: "chaining";
  operation: "get" | "put";
  key_repr: string;
  hash: number;
  capacity: number;
  bucket: number;
  found: boolean;
  terminal: "match" | "miss" | "insert" | "update";
  path: ChainingTraceStep[];
}

/** A probe trace of either backend. */
export type ProbeTrace = RobinHoodTrace | ChainingTrace;

/** Exact state of a chaining table: entries listed bucket by bucket in chain order. */
export interface ChainingState {
  kind: "chaining";
  bucketCount: number;
  maxLoadFactor: number;
  keys: Key[];
  values: unknown[];
}

/** Exact state of a Robin Hood table: every occupied slot and every tombstone. */
export interface RobinHoodState {
  kind: "robinhood";
  capacity: number;
  maxLoadFactor: number;
  deletion: DeletionStrategy;
  /** Slot index of each entry, ascending; parallel to keys and values. */
  slots: Int32Array;
  keys: Key[];
  values: unknown[];
  /** Slots holding tombstones, with the probe distance each keeps. */
  tombstoneSlots: Int32Array;
  tombstoneDistances: Int32Array;
}

/** Exact state of one backend. */
export type BackendState = ChainingState | RobinHoodState;
