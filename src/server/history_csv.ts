/**
 * The timeline CSV of `/api/metrics/history.csv`: one row per tick, flat numeric columns.
 *
 * @module
 */

import type { MetricsTick } from "../contracts/metrics.ts";
import { csvField } from "../format.ts";
import { lazyBody, type LazyBodyOptions } from "./lazy_body.ts";

/** Columns of the timeline CSV, in order. */
export const HISTORY_CSV_COLUMNS = [
  "t",
  "backend",
  "ops",
  "puts",
  "gets",
  "dels",
  "ops_per_second",
  "load_factor",
  "max_group_len",
  "avg_probe_estimate",
  "tombstone_ratio",
  "migrations",
  "compactions",
  "size",
  "capacity",
  "p50_ms",
  "p90_ms",
  "p99_ms",
  "alerts",
] as const;

/**
 * Renders ticks as CSV with a header row and CRLF-free `\n` line ends, made as the client reads
 * it (see {@linkcode lazyBody}).
 */
export function historyCsv(
  ticks: readonly MetricsTick[],
  options?: LazyBodyOptions,
): ReadableStream<Uint8Array> {
  return lazyBody(
    `${HISTORY_CSV_COLUMNS.join(",")}\n`,
    ticks.length,
    (i) => {
      const t = ticks[i]!;
      return [
        t.t,
        t.backend,
        t.ops,
        t.ops_by_type.put,
        t.ops_by_type.get,
        t.ops_by_type.del,
        t.ops_per_second,
        t.load_factor,
        t.max_group_len,
        t.avg_probe_estimate,
        t.tombstone_ratio,
        t.migrations,
        t.compactions,
        t.size,
        t.capacity,
        t.latency_ms.overall.p50,
        t.latency_ms.overall.p90,
        t.latency_ms.overall.p99,
        t.alerts.length,
      ].map(csvField).join(",") + "\n";
    },
    "",
    options,
  );
}
