import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeState,
  encodeState,
  MalformedPayloadError,
  PayloadReader,
  PayloadWriter,
  readValue,
  TAG,
  writeValue,
} from "../../src/snapshot/codec.ts";
import type { ChainingState, RobinHoodState } from "../../src/core/types.ts";

function roundTrip(value: unknown): unknown {
  const w = new PayloadWriter(8);
  writeValue(w, value);
  const r = new PayloadReader(w.bytes());
  const out = readValue(r);
  assert.equal(r.remaining, 0);
  return out;
}

const LIMITS = { maxCapacity: 1 << 16 };

Deno.test("writeValue() and readValue() round-trip any JSON value", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      assert.deepEqual(roundTrip(v), v);
    }),
    { numRuns: 500 },
  );
});

Deno.test("writeValue() and readValue() keep every number exactly", () => {
  fc.assert(
    fc.property(fc.double(), (n) => {
      assert.ok(Object.is(roundTrip(n), n));
    }),
    { numRuns: 1000 },
  );
  for (const n of [0, -0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), 2 ** 53, 0.1]) {
    assert.ok(Object.is(roundTrip(n), n), String(n));
  }
});

Deno.test("writeValue() and readValue() keep any well-formed string", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 80 }), (s) => {
      assert.equal(roundTrip(s), s);
    }),
    { numRuns: 500 },
  );
});

Deno.test("writeValue() throws TypeError naming unsupported types", () => {
  class Point {
    x = 1;
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /type undefined/],
    [10n, /type bigint/],
    [Symbol("s"), /type symbol/],
    [() => 1, /type function/],
    [new Date(0), /type Date/],
    [new Map(), /type Map/],
    [new Point(), /type Point/],
    [new Uint8Array(2), /type Uint8Array/],
    [[1, undefined], /type undefined/],
    // deno-lint-ignore no-sparse-arrays
    [[1, , 3], /sparse array/],
    [cyclic, /nested deeper than 256 levels \(or cyclic\)/],
    ["\ud800", /lone surrogates/],
  ];
  for (const [v, re] of cases) {
    assert.throws(() => writeValue(new PayloadWriter(), v), (e: unknown) => {
      assert.ok(e instanceof TypeError, String(e));
      assert.match(e.message, re);
      return true;
    });
  }
});

Deno.test("writeValue() stores an array's items and an object's enumerable string keys, as JSON", () => {
  // What docs/snapshot_format.md says a snapshot keeps, and JSON.stringify keeps too.
  const array = Object.assign([1, 2], { note: "x" });
  const object = Object.defineProperty({ a: 1, [Symbol("tag")]: 2 }, "hidden", { value: 3 });
  const back = roundTrip([array, object]);
  assert.deepEqual(back, [[1, 2], { a: 1 }]);
  assert.deepEqual(back, JSON.parse(JSON.stringify([array, object])));
});

Deno.test("readValue() keeps __proto__ as data and never touches prototypes", () => {
  const v = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":1}}');
  const out = roundTrip(v) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), ["__proto__", "constructor"]);
  assert.deepEqual(out["__proto__"], { polluted: true });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

function malformed(bytes: number[], re: RegExp): void {
  assert.throws(() => decodeState(new Uint8Array(bytes), LIMITS), (e: unknown) => {
    assert.ok(e instanceof MalformedPayloadError, String(e));
    assert.match(e.message, re);
    return true;
  });
}

