/**
 * The maps alone: separate chaining, Robin Hood and the adaptive map, the hash, statistics,
 * traces and state export, without snapshots or files. Nothing here needs Deno, Node's
 * built-ins or npm, so it runs in any JavaScript runtime, browsers included (`mod.ts` adds the
 * snapshot codec, which needs `node:crypto` and `node:zlib`).
 *
 * @example
 * ```ts
 * import { RobinHoodMap } from "./mod.ts";
 *
 * const map = new RobinHoodMap<string>();
 * map.set("K1", "one").set(2, "two");
 * console.log(map.get("K1"), map.size, map.traceGet(2).found);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export { fmix32, hashKey, hashNumber, hashString, indexFor, keyRepr } from "./hash.ts";
export { ChainingMap, type ChainingOptions } from "./chaining_map.ts";
export { RobinHoodMap, type RobinHoodOptions } from "./robin_hood_map.ts";
export {
  AdaptiveMap,
  type AdaptivePolicy,
  type AdaptiveState,
  DEFAULT_POLICY,
  type MapState,
  type PolicyChanges,
  restoreBackend,
  type TraceOptions,
  validatePolicy,
} from "./adaptive_map.ts";
export {
  type AnyMap,
  createMap,
  MEMORY_TIGHT_LOAD,
  type Mode,
  MODES,
  restoreMap,
} from "./factory.ts";
export {
  AdhashError,
  BadInputError,
  type ErrorCode,
  EXIT_CODES,
  InvariantError,
  IOError,
  PolicyError,
} from "../errors.ts";
