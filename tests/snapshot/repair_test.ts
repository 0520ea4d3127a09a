import assert from "node:assert/strict";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import type { ChainingState, RobinHoodState } from "../../src/core/types.ts";
import { CORE_LOAD_FACTOR, rebuildFromState } from "../../src/snapshot/repair.ts";
import { type EncodableState, encodeState } from "../../src/snapshot/codec.ts";
import { packSnapshot } from "../../src/snapshot/format.ts";
import { runCli, successData, tempDir } from "../cli/_run.ts";

/** A snapshot file of `state` with a valid (unkeyed BLAKE2b-512) checksum. */
function snapshotBytes(state: EncodableState): Uint8Array {
  return packSnapshot(encodeState(state), { key: null });
}

/**
 * A Robin Hood table in which one entry's key was changed in place into another key of the
 * table (as a flipped byte turns "K2864" into "K2874"), the changed copy at a lower slot than
 * the intact entry, so that slot order meets it first.
 */
function robinHoodWithChangedKey(): { state: RobinHoodState; key: string; value: unknown } {
  const m = new RobinHoodMap<unknown>({ initialCapacity: 4096 });
  for (let i = 0; i < 2000; i++) m.set(`K${i}`, `v${i}`);
  const s = m.exportState();
  const intact = s.keys[s.keys.length - 1] as string;
  s.keys[0] = intact; // the entry at the lowest slot now spells the key at the highest
  return { state: s, key: intact, value: m.get(intact) };
}

Deno.test("rebuildFromState() keeps the Robin Hood entry a lookup finds, not the first by slot", () => {
  const { state, key, value } = robinHoodWithChangedKey();
  const before = RobinHoodMap.fromState<unknown>(state);
  assert.equal(before.get(key), value, "a lookup in the damaged table finds the intact entry");
  const { map, kept, dropped } = rebuildFromState(state);
  assert.equal(dropped, 1);
  assert.equal(kept, state.keys.length - 1);
  assert.equal(map.get(key), value);
  assert.deepEqual(map.checkInvariants(), []);
});

Deno.test("rebuildFromState() keeps the chaining entry listed in its key's bucket", () => {
  const m = new ChainingMap<unknown>({ initialBuckets: 1024 });
  for (let i = 0; i < 600; i++) m.set(`K${i}`, `v${i}`);
  const s: ChainingState = m.exportState();
  // The first listed entry takes the key of the last: it is listed in the wrong bucket.
  const intact = s.keys[s.keys.length - 1] as string;
  const keys = [...s.keys];
  keys[0] = intact;
  const { map, dropped } = rebuildFromState({ ...s, keys });
  assert.equal(dropped, 1);
  assert.equal(map.get(intact), m.get(intact));
});

Deno.test("CORE_LOAD_FACTOR is the range of load factors the core's tables accept", () => {
  const [clo, chi] = CORE_LOAD_FACTOR.chaining;
  const [rlo, rhi] = CORE_LOAD_FACTOR.robinhood;
  new ChainingMap({ maxLoadFactor: clo });
  new ChainingMap({ maxLoadFactor: chi });
  new RobinHoodMap({ maxLoadFactor: rlo });
  new RobinHoodMap({ maxLoadFactor: rhi });
  assert.throws(() => new ChainingMap({ maxLoadFactor: clo - 1e-9 }), RangeError);
  assert.throws(() => new ChainingMap({ maxLoadFactor: chi + 1e-9 }), RangeError);
  assert.throws(() => new RobinHoodMap({ maxLoadFactor: rlo - 1e-9 }), RangeError);
  assert.throws(() => new RobinHoodMap({ maxLoadFactor: rhi + 1e-9 }), RangeError);
});

/** Well-formed snapshots whose settings the format allows but the core refuses. */
function outOfRangeStates(): Array<[string, EncodableState]> {
  const ch = new ChainingMap<unknown>();
  for (let i = 0; i < 20; i++) ch.set(`K${i}`, i);
  const rh = new RobinHoodMap<unknown>();
  for (let i = 0; i < 20; i++) rh.set(`K${i}`, i);
  const ad = new AdaptiveMap<unknown>();
  for (let i = 0; i < 20; i++) ad.set(`K${i}`, i);
  const a = ad.exportState();
  return [
    ["chaining lf 64", { ...ch.exportState(), maxLoadFactor: 64 }],
    ["robinhood lf 0.05", { ...rh.exportState(), maxLoadFactor: 0.05 }],
    [
      "adaptive maxLfChaining 100",
      {
        ...a,
        policy: { ...a.policy, maxLfChaining: 100 } as unknown as Record<string, number | string>,
      },
    ],
  ];
}

