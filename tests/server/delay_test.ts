import assert from "node:assert/strict";
import { createApp } from "../../src/server/app.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { JobService } from "../../src/server/jobs.ts";
import { SnapshotPool } from "../../src/server/snapshot_pool.ts";
import { followSource } from "../../src/server/source.ts";
import { checkDelay, MAX_DELAY_MS } from "../../src/server/delay.ts";

Deno.test("checkDelay() takes what timers keep and quotes anything else", () => {
  assert.equal(checkDelay("x", 1), 1);
  assert.equal(checkDelay("x", MAX_DELAY_MS), MAX_DELAY_MS);
  assert.equal(checkDelay("x", 0, 0), 0);
  for (const bad of [0, -1, NaN, MAX_DELAY_MS + 1, Infinity]) {
    assert.throws(() => checkDelay("keepAliveMs", bad), {
      name: "RangeError",
      message: `keepAliveMs must be 1-2147483647 ms, got ${bad}`,
    });
  }
});

Deno.test("the server's timer options refuse delays a timer would cut to 1 ms", async () => {
  // A month's keep-alive sent 463 keep-alive comments a second: setInterval fires a delay past
  // 2^31 - 1 ms after 1 ms.
  const month = 30 * 24 * 3600 * 1000;
  assert.throws(() => createApp({ hub: new MetricsHub(), keepAliveMs: month }), RangeError);
  assert.throws(() => createApp({ hub: new MetricsHub(), keepAliveMs: 0 }), RangeError);
  assert.throws(() => new SnapshotPool({ idleMs: month }), RangeError);
  await assert.rejects(
    JobService.open({ root: "unused", inputDir: ".", killAfterMs: month }),
    RangeError,
  );
  await assert.rejects(
    followSource("unused.ndjson", new MetricsHub(), { pollMs: month }),
    RangeError,
  );
});
