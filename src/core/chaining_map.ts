/**
 * Separate chaining with typed-array links.
 *
 * Entries live in a slab: parallel arrays of keys and values plus an `Int32Array` holding, per
 * entry, its `next` link (index + 1, so 0 ends a chain) and its hash side by side: following a
 * link brings the hash into cache with it, so resizing and migrating never re-read key strings. A power-of-two `Int32Array` of chain heads indexes the
 * slab by the top bits of the hash. Freed slab entries form a free list through their links, so a
 * deletion never moves another entry. New entries are appended at the tail of their chain.
 *
 * Resize policy: when `size` exceeds `buckets * maxLoadFactor` (default 1.0) the bucket array
 * doubles and every chain is relinked; the slab is untouched. Neither ever shrinks by itself:
 * `compact()` packs the slab and shrinks the chains to what the entries need.
 *
 * @module
 */

import { hash32, indexFor, keyRepr } from "./hash.ts";
import {
  badKeyMessage,
  checkCallback,
  checkOptionFields,
  checkSize,
  copyWithNewMapOrASnapshot,
  DENO_INSPECT,
  denoInspect,
  extended,
  getOrInsertVia,
  Histogram,
  isKey,
  log2Ceil,
  mapIterator,
  modifiedDuringIteration,
  NODE_INSPECT,
  nodeInspect,
  numberKey,
  REF_BYTES,
  showValue,
  undefinedSlots,
} from "./storage.ts";
import type {
  ChainingState,
  ChainingTrace,
  ChainingTraceStep,
  HashMapLike,
  Key,
  MapStats,
  RebuildHook,
} from "./types.ts";

/** Options of {@linkcode ChainingMap}. */
export interface ChainingOptions {
  /** Chains to start with, rounded up to a power of two (minimum 8). Default 64. */
  initialBuckets?: number | undefined;
  /** Entries per chain that double the chains, in [0.1, 16]. Default 1.0. */
  maxLoadFactor?: number | undefined;
}

const MIN_BITS = 3;
/** Chains of a table made without `initialBuckets`. */
const DEFAULT_BUCKETS = 64;
/** Slab entries per storage page: a big slab never needs one big array allocated at once. */
const PAGE_BITS = 14;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;

/** The highest `maxLoadFactor`: no table holds more entries per chain. */
const MAX_LOAD_FACTOR = 16;

function checkLoadFactor(lf: number): number {
  if (typeof lf !== "number" || !(lf >= 0.1 && lf <= MAX_LOAD_FACTOR)) {
    throw new RangeError(`maxLoadFactor must be a number in [0.1, 16]: received ${showValue(lf)}`);
  }
  return lf;
}

/**
 * A separate-chaining hash map with `Map`'s interface. Iteration follows slab order, which is
 * insertion order until deletions free entries that later insertions reuse.
 *
 * @example
 * ```ts
 * import { ChainingMap } from "./chaining_map.ts";
 * const m = new ChainingMap<string>();
 * m.set(1, "one").set("two", "2");
 * console.assert(m.get(1) === "one" && m.has("two"));
 * ```
 */
export class ChainingMap<V> implements HashMapLike<V> {
  /** Makes `structuredClone` refuse the map (see {@linkcode copyWithNewMapOrASnapshot}). */
  private readonly noClone = copyWithNewMapOrASnapshot;
  /** Entries per chain that double the chains (see {@linkcode setMaxLoadFactor}). */
  get maxLoadFactor(): number {
    return this.lf;
  }
  /** Called after the chains are doubled; used by {@linkcode AdaptiveMap} to report events. */
  onRebuild: RebuildHook | undefined = undefined;

