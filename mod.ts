/**
 * adhash: hash maps you can watch. Separate chaining, Robin Hood, and an adaptive map that
 * migrates between them incrementally under load, all with `Map`'s interface, a deterministic
 * hash, cheap live statistics, probe traces and exact state export.
 *
 * @example
 * ```ts
 * import { AdaptiveMap } from "./mod.ts";
 *
 * const map = new AdaptiveMap<number>();
 * map.onEvent((e) => console.log(`${e.type}: ${e.from} -> ${e.to} (${e.reason})`));
 * for (let i = 0; i < 5_000; i++) map.set(`K${i}`, i);
 * map.delete("K0");
 * console.log(map.get("K1"), map.size, map.backend, map.stats().loadFactor.toFixed(2));
 * ```
 *
 * @module
 */

export * from "./src/core/types.ts";
export { fmix32, hashKey, hashNumber, hashString, indexFor, keyRepr } from "./src/core/hash.ts";
export { ChainingMap, type ChainingOptions } from "./src/core/chaining_map.ts";
export { RobinHoodMap, type RobinHoodOptions } from "./src/core/robin_hood_map.ts";
export {
  AdaptiveMap,
  type AdaptivePolicy,
  type AdaptiveState,
  DEFAULT_POLICY,
  type MapState,
  restoreBackend,
  validatePolicy,
} from "./src/core/adaptive_map.ts";
export {
  type AnyMap,
  createMap,
  MEMORY_TIGHT_LOAD,
  type Mode,
  MODES,
  restoreMap,
} from "./src/core/factory.ts";
export * from "./src/snapshot/mod.ts";
export {
  AdhashError,
  BadInputError,
  type ErrorCode,
  EXIT_CODES,
  InvariantError,
  IOError,
  PolicyError,
} from "./src/errors.ts";
