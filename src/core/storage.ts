/**
 * Helpers shared by the backends: probe-distance histograms, byte estimates, key errors.
 *
 * @module
 */

import type { Key } from "./types.ts";

/** Bytes of one reference in a plain array (V8 in Deno does not compress pointers). */
export const REF_BYTES = 8;

/** The most slots or chains a table has: its indexes stay positive 32-bit integers. */
const MAX_TABLE_SIZE = 2 ** 30;

/**
 * Smallest power of two `>= n` (and `>= 1`), as its log2. Throws RangeError past
 * {@linkcode MAX_TABLE_SIZE} (and for NaN): there `1 << bits` turns negative and the search
 * would never end.
 */
export function log2Ceil(n: number): number {
  if (!(n <= MAX_TABLE_SIZE)) {
    throw new RangeError(`A table has at most 2^30 slots or chains: received ${showValue(n)}`);
  }
  let bits = 0;
  while ((1 << bits) < n) bits++;
  return bits;
}

/**
 * `n`, a size given to a public method, if it is a number in [`min`, 2^30]; else throws
 * TypeError (not a number) or RangeError (out of range, NaN included) naming `what` and quoting
 * the value.
 */
export function checkSize(what: string, n: unknown, min = 1): number {
  if (typeof n !== "number" || !(n >= min && n <= MAX_TABLE_SIZE)) {
    const E = typeof n === "number" ? RangeError : TypeError;
    throw new E(`${what} must be a number in [${min}, 2^30]: received ${showValue(n)}`);
  }
  return n;
}

/**
 * `n` slots holding `undefined`, stored as references. `new Array(n).fill(undefined)` is not:
 * V8 15 stores it as doubles, and the first key written converts the whole array. For a flat
 * Robin Hood table of 2^23 slots that held three copies of its 128 MiB array at once (384 MiB
 * at peak instead of 128) and cost that first write 94 ms.
 */
export function undefinedSlots<T>(n: number): Array<T | undefined> {
  // fill(null) makes packed reference storage; storing undefined into it keeps that storage.
  const a = new Array<T | undefined | null>(n).fill(null);
  for (let i = 0; i < n; i++) a[i] = undefined;
  return a as Array<T | undefined>;
}

/** `page` (or a new array) lengthened to `n` items, the new ones `undefined`. */
export function extended<T>(
  page: Array<T | undefined> | undefined,
  n: number,
): Array<T | undefined> {
  if (page === undefined) return undefinedSlots<T>(n);
  const from = page.length;
  page.length = n;
  return page.fill(undefined, from);
}

/**
 * Held by every map so that `structuredClone` and `postMessage` refuse it with a DataCloneError
 * naming this function, instead of copying its internals into a plain object without methods.
 * Copy a map with `new Map(map)`, `exportState()` and `fromState()`, or a snapshot.
 */
export function copyWithNewMapOrASnapshot(): void {}

/** Counts of entries by probe distance (or chain length), grown on demand. */
export class Histogram {
  counts: Int32Array = new Int32Array(16);
  /** Highest index that may be non-zero; lowered lazily by {@linkcode top}. */
  hi = 0;

  add(d: number): void {
    if (d >= this.counts.length) this.#grow(d);
    this.counts[d]!++;
    if (d > this.hi) this.hi = d;
  }

  remove(d: number): void {
    this.counts[d]!--;
  }

  /** Highest index with a non-zero count (0 when empty). */
  top(): number {
    const c = this.counts;
    let h = this.hi;
    while (h > 0 && c[h] === 0) h--;
    this.hi = h;
    return h;
  }

  reset(): void {
    this.counts.fill(0);
    this.hi = 0;
  }

  /** `[index, count]` for every non-zero count. */
  pairs(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const top = this.top();
    for (let d = 0; d <= top; d++) {
      const c = this.counts[d]!;
      if (c !== 0) out.push([d, c]);
    }
    return out;
  }

  #grow(d: number): void {
    let n = this.counts.length;
    while (n <= d) n *= 2;
    const next = new Int32Array(n);
    next.set(this.counts);
    this.counts = next;
  }
}

/**
 * A value as quoted in error messages: strings JSON-quoted (the first 100 characters of a longer
 * one), bigints with their `n`, short arrays in brackets, other objects and functions by their
 * tag (`[object Date]`), anything else as `String()` shows it.
 */
