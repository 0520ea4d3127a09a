import assert from "node:assert/strict";
import { firstRows } from "../../src/cli/commands/demo.ts";
import type { OpBatch } from "../../src/workload/csv_reader.ts";

Deno.test("firstRows() stops at the batch that reaches the row count and closes the source", async () => {
  let made = 0;
  let closed = false;
  async function* source(): AsyncGenerator<OpBatch> {
    try {
      for (let i = 0; i < 10; i++) {
        made++;
        yield { length: 3, ops: new Uint8Array(3), keys: ["a", "b", "c"], values: ["", "", ""] };
      }
    } finally {
      closed = true;
    }
  }
  let rows = 0;
  for await (const batch of firstRows(source(), 7)) rows += batch.length;
  assert.equal(rows, 9);
  assert.equal(made, 3);
  assert.equal(closed, true);
});
