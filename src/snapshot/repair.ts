/**
 * Rebuilding and compacting maps for `verify-snapshot --repair` and `compact-snapshot`.
 *
 * @module
 */

import { type AnyMap, restoreMap } from "../core/factory.ts";
import { AdaptiveMap, type MapState } from "../core/adaptive_map.ts";
import { ChainingMap } from "../core/chaining_map.ts";
import { RobinHoodMap } from "../core/robin_hood_map.ts";
import type { BackendState, Key } from "../core/types.ts";

/** The result of {@linkcode rebuildFromState}. */
export interface RebuildResult {
  /** The rebuilt map. */
  map: AnyMap<unknown>;
  /** Entries in the rebuilt map. */
  kept: number;
  /** Entries dropped because their key was already taken. */
  dropped: number;
}

function freshBackend(s: BackendState): ChainingMap<unknown> | RobinHoodMap<unknown> {
  return s.kind === "chaining"
    ? new ChainingMap<unknown>({ initialBuckets: s.bucketCount, maxLoadFactor: s.maxLoadFactor })
    : new RobinHoodMap<unknown>({
      initialCapacity: s.capacity,
      maxLoadFactor: s.maxLoadFactor,
      deletion: s.deletion,
    });
}

/**
 * Builds a sound map of the same kind and configuration from a state's entries, ignoring the
 * recorded layout. When a key appears more than once the first occurrence wins (the one a
 * lookup would have found); for an adaptive map caught mid-migration the source table's
 * entries come before the target's, as in `AdaptiveMap.get`, and the result is not migrating.
 */
export function rebuildFromState(state: MapState): RebuildResult {
  const active = state.kind === "adaptive" ? state.active : state;
  const sources: BackendState[] = [active];
  if (state.kind === "adaptive" && state.target !== null) sources.push(state.target);
  const table = freshBackend(active);
  let dropped = 0;
  for (const s of sources) {
    const keys: Key[] = s.keys;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as Key;
      if (table.has(k)) {
        dropped++;
        continue;
      }
      table.set(k, s.values[i]);
    }
  }
  const kept = table.size;
  if (state.kind !== "adaptive") return { map: table, kept, dropped };
  const map = restoreMap<unknown>({
    kind: "adaptive",
    policy: state.policy,
    active: table.exportState(),
    target: null,
    migrations: state.migrations,
    compactions: state.compactions,
  });
  return { map, kept, dropped };
}

/** The result of {@linkcode compactMap}. */
export interface CompactResult {
  /** The compacted map (the same instance unless an adaptive map was rebuilt). */
  map: AnyMap<unknown>;
  /** Whether a Robin Hood table was compacted. */
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
 * Compacts the Robin Hood table of `map` (rebuilding it without tombstones). A Robin Hood map
 * is compacted in place. An adaptive map is rebuilt as a new instance (its event listeners are
 * not carried over) with its compaction count raised. A chaining table has nothing to compact
 * and is returned as it is.
 */
export function compactMap(map: AnyMap<unknown>, options: CompactOptions = {}): CompactResult {
  if (map instanceof RobinHoodMap) {
    map.compact();
    return { map, compacted: true, note: "compacted" };
  }
  if (map instanceof AdaptiveMap) {
    const finished = map.migrating;
    if (finished && options.finishMigration !== true) {
      return { map, compacted: false, note: "migration under way: compaction skipped" };
    }
    if (finished) map.finishMigration();
    const state = map.exportState();
    if (state.active.kind !== "robinhood") {
      return {
        map,
        compacted: false,
        note: `${finished ? "migration finished; " : ""}chaining table: nothing to compact`,
      };
    }
    const table = RobinHoodMap.fromState<unknown>(state.active);
    table.compact();
    const out = restoreMap<unknown>({
      ...state,
      active: table.exportState(),
      compactions: state.compactions + 1,
    });
    return {
      map: out,
      compacted: true,
      note: finished ? "migration finished; compacted" : "compacted",
    };
  }
  return { map, compacted: false, note: "chaining table: nothing to compact" };
}
