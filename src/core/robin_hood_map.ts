/**
 * Open addressing with linear probing and Robin Hood displacement.
 *
 * Layout: one `Int32Array` of metadata words and two plain arrays for keys and values. A
 * metadata word is `0` for an empty slot, `(distance + 1) << 8 | fingerprint` for an entry
 * (the fingerprint is 7 bits of the hash with the top bit set, so it is never 0), and
 * `(distance + 1) << 8` for a tombstone, which keeps the distance of the entry it replaced.
 * A lookup compares whole words: at probe step `d` only a word equal to
 * `(d + 1) << 8 | fingerprint` can hold the key, and a word below `(d + 1) << 8` (empty, or an
 * entry or tombstone closer to home) proves the key absent.
 *
 * A flat table keeps slot `i`'s key and value at `2 * i` and `2 * i + 1` of one plain array. A
 * paged table (a big migration target, or a table too big for one array) keeps them in a slab:
 * pages of plain arrays, filled in order as entries arrive and reused through a free list, with
 * a second `Int32Array` giving each slot's slab entry. A paged table's heap storage grows with
 * its entries, not its slots, one page at a time.
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
  DeletionStrategy,
  HashMapLike,
  Key,
  MapStats,
  RebuildHook,
  RobinHoodState,
  RobinHoodTrace,
  RobinHoodTraceStep,
} from "./types.ts";

/** Options of {@linkcode RobinHoodMap}. */
export interface RobinHoodOptions {
  /** Slots to start with, rounded up to a power of two (minimum 8). Default 64. */
  initialCapacity?: number | undefined;
  /** Entries plus tombstones per slot that trigger a rebuild, in [0.1, 0.97]. Default 0.85. */
  maxLoadFactor?: number | undefined;
  /** `backshift` (default: no tombstones) or `tombstone`. */
  deletion?: DeletionStrategy | undefined;
}

const MIN_BITS = 3;
const DIST_ONE = 0x100;
/**
 * Slab entries per page: 8,192 keys and values, 16,384 references, 128 KiB, the smallest size
 * V8 allocates as a large object, which a young-generation collection promotes without copying.
 */
const SLAB_BITS = 13;
const SLAB_PAGE = 1 << SLAB_BITS;
const SLAB_MASK = SLAB_PAGE - 1;
/** Entries the first slab page starts with; it doubles up to {@linkcode SLAB_PAGE}. */
const SLAB_FIRST = 16;
/** No entry: the end of the free list. */
const NONE = -1;
/** The entry index of a flat table. */
const NO_ENT = new Int32Array(0);
/**
 * Tables up to this many bits stay flat even as migration targets: allocating a flat 2^17-slot
 * table costs ~1.8 ms once, while a paged table's operations cost ~20% more (each reads its slab
 * entry before the key) until its next rebuild.
 */
const FLAT_MAX_BITS = 17;
/** Tables above this many bits are always paged: V8 arrays hold at most about 2^27 items. */
const FLAT_LIMIT_BITS = 25;
/** Keys read ahead by {@linkcode readAhead}. */
const AHEAD = 32;
/** A running sum of the key lengths {@linkcode readAhead} read: see there. */
let keyLengthsRead = 0;

/**
 * Reads the keys in slots `from` to `from + AHEAD` (at most `cap`) of a table's storage (`kv`,
 * or `ent` and `sp` when paged), before they are hashed, and returns where it stopped. Rebuilds
 * and migrations hash keys in slot order, and each key's string is somewhere else in memory: a
 * cache miss, paid one at a time while the key before it is hashed and placed. Reading a block
 * of lengths first puts the block's misses in flight together. For 1M fresh keys it made a
 * rebuild 2x faster, and a migration to chaining 1.7x faster. The lengths go to a module variable
 * so that no optimiser may drop the reads as unused (V8 15 keeps them either way: same times
 * without it).
 */
function readAhead(
  kv: ReadonlyArray<unknown> | null,
  ent: Int32Array,
  sp: ReadonlyArray<ReadonlyArray<unknown>>,
  from: number,
  cap: number,
): number {
  const to = Math.min(cap, from + AHEAD);
  let lengths = 0;
  for (let j = from; j < to; j++) {
    const k = kv !== null ? kv[j << 1] : slabKey(ent, sp, j);
    if (typeof k === "string") lengths += k.length;
  }
  keyLengthsRead = (keyLengthsRead + lengths) | 0; // an int32: it never grows a heap number
  return to;
}

/** The key of slot `j` of a paged table (`undefined` for a slot without an entry). */
function slabKey(ent: Int32Array, sp: ReadonlyArray<ReadonlyArray<unknown>>, j: number): unknown {
  const e = ent[j]! - 1;
  return e < 0 ? undefined : sp[e >>> SLAB_BITS]![(e & SLAB_MASK) << 1];
}

function checkLoadFactor(lf: number): number {
  if (typeof lf !== "number" || !(lf >= 0.1 && lf <= 0.97)) {
    throw new RangeError(
      `maxLoadFactor must be a number in [0.1, 0.97]: received ${showValue(lf)}`,
    );
  }
  return lf;
}

/** Slots of a table made without `initialCapacity`. */
const DEFAULT_CAPACITY = 64;

/** The largest table: indexes stay positive 32-bit integers. */
const MAX_BITS = 30;

/**
 * A Robin Hood hash map with `Map`'s interface. Iteration follows slot order.
 *
 * @example
 * ```ts
 * import { RobinHoodMap } from "./robin_hood_map.ts";
 * const m = new RobinHoodMap<number>();
 * m.set("a", 1).set("b", 2);
 * m.delete("a");
 * console.assert(m.get("b") === 2 && m.size === 1);
 * ```
 */
export class RobinHoodMap<V> implements HashMapLike<V> {
  /** Makes `structuredClone` refuse the map (see {@linkcode copyWithNewMapOrASnapshot}). */
  private readonly noClone = copyWithNewMapOrASnapshot;
  /** How entries are removed. */
  readonly deletion: DeletionStrategy;
  /** Entries plus tombstones per slot that trigger a rebuild. */
  readonly maxLoadFactor: number;
  /** Called after every rebuild; used by {@linkcode AdaptiveMap} to report events. */
  onRebuild: RebuildHook | undefined = undefined;

