/**
 * Maps by the CLI's `--mode` names, and restoring any map from its state.
 *
 * @module
 */

import { AdaptiveMap, type MapState, type PolicyChanges, restoreBackend } from "./adaptive_map.ts";
import { ChainingMap } from "./chaining_map.ts";
import { RobinHoodMap } from "./robin_hood_map.ts";

/** The CLI's modes. */
export type Mode = "adaptive" | "fast-insert" | "fast-lookup" | "memory-tight";

/** Every mode, in documentation order. */
export const MODES: readonly Mode[] = Object.freeze([
  "adaptive",
  "fast-insert",
  "fast-lookup",
  "memory-tight",
]);

/** Any adhash map. */
export type AnyMap<V> = ChainingMap<V> | RobinHoodMap<V> | AdaptiveMap<V>;

/** Load factor of `memory-tight`: the densest Robin Hood table adhash builds. */
export const MEMORY_TIGHT_LOAD = 0.95;

/**
 * The map for a mode: `fast-insert` is chaining, `fast-lookup` Robin Hood, `memory-tight`
 * Robin Hood at load factor 0.95, `adaptive` an {@linkcode AdaptiveMap} with `policy`.
 *
 * @example
 * ```ts
 * import { createMap } from "./factory.ts";
 * const m = createMap<string>("fast-lookup");
 * m.set("k", "v");
 * console.assert(m.backend === "robinhood");
 * ```
 */
export function createMap<V>(mode: Mode, policy: PolicyChanges = {}): AnyMap<V> {
  switch (mode) {
    case "adaptive":
      return new AdaptiveMap<V>(policy);
    case "fast-insert":
      return new ChainingMap<V>();
    case "fast-lookup":
      return new RobinHoodMap<V>();
    case "memory-tight":
      return new RobinHoodMap<V>({ maxLoadFactor: MEMORY_TIGHT_LOAD });
    default:
      throw new RangeError(`Unknown mode "${mode as string}": expected one of ${MODES.join(", ")}`);
  }
}

/** Restores the exact map of an `exportState()`. Throws RangeError/TypeError for impossible states. */
export function restoreMap<V>(state: MapState): AnyMap<V> {
  if (state.kind === "adaptive") return AdaptiveMap.fromState<V>(state);
  return restoreBackend<V>(state);
}
