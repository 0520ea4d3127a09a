/**
 * Builds the maps behind the committed snapshot test vectors in tests/fixtures/snapshots/.
 * Run `deno run -A tests/snapshot/fixture_maps.ts && deno fmt tests/fixtures` to (re)write the
 * files and expected.json;
 * fixtures_test.ts checks that the committed files still decode to the expected contents and
 * that encoding the same maps gives the same bytes, so any format drift fails a test.
 *
 * @module
 */

import { ChainingMap } from "../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import type { AnyMap } from "../../src/core/factory.ts";
import { encodeSnapshot } from "../../src/snapshot/mod.ts";

/** The key used for the keyed fixture. */
export const FIXTURE_KEY = "adhash-fixture-key";

/** One fixture: a file name, how it is written and the map it holds. */
export interface Fixture {
  file: string;
  compress: boolean;
  key: string | null;
  map: AnyMap<unknown>;
}

/** Values of every supported shape. */
const VALUES: unknown[] = [
  "plain",
  "héllo ✓ 𝄞",
  "",
  0,
  -1,
  2147483647,
  -2147483648,
  2 ** 40,
  3.25,
  -0.5,
  1e-300,
  true,
  false,
  null,
  [],
  [1, "two", [3, null], { four: 4 }],
  // JSON.parse makes "__proto__" an own property, which the format must keep as data.
  JSON.parse('{"a":1,"nested":{"b":[true,false],"c":"x"},"__proto__":{"polluted":true}}'),
];

/** The fixture maps (deterministic). */
export function fixtureMaps(): Fixture[] {
  const chaining = new ChainingMap<unknown>({ initialBuckets: 8 });
  VALUES.forEach((v, i) => chaining.set(`k${i}`, v));
  chaining.set(42, "number key");
  chaining.set(-7, "negative key");
  chaining.set(1.5, "float key");
  chaining.set("ключ", "unicode key");

  const tomb = new RobinHoodMap<unknown>({ initialCapacity: 32, deletion: "tombstone" });
  for (let i = 0; i < 20; i++) tomb.set(`K${i}`, i * 10);
  for (let i = 0; i < 20; i += 3) tomb.delete(`K${i}`);

  const backshift = new RobinHoodMap<unknown>({ initialCapacity: 16 });
  for (let i = 0; i < 12; i++) backshift.set(i, `v${i}`);
  backshift.delete(5);

  const migrating = new AdaptiveMap<unknown>({
    incrementalBatch: 2,
    initialBuckets: 2,
    groupsPerBucket: 4,
  });
  let i = 0;
  while (!migrating.migrating) migrating.set(`M${i}`, i++);
  for (let j = 0; j < 4; j++) migrating.set(`M${i}`, i++);

  const keyed = new RobinHoodMap<unknown>({ initialCapacity: 8 });
  keyed.set("secret", { level: 3 });
  keyed.set("public", [1, 2]);

  return [
    { file: "chaining_values.adhsnap", compress: false, key: null, map: chaining },
    { file: "robinhood_tombstones.adhsnap", compress: false, key: null, map: tomb },
    { file: "robinhood_backshift.adhsnap.gz", compress: true, key: null, map: backshift },
    { file: "adaptive_migrating.adhsnap", compress: false, key: null, map: migrating },
    { file: "robinhood_keyed.adhsnap", compress: false, key: FIXTURE_KEY, map: keyed },
  ];
}

/** What a fixture must decode to. */
export function expectedOf(f: Fixture): Record<string, unknown> {
  const s = f.map.stats();
  const state = f.map.exportState();
  return {
    file: f.file,
    compressed: f.compress,
    keyed: f.key !== null,
    key: f.key,
    kind: state.kind,
    backend: s.backend,
    migrating: state.kind === "adaptive" && state.target !== null,
    capacity: s.capacity,
    size: f.map.size,
    tombstones: s.tombstones,
    entries: [...f.map.entries()],
  };
}

if (import.meta.main) {
  const dir = new URL("../fixtures/snapshots/", import.meta.url);
  const expected = [];
  for (const f of fixtureMaps()) {
    const bytes = encodeSnapshot(f.map, { compress: f.compress, key: f.key });
    await Deno.writeFile(new URL(f.file, dir), bytes);
    expected.push(expectedOf(f));
  }
  await Deno.writeTextFile(
    new URL("expected.json", dir),
    `${JSON.stringify({ format_version: 2, fixtures: expected }, null, 2)}\n`,
  );
  console.log(`wrote ${expected.length} fixtures to ${dir.pathname}`);
}
