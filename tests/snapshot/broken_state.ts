/**
 * A well-formed snapshot state whose table breaks the Robin Hood invariants, for the
 * Invariant (exit 3) and repair tests.
 *
 * @module
 */

import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import type { RobinHoodState } from "../../src/core/types.ts";

/** A Robin Hood state whose entry sits at the wrong distance: well-formed, but broken. */
export function brokenRobinHoodState(): RobinHoodState {
  const m = new RobinHoodMap<unknown>({ initialCapacity: 16 });
  for (let i = 0; i < 6; i++) m.set(`K${i}`, i);
  const s = m.exportState();
  // Move the first entry one slot further than where it was put (into an empty slot).
  const used = new Set(s.slots);
  const from = s.slots[0]!;
  let to = (from + 1) % 16;
  while (used.has(to)) to = (to + 1) % 16;
  const slots = Array.from(s.slots);
  slots[0] = to;
  const order = slots.map((slot, i) => [slot, i] as const).sort((a, b) => a[0] - b[0]);
  return {
    ...s,
    slots: Int32Array.from(order.map(([slot]) => slot)),
    keys: order.map(([, i]) => s.keys[i]!),
    values: order.map(([, i]) => s.values[i]),
  };
}
