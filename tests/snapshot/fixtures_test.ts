import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { decodeSnapshot, encodeSnapshot, HEADER_SIZE } from "../../src/snapshot/mod.ts";

const dir = new URL("../fixtures/snapshots/", import.meta.url);

interface Expected {
  file: string;
  compressed: boolean;
  keyed: boolean;
  key: string | null;
  kind: string;
  backend: string;
  migrating: boolean;
  capacity: number;
  size: number;
  tombstones: number;
  entries: Array<[unknown, unknown]>;
}

function sorted(entries: Array<[unknown, unknown]>): Array<[unknown, unknown]> {
  const repr = (k: unknown) => `${typeof k}:${String(k)}`;
  return [...entries].sort((a, b) => repr(a[0]) < repr(b[0]) ? -1 : 1);
}

const expected: { format_version: number; fixtures: Expected[] } = JSON.parse(
  await Deno.readTextFile(new URL("expected.json", dir)),
);

Deno.test("decodeSnapshot() reads every committed test vector as its expected contents", async () => {
  assert.equal(expected.format_version, 2);
  assert.equal(expected.fixtures.length, 5);
  for (const e of expected.fixtures) {
    const bytes = await Deno.readFile(new URL(e.file, dir));
    const d = decodeSnapshot(bytes, { key: e.key });
    assert.equal(d.header.version, 2, e.file);
    assert.equal(d.header.compressed, e.compressed, e.file);
    assert.equal(d.header.keyed, e.keyed, e.file);
    assert.equal(d.kind, e.kind, e.file);
    assert.equal(d.map.backend, e.backend, e.file);
    assert.equal(d.map.size, e.size, e.file);
    assert.equal(d.map.stats().capacity, e.capacity, e.file);
    assert.equal(d.map.stats().tombstones, e.tombstones, e.file);
    assert.equal(d.configuration.target !== null, e.migrating, e.file);
    // Chaining iterates in slab order, which a restore rebuilds bucket by bucket.
    assert.deepEqual(sorted([...d.map.entries()]), sorted(e.entries), e.file);
    if (e.kind === "robinhood") assert.deepEqual([...d.map.entries()], e.entries, e.file);
    for (const [k, v] of e.entries) assert.deepEqual(d.map.get(k as string | number), v, e.file);
  }
});

Deno.test("encodeSnapshot() reproduces the committed test vectors byte for byte", async () => {
  for (const e of expected.fixtures) {
    const committed = await Deno.readFile(new URL(e.file, dir));
    const { map } = decodeSnapshot(committed, { key: e.key });
    const fresh = encodeSnapshot(map, { compress: e.compressed, key: e.key });
    if (!e.compressed) {
      assert.deepEqual(fresh, committed, `${e.file} drifted`);
      continue;
    }
    // gzip bytes may differ between zlib builds; the header fields and the payload may not.
    assert.deepEqual(fresh.subarray(0, 12), committed.subarray(0, 12), e.file);
    const payload = (b: Uint8Array) => new Uint8Array(gunzipSync(b.subarray(HEADER_SIZE + 64)));
    assert.deepEqual(payload(fresh), payload(committed), `${e.file} payload drifted`);
  }
});

Deno.test("decodeSnapshot() of the keyed test vector needs its key", async () => {
  const bytes = await Deno.readFile(new URL("robinhood_keyed.adhsnap", dir));
  assert.throws(() => decodeSnapshot(bytes, { key: null }), /keyed/);
  assert.throws(() => decodeSnapshot(bytes, { key: "wrong" }), /Checksum mismatch/);
});
