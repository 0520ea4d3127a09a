/**
 * adhash: hash maps you can watch. Separate chaining, Robin Hood, and an adaptive map that
 * migrates between them incrementally under load, all with `Map`'s interface, a deterministic
 * hash, cheap live statistics, probe traces and exact state export; and snapshots. The maps
 * alone are also `./core`, which needs neither Deno nor Node's built-ins (browsers included).
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

// The maps and errors (also `./core`, which runs in any JavaScript runtime), then snapshots.
export * from "./src/core/mod.ts";
export * from "./src/snapshot/mod.ts";