  private lf: number;
  private heads: Int32Array;
  /** Entry `s` links to `link[2s]` (index + 1, 0 = end) and has hash `link[2s + 1]`. */
  private link: Int32Array;
  /**
   * Keys and values of slab entries, in pages of PAGE_SIZE; a free entry's key is undefined.
   * The first page starts small and doubles, so a small map stays small.
   */
  private kp: Array<Array<Key | undefined>> = [];
  private vp: Array<Array<V | undefined>> = [];
  /** Slab entries the pages hold. */
  private room = 0;
  private bits: number;
  private shift: number;
  private count = 0;
  /** Slab entries ever used; entries at or past `top` are unused. */
  private top = 0;
  /** Head of the free list (index + 1), 0 when empty. */
  private free = 0;
  private growAt: number;
  /** Sum over entries of their position in their chain (0 = head). */
  private sumPos = 0;
  /** Number of chains of each length (index 0 unused). */
  private lens = new Histogram();
  private version = 0;
  /** Not readonly: {@linkcode fromState} restores it. */
  private initialBits: number;

  /** An empty table; throws RangeError for options out of range. */
  constructor(options: ChainingOptions = {}) {
    checkOptionFields("ChainingMap", options, ["initialBuckets", "maxLoadFactor"]);
    // `=== undefined`, not `??`: a null is a bad value to report, not a default.
    this.lf = checkLoadFactor(options.maxLoadFactor === undefined ? 1.0 : options.maxLoadFactor);
    const initial = options.initialBuckets === undefined ? DEFAULT_BUCKETS : options.initialBuckets;
    if (typeof initial !== "number" || !(initial >= 1 && initial <= 2 ** 30)) {
      throw new RangeError(
        `initialBuckets must be a number in [1, 2^30]: received ${showValue(initial)}`,
      );
    }
    this.initialBits = Math.max(MIN_BITS, log2Ceil(initial));
    this.bits = this.initialBits;
    this.shift = 32 - this.bits;
    this.heads = new Int32Array(1 << this.bits);
    this.link = new Int32Array(32);
    this.growAt = this.thresholdFor(1 << this.bits);
  }

  /**
   * An empty map with `buckets` chains (rounded up to a power of two) whose links array
   * holds `entries` without growing. Lets a migrating {@linkcode AdaptiveMap} size its target
   * once: zeroed typed arrays are cheap to allocate at any size. Throws TypeError or RangeError
   * for a count that is not a number in [1, 2^30] (buckets) or [0, 2^30] (entries).
   */
  static withCapacity<V>(
    buckets: number,
    entries: number,
    options: ChainingOptions = {},
  ): ChainingMap<V> {
    checkSize("ChainingMap.withCapacity(): buckets", buckets);
    checkSize("ChainingMap.withCapacity(): entries", entries, 0);
    const m = new ChainingMap<V>(options);
    m.bits = Math.max(MIN_BITS, log2Ceil(buckets));
    m.shift = 32 - m.bits;
    m.heads = new Int32Array(1 << m.bits);
    m.growAt = m.thresholdFor(1 << m.bits);
    m.link = new Int32Array(2 * Math.max(16, entries));
    return m;
  }

  /** The key of slab entry `s`, or undefined when it is free. */
  private keyAt(s: number): Key | undefined {
    return this.kp[s >>> PAGE_BITS]![s & PAGE_MASK];
  }

  /** The value of slab entry `s`. */
  private valueAt(s: number): V {
    return this.vp[s >>> PAGE_BITS]![s & PAGE_MASK] as V;
  }

  /** Live entries. */
  get size(): number {
    return this.count;
  }

  /** Always `"chaining"`. */
  get backend(): "chaining" {
    return "chaining";
  }

  /** Number of chains. */
  get capacity(): number {
    return this.heads.length;
  }

  /** Length of the longest chain. */
  get longestChain(): number {
    return this.lens.top();
  }

  /** Slab index of `key`, or -1. */
  private find(key: Key): number {
    const h = hash32(key);
    const kp = this.kp;
    const link = this.link;
    let e = this.heads[h >>> this.shift]!;
    while (e !== 0) {
      const s = e - 1;
      // The stored hash sits beside the link just read: a mismatch skips the key's string.
      if (link[(s << 1) + 1] === h && kp[s >>> PAGE_BITS]![s & PAGE_MASK] === key) return s;
      e = link[s << 1]!;
    }
    return -1;
  }

  /** The value stored under `key`, or `undefined`. */
  get(key: Key): V | undefined {
    const e = this.find(key);
    return e < 0 ? undefined : this.valueAt(e);
  }

