/**
 * Test helper, run as a subprocess: unpacks the snapshot named by the first argument and
 * prints how far unpacking raised the process's peak resident memory (Linux `VmHWM`), in bytes.
 *
 * @module
 */

import { unpackSnapshot } from "../../src/snapshot/format.ts";
import { peakBytes } from "../_peak.ts";

const bytes = Deno.readFileSync(Deno.args[0]!);
const before = peakBytes();
const { payload } = unpackSnapshot(bytes, { key: null });
const after = peakBytes();
console.log(JSON.stringify({ payload: payload.length, rise: after - before }));