export function showValue(v: unknown, depth = 0): string {
  if (typeof v === "string") {
    if (v.length <= 100) return JSON.stringify(v);
    return `${JSON.stringify(v.slice(0, 100))}... (${v.length} characters)`;
  }
  if (typeof v === "bigint") return `${v}n`;
  if (Array.isArray(v)) {
    // Nested arrays are cut short: an array may contain itself.
    if (v.length > 8 || depth > 2) return `an array of ${v.length}`;
    return `[${v.map((x) => showValue(x, depth + 1))}]`;
  }
  // An object's or a function's own text can be huge (a typed array's million numbers, a
  // function's source) and its toString() is the caller's code, which `Map` never runs: its
  // class only (`[object Uint8Array]`).
  if ((typeof v === "object" && v !== null) || typeof v === "function") {
    return Object.prototype.toString.call(v);
  }
  return String(v);
}

/**
 * Throws TypeError unless a constructor's `options` is a plain options object: not null, a
 * number, or entries (an array or a `Map`, which `Map`'s constructor takes but these do not).
 */
export function checkOptionsObject(name: string, options: unknown): void {
  const iterable = typeof options === "object" && options !== null && Symbol.iterator in options;
  if (typeof options !== "object" || options === null || iterable) {
    throw new TypeError(
      `${name} options must be an object: received ${showValue(options)}` +
        (iterable ? " (to add entries, call set() on the new map)" : ""),
    );
  }
}

/**
 * Checks a constructor's `options`: an object whose every field is one of `fields` (a typo
 * would otherwise be ignored). Throws TypeError for a non-object, RangeError for an unknown
 * field.
 */
export function checkOptionFields(
  name: string,
  options: object,
  fields: readonly string[],
): void {
  checkOptionsObject(name, options);
  for (const f of Object.keys(options)) {
    if (!fields.includes(f)) {
      throw new RangeError(
        `${name} has no option ${JSON.stringify(f)}: its options are ${fields.join(", ")}`,
      );
    }
  }
}

/**
 * Why adhash cannot store `key`, quoting it after its type (`received boolean true`,
 * `received symbol Symbol(id)`): the type alone did not say which value a caller passed.
 */
export function badKeyMessage(key: unknown): string {
  if (typeof key === "number") return "Cannot use NaN as a key";
  if (key === null || key === undefined) return `Keys must be strings or numbers: received ${key}`;
  return `Keys must be strings or numbers: received ${typeof key} ${showValue(key)}`;
}

/** Throws a TypeError for keys adhash cannot store. */
function badKey(key: unknown): never {
  throw new TypeError(badKeyMessage(key));
}

/** Whether `k` is a key a map stores: a string, or a number other than NaN. */
export function isKey(k: unknown): k is Key {
  return typeof k === "string" || (typeof k === "number" && k === k);
}

/** A non-string key as stored: a number other than NaN, with `-0` as `0` (as `Map` does). */
export function numberKey(key: unknown): number {
  if (typeof key !== "number" || key !== key) badKey(key);
  return key === 0 ? 0 : key;
}

/**
 * `Map.prototype.getOrInsertComputed` over a map's own `get`, `has` and `set`: one lookup for
 * a key present with a defined value. Throws TypeError, before calling `callback`, for a key
 * the map cannot store.
 */
export function getOrInsertVia<V>(
  map: { get(key: Key): V | undefined; has(key: Key): boolean; set(key: Key, value: V): unknown },
  key: Key,
  callback: (key: Key) => V,
): V {
  checkCallback("getOrInsertComputed", callback);
  if (typeof key !== "string") key = numberKey(key);
  const v = map.get(key);
  if (v !== undefined || map.has(key)) return v as V;
  const value = callback(key);
  map.set(key, value);
  return value;
}

/** The key `Deno.inspect` (and so `console.log` in Deno) looks up for a custom rendering. */
export const DENO_INSPECT: unique symbol = Symbol.for("Deno.customInspect");
/** The key Node's `util.inspect` looks up for a custom rendering. */
export const NODE_INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom");

/** An inspect function as Deno and Node pass it to a custom rendering. */
type InspectFn = (value: unknown, options?: unknown) => string;

/**
 * A map rendered as `Map`'s are, under its own class name: `ChainingMap(2) { "a" => 1, ... }`,
 * not its internal arrays.
 */
function inspectEntries(
  name: string,
  map: Iterable<[Key, unknown]> & { readonly size: number },
  inspect: InspectFn,
  options: unknown,
): string {
  // A map met again while it is being shown is among its own values: circular. Saying so here,
  // instead of leaving the cycle to the inspector, works in Node too, which does not pass on the
  // objects it is showing to a custom rendering (and would show the copy again, level by level).
  const shown = shownCopies.get(map);
  if (shown !== undefined) {
    shown.ref ??= ++lastRef; // numbered in the order cycles are found, as the inspectors do
    return `[Circular *${shown.ref}]`;
  }
  if (showing === 0) lastRef = 0; // a new print
  const state: { ref?: number } = {};
  shownCopies.set(map, state);
  showing++;
  try {
    const text = inspect(new Map(map), options).replace(/^Map\(\d+\)/, `${name}(${map.size})`);
    // Marked as `Map`'s own rendering marks the target of a cycle: `<ref *1> Map(1) { ... }`.
    return state.ref === undefined ? text : `<ref *${state.ref}> ${text}`;
  } finally {
    showing--;
    shownCopies.delete(map);
  }
}