  /** Whether `key` is present. */
  has(key: Key): boolean {
    return this.find(key) >= 0;
  }

  /** The value under `key`; if absent, stores `value` under it first (as `Map`'s). */
  getOrInsert(key: Key, value: V): V {
    return this.getOrInsertComputed(key, () => value);
  }

  /**
   * The value under `key`; if absent, stores `callback(key)` under it first (as `Map`'s). Throws
   * TypeError, before calling `callback`, for a key that is not a string or number, or NaN.
   */
  getOrInsertComputed(key: Key, callback: (key: Key) => V): V {
    return getOrInsertVia(this, key, callback);
  }

  /** `"ChainingMap"`, for `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return "ChainingMap";
  }

  /** `{}`, as for a `Map`: the entries are `Object.fromEntries(map)`, not the internal arrays. */
  toJSON(): Record<string, never> {
    return {};
  }

  /** `console.log` and `Deno.inspect` show the entries, as for a `Map`. */
  [DENO_INSPECT](
    inspect: (value: unknown, options?: unknown) => string,
    options?: unknown,
  ): string {
    return denoInspect("ChainingMap", this, inspect, options);
  }

  /** Node's `util.inspect` shows the entries, as for a `Map`. */
  [NODE_INSPECT](
    depth: number,
    options: unknown,
    inspect: (value: unknown, options?: unknown) => string,
  ): string {
    return nodeInspect("ChainingMap", this, depth, options, inspect);
  }

  /** Replaces the value of `key` if present; returns whether it was. */
  update(key: Key, value: V): boolean {
    const e = this.find(key);
    if (e < 0) return false;
    this.vp[e >>> PAGE_BITS]![e & PAGE_MASK] = value;
    return true;
  }

  /** Stores `value` under `key`. Throws TypeError for keys that are not strings or numbers, or NaN. */
  set(key: Key, value: V): this {
    if (typeof key !== "string") key = numberKey(key);
    const h = hash32(key);
    const kp = this.kp;
    const link = this.link;
    const b = h >>> this.shift;
    let e = this.heads[b]!;
    let last = 0;
    let len = 0;
    while (e !== 0) {
      const s = e - 1;
      if (link[(s << 1) + 1] === h && kp[s >>> PAGE_BITS]![s & PAGE_MASK] === key) {
        this.vp[s >>> PAGE_BITS]![s & PAGE_MASK] = value;
        return this;
      }
      last = e;
      e = link[(e - 1) << 1]!;
      len++;
    }
    if (this.count >= this.growAt) {
      this.grow();
      return this.set(key, value);
    }
    this.append(b, last, len, h, key, value);
    return this;
  }

  /**
   * Stores an entry whose key is known to be absent and whose hash is `h` (the bits of
   * `hashKey()`, signed or not), as when a migration moves it here from another table:
   * no hashing, no key comparisons. A key already present would be stored twice.
   */
  insertAbsent(key: Key, value: V, h: number): void {
    const link = this.link;
    const b = h >>> this.shift;
    let e = this.heads[b]!;
    let last = 0;
    let len = 0;
    while (e !== 0) {
      last = e;
      e = link[(e - 1) << 1]!;
      len++;
    }
    if (this.count >= this.growAt) {
      this.grow();
      this.insertAbsent(key, value, h);
      return;
    }
    this.append(b, last, len, h, key, value);
  }

  /**
   * Links a new entry with hash `h` after `last` (0: as the head) of chain `b`, which holds
   * `len` entries.
   */
  private append(b: number, last: number, len: number, h: number, key: Key, value: V): void {
    const slot = this.alloc();
    this.link[(slot << 1) + 1] = h;
    this.kp[slot >>> PAGE_BITS]![slot & PAGE_MASK] = key;
    this.vp[slot >>> PAGE_BITS]![slot & PAGE_MASK] = value;
    if (last === 0) this.heads[b] = slot + 1;
    else this.link[(last - 1) << 1] = slot + 1; // alloc() may have replaced the links array
    if (len > 0) this.lens.remove(len);
    this.lens.add(len + 1);
    this.sumPos += len;
    this.count++;
    this.version++;
  }

