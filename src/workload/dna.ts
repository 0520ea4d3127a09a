/**
 * Workload DNA: what a stream of workload rows does to a hash map (op mix, key popularity and
 * skew, live keys over time, bucket pressure under adhash's own hash), in one pass over the
 * batches of `readWorkload()` (csv_reader.ts) and in memory bounded by `maxTrackedKeys`, not by the
 * input. Methods and thresholds: docs/workload_dna.md.
 *
 * @module
 */

import { OP_DEL, OP_GET, OP_PUT, type OpBatch } from "./csv_reader.ts";
import { hash32, indexFor } from "../core/hash.ts";
import { ChainingMap } from "../core/chaining_map.ts";
import type { WorkloadDna } from "../contracts/workload_dna.ts";
import { percent, round } from "../format.ts";

/** Options of {@linkcode WorkloadDnaAnalyzer}. */
export interface DnaOptions {
  /** Hottest keys listed in the report. */
  topKeys: number;
  /** Distinct keys tracked exactly; later new keys only feed the Misra-Gries summary. */
  maxTrackedKeys: number;
}

/** The defaults of `workload-dna` (the original tool's). */
export const DNA_DEFAULTS: Readonly<DnaOptions> = Object.freeze({
  topKeys: 10,
  maxTrackedKeys: 200_000,
});

/** Robin Hood's default load limit: the hash table is sized to stay at or below it. */
export const TABLE_MAX_LOAD = 0.85;
/** A uniform hash overfills some bucket of one top-bits width with probability below this. */
export const UNIFORM_FALSE_ALARM = 1e-6;
/** Skewed: the top 1% of keys take at least this share of the rows ... */
export const SKEW_MIN_SHARE = 0.1;
/** ... and at least this many times their fair share. */
export const SKEW_MIN_LIFT = 5;
/** Read-heavy: at least this share of gets. */
export const READ_HEAVY = 0.7;
/** Write-heavy: at least this share of puts and deletes. */
export const WRITE_HEAVY = 0.5;
/** Ratio between successive ranks sampled by the Zipf fit. */
const FIT_RANK_STEP = 1.25;

type Mode = WorkloadDna["recommendation"]["mode"];
type Rule = WorkloadDna["recommendation"]["rule"];
type Prefix = NonNullable<WorkloadDna["hash_pressure"]["worst_prefix"]>;

/** Whether `key` is a digit-free prefix (maybe empty) then ASCII digits, like `K123`. */
export function hasNumericSuffix(key: string): boolean {
  let i = key.length;
  while (i > 0) {
    const c = key.charCodeAt(i - 1);
    if (c < 48 || c > 57) break;
    i--;
  }
  if (i === key.length) return false;
  for (let j = 0; j < i; j++) {
    const c = key.charCodeAt(j);
    if (c >= 48 && c <= 57) return false;
  }
  return true;
}

/**
 * The load above which a uniform hash of `n` keys into `buckets` buckets fills some bucket with
 * probability below `alpha`: Bernstein's inequality for a binomial load of mean `l = n/buckets`,
 * `P(load >= l + t) <= exp(-t^2 / (2 (l + t/3)))`, with a union bound over the buckets, solved
 * for `t`.
 */
export function uniformLoadLimit(n: number, buckets: number, alpha = UNIFORM_FALSE_ALARM): number {
  const l = n / buckets;
  const L = Math.log(buckets / alpha);
  return l + L / 3 + Math.sqrt((L * L) / 9 + 2 * L * l);
}

/**
 * Slope fit of a rank/frequency curve: `counts` sorted ascending (the hottest last). Ranks
 * `1, 2, ...` spaced by factors of 1.25 (so each decade of ranks weighs alike, not the long
 * tail) up to the last rank seen at least twice (keys seen once only flatten the tail); the
 * exponent is minus the least-squares slope of ln(count) on ln(rank).
 */