Deno.test("decodeState() rejects malformed payloads with the reason", () => {
  malformed([], /unexpected end of payload reading state kind/);
  malformed([0x09], /invalid state kind 0x9/);
  // chaining, 8 buckets, lf 1.0, count 1000 with no bytes left
  const lf = [0x3f, 0xf0, 0, 0, 0, 0, 0, 0];
  malformed([0x01, 8, ...lf, 0xe8, 0x07], /entry count 1000 exceeds the 0 bytes that remain/);
  malformed([0x01, 6, ...lf, 0], /bucket count 6 is not a power of two/);
  malformed(
    [0x01, 0x80, 0x80, 0x80, 0x40, ...lf, 0],
    /bucket count 134217728 exceeds the limit 65536/,
  );
  malformed([0x01, 8, ...lf, 0, 0xff], /1 trailing bytes/);
  malformed([0x01, 8, ...lf, 1, 0x09, 0x00, 0x00], /invalid key tag 0x9/);
  malformed([0x01, 8, ...lf, 1, TAG.STRING, 2, 0xc3, 0x28, TAG.NULL], /invalid UTF-8 in key/);
  malformed([0x01, 8, ...lf, 1, TAG.INT, 0, 0x0a, 0], /invalid value tag 0xa/);
  malformed([0x01, 8, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0], /max load factor NaN out of range/);
  malformed([0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], /varint too long/);
  malformed([0x01, 0x88, 0x00], /non-canonical varint/);
  // robinhood, capacity 8, lf 0.5, backshift, 1 entry at slot 9
  const half = [0x3f, 0xe0, 0, 0, 0, 0, 0, 0];
  malformed([0x02, 8, ...half, 0, 1, 9, TAG.INT, 0, TAG.NULL, 0], /slot 9 outside capacity 8/);
  malformed([0x02, 8, ...half, 0, 0, 1, 0, 0], /tombstones in a backshift table/);
  malformed([0x02, 8, ...half, 2, 0, 0], /invalid deletion strategy 2/);
  malformed([0x02, 8, ...half, 0, 1, 8, TAG.INT, 0, TAG.NULL, 0], /slot 8 outside capacity 8/);
  malformed([0x02, 8, ...lf, 0, 0, 0], /max load factor 1 must be below 1/);
  // adaptive, no policy fields, 0 migrations and compactions
  malformed([0x03, 2, 1, 0x61, TAG.INT, 0, 1, 0x61, TAG.INT, 0], /duplicate policy field "a"/);
  malformed([0x03, 0, 0, 0, 0x01, 8, ...lf, 0, 2], /invalid target flag 2/);
  malformed(
    [0x03, 0, 0, 0, 0x02, 8, ...half, 0, 0, 1, 0, 0, 0],
    /tombstones in a backshift table that is not migrating/,
  );
  // deeply nested arrays
  const deep = [0x01, 8, ...lf, 1, TAG.INT, 0, ...new Array(300).fill([TAG.ARRAY, 1]).flat(), 0];
  malformed(deep, /nested deeper than 256/);
  malformed(
    [0x01, 8, ...lf, 1, TAG.INT, 0, TAG.OBJECT, 2, 1, 0x61, 0, 1, 0x61, 0],
    /duplicate object key "a"/,
  );
});

Deno.test("decodeState() bounds Robin Hood entries, tombstones and distances by the capacity", () => {
  const table = (entries: number, tombstones: number, distance = 0): RobinHoodState => ({
    kind: "robinhood",
    capacity: 8,
    maxLoadFactor: 0.85,
    deletion: "tombstone",
    slots: Int32Array.from({ length: entries }, (_, i) => i),
    keys: Array.from({ length: entries }, (_, i) => `k${i}`),
    values: new Array(entries).fill(null),
    tombstoneSlots: Int32Array.from({ length: tombstones }, (_, i) => 8 - tombstones + i),
    tombstoneDistances: new Int32Array(tombstones).fill(distance),
  });
  // A full table is well-formed (the map's invariants then refuse it); one more is not.
  assert.deepEqual(decodeState(encodeState(table(8, 0)), LIMITS), table(8, 0));
  assert.deepEqual(decodeState(encodeState(table(5, 3)), LIMITS), table(5, 3));
  malformed(
    Array.from(encodeState(table(5, 4))),
    /5 entries and 4 tombstones exceed capacity 8/,
  );
  assert.deepEqual(decodeState(encodeState(table(0, 1, 7)), LIMITS), table(0, 1, 7));
  malformed(Array.from(encodeState(table(0, 1, 8))), /tombstone distance 8 exceeds capacity 8/);
});

Deno.test("decodeState() never throws anything but MalformedPayloadError on random bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 3 }), (body, kind) => {
      const bytes = new Uint8Array([kind, ...body]);
      try {
        decodeState(bytes, LIMITS);
      } catch (e) {
        assert.ok(e instanceof MalformedPayloadError, String(e));
      }
    }),
    { numRuns: 3000 },
  );
});

Deno.test("encodeState() and decodeState() round-trip a chaining state", () => {
  const state: ChainingState = {
    kind: "chaining",
    bucketCount: 16,
    maxLoadFactor: 1.5,
    keys: ["a", 1, -2.5, "ü"],
    values: [null, [1, { x: "y" }], true, -0],
  };
  const back = decodeState(encodeState(state), LIMITS);
  assert.deepEqual(back, state);
});

Deno.test("encodeState() produces the worked example of docs/snapshot_format.md", () => {
  const state: ChainingState = {
    kind: "chaining",
    bucketCount: 8,
    maxLoadFactor: 1,
    keys: ["a", 7],
    values: [1, [true, null]],
  };
  const hex = Array.from(encodeState(state), (b) => b.toString(16).padStart(2, "0")).join(" ");
  assert.equal(
    hex,
    "01 08 3f f0 00 00 00 00 00 00 02 05 01 61 03 02 03 0e 06 02 02 00",
  );
});