  /**
   * Changes the load at which the table doubles its chains, from the next insertion; throws
   * RangeError outside [0.1, 16]. A table already above the new limit doubles its chains, as
   * often as it takes, at the next insertion of a new key.
   */
  setMaxLoadFactor(lf: number): void {
    this.lf = checkLoadFactor(lf);
    this.growAt = this.thresholdFor(1 << this.bits);
  }

  /** Entries that double the chains of a table of `chains` chains (at least 1). */
  private thresholdFor(chains: number): number {
    return Math.max(1, Math.floor(chains * this.lf));
  }

  /** A free slab index (its link is 0). */
  private alloc(): number {
    if (this.free !== 0) {
      const s = this.free - 1;
      this.free = this.link[s << 1]!;
      this.link[s << 1] = 0;
      return s;
    }
    const s = this.top++;
    if (s << 1 >= this.link.length) this.growSlab();
    if (s >= this.room) this.addRoom();
    return s;
  }

  /** Doubles the first page up to PAGE_SIZE entries, then adds whole pages. */
  private addRoom(): void {
    if (this.room < PAGE_SIZE) {
      const n = Math.min(PAGE_SIZE, Math.max(16, 2 * this.room));
      this.kp[0] = extended(this.kp[0], n);
      this.vp[0] = extended(this.vp[0], n);
      this.room = n;
      return;
    }
    this.kp.push(undefinedSlots<Key>(PAGE_SIZE));
    this.vp.push(undefinedSlots<V>(PAGE_SIZE));
    this.room += PAGE_SIZE;
  }

  /** Doubles the link slab when the free list is empty. */
  private growSlab(): void {
    const n = new Int32Array(this.link.length * 2);
    n.set(this.link);
    this.link = n;
  }

  /** Doubles the chains; out of line so `set` stays small. */
  private grow(): void {
    const from = this.heads.length;
    if (this.bits >= 30) {
      throw new RangeError(`ChainingMap cannot grow beyond 2^30 chains (${this.count} entries)`);
    }
    this.relink(this.bits + 1);
    this.onRebuild?.(
      "resize",
      from,
      this.heads.length,
      `load ${(this.count / from).toFixed(3)} >= ${this.maxLoadFactor}`,
    );
  }

  /** Rebuilds all chains for `2 ** bits` buckets, each in slab order. */
  private relink(bits: number): void {
    // Allocated before any field changes: a failed allocation leaves the map as it was.
    const heads = new Int32Array(1 << bits);
    const tails = new Int32Array(1 << bits);
    const chainLen = new Int32Array(1 << bits);
    this.bits = bits;
    this.shift = 32 - bits;
    const link = this.link;
    this.lens.reset();
    this.sumPos = 0;
    for (let s = 0; s < this.top; s++) {
      if (this.keyAt(s) === undefined) continue;
      const b = link[(s << 1) + 1]! >>> this.shift;
      link[s << 1] = 0;
      if (tails[b] === 0) heads[b] = s + 1;
      else link[(tails[b]! - 1) << 1] = s + 1;
      tails[b] = s + 1;
      this.sumPos += chainLen[b]!;
      chainLen[b]!++;
    }
    for (let b = 0; b < chainLen.length; b++) if (chainLen[b]! > 0) this.lens.add(chainLen[b]!);
    this.heads = heads;
    this.growAt = this.thresholdFor(1 << bits);
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: Key): boolean {
    const h = hash32(key);
    const b = h >>> this.shift;
    const link = this.link;
    let e = this.heads[b]!;
    let prev = 0;
    let pos = 0;
    while (e !== 0) {
      if (link[((e - 1) << 1) + 1] === h && this.keyAt(e - 1) === key) break;
      prev = e;
      e = link[(e - 1) << 1]!;
      pos++;
    }
    if (e === 0) return false;
    this.unlink(b, prev, e - 1, pos);
    return true;
  }