export function fitZipf(counts: Float64Array): { exponent: number | null; points: number } {
  const n = counts.length;
  let last = 0; // last rank with a count >= 2
  while (last < n && counts[n - 1 - last]! >= 2) last++;
  let sx = 0, sy = 0, sxx = 0, sxy = 0, k = 0;
  let prev = 0;
  for (let f = 1; Math.floor(f) <= last; f *= FIT_RANK_STEP) {
    const rank = Math.floor(f);
    if (rank === prev) continue;
    prev = rank;
    const x = Math.log(rank);
    const y = Math.log(counts[n - rank]!);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    k++;
  }
  if (k < 3) return { exponent: null, points: k };
  const slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
  return { exponent: round(Math.max(0, -slope), 3), points: k };
}

/**
 * Longest chain of a key table before it gives way to a `Map` (see `WorkloadDnaAnalyzer`'s
 * `#tracked`): no honest workload's keys make one.
 */
const MAX_CHAIN = 64;

/** A key table: adhash's chaining map, or the `Map` it gives way to. */
type KeyTable = ChainingMap<number> | Map<string, number>;

/**
 * `table`, or its keys moved in order into a `Map` when keys made to collide under adhash's
 * public hash have made a chain longer than {@linkcode MAX_CHAIN}.
 */
function collisionProof(table: KeyTable): KeyTable {
  return table instanceof ChainingMap && table.longestChain > MAX_CHAIN
    ? new Map(table as Iterable<[string, number]>)
    : table;
}

/**
 * Misra-Gries frequent-items summary over the rows whose key is not tracked: any key with more
 * than `rows / (capacity + 1)` of them is present, and its estimate is low by at most that much.
 * A full summary meeting a new key lowers every counter by one (dropping zeros) instead of
 * admitting it; each such round undoes `capacity` earlier increments, so it costs O(1) per row
 * amortised.
 */
class MisraGries {
  /**
   * Key -> slot; adhash's own map, as the built-in `Map` hashes fresh key strings slowly, until
   * keys made to collide make a chain longer than {@linkcode MAX_CHAIN}.
   */
  #slots: KeyTable = new ChainingMap<number>();
  readonly #keys: string[] = [];
  readonly #counts: Float64Array;
  /** Admission order of each slot's key, so estimates list in first-seen order as a `Map`'s. */
  readonly #seqs: Float64Array;
  readonly #free: number[] = [];
  #seq = 0;
  rows = 0;
  constructor(readonly capacity: number) {
    this.#counts = new Float64Array(capacity);
    this.#seqs = new Float64Array(capacity);
    for (let i = capacity - 1; i >= 0; i--) this.#free.push(i);
  }

  add(key: string): void {
    this.rows++;
    const slot = this.#slots.get(key);
    if (slot !== undefined) this.#counts[slot]!++;
    else if (this.#free.length > 0) {
      const i = this.#free.pop()!;
      this.#slots = collisionProof(this.#slots);
      this.#slots.set(key, i);
      this.#keys[i] = key;
      this.#counts[i] = 1;
      this.#seqs[i] = this.#seq++;
    } else {
      const counts = this.#counts;
      for (let i = 0; i < this.capacity; i++) {
        if (--counts[i]! === 0) {
          this.#slots.delete(this.#keys[i]!);
          this.#free.push(i);
        }
      }
    }
  }

