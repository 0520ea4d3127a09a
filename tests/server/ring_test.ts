import assert from "node:assert/strict";
import fc from "fast-check";
import { Ring } from "../../src/server/ring.ts";

Deno.test("Ring keeps exactly the last capacity items, in order, for any pushes", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 8 }),
    fc.array(fc.integer(), { maxLength: 40 }),
    fc.integer({ min: 0, max: 12 }),
    (capacity, pushed, count) => {
      const ring = new Ring<number>(capacity);
      for (const x of pushed) ring.push(x);
      const kept = pushed.slice(-capacity);
      assert.equal(ring.size, kept.length);
      assert.deepEqual(ring.last(), kept);
      assert.deepEqual(ring.last(count), count === 0 ? [] : kept.slice(-count));
      assert.equal(ring.newest(), kept.at(-1));
    },
  ));
});