  /** Unlinks slab entry `s` at position `pos` of chain `b` (after `prev`, 0 for the head). */
  private unlink(b: number, prev: number, s: number, pos: number): void {
    const link = this.link;
    let len = pos + 1;
    for (let t = link[s << 1]!; t !== 0; t = link[(t - 1) << 1]!) len++;
    if (prev === 0) this.heads[b] = link[s << 1]!;
    else link[(prev - 1) << 1] = link[s << 1]!;
    this.lens.remove(len);
    if (len > 1) this.lens.add(len - 1);
    this.sumPos -= len - 1;
    this.kp[s >>> PAGE_BITS]![s & PAGE_MASK] = undefined;
    this.vp[s >>> PAGE_BITS]![s & PAGE_MASK] = undefined;
    link[s << 1] = this.free;
    this.free = s + 1;
    this.count--;
    this.version++;
  }

  /**
   * Moves up to `max` entries, from chain `cursor` on, out of this map into `sink`; returns
   * the cursor to continue from (`>= capacity` when the map is empty). Chains are emptied in
   * index order, which is hash order, so a target indexed by the same top bits fills from
   * one end to the other; each move unlinks a chain head in O(1). Every chain before the
   * returned cursor is empty. Used by {@linkcode AdaptiveMap} to migrate incrementally; the
   * map takes no insertions while it drains.
   */
  drain(cursor: number, max: number, sink: (key: Key, value: V, hash: number) => void): number {
    const heads = this.heads;
    const link = this.link;
    const kp = this.kp;
    const vp = this.vp;
    // Budget: a moved entry costs 16, an empty chain 1, so a sparse table is not scanned at once.
    const limit = 16 * max;
    let work = 0;
    let b = cursor;
    while (b < heads.length && work < limit) {
      let e = heads[b]!;
      if (e === 0) {
        b++;
        work++;
        continue;
      }
      // The chain's statistics change once for all the heads moved, not once per entry.
      let len = 0;
      for (let t = e; t !== 0; t = link[(t - 1) << 1]!) len++;
      let moved = 0;
      do {
        const s = e - 1;
        const page = s >>> PAGE_BITS;
        const at = s & PAGE_MASK;
        sink(kp[page]![at]!, vp[page]![at] as V, link[(s << 1) + 1]!);
        kp[page]![at] = undefined;
        vp[page]![at] = undefined;
        e = link[s << 1]!;
        link[s << 1] = this.free;
        this.free = s + 1;
        moved++;
        work += 16;
      } while (e !== 0 && work < limit);
      heads[b] = e;
      this.lens.remove(len);
      if (len > moved) this.lens.add(len - moved);
      // The moved heads sat at positions 0..moved-1; every entry left moves up by `moved`.
      this.sumPos -= moved * (len - 1) - (moved * (moved - 1)) / 2;
      this.count -= moved;
      this.version++;
      if (e === 0) b++;
    }
    return b;
  }

  /** Removes every entry and returns to the initial number of chains. */
  clear(): void {
    this.bits = this.initialBits;
    this.shift = 32 - this.bits;
    this.heads = new Int32Array(1 << this.bits);
    this.link = new Int32Array(32);
    this.kp = [];
    this.vp = [];
    this.room = 0;
    this.count = 0;
    this.top = 0;
    this.free = 0;
    this.sumPos = 0;
    this.lens.reset();
    this.growAt = this.thresholdFor(1 << this.bits);
    this.version++;
  }

