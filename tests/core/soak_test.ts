// Seeded soak: 1,000,000 random operations per map, compared with the built-in Map.
import assert from "node:assert/strict";
import { Sfc32 } from "../../src/workload/prng.ts";
import { AdaptiveMap, ChainingMap, type HashMapLike, type Key, RobinHoodMap } from "../../mod.ts";

function uniform(seed: number): () => number {
  const rng = new Sfc32(seed);
  return () => rng.nextUint32() / 4294967296;
}

const OPS = 1_000_000;

function soak(map: HashMapLike<number> & { checkInvariants(): string[] }, seed: number): void {
  const ref = new Map<Key, number>();
  const rnd = uniform(seed);
  const pool: Key[] = [];
  for (let i = 0; i < 20_000; i++) pool.push(i % 3 === 0 ? i - 7_000 : `K${i}`);
  for (let i = 0; i < OPS; i++) {
    // Phases grow and shrink the map so resizes, compactions and migrations keep happening.
    const phase = Math.floor(i / 100_000) % 2;
    const k = pool[Math.floor(rnd() * rnd() * pool.length)]!;
    const x = rnd();
    if (x < (phase === 0 ? 0.45 : 0.2)) {
      map.set(k, i);
      ref.set(k, i);
    } else if (x < 0.6) {
      if (map.delete(k) !== ref.delete(k)) assert.fail(`delete(${k}) differs at op ${i}`);
    } else if (map.get(k) !== ref.get(k)) assert.fail(`get(${k}) differs at op ${i}`);
    if (map.size !== ref.size) assert.fail(`size differs at op ${i}`);
    if (i % 250_000 === 0) assert.deepEqual(map.checkInvariants(), []);
  }
  assert.deepEqual(map.checkInvariants(), []);
  assert.deepEqual(new Map(map), ref);
}

Deno.test("ChainingMap matches Map over 1,000,000 seeded operations", () =>
  soak(new ChainingMap(), 1));
Deno.test("RobinHoodMap matches Map over 1,000,000 seeded operations", () =>
  soak(new RobinHoodMap(), 2));
Deno.test("RobinHoodMap (tombstone) matches Map over 1,000,000 seeded operations", () => {
  soak(new RobinHoodMap({ deletion: "tombstone" }), 3);
});
Deno.test("AdaptiveMap matches Map over 1,000,000 seeded operations while migrating", () => {
  const m = new AdaptiveMap<number>({
    incrementalBatch: 16,
    maxAvgProbeRobinhood: 1.5,
    rhDeletion: "tombstone",
    maxTombstoneRatio: 0.04,
  });
  const types = new Set<string>();
  m.onEvent((e) => types.add(e.type));
  soak(m, 4);
  assert.ok(m.migrations >= 2, `only ${m.migrations} migrations`);
  for (const t of ["start", "switch", "compaction"]) {
    assert.ok(types.has(t), `no ${t} event`);
  }
});
