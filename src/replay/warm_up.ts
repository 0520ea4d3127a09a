/**
 * Warming up before measured replays that share one process (`demo`, `ab-compare`).
 *
 * @module
 */

import type { AnyMap } from "../core/factory.ts";
import { type OpBatch, readWorkload, type ReadWorkloadOptions } from "../workload/csv_reader.ts";
import { replay } from "./replay.ts";

/**
 * The first `rows` rows of `batches` (the last batch cut short); closes the source then. The
 * batches are the reader's own objects, reused: consume each before the next.
 */
export async function* firstRows(
  batches: AsyncIterable<OpBatch>,
  rows: number,
): AsyncGenerator<OpBatch> {
  if (rows <= 0) return;
  let n = 0;
  for await (const batch of batches) {
    if (n + batch.length > rows) batch.length = rows - n;
    yield batch;
    n += batch.length;
    if (n >= rows) return;
  }
}

/**
 * Replays the first `rows` rows of `csv` on a map from each of `maps` and discards the results.
 * Measured runs in one process share one compiled parser and replay loop: without this, the
 * configuration run first paid for compiling them alone (docs/performance.md, "Replay path").
 */
export async function warmUp(
  csv: string,
  rows: number,
  maps: ReadonlyArray<() => AnyMap<unknown>>,
  read: ReadWorkloadOptions = {},
): Promise<void> {
  for (const make of maps) {
    await replay(make(), firstRows(readWorkload(csv, read), rows), {
      onTick: (t) => void JSON.stringify(t), // as the measured runs serialise theirs
    });
  }
}