  private meta: Int32Array;
  /**
   * Flat storage when not null: slot `i` keeps its key at `2 * i` and its value at `2 * i + 1`,
   * on one cache line, so a hit costs one miss. Flat is the fastest layout; a slab is used only
   * by a big table built as a migration target (where one big allocation would stall an
   * operation, and a young-generation collection would then scan every slot of it) or too big
   * for one array, and lasts until the table's next rebuild.
   */
  private kv: Array<Key | V | undefined> | null = null;
  /** A paged table's slab entry of each slot, plus one (0: none). */
  private ent: Int32Array = NO_ENT;
  /**
   * A paged table's slab: entry `e` keeps its key at `2 * (e & SLAB_MASK)` of page
   * `e >>> SLAB_BITS` and its value just after. A free entry's key is the next free entry (or
   * NONE) and its value `undefined`.
   */
  private sp: Array<Array<Key | V | number | undefined>> = [];
  /** Entries the slab pages hold. */
  private room = 0;
  /** Slab entries ever handed out: those at and above it have never been used. */
  private top = 0;
  /** First free slab entry below `top`, or NONE. */
  private free = NONE;
  /**
   * The table this one shares its slab with while an {@linkcode AdaptiveMap} moves entries
   * between two paged tables by number ({@linkcode withSlabOf}), else null.
   */
  private partner: RobinHoodMap<V> | null = null;
  /** Set while an {@linkcode AdaptiveMap} drains this table: deletions leave tombstones. */
  private draining = false;
  private bits: number;
  private shift: number;
  private mask: number;
  private count = 0;
  private tombs = 0;
  private growAt: number;
  private sumDist = 0;
  private hist = new Histogram();
  private version = 0;
  /** Not readonly: {@linkcode fromState} restores it. */
  private initialBits: number;

  /** An empty table; throws RangeError for options out of range. */
  constructor(options: RobinHoodOptions = {}) {
    checkOptionFields("RobinHoodMap", options, ["initialCapacity", "maxLoadFactor", "deletion"]);
    // `=== undefined`, not `??`: a null is a bad value to report, not a default.
    this.deletion = options.deletion === undefined ? "backshift" : options.deletion;
    if (this.deletion !== "backshift" && this.deletion !== "tombstone") {
      throw new RangeError(
        `deletion must be "backshift" or "tombstone": received ${showValue(this.deletion)}`,
      );
    }
    this.maxLoadFactor = checkLoadFactor(
      options.maxLoadFactor === undefined ? 0.85 : options.maxLoadFactor,
    );
    const initial = options.initialCapacity === undefined
      ? DEFAULT_CAPACITY
      : options.initialCapacity;
    if (typeof initial !== "number" || !(initial >= 1 && initial <= 2 ** 30)) {
      throw new RangeError(
        `initialCapacity must be a number in [1, 2^30]: received ${showValue(initial)}`,
      );
    }
    this.initialBits = Math.max(MIN_BITS, log2Ceil(initial));
    this.bits = this.initialBits;
    this.shift = 32 - this.bits;
    this.mask = (1 << this.bits) - 1;
    this.meta = new Int32Array(0);
    this.growAt = 0;
    this.allocate(this.bits);
  }

  /** Points the table at fresh, empty storage of `2 ** bits` slots. */
  private allocate(bits: number, paged = false): void {
    const cap = 1 << bits;
    // Allocated before any field changes: a failed allocation (a rebuild's new table) leaves
    // the map as it was.
    const meta = new Int32Array(cap); // zeroed pages from the OS: cheap at any size
    const slab = paged || bits > FLAT_LIMIT_BITS;
    const ent = slab ? new Int32Array(cap) : NO_ENT;
    const kv = slab ? null : undefinedSlots<Key | V>(2 * cap);
    this.bits = bits;
    this.shift = 32 - bits;
    this.mask = cap - 1;
    this.meta = meta;
    this.kv = kv;
    this.ent = ent;
    this.sp = [];
    this.room = 0;
    this.top = 0;
    this.free = NONE;
    this.growAt = this.thresholdFor(cap);
  }

  /**
   * An empty table of `capacity` slots (rounded up to a power of two). With `paged`, tables
   * above 2^17 slots keep keys and values in a slab that grows as entries arrive, so creating
   * one costs well under a millisecond at any size. Throws TypeError or RangeError for a
   * capacity that is not a number in [1, 2^30].
   */
  static withCapacity<V>(
    capacity: number,
    options: RobinHoodOptions = {},
    paged = false,
  ): RobinHoodMap<V> {
    checkSize("RobinHoodMap.withCapacity(): capacity", capacity);
    const m = new RobinHoodMap<V>({ ...options, initialCapacity: 8 });
    const bits = Math.max(MIN_BITS, log2Ceil(capacity));
    m.allocate(bits, paged && bits > FLAT_MAX_BITS);
    return m;
  }

  /**
   * An empty paged table of `capacity` slots that takes over the slab of `source`, a paged
   * table, for a migration that moves `source`'s entries by number
   * ({@linkcode drainEntriesInto}): their keys and values stay where they are, so the migration
   * allocates no heap storage and the slab keeps the order the entries arrived in. `source` then
   * takes no insertions. The two share the slab until `source` has drained and
   * {@linkcode endSharing} gives what it freed to the new table. Used by {@linkcode AdaptiveMap};
   * throws RangeError when `source` is not paged or shares its slab already, and TypeError or
   * RangeError for a capacity that is not a number in [1, 2^30].
   */
  static withSlabOf<V>(
    capacity: number,
    options: RobinHoodOptions,
    source: RobinHoodMap<V>,
  ): RobinHoodMap<V> {
    checkSize("RobinHoodMap.withSlabOf(): capacity", capacity);
    if (source.kv !== null || source.partner !== null) {
      throw new RangeError("withSlabOf() needs a paged table that shares its slab with no other");
    }
    const m = new RobinHoodMap<V>({ ...options, initialCapacity: 8 });
    m.allocate(Math.max(MIN_BITS, log2Ceil(capacity)), true);
    m.sp = source.sp;
    m.room = source.room;
    m.top = source.top;
    m.free = source.free;
    source.free = NONE;
    m.partner = source;
    source.partner = m;
    source.draining = true; // it takes no insertions now, and its deletions leave tombstones
    return m;
  }

  /** Whether keys and values are in a slab (see the module's documentation), not flat. */
  get paged(): boolean {
    return this.kv === null;
  }

