/**
 * `metrics.v1`: one replay tick, one NDJSON line. Frozen: change only by additions.
 *
 * @module
 */

import { z } from "zod";
import { exact } from "./exact.ts";

// Every schema has an explicit type (see exact.ts).
type Num = z.ZodNumber;
type Opt<T extends z.ZodType> = z.ZodOptional<T>;

type PercentilesSchema = z.ZodObject<{ p50: Num; p90: Num; p99: Num }, z.core.$strip>;

/** p50/p90/p99 of a latency sample. */
export const Percentiles: PercentilesSchema = exact<PercentilesSchema>()(
  z.object({
    p50: z.number().nonnegative(),
    p90: z.number().nonnegative(),
    p99: z.number().nonnegative(),
  }).meta({ id: "Percentiles" }),
);

type HistogramBucketSchema = z.ZodObject<
  { le: z.ZodUnion<readonly [Num, z.ZodLiteral<"+Inf">]>; count: Num },
  z.core.$strip
>;

/** One cumulative histogram bucket; the last has `le: "+Inf"`. */
export const HistogramBucket: HistogramBucketSchema = exact<HistogramBucketSchema>()(z.object({
  le: z.union([z.number().positive(), z.literal("+Inf")]),
  count: z.number().int().nonnegative(),
}));

type TickEventSchema = z.ZodObject<
  {
    type: z.ZodString;
    t: Num;
    from: Opt<z.ZodString>;
    to: Opt<z.ZodString>;
    reason: Opt<z.ZodString>;
  },
  z.core.$loose
>;

/** Something that happened since the previous tick. */
export const TickEvent: TickEventSchema = exact<TickEventSchema>()(
  z.object({
    type: z.string().min(1).describe(
      "start | complete (the run), migration_start | switch | compaction | resize (the map), idle | resume",
    ),
    t: z.number().nonnegative().describe("seconds since the run started"),
    from: z.string().optional(),
    to: z.string().optional(),
    reason: z.string().optional(),
  }).loose(),
);

type AlertSchema = z.ZodObject<
  {
    metric: z.ZodString;
    value: Num;
    threshold: Num;
    severity: z.ZodEnum<{ warning: "warning"; critical: "critical" }>;
    backend: z.ZodString;
    message: z.ZodString;
  },
  z.core.$strip
>;

/** A watchdog threshold crossed at this tick. */
export const Alert: AlertSchema = exact<AlertSchema>()(z.object({
  metric: z.string(),
  value: z.number(),
  threshold: z.number(),
  severity: z.enum(["warning", "critical"]),
  backend: z.string(),
  message: z.string(),
}));

type KeyHeatmapSchema = z.ZodObject<
  {
    rows: Num;
    cols: Num;
    matrix: z.ZodArray<z.ZodArray<Num>>;
    max: Num;
    total: Num;
    slot_span: Num;
    original_slots: Num;
  },
  z.core.$strip
>;

/** Density of occupied slots: `matrix[r][c]` counts live entries in that slice of the table. */
export const KeyHeatmap: KeyHeatmapSchema = exact<KeyHeatmapSchema>()(z.object({
  rows: z.number().int().positive(),
  cols: z.number().int().positive(),
  matrix: z.array(z.array(z.number().int().nonnegative())),
  max: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  slot_span: z.number().int().positive().describe("table slots summarised by one cell"),
  original_slots: z.number().int().nonnegative().describe("slots in the table"),
}));

type OpLatencySchema = z.ZodObject<
  {
    overall: PercentilesSchema;
    put: PercentilesSchema;
    get: PercentilesSchema;
    del: PercentilesSchema;
  },
  z.core.$strip
>;

/** p50/p90/p99 overall and per operation. */
export const OpLatency: OpLatencySchema = exact<OpLatencySchema>()(z.object({
  overall: Percentiles,
  put: Percentiles,
  get: Percentiles,
  del: Percentiles,
}));

type MetricsTickSchema = z.ZodObject<
  {
    schema: z.ZodLiteral<"metrics.v1">;
    t: Num;
    backend: z.ZodString;
    ops: Num;
    ops_by_type: z.ZodObject<{ put: Num; get: Num; del: Num }, z.core.$strip>;
    migrations: Num;
    compactions: Num;
    load_factor: Num;
    max_group_len: Num;
    avg_probe_estimate: Num;
    tombstone_ratio: Num;
    probe_hist: z.ZodArray<z.ZodTuple<[Num, Num], null>>;
    key_heatmap: Opt<KeyHeatmapSchema>;
    latency_ms: OpLatencySchema;
    latency_hist_ms: z.ZodRecord<z.ZodString, z.ZodArray<HistogramBucketSchema>>;
    latency_ns: PercentilesSchema;
    events: z.ZodArray<TickEventSchema>;
    alerts: z.ZodArray<AlertSchema>;
    alerts_active: Opt<z.ZodArray<z.ZodString>>;
    size: Opt<Num>;
    capacity: Opt<Num>;
    tombstones: Opt<Num>;
    bytes_per_entry: Opt<Num>;
    ops_per_second: Opt<Num>;
  },
  z.core.$loose
>;

/** The `metrics.v1` tick. */
export const MetricsTick: MetricsTickSchema = exact<MetricsTickSchema>()(
  z.object({
    schema: z.literal("metrics.v1"),
    t: z.number().nonnegative().describe("seconds since the run started"),
    backend: z.string(),
    ops: z.number().int().nonnegative(),
    ops_by_type: z.object({
      put: z.number().int().nonnegative(),
      get: z.number().int().nonnegative(),
      del: z.number().int().nonnegative(),
    }),
    migrations: z.number().int().nonnegative(),
    compactions: z.number().int().nonnegative(),
    load_factor: z.number().nonnegative(),
    max_group_len: z.number().nonnegative(),
    avg_probe_estimate: z.number().nonnegative(),
    tombstone_ratio: z.number().min(0).max(1),
    probe_hist: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
    key_heatmap: KeyHeatmap.optional(),
    latency_ms: OpLatency,
    latency_hist_ms: z.record(z.string(), z.array(HistogramBucket)),
    latency_ns: Percentiles,
    events: z.array(TickEvent),
    alerts: z.array(Alert),
    alerts_active: z.array(z.string()).optional().describe(
      "watchdog metrics above their threshold at this tick (alerts lists only new crossings)",
    ),
    size: z.number().int().nonnegative().optional(),
    capacity: z.number().int().nonnegative().optional(),
    tombstones: z.number().int().nonnegative().optional(),
    bytes_per_entry: z.number().nonnegative().optional(),
    ops_per_second: z.number().nonnegative().optional().describe(
      "throughput since the previous tick",
    ),
  }).loose().meta({ id: "metrics.v1", title: "metrics.v1 tick" }),
);

/** A parsed `metrics.v1` tick. */
export type MetricsTick = z.infer<typeof MetricsTick>;
/** One tick event. */
export type TickEvent = z.infer<typeof TickEvent>;
/** One watchdog alert. */
export type Alert = z.infer<typeof Alert>;
