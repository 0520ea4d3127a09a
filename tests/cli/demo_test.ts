import assert from "node:assert/strict";
import { firstRows } from "../../src/replay/warm_up.ts";
import type { OpBatch } from "../../src/workload/csv_reader.ts";

/** Ten batches of three rows; `state` records how many were made and whether it was closed. */
function source(state: { made: number; closed: boolean }): AsyncGenerator<OpBatch> {
  return (async function* () {
    try {
      for (let i = 0; i < 10; i++) {
        state.made++;
        yield { length: 3, ops: new Uint8Array(3), keys: ["a", "b", "c"], values: ["", "", ""] };
      }
    } finally {
      state.closed = true;
    }
  })();
}

async function count(batches: AsyncIterable<OpBatch>): Promise<number[]> {
  const lengths: number[] = [];
  for await (const batch of batches) lengths.push(batch.length);
  return lengths;
}

Deno.test("firstRows() yields exactly the first rows and closes the source there", async () => {
  const state = { made: 0, closed: false };
  assert.deepEqual(await count(firstRows(source(state), 7)), [3, 3, 1]);
  assert.deepEqual(state, { made: 3, closed: true });

  const whole = { made: 0, closed: false };
  assert.equal((await count(firstRows(source(whole), 100))).length, 10);
  assert.deepEqual(whole, { made: 10, closed: true });

  const none = { made: 0, closed: false };
  assert.deepEqual(await count(firstRows(source(none), 0)), []);
  assert.equal(none.made, 0);
});
