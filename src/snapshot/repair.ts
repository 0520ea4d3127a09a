/**
 * Rebuilding and compacting maps for `verify-snapshot --repair` and `compact-snapshot`.
 *
 * @module
 */

import { type AnyMap, restoreMap } from "../core/factory.ts";
import {
  AdaptiveMap,
  type AdaptivePolicy,
  DEFAULT_POLICY,
  type MapState,
  validatePolicy,
} from "../core/adaptive_map.ts";
import { ChainingMap } from "../core/chaining_map.ts";
import { hash32, indexFor } from "../core/hash.ts";
import { RobinHoodMap } from "../core/robin_hood_map.ts";
import type { BackendState, Key } from "../core/types.ts";

/**
 * Load factors the core's tables accept (`ChainingMap` and `RobinHoodMap` constructors). The
 * format allows a wider range (docs/snapshot_format.md), so a well-formed snapshot can hold one
 * no table can be built with; tests/snapshot/repair_test.ts checks these against the core.
 */
export const CORE_LOAD_FACTOR = Object.freeze({
  chaining: Object.freeze([0.1, 16] as const),
  robinhood: Object.freeze([0.1, 0.97] as const),
});

/** The result of {@linkcode soundState}. */
export interface SoundState {
  /** The state with every setting the core refuses replaced by one it accepts. */
  state: MapState;
  /** What was replaced, one line each (empty when the state was sound). */
  problems: string[];
}

function soundBackend(s: BackendState, where: string, problems: string[]): BackendState {
  const [lo, hi] = CORE_LOAD_FACTOR[s.kind];
  const lf = s.maxLoadFactor;
  if (lf >= lo && lf <= hi) return s;
  const fixed = Math.min(hi, Math.max(lo, lf));
  problems.push(
    `${where}${s.kind} max load factor ${lf} is outside [${lo}, ${hi}], the range a ${s.kind} ` +
      `table supports (${fixed} is used)`,
  );
  return { ...s, maxLoadFactor: fixed };
}

function soundPolicy(policy: AdaptivePolicy, problems: string[]): AdaptivePolicy {
  const out: Record<string, unknown> = { ...DEFAULT_POLICY };
  for (const [name, value] of Object.entries(policy)) {
    try {
      validatePolicy({ ...DEFAULT_POLICY, [name]: value });
      out[name] = value;
    } catch (err) {
      const shown = (DEFAULT_POLICY as unknown as Record<string, unknown>)[name];
      problems.push(`${(err as Error).message} (the default ${JSON.stringify(shown)} is used)`);
    }
  }
  try {
    return validatePolicy(out as unknown as AdaptivePolicy);
  } catch (err) {
    // Each field is valid alone but not together (the initial chaining table is too big).
    problems.push(`${(err as Error).message} (the default sizes are used)`);
    return {
      ...(out as unknown as AdaptivePolicy),
      initialBuckets: DEFAULT_POLICY.initialBuckets,
      groupsPerBucket: DEFAULT_POLICY.groupsPerBucket,
    };
  }
}

/**
 * A state the core can build: settings inside the format's range but outside the core's (a
 * load factor, an adaptive policy field) replaced by the nearest one it accepts (the policy's
 * default for a policy field), each replacement reported as a problem. Entries and layout are
 * untouched.
 */
export function soundState(state: MapState): SoundState {
  const problems: string[] = [];
  if (state.kind !== "adaptive") return { state: soundBackend(state, "", problems), problems };
  const sound = {
    ...state,
    policy: soundPolicy(state.policy, problems),
    active: soundBackend(state.active, "active ", problems),
    target: state.target === null ? null : soundBackend(state.target, "target ", problems),
  };
  return { state: problems.length === 0 ? state : sound, problems };
}

/** The result of {@linkcode rebuildFromState}. */
export interface RebuildResult {
  /** The rebuilt map. */
  map: AnyMap<unknown>;
  /** Entries in the rebuilt map. */
  kept: number;
  /** Entries dropped because their key was already taken. */
  dropped: number;
  /** Settings the core refuses that were replaced (see {@linkcode soundState}). */
  adjusted: string[];
}

