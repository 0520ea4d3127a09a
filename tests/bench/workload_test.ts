import assert from "node:assert/strict";
import { RobinHoodMap } from "../../mod.ts";
import {
  freshKeys,
  makeWorkload,
  replay,
  replayCopy,
  type Workload,
} from "../../bench/workload.ts";

Deno.test("replayCopy() returns a separate loop that computes what replay() computes", () => {
  const full = makeWorkload(1.1);
  const w: Workload = {
    ops: full.ops.subarray(0, 20_000),
    keyIds: full.keyIds.subarray(0, 20_000),
  };
  const keys = freshKeys(full).slice(0, 20_000);
  const copy = replayCopy();
  assert.notEqual(copy, replay);
  const a = new Map<string, number>();
  const b = new RobinHoodMap<number>();
  const sum = replay(a, w, keys);
  assert.ok(sum > 0);
  assert.equal(copy(b, w, keys), sum);
  assert.deepEqual(new Map(b), a);
});
