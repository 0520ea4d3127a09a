/**
 * Test helper, run as a subprocess: saves a Robin Hood map of `Deno.args[0]` entries that share
 * one value of 1,000 bytes (so the map is small and its payload large) to the file named by
 * `Deno.args[1]`, and prints how far saving raised the process's peak resident memory (Linux
 * `VmHWM`), in bytes.
 *
 * @module
 */

import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { saveSnapshot } from "../../src/snapshot/mod.ts";
import { peakBytes } from "../_peak.ts";

const map = new RobinHoodMap<unknown>();
const value = "v".repeat(1000);
for (let i = 0; i < Number(Deno.args[0]); i++) map.set(`K${i}`, value);
const before = peakBytes();
const info = await saveSnapshot(Deno.args[1]!, map, { key: null });
const after = peakBytes();
console.log(JSON.stringify({ payload: info.payloadBytes, rise: after - before }));
