import assert from "node:assert/strict";
import fc from "fast-check";
import { ChainingMap } from "../../src/core/chaining_map.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import type { AnyMap } from "../../src/core/factory.ts";
import { ProbeTraceSchema } from "../../src/contracts/probe_trace.ts";
import { parseSeed, traceText } from "../../src/cli/commands/probe_visualize.ts";
import { BadInputError } from "../../src/errors.ts";

Deno.test("ProbeTraceSchema accepts every trace the maps produce and rejects altered ones", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 120 }),
      fc.integer({ min: 0, max: 200 }),
      fc.constantFrom("chaining", "backshift", "tombstone", "adaptive"),
      (keys, probe, kind) => {
        const map: AnyMap<unknown> = kind === "chaining"
          ? new ChainingMap<unknown>({ initialBuckets: 8 })
          : kind === "adaptive"
          ? new AdaptiveMap<unknown>({ incrementalBatch: 2 })
          : new RobinHoodMap<unknown>({ initialCapacity: 8, deletion: kind });
        for (const k of keys) {
          if (k % 5 === 0) map.delete(`K${k - 1}`);
          else map.set(`K${k}`, k);
        }
        for (const t of [map.traceGet(`K${probe}`), map.tracePut(`K${probe}`, 1)]) {
          const parsed = ProbeTraceSchema.parse(t);
          assert.equal(parsed.found, map.has(`K${probe}`));
          assert.ok(traceText(t, `K${probe}`).startsWith(`Probe visualization [${t.backend}]`));
          // Outputs are open (docs/contracts.md): readers ignore fields a later version adds.
          assert.equal(ProbeTraceSchema.safeParse({ ...t, extra: 1 }).success, true);
          assert.equal(
            ProbeTraceSchema.safeParse({ ...t, schema: "probe_trace.v2" }).success,
            false,
          );
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("traceText() renders every Robin Hood step with its action", () => {
  const m = new RobinHoodMap<unknown>({ initialCapacity: 8 });
  for (let i = 0; i < 6; i++) m.set(`K${i}`, i);
  const t = m.traceGet("K5");
  const lines = traceText(t, "K5").split("\n");
  assert.equal(lines[0], "Probe visualization [robinhood] GET key='K5'");
  assert.equal(lines[2], "Steps:");
  assert.equal(lines.length, 3 + t.path.length + 2);
  assert.match(lines.at(-3)!, /key="K5" ideal=\d+ dist=\d+ carried=\d+ match -> match$/);
  // Under steps that show entries, how to read dist and carried.
  assert.match(
    lines.at(-2)!,
    /^\(dist: how far the entry there sits from its ideal slot; carried: /,
  );
  assert.equal(lines.at(-1), "Result: match (found: true)");
  // A probe that meets no entry has nothing to explain.
  const empty = traceText(new RobinHoodMap<unknown>().traceGet("x"), "x");
  assert.doesNotMatch(empty, /carried: how far/);
});

Deno.test("parseSeed() splits KEY=VALUE at the first = and refuses the rest", () => {
  assert.deepEqual(parseSeed("a=b=c"), ["a", "b=c"]);
  assert.deepEqual(parseSeed("k="), ["k", ""]);
  assert.throws(() => parseSeed("=v"), BadInputError);
  assert.throws(() => parseSeed("kv"), BadInputError);
});