  /** Key and estimate of each counter, in admission order. */
  get counters(): Array<[string, number]> {
    const live: number[] = [];
    for (let i = 0; i < this.capacity; i++) if (this.#counts[i]! > 0) live.push(i);
    live.sort((a, b) => this.#seqs[a]! - this.#seqs[b]!);
    return live.map((i) => [this.#keys[i]!, this.#counts[i]!]);
  }

  /** The most an estimate is below the true count. */
  get errorBound(): number {
    return Math.floor(this.rows / (this.capacity + 1));
  }
}

/** Streaming analyser: {@linkcode add} every batch, then {@linkcode report}. */
export class WorkloadDnaAnalyzer {
  readonly #topKeys: number;
  readonly #cap: number;
  /**
   * Tracked key -> `2 * rows + live`: one number per key, no object per key; `live` is 1 while
   * the key would be in the map. Exact while a key has fewer than 2^52 rows. adhash's own map:
   * the built-in `Map` took most of the analysis hashing the reader's fresh key strings (1.7x
   * the time on 1M distinct keys). Nothing is deleted from it, so it iterates in insertion order.
   * But adhash's hash is public: keys made to collide make one chain, every row a walk along it
   * (262,144 such keys took 12 minutes). A chain longer than {@linkcode MAX_CHAIN} moves the
   * keys, in order, into a `Map`, whose hash is seeded per process.
   */
  #tracked: KeyTable = new ChainingMap<number>();
  readonly #late: MisraGries;
  readonly #ops = [0, 0, 0];
  #rows = 0;
  #lenMin = Infinity;
  #lenMax = 0;
  #lenSum = 0;
  #numeric = 0;
  #live = 0;
  #peak = 0;

  /** An analyser; `options` default to {@linkcode DNA_DEFAULTS}. */
  constructor(options: Partial<DnaOptions> = {}) {
    this.#topKeys = options.topKeys ?? DNA_DEFAULTS.topKeys;
    this.#cap = options.maxTrackedKeys ?? DNA_DEFAULTS.maxTrackedKeys;
    if (!(Number.isInteger(this.#topKeys) && this.#topKeys >= 0)) {
      throw new RangeError(`topKeys must be an integer >= 0: ${this.#topKeys}`);
    }
    if (!(Number.isInteger(this.#cap) && this.#cap >= 1)) {
      throw new RangeError(`maxTrackedKeys must be an integer >= 1: ${this.#cap}`);
    }
    this.#late = new MisraGries(Math.max(64, 4 * this.#topKeys));
  }

  /** Counts the rows of `batch` (which the reader reuses: it is not kept). */
  add(batch: OpBatch): void {
    let tracked = this.#tracked;
    const ops = this.#ops;
    const keys = batch.keys;
    for (let i = 0; i < batch.length; i++) {
      const op = batch.ops[i]!;
      const key = keys[i]!;
      ops[op]!++;
      const len = key.length;
      if (len < this.#lenMin) this.#lenMin = len;
      if (len > this.#lenMax) this.#lenMax = len;
      this.#lenSum += len;
      if (hasNumericSuffix(key)) this.#numeric++;
      let v = tracked.get(key);
      if (v === undefined) {
        if (tracked.size >= this.#cap) {
          this.#late.add(key);
          continue;
        }
        tracked = this.#tracked = collisionProof(tracked);
        v = 0;
      }
      v += 2;
      const live = v % 2 === 1;
      if (op === OP_PUT && !live) {
        v += 1;
        if (++this.#live > this.#peak) this.#peak = this.#live;
      } else if (op === OP_DEL && live) {
        v -= 1;
        this.#live--;
      }
      tracked.set(key, v);
    }
    this.#rows += batch.length;
  }

  /** The report so far; `csv` names the input. */
  report(csv: string): WorkloadDna {
    const rows = this.#rows;
    const capped = this.#late.rows > 0;
    const [put, get, del] = [this.#ops[OP_PUT]!, this.#ops[OP_GET]!, this.#ops[OP_DEL]!];
    const ratio = (x: number): number => rows === 0 ? 0 : round(x / rows, 6);
    const n = this.#tracked.size;
    // Ascending counts: the hottest key last (typed-array sort is numeric and fast).
    const counts = new Float64Array(n);
    let i = 0;
    for (const v of this.#tracked.values()) counts[i++] = Math.floor(v / 2);
    counts.sort();
    const top1 = n === 0 ? 0 : Math.ceil(n / 100);
    let topSum = 0;
    for (let r = 1; r <= top1; r++) topSum += counts[n - r]!;
    const top1Share = rows === 0 ? 0 : topSum / rows;
    const fit = fitZipf(counts);
    const skewed = top1 > 0 && top1Share >= SKEW_MIN_SHARE &&
      top1Share >= SKEW_MIN_LIFT * (top1 / n);
    const opRatios = { put: ratio(put), get: ratio(get), del: ratio(del) };
    const skew = {
      top_1pct_keys: top1,
      top_1pct_share: round(top1Share, 6),
      zipf_exponent: fit.exponent,
      zipf_fit_points: fit.points,
      skewed,
    };
    const hashPressure = this.#hashPressure();
    return {
      schema: "workload_dna.v1",
      csv,
      rows,
      ops_by_type: { put, get, del },
      op_ratios: opRatios,
      keys: {
        distinct: n,
        distinct_exact: !capped,
        max_tracked: this.#cap,
        untracked_rows: this.#late.rows,
        length: {
          min: rows === 0 ? 0 : this.#lenMin,
          mean: rows === 0 ? 0 : round(this.#lenSum / rows, 3),
          max: this.#lenMax,
        },
        numeric_suffix_share: ratio(this.#numeric),
      },
      top_keys: this.#hottest(counts, rows),
      top_keys_error_bound: capped ? this.#late.errorBound : 0,
      skew,
      live_keys: { peak: this.#peak, final: this.#live, exact: !capped },
      hash_pressure: hashPressure,
      recommendation: recommend({ rows, op_ratios: opRatios, skew, hash_pressure: hashPressure }),
    };
  }

  /**
   * The `topKeys` hottest keys: tracked keys (exact counts) at or above the K-th largest count,
   * ties in first-seen order (the tracking map's order), merged with the Misra-Gries estimates of
   * keys seen after the cap. A tracked key outside the tracked top K cannot make the merged top K.
   */
  #hottest(counts: Float64Array, rows: number): WorkloadDna["top_keys"] {
    const k = this.#topKeys;
    const n = counts.length;
    if (k === 0 || rows === 0) return [];
    const kth = n === 0 ? Infinity : counts[Math.max(0, n - k)]!;
    const above: Array<{ key: string; count: number; exact: boolean }> = [];
    const ties: typeof above = [];
    for (const [stored, v] of this.#tracked) {
      const key = stored as string; // the reader's keys are strings
      const c = Math.floor(v / 2);
      if (c > kth) above.push({ key, count: c, exact: true });
      else if (c === kth && ties.length < k) ties.push({ key, count: c, exact: true });
    }
    const all = [...above, ...ties];
    for (const [key, c] of this.#late.counters) all.push({ key, count: c, exact: false });
    all.sort((a, b) => b.count - a.count); // stable: ties keep first-seen order, tracked first
    return all.slice(0, k).map((e) => ({
      key: e.key,
      count: e.count,
      share: round(e.count / rows, 6),
      exact: e.exact,
    }));
  }

  /**
   * Bucket loads of the tracked keys in the table the map would use, then the same loads at
   * every coarser top-bits width (tables index by the top bits, so halving the width adds
   * neighbouring buckets), each compared with what a uniform hash could produce.
   */
  #hashPressure(): WorkloadDna["hash_pressure"] {
    const n = this.#tracked.size;
    let bits = 3;
    while (bits < 30 && n > TABLE_MAX_LOAD * 2 ** bits) bits++;
    const buckets = 2 ** bits;
    const loads = new Uint32Array(buckets);
    for (const key of this.#tracked.keys()) loads[indexFor(hash32(key), bits)]!++;
    let max = 0;
    let colliding = 0;
    for (const l of loads) {
      if (l > max) max = l;
      if (l > 1) colliding += l;
    }
    let worst: Prefix | null = null;
    let worstScore = -1;
    let adversarial = false;
    if (n > 0) {
      for (let w = bits, size = buckets; w >= 1; w--, size /= 2) {
        if (w < bits) {
          for (let j = 0; j < size; j++) loads[j] = loads[2 * j]! + loads[2 * j + 1]!;
        }
        let m = 0;
        for (let j = 0; j < size; j++) if (loads[j]! > m) m = loads[j]!;
        const limit = uniformLoadLimit(n, size);
        if (m > limit) adversarial = true;
        if (m / limit > worstScore) {
          worstScore = m / limit;
          worst = {
            bits: w,
            buckets: size,
            expected_load: round(n / size, 3),
            max_load: m,
            uniform_limit: round(limit, 1),
          };
        }
      }
    }
    return {
      keys_hashed: n,
      table_bits: bits,
      buckets,
      expected_load: round(n / buckets, 6),
      max_bucket_load: max,
      colliding_key_share: n === 0 ? 0 : round(colliding / n, 6),
      uniform_colliding_key_share: n === 0 ? 0 : round(1 - (1 - 1 / buckets) ** (n - 1), 6),
      worst_prefix: worst,
      adversarial,
    };
  }
}

/**
 * The `--mode` that fits, by the first rule that applies: empty (adaptive); adversarial
 * (fast-insert); skewed (adaptive); read-heavy (fast-lookup); write-heavy (fast-insert);
 * otherwise mixed (adaptive).
 */
export function recommend(r: {
  rows: number;
  op_ratios: WorkloadDna["op_ratios"];
  skew: WorkloadDna["skew"];
  hash_pressure: WorkloadDna["hash_pressure"];
}): WorkloadDna["recommendation"] {
  const pick = (mode: Mode, rule: Rule, reason: string): WorkloadDna["recommendation"] => ({
    mode,
    rule,
    reason,
  });
  if (r.rows === 0) return pick("adaptive", "empty", "no rows: nothing to tune for");
  const hp = r.hash_pressure;
  if (hp.adversarial && hp.worst_prefix !== null) {
    const w = hp.worst_prefix;
    return pick(
      "fast-insert",
      "adversarial",
      `keys collide under adhash's hash (${w.max_load} keys in one of ${w.buckets} top-bit ` +
        `buckets, uniform limit ${w.uniform_limit}): chaining keeps them in chains of their own, ` +
        `where Robin Hood's probes run through every cluster they make`,
    );
  }
  if (r.skew.skewed) {
    return pick(
      "adaptive",
      "skewed",
      `skewed: the hottest 1% of keys take ${percent(r.skew.top_1pct_share)} of the ops, so ` +
        `where they land decides the cost: adaptive reacts to long chains or probes`,
    );
  }
  const reads = r.op_ratios.get;
  const writes = r.op_ratios.put + r.op_ratios.del;
  if (reads >= READ_HEAVY) {
    return pick(
      "fast-lookup",
      "read-heavy",
      `read-heavy: ${percent(reads)} of the ops are gets; Robin Hood's short probes favour lookups`,
    );
  }
  if (writes >= WRITE_HEAVY) {
    return pick(
      "fast-insert",
      "write-heavy",
      `write-heavy: ${percent(writes)} of the ops are puts or deletes; chaining inserts and ` +
        `deletes without moving entries`,
    );
  }
  return pick(
    "adaptive",
    "mixed",
    `mixed: ${percent(reads)} gets, ${
      percent(writes)
    } writes; adaptive picks the backend as it goes`,
  );
}

/** Analyses every batch of `batches` (e.g. `readWorkload()`'s) and reports. */
export async function analyseWorkload(
  batches: AsyncIterable<OpBatch> | Iterable<OpBatch>,
  csv: string,
  options: Partial<DnaOptions> = {},
): Promise<WorkloadDna> {
  const a = new WorkloadDnaAnalyzer(options);
  for await (const b of batches) a.add(b);
  return a.report(csv);
}
