/**
 * Snapshot save/load of a 1,000,000-entry map (string keys, integer values), checksum verified
 * on load, uncompressed and gzip-compressed.
 *
 * `deno bench --allow-read --allow-write=runs --allow-env bench/snapshot_bench.ts`
 * (or `deno run -A bench/snapshot_bench.ts` for one timed pass of each, printed as a table).
 *
 * @module
 */

import { RobinHoodMap } from "../src/core/robin_hood_map.ts";
import { ChainingMap } from "../src/core/chaining_map.ts";
import { AdaptiveMap } from "../src/core/adaptive_map.ts";
import type { AnyMap } from "../src/core/factory.ts";
import { loadSnapshot, saveSnapshot } from "../src/snapshot/mod.ts";

const N = 1_000_000;

function fill<M extends AnyMap<unknown>>(m: M): M {
  for (let i = 0; i < N; i++) m.set(`K${i}`, i);
  return m;
}

const map = fill(new RobinHoodMap<unknown>());
// Under runs/: `deno task bench` may only write there.
Deno.mkdirSync("runs", { recursive: true });
const dir = Deno.makeTempDirSync({ dir: "runs", prefix: "snapshot_bench_" });
const plain = `${dir}/m.adhsnap`;
const gz = `${dir}/m.adhsnap.gz`;
await saveSnapshot(plain, map, { key: null });
await saveSnapshot(gz, map, { key: null });

if (import.meta.main) {
  const rows: Array<Record<string, unknown>> = [];
  const maps: Array<[string, AnyMap<unknown>]> = [
    ["robinhood", map],
    ["chaining", fill(new ChainingMap<unknown>())],
    ["adaptive", fill(new AdaptiveMap<unknown>())],
  ];
  for (const [kind, m] of maps) {
    if (m instanceof AdaptiveMap) m.finishMigration();
    for (const [label, path] of [["uncompressed", plain], ["gzip", gz]] as const) {
      let t = performance.now();
      const info = await saveSnapshot(path, m, { key: null });
      const save = performance.now() - t;
      t = performance.now();
      const back = await loadSnapshot(path, { key: null });
      const load = performance.now() - t;
      if (back.size !== N || back.get("K123456") !== 123456) throw new Error("bad load");
      rows.push({
        kind,
        label,
        bytes: info.bytes,
        save_ms: Math.round(save),
        load_ms: Math.round(load),
      });
    }
  }
  console.table(rows);
  Deno.removeSync(dir, { recursive: true });
} else {
  Deno.bench("saveSnapshot() 1M entries, uncompressed", { n: 3, warmup: 1 }, async () => {
    await saveSnapshot(plain, map, { key: null });
  });
  Deno.bench("loadSnapshot() 1M entries, uncompressed", { n: 3, warmup: 1 }, async () => {
    await loadSnapshot(plain, { key: null });
  });
  Deno.bench("saveSnapshot() 1M entries, gzip", { n: 3, warmup: 1 }, async () => {
    await saveSnapshot(gz, map, { key: null });
  });
  Deno.bench("loadSnapshot() 1M entries, gzip", { n: 3, warmup: 1 }, async () => {
    await loadSnapshot(gz, { key: null });
  });
  globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
}
