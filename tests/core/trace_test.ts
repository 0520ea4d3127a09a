import assert from "node:assert/strict";
import fc from "fast-check";
import { ChainingMap, hashKey, indexFor, keyRepr, RobinHoodMap } from "../../mod.ts";

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

Deno.test("RobinHoodMap.tracePut() on a tombstone table finds keys past tombstones and reuses them as set() does", () => {
  // The smallest case: b shares a's home; deleting a leaves a tombstone before b.
  const home = new Map<number, string>();
  let a = "";
  let b = "";
  for (let i = 0; b === ""; i++) {
    const k = `k${i}`;
    const h = indexFor(hashKey(k), 6);
    if (home.has(h)) [a, b] = [home.get(h)!, k];
    else home.set(h, k);
  }
  const m = new RobinHoodMap<number>({ deletion: "tombstone", initialCapacity: 64 });
  m.set(a, 1).set(b, 2).delete(a);
  const t = m.tracePut(b, 3);
  assert.deepEqual([t.found, t.terminal], [true, "update"]);
  assert.deepEqual(t.path.map((s) => [s.state, s.action]), [
    ["tombstone", "advance"],
    ["occupied", "update"],
  ]);
  // An absent key with a's home searches past the tombstone, then goes back to it.
  let c = "";
  for (let i = 0; c === ""; i++) {
    if (`c${i}` !== a && indexFor(hashKey(`c${i}`), 6) === indexFor(hashKey(a), 6)) c = `c${i}`;
  }
  const put = m.tracePut(c, 4);
  assert.equal(put.terminal, "insert");
  assert.equal(put.path.at(-1)!.slot, put.path[0]!.slot, "the tombstone at home is reused");
  assert.equal(put.path.at(-2)!.action, "stop");
  m.set(c, 4);
  assert.equal(m.traceGet(c).path.at(-1)!.slot, put.path[0]!.slot);
  // Random sets and deletes: every trace agrees with has() and with where set() puts the key.
  let x = 1;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const r = new RobinHoodMap<number>({ deletion: "tombstone", maxLoadFactor: 0.9 });
  for (let op = 0; op < 20_000; op++) {
    const k = `k${Math.floor(rnd() * 60)}`;
    if (rnd() < 0.45) {
      r.delete(k);
      continue;
    }
    const trace = r.tracePut(k, op);
    const had = r.has(k);
    assert.equal(trace.found, had);
    assert.equal(trace.terminal, had ? "update" : "insert");
    r.set(k, op);
    if (had) continue;
    const first = trace.path.find((s) => s.action === "swap" || s.action === "insert")!;
    assert.equal(r.traceGet(k).path.at(-1)!.slot, first.slot);
  }
});

