/**
 * Workloads shared by the benchmarks: 1,000,000 ops over 100,000 keys `K0..K99999`,
 * 50% get / 40% set / 10% delete, generated before timing.
 *
 * @module
 */

/** A seeded PRNG (mulberry32): the same workload on every run. */
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Operation codes: 0 get, 1 set, 2 delete. */
export interface Workload {
  ops: Uint8Array;
  keyIds: Int32Array;
}

export const OPS = 1_000_000;
export const KEYS = 100_000;

/** Key indexes uniform, or Zipf(s) over ranks when `zipf > 0`. */
export function makeWorkload(zipf = 0, seed = 7): Workload {
  const rnd = mulberry32(seed);
  const ops = new Uint8Array(OPS);
  const keyIds = new Int32Array(OPS);
  let cdf: Float64Array | null = null;
  if (zipf > 0) {
    cdf = new Float64Array(KEYS);
    let sum = 0;
    for (let r = 0; r < KEYS; r++) cdf[r] = sum += 1 / (r + 1) ** zipf;
    for (let r = 0; r < KEYS; r++) cdf[r]! /= sum;
  }
  for (let i = 0; i < OPS; i++) {
    const x = rnd();
    ops[i] = x < 0.5 ? 0 : x < 0.9 ? 1 : 2;
    if (cdf === null) keyIds[i] = Math.floor(rnd() * KEYS);
    else {
      const u = rnd();
      let lo = 0;
      let hi = KEYS - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid]! < u) lo = mid + 1;
        else hi = mid;
      }
      keyIds[i] = lo;
    }
  }
  return { ops, keyIds };
}

/** One string object per key, reused by every op (their hashes get cached by V8). */
export function pooledKeys(w: Workload): string[] {
  const pool = Array.from({ length: KEYS }, (_, i) => `K${i}`);
  return Array.from(w.keyIds, (id) => pool[id]!);
}

/** A newly built string for every op, as a CSV parser produces them. */
export function freshKeys(w: Workload): string[] {
  const out = new Array<string>(OPS);
  const prefix = String.fromCharCode(75); // defeat constant folding of "K" + i
  for (let i = 0; i < OPS; i++) out[i] = prefix + w.keyIds[i];
  return out;
}

/** The subset of Map's interface the replay uses. */
export interface OpTarget {
  get(k: string): unknown;
  set(k: string, v: number): unknown;
  delete(k: string): boolean;
}

/**
 * Replays the workload; returns a checksum so the work cannot be optimised away. Refers to
 * nothing outside itself, so {@linkcode replayCopy} can compile it again.
 */
export function replay(map: OpTarget, w: Workload, keys: string[]): number {
  const ops = w.ops;
  const n = ops.length;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const op = ops[i];
    if (op === 0) {
      if (map.get(k) !== undefined) acc++;
    } else if (op === 1) map.set(k, i);
    else if (map.delete(k)) acc++;
  }
  return acc;
}

/**
 * A copy of {@linkcode replay} with call sites of its own. V8 keeps type feedback per function:
 * maps replayed through one shared loop run code optimised for whichever classes that loop met
 * first, so each map's result would depend on the maps benchmarked before it. A copy per map
 * measures it as a program that uses that one map would run.
 */
export function replayCopy(): typeof replay {
  return new Function(`return ${replay.toString()}`)() as typeof replay;
}
