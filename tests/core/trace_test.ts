import assert from "node:assert/strict";
import { ChainingMap, hashKey, indexFor, RobinHoodMap } from "../../mod.ts";

Deno.test("RobinHoodMap.traceGet() follows the probe path and ends at the key", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 64 });
  for (let i = 0; i < 50; i++) m.set(`K${i}`, i);
  for (let i = 0; i < 50; i++) {
    const t = m.traceGet(`K${i}`);
    assert.equal(t.found, true);
    assert.equal(t.terminal, "match");
    assert.equal(t.ideal_slot, indexFor(hashKey(`K${i}`), 6));
    const last = t.path.at(-1)!;
    assert.equal(last.action, "match");
    assert.equal(last.key_repr, `"K${i}"`);
    assert.equal(last.probe_distance, t.path.length - 1);
    t.path.forEach((s, n) => {
      assert.equal(s.slot, (t.ideal_slot + n) & 63);
      assert.equal(s.carried_distance, n);
    });
  }
  const miss = m.traceGet("absent");
  assert.equal(miss.found, false);
  assert.ok(miss.terminal === "empty" || miss.terminal === "stop");
});

Deno.test("RobinHoodMap.tracePut() predicts where set() puts the key, without changing the map", () => {
  for (let trial = 0; trial < 200; trial++) {
    const m = new RobinHoodMap<number>({ initialCapacity: 128 });
    for (let i = 0; i < 90; i++) m.set(`K${trial}-${i}`, i);
    const before = JSON.stringify([...m.entries()]);
    const key = `new-${trial}`;
    const t = m.tracePut(key, 1);
    assert.equal(JSON.stringify([...m.entries()]), before);
    assert.equal(t.terminal, "insert");
    m.set(key, 1);
    // The key lands on the first swap slot, or the insert slot when nothing was displaced.
    const first = t.path.find((s) => s.action === "swap" || s.action === "insert")!;
    assert.equal(m.traceGet(key).path.at(-1)!.slot, first.slot);
    assert.equal(m.tracePut(key, 2).terminal, "update");
  }
});

Deno.test("ChainingMap.traceGet() lists the chain positions up to the key", () => {
  const m = new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor: 16 });
  for (let i = 0; i < 64; i++) m.set(`K${i}`, i);
  const t = m.traceGet("K63");
  assert.equal(t.bucket, indexFor(hashKey("K63"), 3));
  assert.equal(t.found, true);
  assert.equal(t.path.at(-1)!.key_repr, '"K63"');
  assert.deepEqual(t.path.map((s) => s.position), t.path.map((_, i) => i));
  assert.equal(m.tracePut("zzz", 1).terminal, "insert");
  assert.equal(m.traceGet("zzz").terminal, "miss");
});
