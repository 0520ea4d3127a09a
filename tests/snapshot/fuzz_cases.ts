/**
 * Fuzz cases for snapshot decoding, run by fuzz_test.ts inside a worker so that a hang fails the
 * test instead of stalling it. Each function throws on the first case that ends in anything
 * other than an AdhashError (IO or Invariant) or a verified load.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { AdhashError } from "../../src/errors.ts";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import type { AnyMap } from "../../src/core/factory.ts";
import { decodeSnapshot, encodeSnapshot } from "../../src/snapshot/mod.ts";
import { encodeState } from "../../src/snapshot/codec.ts";
import { packSnapshot } from "../../src/snapshot/format.ts";

const LIMITS = { key: null, maxCapacity: 1 << 12, maxPayloadBytes: 1 << 22 };
const CASE_MS = 2000;

function sampleMaps(): AnyMap<unknown>[] {
  const c = new ChainingMap<unknown>({ initialBuckets: 8 });
  const t = new RobinHoodMap<unknown>({ initialCapacity: 16, deletion: "tombstone" });
  const a = new AdaptiveMap<unknown>({
    incrementalBatch: 2,
    initialBuckets: 2,
    groupsPerBucket: 4,
  });
  for (let i = 0; i < 40; i++) {
    c.set(`K${i}`, i % 3 === 0 ? { i, tags: ["x", i] } : i);
    t.set(i, `v${i}`);
    if (i % 4 === 0) t.delete(i - 2);
  }
  let i = 0;
  while (!a.migrating) a.set(`M${i}`, [i++, null, true]);
  a.set(`M${i}`, i);
  return [c, t, a];
}

type Outcome = "error" | "loaded";
const codes = new Map<string, number>();

/** Decodes `bytes`: an AdhashError or a verified map are fine; anything else fails. */
function attempt(bytes: Uint8Array): Outcome {
  const started = performance.now();
  try {
    const { map } = decodeSnapshot(bytes, LIMITS);
    assert.deepEqual(map.checkInvariants(), []);
    for (const [k] of map.entries()) map.get(k);
    return "loaded";
  } catch (err) {
    assert.ok(err instanceof AdhashError, `not an AdhashError: ${String(err)}`);
    codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
    assert.ok(err.code === "IO" || err.code === "Invariant", err.code);
    assert.ok(err.message.length > 0);
    return "error";
  } finally {
    assert.ok(performance.now() - started < CASE_MS, "a case took too long");
  }
}

const valid: Uint8Array[] = sampleMaps().flatMap((m) => [
  encodeSnapshot(m, { key: null }),
  encodeSnapshot(m, { key: null, compress: true }),
]);

/** Thousands of random byte flips of valid snapshots. */
export function byteFlips(): void {
  let errors = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: valid.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 4,
      }),
      (which, flips) => {
        const bytes = valid[which]!.slice();
        for (const [at, mask] of flips) bytes[at % bytes.length]! ^= mask;
        // A flip anywhere changes the header, the checksum or the checksummed payload.
        if (attempt(bytes) === "error") errors++;
      },
    ),
    { numRuns: 3000 },
  );
  // Double flips can cancel out; nearly every case must still be refused.
  assert.ok(errors > 2900, `only ${errors} refused`);
}

/** Every truncation and some extensions of valid snapshots. */
export function truncations(): void {
  for (const bytes of valid) {
    for (let n = 0; n < bytes.length; n++) assert.equal(attempt(bytes.subarray(0, n)), "error");
    for (const extra of [1, 2, 7, 64, 1000]) {
      const longer = new Uint8Array(bytes.length + extra);
      longer.set(bytes);
      longer.fill(0x5a, bytes.length);
      assert.equal(attempt(longer), "error");
    }
  }
}

/** Corrupted payloads repacked with a valid checksum. */
export function checksummedCorruptions(): void {
  codes.clear();
  const payloads = sampleMaps().map((m) => encodeState(m.exportState() as never));
  const outcomes = { error: 0, loaded: 0 };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: payloads.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }),
      fc.nat(),
      fc.boolean(),
      (which, edits, cut, truncate) => {
        let p = payloads[which]!.slice();
        for (const [at, b] of edits) p[at % p.length] = b;
        if (truncate) p = p.subarray(0, cut % p.length);
        outcomes[attempt(packSnapshot(p, { key: null }))]++;
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(outcomes.error > 0 && outcomes.loaded > 0, JSON.stringify(outcomes));
  // Both kinds of refusal occur: malformed payloads (IO) and broken tables (Invariant).
  assert.ok(
    (codes.get("IO") ?? 0) > 0 && (codes.get("Invariant") ?? 0) > 0,
    JSON.stringify([...codes]),
  );
}

/** Random payload bytes behind a valid header. */
export function randomPayloads(): void {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (p, compress) => {
      attempt(packSnapshot(p, { key: null, compress }));
    }),
    { numRuns: 1000 },
  );
}
