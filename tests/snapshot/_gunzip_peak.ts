/**
 * Test helper, run as a subprocess: unpacks the snapshot named by the first argument and
 * prints how far unpacking raised the process's peak resident memory (Linux `VmHWM`), in bytes.
 *
 * @module
 */

import { unpackSnapshot } from "../../src/snapshot/format.ts";

function peakBytes(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (kb === null) throw new Error("no VmHWM in /proc/self/status");
  return Number(kb[1]) * 1024;
}

const bytes = Deno.readFileSync(Deno.args[0]!);
const before = peakBytes();
const { payload } = unpackSnapshot(bytes, { key: null });
const after = peakBytes();
console.log(JSON.stringify({ payload: payload.length, rise: after - before }));
