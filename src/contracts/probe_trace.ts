/**
 * The probe trace JSON (`probe_trace.v1`) written by `probe-visualize --export-json` and
 * returned by every map's `traceGet`/`tracePut` (src/core/types.ts `ProbeTrace`).
 * Documented in docs/probe_trace.md.
 *
 * @module
 */

import { z } from "zod";

const nonNegInt = z.number().int().min(0);

/** The rebuild a put of an absent key sets off first; its path is traced in the new table. */
export const TraceRebuild = z.object({
  type: z.enum(["resize", "compaction"]),
  from_capacity: z.number().int().min(1),
  to_capacity: z.number().int().min(1),
});

/** One step of a Robin Hood probe. */
export const RobinHoodTraceStep = z.object({
  step: nonNegInt,
  slot: nonNegInt,
  state: z.enum(["empty", "tombstone", "occupied"]),
  ideal_slot: nonNegInt.nullable(),
  probe_distance: nonNegInt.nullable(),
  carried_distance: nonNegInt,
  key_repr: z.string().nullable(),
  matches: z.boolean(),
  action: z.enum(["advance", "swap", "insert", "update", "match", "stop"]),
});

/** The probe path of one operation on a Robin Hood table. */
export const RobinHoodTrace = z.object({
  schema: z.literal("probe_trace.v1"),
  backend: z.literal("robinhood"),
  operation: z.enum(["get", "put"]),
  key_repr: z.string(),
  hash: z.number().int().min(0).max(0xffffffff),
  capacity: z.number().int().min(1),
  ideal_slot: nonNegInt,
  found: z.boolean(),
  terminal: z.enum(["match", "empty", "insert", "update", "stop"]),
  path: z.array(RobinHoodTraceStep),
  rebuild: TraceRebuild.optional(),
});

/** One position visited in a chain. */
export const ChainingTraceStep = z.object({
  position: nonNegInt,
  key_repr: z.string(),
  matches: z.boolean(),
});

/** The probe path of one operation on a chaining table. */
export const ChainingTrace = z.object({
  schema: z.literal("probe_trace.v1"),
  backend: z.literal("chaining"),
  operation: z.enum(["get", "put"]),
  key_repr: z.string(),
  hash: z.number().int().min(0).max(0xffffffff),
  capacity: z.number().int().min(1),
  bucket: nonNegInt,
  found: z.boolean(),
  terminal: z.enum(["match", "miss", "insert", "update"]),
  path: z.array(ChainingTraceStep),
  rebuild: TraceRebuild.optional(),
});

/** A probe trace of either backend (`probe_trace.v1`). */
export const ProbeTraceSchema = z.discriminatedUnion("backend", [RobinHoodTrace, ChainingTrace])
  .meta({ id: "probe_trace.v1", title: "adhash probe trace" });
