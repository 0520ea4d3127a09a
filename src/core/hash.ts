/**
 * The deterministic 32-bit hash used by every adhash map.
 *
 * Strings: FNV-1a over UTF-16 code units (seed `0x811c9dc5`, prime `0x01000193`), then the
 * length is mixed in and MurmurHash3's fmix32 finaliser spreads every input bit over the
 * whole word. Integers in the int32 range: fmix32(n ^ 0x9e3779b9). Other numbers: the
 * little-endian IEEE-754 bits, high word mixed first. `-0` hashes as `0`.
 *
 * The result is an unsigned 32-bit integer, identical on every run and platform. Tables take
 * their index from the high bits (`hash >>> (32 - log2(capacity))`) and a Robin Hood
 * fingerprint from the low 7 bits (`(hash & 0x7f) | 0x80`, so it is never 0), so the two never
 * overlap.
 *
 * @module
 */

import type { Key } from "./types.ts";
import { visible } from "../format.ts";

/** fmix32 as a signed int32 (see {@linkcode hash32} for why the tables want signed). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** MurmurHash3's 32-bit finaliser: full avalanche of a 32-bit word. */
export function fmix32(h: number): number {
  return fmix(h) >>> 0;
}

const scratch = new DataView(new ArrayBuffer(8));

/**
 * The hash of a key as a signed int32; {@linkcode hashKey} has the same bits unsigned. The
 * tables use this form: an unsigned result above 2^31 is not a small integer to V8, and a call
 * that is not inlined then allocates a heap number for it on every operation.
 */
export function hash32(key: Key): number {
  if (typeof key === "string") {
    let h = 0x811c9dc5 | 0;
    const n = key.length;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return fmix(h ^ n);
  }
  // Not a key `set` accepts (a symbol or bigint would throw on `| 0` below): any hash will do,
  // since no stored key equals it and a lookup finds nothing, as `Map`'s does.
  if (typeof key !== "number") return 0;
  if ((key | 0) === key) return fmix(key ^ 0x9e3779b9);
  scratch.setFloat64(0, key, true);
  return fmix(scratch.getUint32(0, true) ^ fmix(scratch.getUint32(4, true) ^ 0x7f4a7c15));
}

/** Hash of a string's UTF-16 code units. */
export function hashString(s: string): number {
  return hash32(s) >>> 0;
}

/** Hash of a number (`-0` and `0` hash alike). */
export function hashNumber(n: number): number {
  return hash32(n) >>> 0;
}

/** Hash of a key. */
export function hashKey(key: Key): number {
  return hash32(key) >>> 0;
}

/**
 * Index of `hash` in a power-of-two table of `2 ** bits` slots: its top `bits` bits.
 * (`bits` is 1..30.)
 */
export function indexFor(hash: number, bits: number): number {
  return hash >>> (32 - bits);
}

/**
 * Text shown for a key in traces and previews: strings JSON-quoted, with the characters a terminal
 * would act on (DEL, C1 controls, bidi overrides) escaped too; numbers bare.
 */
export function keyRepr(key: Key): string {
  return typeof key === "string" ? visible(JSON.stringify(key)) : String(key);
}
