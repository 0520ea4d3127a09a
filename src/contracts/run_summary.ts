/**
 * The `run-csv` summary (`--json-summary-out`, and the data of the `--json` success line):
 * the original's fields plus the map's final statistics.
 *
 * @module
 */

import { z } from "zod";
import { OpLatency } from "./metrics.ts";

/** The map's statistics when the replay ended. */
export const FinalStats = z.object({
  backend: z.string(),
  size: z.number().int().nonnegative(),
  capacity: z.number().int().nonnegative(),
  load_factor: z.number().nonnegative(),
  max_group_len: z.number().nonnegative(),
  avg_probe_distance: z.number().nonnegative(),
  tombstones: z.number().int().nonnegative(),
  tombstone_ratio: z.number().min(0).max(1),
  bytes_estimate: z.number().nonnegative().describe("the map's own storage, keys/values excluded"),
});

/** A completed run. */
export const RunSummary = z.object({
  schema: z.literal("run_summary.v1"),
  csv: z.string(),
  mode: z.string(),
  elapsed_seconds: z.number().nonnegative(),
  total_ops: z.number().int().nonnegative(),
  ops_per_second: z.number().nonnegative(),
  ops_by_type: z.object({
    put: z.number().int().nonnegative(),
    get: z.number().int().nonnegative(),
    del: z.number().int().nonnegative(),
  }),
  final_backend: z.string(),
  migrations_triggered: z.number().int().nonnegative(),
  compactions_triggered: z.number().int().nonnegative(),
  latency_ms: OpLatency,
  latency_sample: z.object({
    reservoir_k_overall: z.number().int().nonnegative(),
    reservoir_k_each: z.number().int().nonnegative(),
    seen_overall: z.number().int().nonnegative(),
    every_n_ops: z.number().int().nonnegative(),
  }),
  latency_histogram_preset: z.enum(["default", "micro"]),
  final_stats: FinalStats,
  bytes_per_entry: z.number().nonnegative().describe(
    "final_stats.bytes_estimate / size (0 when empty)",
  ),
  ticks: z.number().int().nonnegative(),
  alerts: z.number().int().nonnegative().describe("watchdog alerts raised"),
  metrics_file: z.string().nullable(),
  snapshot_in: z.string().nullable().optional(),
  snapshot_out: z.string().nullable().optional(),
}).loose().meta({ id: "run_summary.v1", title: "run-csv summary" });

/** A parsed run summary. */
export type RunSummary = z.infer<typeof RunSummary>;
