import assert from "node:assert/strict";
import type { MetricsTick } from "../../src/contracts/metrics.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { replayTicks } from "./_fixtures.ts";

const { ticks } = await replayTicks();

function withEvents(base: MetricsTick, n: number, ops: number): MetricsTick {
  const t = structuredClone(base);
  t.ops = ops;
  t.events = Array.from(
    { length: n },
    (_, i) => ({ type: "resize", t: i, reason: `r${ops}.${i}` }),
  );
  return t;
}

Deno.test("MetricsHub.publish() keeps a bounded history, newest last", () => {
  const hub = new MetricsHub({ historyLimit: 3 });
  for (let i = 0; i < 1000; i++) hub.publish({ ...ticks[0]!, ops: i });
  assert.equal(hub.received, 1000);
  assert.deepEqual(hub.history().map((t) => t.ops), [997, 998, 999]);
  assert.deepEqual(hub.history(2).map((t) => t.ops), [998, 999]);
  assert.equal(hub.latest()?.ops, 999);
  // The internal buffer is trimmed in batches but never beyond twice the limit.
  assert.ok(hub.history().length <= 3);
});

Deno.test("MetricsHub.publish() keeps a bounded event buffer without duplicates", () => {
  const hub = new MetricsHub({ eventLimit: 4 });
  for (let i = 0; i < 10; i++) hub.publish(withEvents(ticks[0]!, 2, i));
  const evs = hub.events();
  assert.equal(evs.length, 4);
  assert.deepEqual(evs.map((e) => e.seq), [17, 18, 19, 20]);
  assert.deepEqual(evs.map((e) => e.reason), ["r8.0", "r8.1", "r9.0", "r9.1"]);
  assert.deepEqual(hub.events(1).map((e) => e.seq), [20]);
});

Deno.test("MetricsHub.subscribe() delivers ticks until unsubscribed", () => {
  const hub = new MetricsHub();
  const got: number[] = [];
  const off = hub.subscribe((t) => got.push(t.ops));
  assert.equal(hub.subscriberCount, 1);
  hub.publish(ticks[0]!);
  hub.publish(ticks[1]!);
  off();
  hub.publish(ticks[2]!);
  assert.deepEqual(got, [ticks[0]!.ops, ticks[1]!.ops]);
  assert.equal(hub.subscriberCount, 0);
});

Deno.test("MetricsHub.subscribe() drops a subscriber that throws and keeps serving others", () => {
  const hub = new MetricsHub();
  let calls = 0;
  hub.subscribe(() => {
    throw new Error("broken client");
  });
  hub.subscribe(() => calls++);
  hub.publish(ticks[0]!);
  hub.publish(ticks[1]!);
  assert.equal(calls, 2);
  assert.equal(hub.subscriberCount, 1);
});

Deno.test("MetricsHub() refuses a bad history limit", () => {
  assert.throws(() => new MetricsHub({ historyLimit: 0 }), RangeError);
  assert.throws(() => new MetricsHub({ historyLimit: 1.5 }), /historyLimit must be an integer/);
});