/**
 * An empty table of `s`'s size and settings. Its initial size, which `clear()` returns to and
 * `compact()` keeps at least, is the one `s` gives (the class's default when it gives none or
 * one no table can have, as for a snapshot's state), not `s`'s current size: a table rebuilt
 * with that could never shrink again.
 */
function freshBackend(s: BackendState): ChainingMap<unknown> | RobinHoodMap<unknown> {
  if (s.kind === "chaining") {
    const t = new ChainingMap<unknown>({
      initialBuckets: s.bucketCount,
      maxLoadFactor: s.maxLoadFactor,
    });
    return ChainingMap.fromState<unknown>({
      ...t.exportState(),
      initialBuckets: initialSize(s.initialBuckets),
    });
  }
  const t = new RobinHoodMap<unknown>({
    initialCapacity: s.capacity,
    maxLoadFactor: s.maxLoadFactor,
    deletion: s.deletion,
  });
  return RobinHoodMap.fromState<unknown>({
    ...t.exportState(),
    initialCapacity: initialSize(s.initialCapacity),
  });
}

/** `n` when a table can start at that size, else `undefined` (the default). */
function initialSize(n: number | undefined): number | undefined {
  return typeof n === "number" && n >= 1 && n <= 2 ** 30 ? n : undefined;
}

/**
 * For each entry of `s`, how late a lookup of its key reaches it (lower is sooner): in a Robin
 * Hood table its probe distance from the key's ideal slot; in a chaining table 0 when it is
 * listed among the entries of its key's bucket (buckets are listed in ascending order) and 1
 * when it is not, so that a lookup would never have seen it there (a key changed in place).
 */
function lookupRanks(s: BackendState): Int32Array {
  const n = s.keys.length;
  const ranks = new Int32Array(n);
  if (s.kind === "robinhood") {
    const bits = Math.log2(s.capacity);
    const mask = s.capacity - 1;
    for (let i = 0; i < n; i++) {
      ranks[i] = (s.slots[i]! - indexFor(hash32(s.keys[i]!), bits)) & mask;
    }
    return ranks;
  }
  const bits = Math.log2(s.bucketCount);
  const buckets = new Float64Array(n);
  for (let i = 0; i < n; i++) buckets[i] = indexFor(hash32(s.keys[i]!), bits);
  for (let i = 0; i < n; i++) {
    const b = buckets[i]!;
    const placed = (i === 0 || buckets[i - 1]! <= b) && (i === n - 1 || b <= buckets[i + 1]!);
    ranks[i] = placed ? 0 : 1;
  }
  return ranks;
}

/**
 * The order to re-insert the entries of `s` in: as listed, except that a Robin Hood table's go
 * by slot from its first free slot round, as `RobinHoodMap` rebuilds, so that entries that
 * wrapped past the end go in after the ones they follow and a sound table comes out unchanged.
 */
function insertionOrder(s: BackendState): number[] {
  const n = s.keys.length;
  const order = Array.from({ length: n }, (_, i) => i);
  if (s.kind !== "robinhood") return order;
  const used = new Uint8Array(s.capacity);
  for (const slot of s.slots) used[slot] = 1;
  for (const slot of s.tombstoneSlots) used[slot] = 1;
  const start = Math.max(0, used.indexOf(0));
  // Slots are listed in ascending order unless the state is damaged: then a rotation will do.
  const slots = s.slots;
  if (slots.every((slot, i) => i === 0 || slots[i - 1]! < slot)) {
    const first = slots.findIndex((slot) => slot >= start);
    return first <= 0 ? order : [...order.slice(first), ...order.slice(0, first)];
  }
  const mask = s.capacity - 1;
  return order.sort((a, b) => ((slots[a]! - start) & mask) - ((slots[b]! - start) & mask));
}