  /**
   * Stops sharing the slab with the table made by or from {@linkcode withSlabOf}, which keeps
   * it; what this table freed goes on that table's free list. Used by {@linkcode AdaptiveMap}
   * when the source of a migration has drained; throws RangeError while this table has entries.
   */
  endSharing(): void {
    if (this.count > 0) {
      throw new RangeError(
        `endSharing() gives the slab away: the table must be drained first (${this.count} entries)`,
      );
    }
    // A drained table's index holds tombstones only: not scanned (2^20 slots took ~1 ms).
    this.handBack(NO_ENT, this.ent, this.free, this.top, this.room);
  }

  /**
   * Gives the shared slab to {@linkcode partner}: the entries this table used (the live ones of
   * `meta` and `ent`) and freed (from `free`), with its `top` and `room`, which may be the
   * table's before a rebuild or a clear. No table holds those entries any more, so they go on
   * the partner's free list.
   */
  private handBack(
    meta: Int32Array,
    ent: Int32Array,
    free: number,
    top: number,
    room: number,
  ): void {
    const p = this.partner;
    if (p === null) return;
    for (let e = free; e !== NONE;) {
      const next = p.sp[e >>> SLAB_BITS]![(e & SLAB_MASK) << 1] as number;
      p.pushFree(e);
      e = next;
    }
    for (let i = 0; i < meta.length; i++) if ((meta[i]! & 0xff) !== 0) p.pushFree(ent[i]! - 1);
    // The slab's pages are one array for both tables: the one that took entries grew it.
    p.top = Math.max(p.top, top);
    p.room = Math.max(p.room, room);
    p.partner = null;
    this.partner = null;
  }

  /** A slab entry holding `k` and `v`: the last one freed, else the next never used. */
  private alloc(k: Key, v: V): number {
    let e = this.free;
    if (e !== NONE) {
      this.free = this.sp[e >>> SLAB_BITS]![(e & SLAB_MASK) << 1] as number;
    } else {
      if (this.top === this.room) this.addRoom();
      e = this.top++;
    }
    const page = this.sp[e >>> SLAB_BITS]!;
    const o = (e & SLAB_MASK) << 1;
    page[o] = k;
    page[o + 1] = v;
    return e;
  }

  /** Doubles the first slab page up to SLAB_PAGE entries, then adds whole pages. */
  private addRoom(): void {
    if (this.room < SLAB_PAGE) {
      const n = Math.min(SLAB_PAGE, Math.max(SLAB_FIRST, 2 * this.room));
      this.sp[0] = extended(this.sp[0], 2 * n);
      this.room = n;
      return;
    }
    this.sp.push(undefinedSlots<Key | V | number>(2 * SLAB_PAGE));
    this.room += SLAB_PAGE;
  }

  /** Frees slot `i`'s slab entry, if it has one, dropping its key and value. */
  private release(i: number): void {
    const e = this.ent[i]! - 1;
    if (e < 0) return;
    this.ent[i] = 0;
    this.pushFree(e);
  }

  /** Puts slab entry `e` on the free list, dropping its key and value. */
  private pushFree(e: number): void {
    const page = this.sp[e >>> SLAB_BITS]!;
    const o = (e & SLAB_MASK) << 1;
    page[o] = this.free;
    page[o + 1] = undefined;
    this.free = e;
  }

  /**
   * Writes slot `i`'s key and value (into its slab entry, taking one if it has none): for `set`
   * reusing a tombstone and for `fromState`. The hot paths write a flat table's array themselves
   * and use the helpers (this, `putValue`, `keyAt`, `valueAt`) for paged tables only: V8 did not
   * inline them there, which cost ~10% on updates and ~15% on delete + re-insert.
   */
  private put(i: number, k: Key, v: V): void {
    const kv = this.kv;
    if (kv !== null) {
      kv[i << 1] = k;
      kv[(i << 1) + 1] = v;
      return;
    }
    const e = this.ent[i]! - 1;
    if (e < 0) {
      this.ent[i] = this.alloc(k, v) + 1;
      return;
    }
    const page = this.sp[e >>> SLAB_BITS]!;
    const o = (e & SLAB_MASK) << 1;
    page[o] = k;
    page[o + 1] = v;
  }

  /** Writes slot `i`'s value (the slot is live). */
  private putValue(i: number, v: V): void {
    const kv = this.kv;
    if (kv !== null) kv[(i << 1) + 1] = v;
    else {
      const e = this.ent[i]! - 1;
      this.sp[e >>> SLAB_BITS]![((e & SLAB_MASK) << 1) + 1] = v;
    }
  }

  /** The key in slot `i` (undefined when empty). */
  private keyAt(i: number): Key {
    const kv = this.kv;
    return (kv !== null ? kv[i << 1] : slabKey(this.ent, this.sp, i)) as Key;
  }

  /** The value in live slot `i`. */
  private valueAt(i: number): V {
    const kv = this.kv;
    if (kv !== null) return kv[(i << 1) + 1] as V;
    const e = this.ent[i]! - 1;
    return this.sp[e >>> SLAB_BITS]![((e & SLAB_MASK) << 1) + 1] as V;
  }

  /** Live entries. */
  get size(): number {
    return this.count;
  }

  /** Always `"robinhood"`. */
  get backend(): "robinhood" {
    return "robinhood";
  }

  /** Slots in the table. */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Mean probe distance of live entries. */
  get avgProbe(): number {
    return this.count === 0 ? 0 : this.sumDist / this.count;
  }

  /** Tombstones in the table (always 0 with backshift deletion). */
  get tombstones(): number {
    return this.tombs;
  }

  /** Entries plus tombstones that trigger a rebuild of a table of `cap` slots. */
  private thresholdFor(cap: number): number {
    return Math.max(1, Math.min(cap - 1, Math.floor(cap * this.maxLoadFactor)));
  }

  /** Slot holding `key`, or -1. */
  private find(key: Key): number {
    const h = hash32(key);
    const meta = this.meta;
    const kv = this.kv;
    const mask = this.mask;
    let i = h >>> this.shift;
    let want = DIST_ONE | (h & 0x7f) | 0x80;
    for (;;) {
      const m = meta[i]!;
      if (m === want) {
        if ((kv !== null ? kv[i << 1] : this.keyAt(i)) === key) return i;
      } else if (m < (want & ~0xff)) return -1;
      i = (i + 1) & mask;
      want += DIST_ONE;
    }
  }

  /** The value stored under `key`, or `undefined`. */
  get(key: Key): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.valueAt(i);
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

