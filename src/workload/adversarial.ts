/**
 * Adversarial keys: strings that land in the same slot of a `2 ** lowbits` table under adhash's
 * own hash (src/core/hash.ts). Tables index by the TOP bits of the hash, so keys sharing their
 * top `lowbits` bits also collide in every smaller power-of-two table.
 *
 * @module
 */

import { hashKey, indexFor } from "../core/hash.ts";

/** How many colliding keys the generator draws from for a given `lowbits`. */
export function adversarialPoolSize(lowbits: number): number {
  // Finding one key costs ~2^lowbits hashes; keep the search under ~2^24 hashes.
  return Math.max(8, Math.min(512, 2 ** (24 - lowbits)));
}

/**
 * The first `count` keys `A0, A1, ...` (in that order, skipping non-colliding names) whose hash
 * indexes slot `bucket` of a `2 ** lowbits` table. Deterministic.
 */
export function findCollidingKeys(lowbits: number, count: number, bucket = 0): string[] {
  if (!Number.isInteger(lowbits) || lowbits < 1 || lowbits > 30) {
    throw new RangeError(`lowbits must be an integer in [1, 30]: ${lowbits}`);
  }
  const keys: string[] = [];
  for (let n = 0; keys.length < count; n++) {
    const key = `A${n}`;
    if (indexFor(hashKey(key), lowbits) === bucket) keys.push(key);
  }
  return keys;
}