  /**
   * Gives back what deletions left: rebuilds the table with its slab packed, without free
   * entries, and as few chains as hold its entries below the doubling load (never fewer than it
   * started with, nor more than it has), or with `chains` chains (a power of two, at least as
   * many as the entries need). Iteration order is kept. Reports a `compaction` through
   * {@linkcode onRebuild}. A table never shrinks by itself. Throws TypeError or RangeError, and
   * changes nothing, when `chains` is given but is not a number in [1, 2^30].
   */
  compact(chains?: number): void {
    if (chains !== undefined) checkSize("ChainingMap.compact(): chains", chains);
    const from = this.heads.length;
    let fit = 1 << MIN_BITS;
    while (this.thresholdFor(fit) <= this.count * 1.25 + 1) fit *= 2;
    const to = chains === undefined
      ? Math.min(from, Math.max(fit, 1 << this.initialBits))
      : Math.max(fit, 1 << log2Ceil(chains));
    // Built aside and swapped in: a failed allocation leaves the map as it was.
    const packed = ChainingMap.withCapacity<V>(to, this.count, { maxLoadFactor: this.lf });
    const link = this.link;
    for (let s = 0; s < this.top; s++) {
      const k = this.keyAt(s);
      if (k !== undefined) packed.insertAbsent(k, this.valueAt(s), link[(s << 1) + 1]!);
    }
    this.bits = packed.bits;
    this.shift = packed.shift;
    this.heads = packed.heads;
    this.link = packed.link;
    this.kp = packed.kp;
    this.vp = packed.vp;
    this.room = packed.room;
    this.top = packed.top;
    this.free = 0;
    this.sumPos = packed.sumPos;
    this.lens = packed.lens;
    this.growAt = packed.growAt;
    this.version++;
    // Entries over the load limit already (setMaxLoadFactor() lowered it) double the chains
    // as they go in, as insertions would: the table then has more than `to`.
    this.onRebuild?.(
      "compaction",
      from,
      this.heads.length,
      `compact(): ${this.count} entries in ${from} chains`,
    );
  }

  /** Slab indexes of live entries; throws if the map changes while iterating. */
  private *indexes(): Generator<number, void, undefined> {
    const v = this.version;
    for (let s = 0; s < this.top; s++) {
      if (this.version !== v) throw modifiedDuringIteration();
      if (this.keyAt(s) !== undefined) yield s;
    }
    if (this.version !== v) throw modifiedDuringIteration();
  }

  /** Keys in slab order. */
  keys(): MapIterator<Key> {
    return mapIterator(this.indexes(), (s) => this.keyAt(s)!);
  }

  /** Values in slab order. */
  values(): MapIterator<V> {
    return mapIterator(this.indexes(), (s) => this.valueAt(s));
  }

  /** `[key, value]` pairs in slab order. */
  entries(): MapIterator<[Key, V]> {
    return mapIterator(this.indexes(), (s): [Key, V] => [this.keyAt(s)!, this.valueAt(s)]);
  }

  /** Same as {@linkcode entries}. */
  [Symbol.iterator](): MapIterator<[Key, V]> {
    return this.entries();
  }

  /** Calls `callback(value, key, map)` for each entry in slab order. */
  forEach(callback: (value: V, key: Key, map: this) => void, thisArg?: unknown): void {
    checkCallback("forEach", callback);
    for (const s of this.indexes()) callback.call(thisArg, this.valueAt(s), this.keyAt(s)!, this);
  }

  /**
   * Statistics from counters maintained by every write. The probe histogram counts entries
   * by position in their chain (0 = head), derived from the histogram of chain lengths.
   */
  stats(): MapStats {
    const cap = this.heads.length;
    const longest = this.lens.top();
    const hist: Array<[number, number]> = [];
    // Entries at position p = chains longer than p.
    let longer = 0;
    const at: number[] = [];
    for (let len = longest; len >= 1; len--) {
      longer += this.lens.counts[len]!;
      at.push(longer);
    }
    for (let p = 0; p < at.length; p++) {
      const c = at[at.length - 1 - p]!;
      if (c !== 0) hist.push([p, c]);
    }
    return {
      backend: "chaining",
      size: this.count,
      capacity: cap,
      loadFactor: this.count / cap,
      maxGroupLen: longest,
      avgProbeDistance: this.count === 0 ? 0 : this.sumPos / this.count,
      tombstones: 0,
      tombstoneRatio: 0,
      probeHistogram: hist,
      bytesEstimate: this.heads.byteLength + this.link.byteLength +
        this.room * 2 * REF_BYTES + this.lens.counts.byteLength + 200,
    };
  }

  /** Live entries in each of `cells` equal slices of the chain array (a full scan). */
  occupancy(cells: number): number[] {
    const n = Math.max(1, Math.min(cells, this.heads.length));
    const out = new Array<number>(n).fill(0);
    const span = this.heads.length / n;
    for (let b = 0; b < this.heads.length; b++) {
      let len = 0;
      for (let e = this.heads[b]!; e !== 0; e = this.link[(e - 1) << 1]!) len++;
      if (len) out[Math.floor(b / span)]! += len;
    }
    return out;
  }

