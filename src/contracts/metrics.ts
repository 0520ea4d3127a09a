/**
 * `metrics.v1`: one replay tick, one NDJSON line. Frozen: change only by additions.
 *
 * @module
 */

import { z } from "zod";

type Num = z.ZodNumber;
type Opt<T extends z.ZodType> = z.ZodOptional<T>;

/** Shape of {@linkcode Percentiles}. Explicit types keep the published API fast to check (JSR). */
export type PercentilesSchema = z.ZodObject<{ p50: Num; p90: Num; p99: Num }, z.core.$strip>;

/** p50/p90/p99 of a latency sample. */
export const Percentiles: PercentilesSchema = z.object({
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
}).meta({ id: "Percentiles" });

/** One cumulative histogram bucket; the last has `le: "+Inf"`. */
export const HistogramBucket: z.ZodObject<
  { le: z.ZodUnion<readonly [Num, z.ZodLiteral<"+Inf">]>; count: Num },
  z.core.$strip
> = z.object({
  le: z.union([z.number().positive(), z.literal("+Inf")]),
  count: z.number().int().nonnegative(),
});

/** Something that happened since the previous tick. */
export const TickEvent: z.ZodObject<
  {
    type: z.ZodString;
    t: Num;
    from: Opt<z.ZodString>;
    to: Opt<z.ZodString>;
    reason: Opt<z.ZodString>;
  },
  z.core.$loose
> = z.object({
  type: z.string().min(1).describe(
    "start | complete (the run), migration_start | switch | compaction | resize (the map), idle | resume",
  ),
  t: z.number().nonnegative().describe("seconds since the run started"),
  from: z.string().optional(),
  to: z.string().optional(),
  reason: z.string().optional(),
}).loose();

/** A watchdog threshold crossed at this tick. */
export const Alert: z.ZodObject<
  {
    metric: z.ZodString;
    value: Num;
    threshold: Num;
    severity: z.ZodEnum<{ warning: "warning"; critical: "critical" }>;
    backend: z.ZodString;
    message: z.ZodString;
  },
  z.core.$strip
> = z.object({
  metric: z.string(),
  value: z.number(),
  threshold: z.number(),
  severity: z.enum(["warning", "critical"]),
  backend: z.string(),
  message: z.string(),
});

/** Density of occupied slots: `matrix[r][c]` counts live entries in that slice of the table. */
export const KeyHeatmap: z.ZodObject<
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
> = z.object({
  rows: z.number().int().positive(),
  cols: z.number().int().positive(),
  matrix: z.array(z.array(z.number().int().nonnegative())),
  max: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  slot_span: z.number().int().positive().describe("table slots summarised by one cell"),
  original_slots: z.number().int().nonnegative().describe("slots in the table"),
});

/** p50/p90/p99 overall and per operation. */
export const OpLatency: z.ZodObject<
  {
    overall: PercentilesSchema;
    put: PercentilesSchema;
    get: PercentilesSchema;
    del: PercentilesSchema;
  },
  z.core.$strip
> = z.object({
  overall: Percentiles,
  put: Percentiles,
  get: Percentiles,
  del: Percentiles,
});

/** The `metrics.v1` tick. */
export const MetricsTick: z.ZodObject<
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
    key_heatmap: Opt<typeof KeyHeatmap>;
    latency_ms: typeof OpLatency;
    latency_hist_ms: z.ZodRecord<z.ZodString, z.ZodArray<typeof HistogramBucket>>;
    latency_ns: PercentilesSchema;
    events: z.ZodArray<typeof TickEvent>;
    alerts: z.ZodArray<typeof Alert>;
    alerts_active: Opt<z.ZodArray<z.ZodString>>;
    size: Opt<Num>;
    capacity: Opt<Num>;
    tombstones: Opt<Num>;
    bytes_per_entry: Opt<Num>;
    ops_per_second: Opt<Num>;
  },
  z.core.$loose
> = z.object({
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
}).loose().meta({ id: "metrics.v1", title: "metrics.v1 tick" });

/** A parsed `metrics.v1` tick. */
export type MetricsTick = z.infer<typeof MetricsTick>;
/** One tick event. */
export type TickEvent = z.infer<typeof TickEvent>;
/** One watchdog alert. */
export type Alert = z.infer<typeof Alert>;