/**
 * Builds a sound map of the same kind and configuration from a state's entries, ignoring the
 * recorded layout; settings the core refuses are replaced first ({@linkcode soundState}). When
 * a key appears more than once, the occurrence a lookup reaches first wins: in a Robin Hood
 * table the one nearest the key's ideal slot (a copy whose key was changed in place sits where
 * the old key's probe put it, not on the new key's path), in a chaining table one listed in its
 * key's bucket, else the first listed. For an adaptive map caught mid-migration the source
 * table's entries win over the target's, as in `AdaptiveMap.get`, and the result is not
 * migrating.
 */
export function rebuildFromState(state: MapState): RebuildResult {
  const { state: sound, problems: adjusted } = soundState(state);
  const active = sound.kind === "adaptive" ? sound.active : sound;
  const sources: BackendState[] = [active];
  if (sound.kind === "adaptive" && sound.target !== null) sources.push(sound.target);
  // The winner of each key: [source, index, rank].
  const winners = new Map<Key, [number, number, number]>();
  sources.forEach((s, src) => {
    const ranks = lookupRanks(s);
    for (let i = 0; i < s.keys.length; i++) {
      const k = s.keys[i] as Key;
      const w = winners.get(k);
      if (w === undefined || (w[0] === src && ranks[i]! < w[2])) {
        winners.set(k, [src, i, ranks[i]!]);
      }
    }
  });
  const table = freshBackend(active);
  let dropped = 0;
  sources.forEach((s, src) => {
    for (const i of insertionOrder(s)) {
      const w = winners.get(s.keys[i] as Key)!;
      if (w[0] !== src || w[1] !== i) {
        dropped++;
        continue;
      }
      table.set(s.keys[i] as Key, s.values[i]);
    }
  });
  const kept = table.size;
  if (sound.kind !== "adaptive") return { map: table, kept, dropped, adjusted };
  const map = restoreMap<unknown>({
    kind: "adaptive",
    policy: sound.policy,
    active: table.exportState(),
    target: null,
    migrations: sound.migrations,
    compactions: sound.compactions,
  });
  return { map, kept, dropped, adjusted };
}

/** The result of {@linkcode compactMap}. */
export interface CompactResult {
  /** The compacted map: always the instance given (kept for callers that replace it). */
  map: AnyMap<unknown>;
  /** Whether a table was rebuilt smaller or without tombstones or free entries. */
  compacted: boolean;
  /** What happened, in words. */
  note: string;
}

/** Options of {@linkcode compactMap}. */
export interface CompactOptions {
  /**
   * Finish an adaptive map's migration under way, then compact (default false: a migrating
   * map is left alone, which suits live maps; `compact-snapshot` finishes it).
   */
  finishMigration?: boolean;
}

/**
 * Compacts `map` in place with its own `compact()`: a Robin Hood table rebuilt without
 * tombstones and shrunk to fit its entries; a chaining one with its slab packed and as few
 * chains as its entries need (an adaptive map's a quarter full). An adaptive map's listeners
 * hear a `compaction` event and its count goes up. A table it leaves as it was is reported
 * not compacted.
 */
export function compactMap(map: AnyMap<unknown>, options: CompactOptions = {}): CompactResult {
  let done = "";
  if (map instanceof AdaptiveMap && map.migrating) {
    if (options.finishMigration !== true) {
      return { map, compacted: false, note: "migration under way: compaction skipped" };
    }
    map.finishMigration();
    done = "migration finished; ";
  }
  const before = map.stats();
  map.compact();
  const after = map.stats();
  if (map.backend === "robinhood") {
    // Rebuilt at its size without tombstones, a Robin Hood table is the table it was.
    const compacted = after.capacity < before.capacity || before.tombstones > 0;
    const note = compacted ? "compacted" : "Robin Hood table: nothing to compact";
    return { map, compacted, note: `${done}${note}` };
  }
  const note = after.capacity < before.capacity
    ? "buckets shrunk"
    : after.bytesEstimate < before.bytesEstimate
    ? "slab packed"
    : "chaining table: nothing to compact";
  return { map, compacted: after.bytesEstimate < before.bytesEstimate, note: `${done}${note}` };
}
