/**
 * The body of `/api/metrics/history` (`api.history.v1`), made as the client reads it.
 *
 * @module
 */

import type { MetricsTick } from "../contracts/metrics.ts";
import { lazyBody, type LazyBodyOptions } from "./lazy_body.ts";

/** `{"schema":"api.history.v1","limit":L,"count":N,"ticks":[...]}`, made as it is read. */
export function historyJson(
  limit: number,
  ticks: readonly MetricsTick[],
  options?: LazyBodyOptions,
): ReadableStream<Uint8Array> {
  return lazyBody(
    `{"schema":"api.history.v1","limit":${limit},"count":${ticks.length},"ticks":[`,
    ticks.length,
    (i) => (i === 0 ? "" : ",") + JSON.stringify(ticks[i]),
    "]}",
    options,
  );
}