Deno.test("tracePut() of a new key that makes the table rebuild traces the put in the rebuilt table", () => {
  let x = 7;
  const rnd = (n: number) =>
    Math.floor((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff * n);
  type Ops = (op: number) => [put: string, del: string | null];
  const growing: Ops = () => [`k${rnd(5000)}`, rnd(10) < 3 ? `k${rnd(5000)}` : null];
  // 15 live keys, each new one deleted 15 puts later: tombstones pile up until compaction.
  const sliding: Ops = (op) => [`k${op}`, op >= 15 ? `k${op - 15}` : null];
  const cases: Array<[RobinHoodMap<number> | ChainingMap<number>, Ops, string]> = [
    [new RobinHoodMap<number>({ initialCapacity: 8 }), growing, "resize"],
    [new ChainingMap<number>({ initialBuckets: 8 }), growing, "resize"],
    [
      new RobinHoodMap<number>({ initialCapacity: 64, deletion: "tombstone" }),
      sliding,
      "compaction",
    ],
  ];
  for (const [m, next, kind] of cases) {
    const rebuilds: string[] = [];
    m.onRebuild = (type, from, to) => rebuilds.push(`${type} ${from}->${to}`);
    for (let op = 0; op < 3000; op++) {
      const [k, del] = next(op);
      const trace = m.tracePut(k, op);
      const n = rebuilds.length;
      m.set(k, op);
      const label = `${m.backend} op ${op}`;
      if (rebuilds.length === n) assert.equal(trace.rebuild, undefined, label);
      else {
        const { type, from_capacity, to_capacity } = trace.rebuild!;
        assert.equal(`${type} ${from_capacity}->${to_capacity}`, rebuilds.at(-1), label);
      }
      if (!trace.found) {
        assert.equal(trace.capacity, m.capacity, label);
        const got = m.traceGet(k);
        if (trace.backend === "robinhood" && got.backend === "robinhood") {
          const first = trace.path.find((s) => s.action === "swap" || s.action === "insert")!;
          assert.equal(got.path.at(-1)!.slot, first.slot, label);
        } else if (trace.backend === "chaining" && got.backend === "chaining") {
          // A new key goes at the end of its chain, after every entry the put walked past.
          assert.equal(got.bucket, trace.bucket, label);
          assert.deepEqual(got.path.slice(0, -1), trace.path, label);
        }
      }
      if (del !== null) m.delete(del);
    }
    assert.deepEqual([...new Set(rebuilds.map((r) => r.split(" ")[0]))], [kind], m.backend);
    assert.ok(rebuilds.length >= 5, `${m.backend}: only ${rebuilds.length} rebuilds`);
  }
});

Deno.test("RobinHoodMap.tracePut() predicts where set() puts every entry it displaces", () => {
  let x = 7;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  let swaps = 0;
  let reused = 0;
  for (const deletion of ["backshift", "tombstone"] as const) {
    const m = new RobinHoodMap<number>({ deletion, maxLoadFactor: 0.9 });
    for (let op = 0; op < 20_000; op++) {
      const k = `k${Math.floor(rnd() * 80)}`;
      if (rnd() < 0.45) {
        m.delete(k);
        continue;
      }
      const trace = m.tracePut(k, op);
      m.set(k, op);
      if (trace.found) continue; // an update moves nothing
      const { slots, keys } = m.exportState();
      const at = new Map([...slots].map((slot, j) => [slot, keyRepr(keys[j]!)]));
      // The new key goes to the first swap (or insert) step, each evicted entry to the next.
      let carried = keyRepr(k);
      for (const s of trace.path) {
        if (s.action !== "swap" && s.action !== "insert") continue;
        assert.equal(at.get(s.slot), carried, `slot ${s.slot} after set(${k})`);
        if (s.action === "swap") swaps++;
        else if (s.state === "tombstone") reused++;
        carried = s.key_repr!;
      }
    }
  }
  assert.ok(swaps > 100 && reused > 100, `${swaps} swaps, ${reused} tombstones reused`);
});

Deno.test("ChainingMap.tracePut() gives the chain set() leaves, when it doubles the chains after deletions too", () => {
  // Deletions free slab entries that new keys reuse, so a chain's order is not slab order:
  // doubling relinks each chain in slab order, and the trace must predict that order.
  type Op = { t: "set"; k: number } | { t: "del"; k: number } | { t: "compact" };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 12, arbitrary: fc.record({ t: fc.constant("set" as const), k: fc.nat(40) }) },
    { weight: 6, arbitrary: fc.record({ t: fc.constant("del" as const), k: fc.nat(40) }) },
    { weight: 2, arbitrary: fc.constant({ t: "compact" as const }) },
  );
  let doubled = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(0.5, 1, 2),
      fc.array(op, { maxLength: 200, size: "max" }),
      (lf, ops) => {
        const m = new ChainingMap<number>({ initialBuckets: 8, maxLoadFactor: lf });
        for (const o of ops) {
          if (o.t === "del") m.delete(`k${o.k}`);
          if (o.t === "compact") m.compact();
          if (o.t !== "set") continue;
          const key = `k${o.k}`;
          const put = m.tracePut(key, 0);
          m.set(key, 0);
          const get = m.traceGet(key);
          if (put.rebuild !== undefined) doubled++;
          assert.deepEqual([get.capacity, get.bucket], [put.capacity, put.bucket]);
          // The walk up to the key, which a new key ends (at the position the put predicts).
          const walked = put.path.map((s) => s.key_repr);
          if (!put.found) walked.push(keyRepr(key));
          assert.deepEqual(get.path.map((s) => s.key_repr), walked);
          assert.equal(
            get.path.at(-1)!.position,
            put.found ? put.path.length - 1 : put.path.length,
          );
        }
      },
    ),
    { numRuns: 300, seed: 31 },
  );
  assert.ok(doubled > 300, `only ${doubled} puts doubled the chains`);
});