Deno.test("verify-snapshot reports a load factor the core refuses as exit 3 and --repair rebuilds it", async () => {
  const dir = tempDir();
  try {
    for (const [name, state] of outOfRangeStates()) {
      const file = `${dir}/lf.adh`;
      const out = `${dir}/r.adh`;
      await Deno.remove(out).catch(() => {});
      Deno.writeFileSync(file, snapshotBytes(state));
      let r = await runCli(["verify-snapshot", "--in", file]);
      assert.equal(r.code, 3, `${name}: ${r.stderr}`);
      assert.equal(r.envelope?.error, "Invariant");
      assert.match(String(r.envelope?.detail), /outside|must be/, name);
      r = await runCli(["--json", "verify-snapshot", "--in", file, "--repair", "--out", out]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const data = successData(r.stdout, "verify-snapshot");
      assert.equal(data.kept, 20, name);
      assert.equal((data.adjusted as string[]).length, 1, name);
      r = await runCli(["verify-snapshot", "--in", out]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      r = await runCli(["get", "K7", "--snapshot", out]);
      assert.equal(r.stdout, "7\n", name);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("inspect-snapshot describes a load factor the core refuses as broken invariants", async () => {
  const dir = tempDir();
  try {
    for (const [name, state] of outOfRangeStates()) {
      const file = `${dir}/lf.adh`;
      Deno.writeFileSync(file, snapshotBytes(state));
      const r = await runCli(["--json", "inspect-snapshot", "--in", file, "--key", "K3"]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const data = successData(r.stdout, "inspect-snapshot");
      const inv = data.invariants as { ok: boolean; problems: string[] };
      assert.equal(inv.ok, false, name);
      assert.equal(inv.problems.length, 1, name);
      assert.deepEqual(data.lookup, {
        key: "K3",
        found: true,
        matched_key: "K3",
        matched_key_repr: '"K3"',
        value: 3,
      });
      // The stored setting is what the report shows.
      const c = data.configuration as { active: { max_load_factor: number } };
      if (state.kind !== "adaptive") {
        assert.equal(c.active.max_load_factor, state.maxLoadFactor, name);
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("verify-snapshot --repair keeps the intact entry of a key changed in place", async () => {
  const dir = tempDir();
  try {
    const { state, key, value } = robinHoodWithChangedKey();
    Deno.writeFileSync(`${dir}/inv.adh`, snapshotBytes(state));
    let r = await runCli([
      "verify-snapshot",
      "--in",
      `${dir}/inv.adh`,
      "--repair",
      "--out",
      `${dir}/rep.adh`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(dropped 1\)/);
    r = await runCli(["get", key, "--snapshot", `${dir}/rep.adh`]);
    assert.equal(r.stdout, `${value}\n`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("rebuildFromState() gives back a sound Robin Hood table as it was, its entries listed in any order", () => {
  const m = new RobinHoodMap<number>({ initialCapacity: 64 });
  for (let i = 0; i < 40; i++) m.set(`K${i}`, i);
  const state = m.exportState();
  const shuffled = [...state.slots.keys()].reverse();
  const listed: RobinHoodState = {
    ...state,
    slots: Int32Array.from(shuffled, (i) => state.slots[i]!),
    keys: shuffled.map((i) => state.keys[i]!),
    values: shuffled.map((i) => state.values[i]),
  };
  for (const s of [state, listed]) {
    const { map, dropped } = rebuildFromState(s);
    assert.equal(dropped, 0);
    assert.deepEqual((map as RobinHoodMap<number>).exportState(), state);
  }
});

Deno.test("rebuildFromState() keeps the initial size of the state, so the rebuilt map can shrink", () => {
  const maps = [
    new RobinHoodMap<number>({ initialCapacity: 8 }),
    new RobinHoodMap<number>({ initialCapacity: 8, deletion: "tombstone" }),
    new ChainingMap<number>({ initialBuckets: 8 }),
  ];
  for (const m of maps) {
    for (let i = 0; i < 1000; i++) m.set(i, i);
    for (let i = 10; i < 1000; i++) m.delete(i);
    const state = m.exportState();
    const { map } = rebuildFromState(state);
    const rebuilt = map as typeof m;
    assert.equal(rebuilt.stats().capacity, m.stats().capacity, "the capacity is kept");
    const initial = (s: typeof state) =>
      s.kind === "chaining" ? s.initialBuckets : s.initialCapacity;
    assert.equal(initial(rebuilt.exportState()), 8, `${state.kind}: initial size`);
    m.compact();
    rebuilt.compact();
    assert.equal(rebuilt.stats().capacity, m.stats().capacity, `${state.kind}: compact() shrinks`);
    m.clear();
    rebuilt.clear();
    assert.equal(rebuilt.stats().capacity, 8, `${state.kind}: clear() returns to 8`);
  }
  // A state that does not give it (a snapshot's) takes the class's default, as fromState() does.
  const big = new RobinHoodMap<number>({ initialCapacity: 1024 });
  big.set(1, 1);
  const { initialCapacity: _, ...withoutInitial } = big.exportState();
  const rebuilt = rebuildFromState(withoutInitial).map as RobinHoodMap<number>;
  assert.equal(rebuilt.stats().capacity, 1024);
  assert.equal(rebuilt.exportState().initialCapacity, 64);
});
