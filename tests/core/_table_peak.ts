/**
 * Test helper, run as a subprocess: makes a flat Robin Hood table of 2^22 slots, writes one
 * entry, and prints how far that raised the process's peak resident memory (Linux `VmHWM`) and
 * the bytes of the table's key-and-value array, in bytes.
 *
 * @module
 */

import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";
import { peakBytes } from "../_peak.ts";

const slots = 2 ** 22;
const before = peakBytes();
const map = new RobinHoodMap<number>({ initialCapacity: slots });
map.set("K1", 1);
const after = peakBytes();
console.log(JSON.stringify({ capacity: map.capacity, array: 2 * slots * 8, rise: after - before }));