  /** `"RobinHoodMap"`, for `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return "RobinHoodMap";
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
    return denoInspect("RobinHoodMap", this, inspect, options);
  }

  /** Node's `util.inspect` shows the entries, as for a `Map`. */
  [NODE_INSPECT](
    depth: number,
    options: unknown,
    inspect: (value: unknown, options?: unknown) => string,
  ): string {
    return nodeInspect("RobinHoodMap", this, depth, options, inspect);
  }

  /** Replaces the value of `key` if present; returns whether it was. */
  update(key: Key, value: V): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.putValue(i, value);
    return true;
  }

  /** Stores `value` under `key`. Throws TypeError for keys that are not strings or numbers, or NaN. */
  set(key: Key, value: V): this {
    if (typeof key !== "string") key = numberKey(key);
    const h = hash32(key);
    const meta = this.meta;
    const kv = this.kv;
    const mask = this.mask;
    const fp = (h & 0x7f) | 0x80;
    let i = h >>> this.shift;
    let base = DIST_ONE;
    let reuse = -1;
    for (;;) {
      const m = meta[i]!;
      if (m === (base | fp)) {
        if (kv !== null) {
          if (kv[i << 1] === key) {
            kv[(i << 1) + 1] = value;
            return this;
          }
        } else if (this.keyAt(i) === key) {
          this.putValue(i, value);
          return this;
        }
      } else if (m < base) break;
      else if (m === base && reuse < 0) reuse = i; // a tombstone exactly as far from home
      i = (i + 1) & mask;
      base += DIST_ONE;
    }
    if (this.count + this.tombs >= this.growAt) {
      this.rebuildForInsert();
      return this.set(key, value);
    }
    if (reuse >= 0) {
      const d = (reuse - (h >>> this.shift)) & mask;
      meta[reuse] = ((d + 1) << 8) | fp;
      this.put(reuse, key, value);
      this.tombs--;
      this.count++;
      this.version++;
      this.hist.add(d);
      this.sumDist += d;
      return this;
    }
    this.place(i, (base >> 8) - 1, fp, key, value);
    return this;
  }

  /**
   * Stores an entry whose key is known to be absent and whose hash is `h` (the bits of
   * `hashKey()`, signed or not), as when a migration moves it here from another table:
   * no hashing, no key comparisons. A key already present would be stored twice.
   */
  insertAbsent(key: Key, value: V, h: number): void {
    const meta = this.meta;
    const mask = this.mask;
    let i = h >>> this.shift;
    let base = DIST_ONE;
    while (meta[i]! >= base) {
      i = (i + 1) & mask;
      base += DIST_ONE;
    }
    if (this.count + this.tombs >= this.growAt) {
      this.rebuildForInsert();
      this.insertAbsent(key, value, h);
      return;
    }
    this.place(i, (base >> 8) - 1, (h & 0x7f) | 0x80, key, value);
  }

  /** Puts an entry known to be absent at slot `i`, `dist` from its home, displacing as needed. */
  private place(i: number, dist: number, fp: number, key: Key, value: V): void {
    const kv = this.kv;
    if (kv === null) {
      this.placeEntry(i, dist, fp, this.alloc(key, value) + 1);
      return;
    }
    const meta = this.meta;
    const mask = this.mask;
    const hist = this.hist;
    this.count++;
    this.version++;
    let k = key;
    let v = value;
    for (;;) {
      const m = meta[i]!;
      if (m === 0) break;
      const md = (m >> 8) - 1;
      if ((m & 0xff) === 0) {
        if (md <= dist) {
          this.tombs--;
          break;
        }
      } else if (md < dist) {
        meta[i] = ((dist + 1) << 8) | fp;
        const p = i << 1;
        const k2 = kv[p] as Key;
        const v2 = kv[p + 1] as V;
        kv[p] = k;
        kv[p + 1] = v;
        hist.add(dist);
        hist.remove(md);
        this.sumDist += dist - md;
        k = k2;
        v = v2;
        fp = m & 0xff;
        dist = md;
      }
      i = (i + 1) & mask;
      dist++;
    }
    meta[i] = ((dist + 1) << 8) | fp;
    kv[i << 1] = k;
    kv[(i << 1) + 1] = v;
    hist.add(dist);
    this.sumDist += dist;
  }

  /**
   * `place` in a paged table, for slab entry `e1` (the entry plus one): the same walk, but a
   * displacement moves entry numbers, not keys and values. Apart from `place` so that a flat
   * table's loop, the hot one, carries no branch on the layout. Moving keys and values through
   * `put` instead, a default `AdaptiveMap` took 1.24-1.29 s to fill 2M keys, against 0.87-0.98 s.
   */
  private placeEntry(i: number, dist: number, fp: number, e1: number): void {
    const meta = this.meta;
    const ent = this.ent;
    const mask = this.mask;
    const hist = this.hist;
    this.count++;
    this.version++;
    for (;;) {
      const m = meta[i]!;
      if (m === 0) break;
      const md = (m >> 8) - 1;
      if ((m & 0xff) === 0) {
        if (md <= dist) {
          this.tombs--;
          break;
        }
      } else if (md < dist) {
        meta[i] = ((dist + 1) << 8) | fp;
        const e2 = ent[i]!;
        ent[i] = e1;
        hist.add(dist);
        hist.remove(md);
        this.sumDist += dist - md;
        e1 = e2;
        fp = m & 0xff;
        dist = md;
      }
      i = (i + 1) & mask;
      dist++;
    }
    meta[i] = ((dist + 1) << 8) | fp;
    ent[i] = e1;
    hist.add(dist);
    this.sumDist += dist;
  }

  /** Out of line so the growth path does not deoptimise `set`. */
  private rebuildForInsert(): void {
    const cap = this.mask + 1;
    if (this.count + 1 > this.growAt >> 1) {
      this.rebuild(
        cap * 2,
        "resize",
        // The load the insert would make: the one before it is still under the limit.
        `load ${((this.count + this.tombs + 1) / cap).toFixed(4)} > ${this.maxLoadFactor}`,
      );
    } else {
      this.rebuild(cap, "compaction", `tombstones fill the table (${this.tombs} of ${cap} slots)`);
    }
  }

  /** Rebuilds into `newCap` slots (a power of two), dropping tombstones. */
  private rebuild(newCap: number, type: "resize" | "compaction", reason: string): void {
    const oldMeta = this.meta;
    const oldKv = this.kv;
    const oldEnt = this.ent;
    const oldSp = this.sp;
    const [oldFree, oldTop, oldRoom] = [this.free, this.top, this.room];
    const oldCap = oldMeta.length;
    if (newCap > 2 ** MAX_BITS) {
      throw new RangeError(
        `RobinHoodMap cannot grow beyond 2^${MAX_BITS} slots (${this.count} entries)`,
      );
    }
    this.allocate(log2Ceil(newCap));
    this.count = 0;
    this.tombs = 0;
    this.sumDist = 0;
    this.hist.reset();
    // From an empty slot round the table: each cluster is then re-inserted in its own order,
    // and its entries that wrapped past the end do not go in before those they follow. So a
    // table without tombstones rebuilt at its own size is unchanged, and `compact()` gives
    // the same table (and snapshot) however often it runs. (A table always has an empty slot;
    // the bound is for safety.)
    const oldMask = oldCap - 1;
    let start = 0;
    while (start < oldMask && oldMeta[start] !== 0) start++;
    for (let n = 0, ahead = 0; n < oldCap; n++) {
      const j = (start + n) & oldMask;
      if (n === ahead) ahead = n + readAhead(oldKv, oldEnt, oldSp, j, oldCap) - j;
      if ((oldMeta[j]! & 0xff) === 0) continue;
      let k: Key;
      let v: V;
      if (oldKv !== null) {
        k = oldKv[j << 1] as Key;
        v = oldKv[(j << 1) + 1] as V;
      } else {
        const e = oldEnt[j]! - 1;
        const page = oldSp[e >>> SLAB_BITS]!;
        k = page[(e & SLAB_MASK) << 1] as Key;
        v = page[((e & SLAB_MASK) << 1) + 1] as V;
      }
      const h = hash32(k);
      this.place(h >>> this.shift, 0, (h & 0x7f) | 0x80, k, v);
    }
    // The entries were copied out of a shared slab: it is the other table's now.
    this.handBack(oldMeta, oldEnt, oldFree, oldTop, oldRoom);
    this.onRebuild?.(type, oldCap, newCap, reason);
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: Key): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    this.removeAt(i);
    return true;
  }

  /** Empties slot `i`: a tombstone, or a backward shift of the entries after it. */
  private removeAt(i: number): void {
    const meta = this.meta;
    const d = (meta[i]! >> 8) - 1;
    // Removal never grows the histogram, so its array can be held and written directly.
    const counts = this.hist.counts;
    counts[d]!--;
    this.count--;
    this.version++;
    if (this.deletion === "tombstone" || this.draining) {
      this.sumDist -= d;
      meta[i] = (d + 1) << 8;
      const kv = this.kv;
      if (kv === null) this.release(i);
      else {
        kv[i << 1] = undefined;
        kv[(i << 1) + 1] = undefined;
      }
      this.tombs++;
      return;
    }
    const mask = this.mask;
    const kv = this.kv;
    const ent = this.ent;
    if (kv === null) this.release(i);
    let distGone = d; // each entry shifted back comes one step closer to home
    let j = (i + 1) & mask;
    for (;;) {
      const m = meta[j]!;
      if (m < 2 * DIST_ONE) break; // empty, or an entry already at home
      meta[i] = m - DIST_ONE;
      if (kv !== null) {
        kv[i << 1] = kv[j << 1];
        kv[(i << 1) + 1] = kv[(j << 1) + 1];
      } else ent[i] = ent[j]!;
      const md = (m >> 8) - 1;
      counts[md]!--;
      counts[md - 1]!++;
      distGone++;
      i = j;
      j = (j + 1) & mask;
    }
    this.sumDist -= distGone;
    meta[i] = 0;
    if (kv !== null) {
      kv[i << 1] = undefined;
      kv[(i << 1) + 1] = undefined;
    } else ent[i] = 0;
  }

  /**
   * Moves up to `max` entries, from slot `cursor` on, out of this table into `sink`; returns
   * the cursor to continue from (`>= capacity` when the table is empty). From the first call
   * on, deletions leave tombstones (a backward shift per removal would make draining a
   * cluster quadratic), so no entry ever moves behind the cursor.
   * Used by {@linkcode AdaptiveMap} to migrate incrementally; the table takes no insertions
   * while it drains.
   */
  drain(cursor: number, max: number, sink: (key: Key, value: V, hash: number) => void): number {
    this.draining = true;
    const meta = this.meta;
    const cap = this.mask + 1;
    // Budget: a moved entry costs 16, an empty slot or tombstone 1.
    const limit = 16 * max;
    let work = 0;
    let i = cursor;
    let ahead = i;
    while (i < cap && work < limit) {
      if (i === ahead) ahead = readAhead(this.kv, this.ent, this.sp, i, cap);
      if ((meta[i]! & 0xff) === 0) {
        i++;
        work++;
        continue;
      }
      const k = this.keyAt(i);
      sink(k, this.valueAt(i), hash32(k));
      this.removeAt(i);
      i++;
      work += 16;
    }
    return i;
  }

  /**
   * As {@linkcode drain}, into `target`, made by {@linkcode withSlabOf} from this table: an
   * entry moves by its number, its key and value staying in the slab. Should `target` rebuild
   * itself meanwhile (which copies its entries out of the slab), the rest move as `drain` moves
   * them.
   */
  drainEntriesInto(cursor: number, max: number, target: RobinHoodMap<V>): number {
    if (target.partner !== this) {
      return this.drain(cursor, max, (k, v, h) => target.insertAbsent(k, v, h));
    }
    this.draining = true;
    const meta = this.meta;
    const ent = this.ent;
    const sp = this.sp;
    const counts = this.hist.counts;
    const cap = this.mask + 1;
    // Budget: a moved entry costs 16, an empty slot or tombstone 1.
    const limit = 16 * max;
    let work = 0;
    let i = cursor;
    let ahead = i;
    while (i < cap && work < limit) {
      if (i === ahead) ahead = readAhead(null, ent, sp, i, cap);
      const m = meta[i]!;
      if ((m & 0xff) === 0) {
        i++;
        work++;
        continue;
      }
      const e = ent[i]! - 1;
      const page = sp[e >>> SLAB_BITS]!;
      const o = (e & SLAB_MASK) << 1;
      if (!target.insertEntry(e + 1, hash32(page[o] as Key))) {
        // The target rebuilt itself and copied this entry: it shares the slab no more, so the
        // rest move as `drain` moves them, from the next step on.
        this.removeAt(i);
        return i + 1;
      }
      // A tombstone, as `removeAt` leaves while draining; the entry is the target's now.
      const d = (m >> 8) - 1;
      counts[d]!--;
      this.sumDist -= d;
      this.count--;
      this.version++;
      meta[i] = (d + 1) << 8;
      ent[i] = 0;
      this.tombs++;
      i++;
      work += 16;
    }
    return i;
  }

  /**
   * Inserts the entry numbered `e1 - 1` of the slab shared with the table draining into this
   * one, whose key is absent and hashes to `h`; returns true. If this table must rebuild first,
   * the rebuild ends the sharing: the key and value are then copied in, and it returns false.
   */
  private insertEntry(e1: number, h: number): boolean {
    const meta = this.meta;
    const mask = this.mask;
    let i = h >>> this.shift;
    let base = DIST_ONE;
    while (meta[i]! >= base) {
      i = (i + 1) & mask;
      base += DIST_ONE;
    }
    if (this.count + this.tombs >= this.growAt) {
      const sp = this.sp;
      this.rebuildForInsert();
      const e = e1 - 1;
      const page = sp[e >>> SLAB_BITS]!;
      const o = (e & SLAB_MASK) << 1;
      this.insertAbsent(page[o] as Key, page[o + 1] as V, h);
      return false;
    }
    this.placeEntry(i, (base >> 8) - 1, (h & 0x7f) | 0x80, e1);
    return true;
  }

  /** Removes every entry and returns to the initial capacity. */
  clear(): void {
    this.handBack(this.meta, this.ent, this.free, this.top, this.room); // if sharing a slab
    this.allocate(this.initialBits);
    this.draining = false;
    this.count = 0;
    this.tombs = 0;
    this.sumDist = 0;
    this.hist.reset();
    this.version++;
  }

  /** Rebuilds the table without tombstones, shrinking it if the entries fit in fewer slots. */
  compact(): void {
    const cap = this.mask + 1;
    let fit = 1 << MIN_BITS;
    while (this.thresholdFor(fit) <= this.count * 1.25 + 1) fit *= 2;
    const to = Math.min(cap, Math.max(fit, 1 << this.initialBits));
    this.rebuild(
      to,
      "compaction",
      `compact(): ${this.tombs} tombstones, ${this.count} entries in ${cap} slots`,
    );
  }

  /** Occupied slots in order; throws if the map changes while iterating. */
  private *slots(): Generator<number, void, undefined> {
    const v = this.version;
    const meta = this.meta;
    for (let i = 0; i < meta.length; i++) {
      if (this.version !== v) throw modifiedDuringIteration();
      if ((meta[i]! & 0xff) !== 0) yield i;
    }
    if (this.version !== v) throw modifiedDuringIteration();
  }

  /** Keys in slot order. */
  keys(): MapIterator<Key> {
    return mapIterator(this.slots(), (i) => this.keyAt(i));
  }

  /** Values in slot order. */
  values(): MapIterator<V> {
    return mapIterator(this.slots(), (i) => this.valueAt(i));
  }

  /** `[key, value]` pairs in slot order. */
  entries(): MapIterator<[Key, V]> {
    return mapIterator(this.slots(), (i): [Key, V] => [this.keyAt(i), this.valueAt(i)]);
  }

  /** Same as {@linkcode entries}. */
  [Symbol.iterator](): MapIterator<[Key, V]> {
    return this.entries();
  }

  /** Calls `callback(value, key, map)` for each entry in slot order. */
  forEach(callback: (value: V, key: Key, map: this) => void, thisArg?: unknown): void {
    checkCallback("forEach", callback);
    for (const i of this.slots()) callback.call(thisArg, this.valueAt(i), this.keyAt(i), this);
  }

  /** Statistics from counters maintained by every write. */
  stats(): MapStats {
    const cap = this.mask + 1;
    return {
      backend: "robinhood",
      size: this.count,
      capacity: cap,
      loadFactor: this.count / cap,
      maxGroupLen: this.count === 0 ? 0 : this.hist.top(),
      avgProbeDistance: this.count === 0 ? 0 : this.sumDist / this.count,
      tombstones: this.tombs,
      tombstoneRatio: this.tombs / cap,
      probeHistogram: this.hist.pairs(),
      bytesEstimate: (this.kv !== null
        ? cap * (4 + 2 * REF_BYTES)
        // A draining table sharing its slab has given it to the new table, which counts it.
        : cap * 8 + (this.partner !== null && this.draining ? 0 : this.room * 2 * REF_BYTES)) +
        this.hist.counts.byteLength + 160,
    };
  }

  /** Live entries in each of `cells` equal slices of the table (a full scan). */
  occupancy(cells: number): number[] {
    const meta = this.meta;
    const cap = meta.length;
    const n = Math.max(1, Math.min(cells, cap));
    const out = new Array<number>(n).fill(0);
    // Slice c holds slots c * cap / n <= i < (c + 1) * cap / n. Counted slice by slice, without
    // a division or a branch per slot: the replay rescans a 2^17-slot table in ~0.1 ms, not 0.6.
    let i = 0;
    for (let c = 0; c < n; c++) {
      const end = Math.ceil(((c + 1) * cap) / n);
      let live = 0;
      for (; i < end; i++) live += ((meta[i]! & 0xff) + 0xff) >> 8; // 1 for an entry, else 0
      out[c] = live;
    }
    return out;
  }

  /** A full check of the table; returns what is wrong (empty when sound). */
  checkInvariants(): string[] {
    const problems: string[] = [];
    const say = (s: string) => {
      if (problems.length < 50) problems.push(s);
    };
    const meta = this.meta;
    const cap = meta.length;
    const arrays = this.kv !== null ? this.kv.length === 2 * cap : this.ent.length === cap;
    if (!arrays) {
      say(`key/value arrays do not match ${cap} slots`);
    }
    // A paged table's slab: each entry below `top` is used by one slot or free, once (in either
    // table, when two share it).
    const partner = this.partner;
    const top = Math.max(this.top, partner?.top ?? 0);
    const used = new Uint8Array(top);
    let freeCount = 0;
    let partnerLive = 0;
    if (this.kv === null) {
      const room = this.sp.reduce((n, page) => n + page.length / 2, 0);
      if (room !== Math.max(this.room, partner?.room ?? 0)) {
        say(`slab pages hold ${room} entries, not ${this.room}`);
      }
      for (const t of partner === null ? [this] : [this, partner]) {
        for (let e = t.free; e !== NONE; freeCount++) {
          if (!(e >= 0 && e < top) || used[e] !== 0) {
            say(`slab free list reaches entry ${e}: out of range or already seen`);
            break;
          }
          used[e] = 1;
          e = this.sp[e >>> SLAB_BITS]![(e & SLAB_MASK) << 1] as number;
        }
      }
      if (partner !== null) {
        if (partner.sp !== this.sp) say(`the table sharing the slab has other pages`);
        for (let i = 0; i < partner.meta.length; i++) {
          if ((partner.meta[i]! & 0xff) === 0) continue;
          const e = partner.ent[i]! - 1;
          if (!(e >= 0 && e < top) || used[e] !== 0) {
            say(
              `slab entry ${e} of the table sharing the slab is out of range, free or used twice`,
            );
          } else used[e] = 1;
          partnerLive++;
        }
      }
    }
    let live = 0;
    let tombs = 0;
    let sum = 0;
    const hist = new Histogram();
    // The keys of one home lie together (Robin Hood order, checked below), so a repeated key lies
    // among its home's: a set of those keys finds it. A find() per entry walked whole clusters,
    // in time that grew with their square (65,535 keys of one home: 14 s). From after an empty
    // slot, so no cluster is split by the end of the table.
    const start = (meta.indexOf(0) + 1) & this.mask;
    const group = new Set<Key>();
    let groupHome = -1;
    for (let s = 0; s < cap; s++) {
      const i = (start + s) & this.mask;
      const m = meta[i]!;
      if (m === 0) continue;
      const d = (m >> 8) - 1;
      if (d < 0 || d >= cap) {
        say(`slot ${i}: impossible probe distance ${d}`);
        continue;
      }
      if (d > 0) {
        const p = meta[(i - 1) & this.mask]!;
        if (p === 0) say(`slot ${i}: distance ${d} after an empty slot`);
        else if ((p >> 8) - 1 < d - 1) {
          say(
            `slot ${i}: distance ${d} follows distance ${(p >> 8) - 1} (Robin Hood order broken)`,
          );
        }
      }
      if ((m & 0xff) === 0) {
        tombs++;
        if (this.deletion !== "tombstone" && !this.draining) {
          say(`slot ${i}: tombstone in a backshift table`);
        }
        continue;
      }
      live++;
      if (this.kv === null) {
        const e = this.ent[i]! - 1;
        if (!(e >= 0 && e < top) || used[e] !== 0) {
          say(`slot ${i}: slab entry ${e} is out of range, free or another slot's`);
          continue;
        }
        used[e] = 1;
      }
      const k: unknown = this.keyAt(i);
      if (!isKey(k)) {
        say(`slot ${i}: invalid key ${String(k)}`);
        continue;
      }
      const h = hash32(k);
      if (((h & 0x7f) | 0x80) !== (m & 0xff)) {
        say(`slot ${i}: fingerprint does not match key ${keyRepr(k)}`);
      }
      const home = indexFor(h, this.bits);
      if (((i - home) & this.mask) !== d) {
        say(`slot ${i}: key ${keyRepr(k)} records distance ${d}, actual ${(i - home) & this.mask}`);
      }
      if (home !== groupHome) {
        groupHome = home;
        group.clear();
      }
      if (group.has(k)) say(`slot ${i}: key ${keyRepr(k)} is stored twice`);
      group.add(k);
      hist.add(d);
      sum += d;
    }
    if (live !== this.count) say(`size is ${this.count} but ${live} slots are live`);
    if (this.kv === null && live + partnerLive + freeCount !== top) {
      say(`slab: ${live + partnerLive} entries used and ${freeCount} free, but ${top} handed out`);
    }
    if (tombs !== this.tombs) {
      say(`tombstone count is ${this.tombs} but ${tombs} slots hold tombstones`);
    }
    if (sum !== this.sumDist) say(`probe distance sum is ${this.sumDist}, recount ${sum}`);
    if (live + tombs >= cap && cap > 0) say(`table has no empty slot`);
    const a = JSON.stringify(hist.pairs());
    const b = JSON.stringify(this.hist.pairs());
    if (a !== b) say(`probe histogram ${b} differs from recount ${a}`);
    return problems;
  }

  /** The probe path `get(key)` takes, without changing anything. */
  traceGet(key: Key): RobinHoodTrace {
    return this.trace("get", key);
  }

  /**
   * The probe path `set(key, value)` would take, without changing anything. A new key that
   * finds the table at its limit is placed after `set` rebuilds it: the path is then traced in
   * a rebuilt copy, and `rebuild` says so.
   */
  tracePut(key: Key, _value: V): RobinHoodTrace {
    if (this.count + this.tombs < this.growAt || this.find(key) >= 0) return this.trace("put", key);
    const copy = RobinHoodMap.fromState<V>(this.exportState());
    copy.rebuildForInsert();
    const trace = copy.trace("put", key);
    trace.rebuild = {
      type: copy.capacity > this.capacity ? "resize" : "compaction",
      from_capacity: this.capacity,
      to_capacity: copy.capacity,
    };
    return trace;
  }

  /**
   * The probe path of `operation` on `key`; changes nothing. A put first looks for the key as
   * `set` does; when it is absent, it goes back to the first tombstone at the key's own
   * distance if it passed one (a second step on that slot), else places the key from where
   * the search stopped, displacing richer entries.
   */
  private trace(operation: "get" | "put", key: Key): RobinHoodTrace {
    const h = hash32(key);
    const home = h >>> this.shift;
    let fp = (h & 0x7f) | 0x80;
    const path: RobinHoodTraceStep[] = [];
    let i = home;
    let d = 0;
    let searching = true; // until the key is found or known absent; then a put places it
    let reuse = -1; // the first tombstone exactly `d` from the key's home, as set() keeps it
    let terminal: RobinHoodTrace["terminal"] = "stop";
    let found = false;
    const cap = this.mask + 1;
    const record = (slot: number, dist: number, matchKey: boolean): RobinHoodTraceStep => {
      const m = this.meta[slot]!;
      const isTomb = m !== 0 && (m & 0xff) === 0;
      const md = m === 0 ? null : (m >> 8) - 1;
      const k = m !== 0 && !isTomb ? this.keyAt(slot) : null;
      const step: RobinHoodTraceStep = {
        step: path.length,
        slot,
        state: m === 0 ? "empty" : isTomb ? "tombstone" : "occupied",
        ideal_slot: md === null ? null : (slot - md) & this.mask,
        probe_distance: md,
        carried_distance: dist,
        key_repr: k === null ? null : keyRepr(k),
        matches: matchKey && m === (((dist + 1) << 8) | fp) && k === key,
        action: "advance",
      };
      path.push(step);
      return step;
    };
    for (let n = 0; n <= cap; n++) {
      const m = this.meta[i]!;
      const isTomb = m !== 0 && (m & 0xff) === 0;
      const md = (m >> 8) - 1;
      const s = record(i, d, searching);
      if (searching) {
        if (s.matches) {
          found = true;
          s.action = terminal = operation === "get" ? "match" : "update";
          break;
        }
        if (m === 0 || md < d) {
          // The key is absent: a get stops; a put places it.
          if (operation === "get") {
            s.action = "stop";
            terminal = m === 0 ? "empty" : "stop";
            break;
          }
          searching = false;
          if (reuse >= 0) {
            s.action = "stop";
            record(reuse, (reuse - home) & this.mask, false).action = "insert";
            terminal = "insert";
            break;
          }
        } else {
          if (isTomb && md === d && reuse < 0) reuse = i;
          i = (i + 1) & this.mask;
          d++;
          continue;
        }
      }
      if (m === 0 || (isTomb && md <= d)) {
        s.action = terminal = "insert";
        break;
      }
      if (!isTomb && md < d) {
        s.action = "swap"; // from here the put carries the evicted entry
        fp = m & 0xff;
        d = md;
      }
      i = (i + 1) & this.mask;
      d++;
    }
    return {
      schema: "probe_trace.v1",
      backend: "robinhood",
      operation,
      key_repr: keyRepr(key),
      hash: h >>> 0,
      capacity: cap,
      ideal_slot: home,
      found,
      terminal,
      path,
    };
  }

  /** The exact table: every entry with its slot, and every tombstone. */
  exportState(): RobinHoodState {
    // Sized once: arrays grown by push would leave about twice their size behind as garbage,
    // and a snapshot of a big map is written when memory is tightest.
    const slots = new Int32Array(this.count);
    const keys: Key[] = new Array(this.count);
    const values: unknown[] = new Array(this.count);
    const tSlots = new Int32Array(this.tombs);
    const tDists = new Int32Array(this.tombs);
    const meta = this.meta;
    let n = 0;
    let t = 0;
    for (let i = 0; i < meta.length; i++) {
      const m = meta[i]!;
      if (m === 0) continue;
      if ((m & 0xff) === 0) {
        tSlots[t] = i;
        tDists[t++] = (m >> 8) - 1;
      } else {
        slots[n] = i;
        keys[n] = this.keyAt(i);
        values[n++] = this.valueAt(i);
      }
    }
    return {
      kind: "robinhood",
      capacity: meta.length,
      maxLoadFactor: this.maxLoadFactor,
      deletion: this.deletion,
      initialCapacity: 1 << this.initialBits,
      slots,
      keys,
      values,
      tombstoneSlots: tSlots,
      tombstoneDistances: tDists,
    };
  }

  /**
   * Rebuilds the exact table of {@linkcode exportState}, and the capacity `clear()` returns to
   * (64 when the state does not give it). Throws RangeError or TypeError for a state no table can
   * have (bad capacity or initial capacity, slots out of range or repeated, invalid keys);
   * a table that can be built but breaks Robin Hood order is built as it is, for
   * {@linkcode checkInvariants} to report.
   */
  static fromState<V>(state: RobinHoodState): RobinHoodMap<V> {
    const cap = state.capacity;
    if (!Number.isInteger(cap) || cap < 8 || cap > 2 ** 30 || (cap & (cap - 1)) !== 0) {
      throw new RangeError(`capacity must be a power of two in [8, 2^30]: received ${cap}`);
    }
    const n = state.slots.length;
    if (state.keys.length !== n || state.values.length !== n) {
      throw new RangeError(
        `slots, keys and values differ in length (${n}, ${state.keys.length}, ${state.values.length})`,
      );
    }
    if (state.tombstoneSlots.length !== state.tombstoneDistances.length) {
      throw new RangeError(`tombstone slots and distances differ in length`);
    }
    if (n + state.tombstoneSlots.length >= cap) {
      throw new RangeError(
        `${n} entries and ${state.tombstoneSlots.length} tombstones do not fit ${cap} slots`,
      );
    }
    const m = RobinHoodMap.withCapacity<V>(cap, {
      maxLoadFactor: state.maxLoadFactor,
      deletion: state.deletion,
    });
    // Not the constructor's option: it would allocate the initial slots only to drop them.
    const initial = state.initialCapacity === undefined ? DEFAULT_CAPACITY : state.initialCapacity;
    m.initialBits = Math.max(MIN_BITS, log2Ceil(checkSize("initialCapacity", initial)));
    for (let j = 0; j < n; j++) {
      const slot = state.slots[j]!;
      let k = state.keys[j];
      if (!isKey(k)) {
        throw new TypeError(`entry ${j}: ${badKeyMessage(k)}`);
      }
      if (typeof k === "number") k = numberKey(k); // -0 is the key 0, as set() stores it
      if (slot < 0 || slot >= cap || m.meta[slot] !== 0) {
        throw new RangeError(`entry ${j}: slot ${slot} is out of range or used twice`);
      }
      const h = hash32(k);
      const d = (slot - (h >>> m.shift)) & m.mask;
      m.meta[slot] = ((d + 1) << 8) | (h & 0x7f) | 0x80;
      m.put(slot, k, state.values[j] as V);
      m.hist.add(d);
      m.sumDist += d;
    }
    for (let j = 0; j < state.tombstoneSlots.length; j++) {
      const slot = state.tombstoneSlots[j]!;
      const d = state.tombstoneDistances[j]!;
      if (slot < 0 || slot >= cap || m.meta[slot] !== 0 || d < 0 || d >= cap) {
        throw new RangeError(`tombstone ${j}: slot ${slot} or distance ${d} is invalid`);
      }
      m.meta[slot] = (d + 1) << 8;
    }
    m.count = n;
    m.tombs = state.tombstoneSlots.length;
    // A backshift table holds tombstones only while an adaptive map drains it.
    m.draining = m.deletion === "backshift" && m.tombs > 0;
    return m;
  }
}