  /** A full check of chains, links and counters; returns what is wrong (empty when sound). */
  checkInvariants(): string[] {
    const problems: string[] = [];
    const say = (s: string) => {
      if (problems.length < 50) problems.push(s);
    };
    const seen = new Uint8Array(this.top);
    const lens = new Histogram();
    let live = 0;
    let sumPos = 0;
    // A repeated key lies in its chain: a set of the chain's keys finds it. A find() per entry
    // walked the chain each time, in time that grew with the square of its length.
    const chain = new Set<Key>();
    for (let b = 0; b < this.heads.length; b++) {
      let len = 0;
      chain.clear();
      for (let e = this.heads[b]!; e !== 0; e = this.link[(e - 1) << 1]!) {
        const s = e - 1;
        if (s < 0 || s >= this.top) {
          say(`chain ${b}: link to slab index ${s} outside 0..${this.top - 1}`);
          break;
        }
        if (seen[s]) {
          say(`chain ${b}: slab index ${s} linked twice (cycle or shared entry)`);
          break;
        }
        seen[s] = 1;
        const k = this.keyAt(s);
        if (!isKey(k)) {
          say(`chain ${b}: slab index ${s} holds invalid key ${String(k)}`);
        } else {
          const h = hash32(k);
          if (this.link[(s << 1) + 1] !== h) {
            say(`key ${keyRepr(k)} has stored hash ${this.link[(s << 1) + 1]}, not ${h}`);
          }
          const want = indexFor(h, this.bits);
          if (want !== b) say(`key ${keyRepr(k)} is in chain ${b} but hashes to ${want}`);
          if (chain.has(k)) say(`key ${keyRepr(k)} appears more than once`);
          chain.add(k);
        }
        sumPos += len;
        len++;
        live++;
      }
      if (len > 0) lens.add(len);
    }
    let freeCount = 0;
    for (let e = this.free; e !== 0 && freeCount <= this.top; e = this.link[(e - 1) << 1]!) {
      const s = e - 1;
      if (s < 0 || s >= this.top || seen[s]) {
        say(`free list reaches slab index ${s}, which is live or out of range`);
        break;
      }
      seen[s] = 2;
      if (this.keyAt(s) !== undefined) say(`free slab index ${s} still holds a key`);
      freeCount++;
    }
    for (let s = 0; s < this.top; s++) {
      if (seen[s] === 0) say(`slab index ${s} is neither in a chain nor free`);
    }
    if (live !== this.count) say(`size is ${this.count} but chains hold ${live} entries`);
    if (sumPos !== this.sumPos) say(`chain position sum is ${this.sumPos}, recount ${sumPos}`);
    const a = JSON.stringify(lens.pairs());
    const b = JSON.stringify(this.lens.pairs());
    if (a !== b) say(`chain length histogram ${b} differs from recount ${a}`);
    return problems;
  }

  /** The chain positions `get(key)` visits, without changing anything. */
  traceGet(key: Key): ChainingTrace {
    return this.trace("get", key);
  }

  /**
   * The chain positions `set(key, value)` would visit, without changing anything. A new key
   * that finds the table at its load limit goes in after `set` doubles the chains: the walk is
   * then the one in the doubled table, and `rebuild` says so.
   */
  tracePut(key: Key, _value: V): ChainingTrace {
    if (this.count < this.growAt || this.bits >= 30 || this.has(key)) return this.trace("put", key);
    const trace = this.trace("put", key, this.bits + 1);
    trace.rebuild = { type: "resize", from_capacity: this.capacity, to_capacity: trace.capacity };
    return trace;
  }