const shownCopies = new WeakMap<object, { ref?: number }>();
/** Maps being shown now, and the number of the last cycle found in the current print. */
let showing = 0;
let lastRef = 0;

/**
 * `Deno.inspect`'s rendering of a map ({@linkcode inspectEntries}); nested deeper than the
 * `depth` option it is `[Name]`, as a nested `Map` is `[Map]`.
 */
export function denoInspect(
  name: string,
  map: Iterable<[Key, unknown]> & { readonly size: number },
  inspect: InspectFn,
  options: unknown,
): string {
  const o = options as { depth?: unknown; currentDepth?: unknown; seen?: unknown } | undefined;
  if (typeof o?.depth !== "number" || typeof o.currentDepth !== "number") {
    return inspectEntries(name, map, inspect, options);
  }
  // Deno's `currentDepth` can be that of the deepest value printed before (a sibling's), which
  // folded a shallow map; `seen`, the values around this one, tells the depth then. It counts
  // the values around the copy this map is printed in as well, where `currentDepth` is right.
  const depth = Array.isArray(o.seen) ? Math.min(o.seen.length, o.currentDepth) : o.currentDepth;
  if (depth > o.depth && !shownCopies.has(map)) return `[${name}]`; // circular first
  // The inspector counts depth from 0 again at the copy: pass on what remains.
  return inspectEntries(name, map, inspect, { ...o, depth: o.depth - depth });
}

/**
 * Node's `util.inspect` rendering of a map: `[Name]` once no depth is left (`depth` < 0), else
 * its entries, inspected with the depth that is left (Node starts counting again at the copy).
 */
export function nodeInspect(
  name: string,
  map: Iterable<[Key, unknown]> & { readonly size: number },
  depth: number,
  options: unknown,
  inspect: InspectFn,
): string {
  if (depth < 0 && !shownCopies.has(map)) return `[${name}]`; // circular first, as Node does
  return inspectEntries(name, map, inspect, { ...(options as object), depth });
}

/** Throws TypeError, as `Map`'s methods do, when a callback is not a function. */
export function checkCallback(method: string, callback: unknown): void {
  if (typeof callback !== "function") {
    throw new TypeError(`${method}() needs a function: received ${showValue(callback)}`);
  }
}

/** The error thrown by an iterator whose map changed shape under it. */
export function modifiedDuringIteration(): TypeError {
  return new TypeError(
    "Map modified during iteration: insertions, deletions, compact() and clear() invalidate iterators; updates do not",
  );
}

/**
 * %IteratorPrototype%, which `Map`'s iterators inherit `[Symbol.iterator]()` and the iterator
 * helpers (`.map()`, `.toArray()`) from. Reached through an array iterator: Node 20 has no
 * global `Iterator`.
 */
const ITERATOR_PROTOTYPE: object = Object.getPrototypeOf(
  Object.getPrototypeOf([][Symbol.iterator]()),
);

/**
 * An iterator over `item(i)` for each `i` of `items`, with `next()` only, as `Map`'s iterators
 * have. A generator has a `return()` too, which `break` in a `for..of`, destructuring and
 * `.take()` call: it closed the iterator, and a loop that read a few entries and went on with
 * the same iterator found no more.
 */
class MapIter<T, U> {
  readonly #items: Iterator<T, void, undefined>;
  readonly #item: (i: T) => U;

  constructor(items: Iterator<T, void, undefined>, item: (i: T) => U) {
    this.#items = items;
    this.#item = item;
  }

  next(): IteratorResult<U, undefined> {
    const r = this.#items.next();
    return r.done ? { value: undefined, done: true } : { value: this.#item(r.value), done: false };
  }
}
Object.setPrototypeOf(MapIter.prototype, ITERATOR_PROTOTYPE);

/**
 * A map's `keys()`, `values()` or `entries()`: `item(i)` for each `i` of `items`, through an
 * iterator that, as `Map`'s, a `break` does not close (see {@linkcode MapIter}).
 */
export function mapIterator<T, U>(
  items: Iterator<T, void, undefined>,
  item: (i: T) => U,
): MapIterator<U> {
  // The helpers MapIterator declares come from ITERATOR_PROTOTYPE, which TypeScript cannot see.
  return new MapIter(items, item) as unknown as MapIterator<U>;
}