  /**
   * The chain walk of `operation` on `key` in a table of `2 ** bits` chains; changes nothing.
   * With one bit more than the table has, it is the walk after `grow()`: the new chain holds the
   * old one's entries whose hash has the key's next bit, in slab order, as `relink()` links
   * them. That is not always their order in the old chain: a new entry goes at its chain's tail
   * even when it reuses a slab entry freed before the others.
   */
  private trace(operation: "get" | "put", key: Key, bits = this.bits): ChainingTrace {
    const h = hash32(key);
    const bucket = h >>> (32 - bits);
    const chain: number[] = [];
    for (let e = this.heads[h >>> this.shift]!; e !== 0; e = this.link[(e - 1) << 1]!) {
      if (this.link[((e - 1) << 1) + 1]! >>> (32 - bits) === bucket) chain.push(e);
    }
    if (bits !== this.bits) chain.sort((a, b) => a - b);
    const path: ChainingTraceStep[] = [];
    let found = false;
    for (const e of chain) {
      const k = this.keyAt(e - 1)!;
      const matches = k === key;
      path.push({ position: path.length, key_repr: keyRepr(k), matches });
      if (matches) {
        found = true;
        break;
      }
    }
    return {
      schema: "probe_trace.v1",
      backend: "chaining",
      operation,
      key_repr: keyRepr(key),
      hash: h >>> 0,
      capacity: 2 ** bits,
      bucket,
      found,
      terminal: operation === "get" ? (found ? "match" : "miss") : (found ? "update" : "insert"),
      path,
    };
  }

  /** The exact table: entries bucket by bucket, each chain head first. */
  exportState(): ChainingState {
    // Sized once, as RobinHoodMap's: growing by push leaves garbage as large again.
    const keys: Key[] = new Array(this.count);
    const values: unknown[] = new Array(this.count);
    let n = 0;
    for (let b = 0; b < this.heads.length; b++) {
      for (let e = this.heads[b]!; e !== 0; e = this.link[(e - 1) << 1]!) {
        keys[n] = this.keyAt(e - 1)!;
        values[n++] = this.valueAt(e - 1);
      }
    }
    return {
      kind: "chaining",
      bucketCount: this.heads.length,
      maxLoadFactor: this.maxLoadFactor,
      initialBuckets: 1 << this.initialBits,
      keys,
      values,
    };
  }

  /**
   * Rebuilds the exact chains of {@linkcode exportState}, and the chains `clear()` returns to
   * (64 when the state does not give them). Throws RangeError or TypeError for a state no map can
   * have (bad bucket count or initial buckets, lengths differ, more than 16 entries per chain,
   * invalid keys, repeated keys).
   */
  static fromState<V>(state: ChainingState): ChainingMap<V> {
    const cap = state.bucketCount;
    if (!Number.isInteger(cap) || cap < 8 || cap > 2 ** 30 || (cap & (cap - 1)) !== 0) {
      throw new RangeError(`bucketCount must be a power of two in [8, 2^30]: received ${cap}`);
    }
    if (state.keys.length !== state.values.length) {
      throw new RangeError(
        `keys and values differ in length (${state.keys.length}, ${state.values.length})`,
      );
    }
    const n = state.keys.length;
    // A table doubles its chains before it holds more than 16 entries per chain (the highest
    // load factor), so no map has more. Loading one would walk its overlong chains for every
    // entry: 150,000 entries in 8 chains took 7 s, and the time grows with the square.
    if (n > MAX_LOAD_FACTOR * cap && cap < 2 ** 30) {
      throw new RangeError(
        `${n} entries in ${cap} chains: a chaining table doubles its chains before it holds ` +
          `more than ${MAX_LOAD_FACTOR} per chain`,
      );
    }
    const m = ChainingMap.withCapacity<V>(cap, n, { maxLoadFactor: state.maxLoadFactor });
    // Not the constructor's option: it would allocate the initial chains only to drop them.
    const initial = state.initialBuckets === undefined ? DEFAULT_BUCKETS : state.initialBuckets;
    m.initialBits = Math.max(MIN_BITS, log2Ceil(checkSize("initialBuckets", initial)));
    m.growAt = Number.MAX_SAFE_INTEGER; // keep the recorded bucket count while loading
    for (let j = 0; j < n; j++) {
      const k = state.keys[j];
      if (!isKey(k)) {
        throw new TypeError(`entry ${j}: ${badKeyMessage(k)}`);
      }
      const before = m.count;
      m.set(k, state.values[j] as V);
      if (m.count === before) throw new RangeError(`entry ${j}: key ${keyRepr(k)} appears twice`);
    }
    m.growAt = m.thresholdFor(cap);
    return m;
  }
}
