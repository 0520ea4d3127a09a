/**
 * The JSON Schemas in schemas/, rendered from the zod contracts. `deno task schemas` writes
 * them; tests/contracts/schemas_test.ts fails when the files drift from this rendering.
 *
 * @module
 */

import { z } from "zod";
import { MetricsTick } from "./metrics.ts";
import { RunSummary } from "./run_summary.ts";
import { ErrorEnvelope, SuccessEnvelope } from "./error_envelope.ts";
import { ConfigFile } from "./config.ts";
import { ProbeTraceSchema } from "./probe_trace.ts";
import { SnapshotInspectionSchema } from "./snapshot.ts";
import {
  API_SCHEMAS,
  ApiJobAbCompareRequest,
  ApiJobProfileRequest,
  ApiJobRunCsvRequest,
  ApiJobWorkloadDnaRequest,
} from "./api.ts";
import { AbCompareReport } from "./ab_compare.ts";
import { WorkloadDna } from "./workload_dna.ts";
import { ProfileReport } from "./profile.ts";
import { BatchReport } from "./batch.ts";
import { ConfigPresets, ConfigResult } from "./config_edit.ts";

/** File name (in schemas/) -> zod schema and which side of defaults/transforms it describes. */
export const SCHEMA_FILES: Readonly<
  Record<string, { schema: z.ZodType; io: "input" | "output" }>
> = Object.freeze({
  "metrics.v1.schema.json": { schema: MetricsTick, io: "output" },
  "run_summary.v1.schema.json": { schema: RunSummary, io: "output" },
  "error_envelope.schema.json": { schema: ErrorEnvelope, io: "output" },
  "success_envelope.schema.json": { schema: SuccessEnvelope, io: "output" },
  // What a user writes: defaults make every key optional.
  "config.schema.json": { schema: ConfigFile, io: "input" },
  "probe_trace.schema.json": { schema: ProbeTraceSchema, io: "output" },
  "snapshot_inspect.v1.schema.json": { schema: SnapshotInspectionSchema, io: "output" },
  "ab_compare.v1.schema.json": { schema: AbCompareReport, io: "output" },
  "workload_dna.v1.schema.json": { schema: WorkloadDna, io: "output" },
  "profile.v1.schema.json": { schema: ProfileReport, io: "output" },
  "batch_report.v1.schema.json": { schema: BatchReport, io: "output" },
  "config_result.v1.schema.json": { schema: ConfigResult, io: "output" },
  "config_presets.v1.schema.json": { schema: ConfigPresets, io: "output" },
  // What a client sends to POST /api/jobs/<kind>.
  "api.job_run_csv_request.v1.schema.json": { schema: ApiJobRunCsvRequest, io: "input" },
  "api.job_workload_dna_request.v1.schema.json": { schema: ApiJobWorkloadDnaRequest, io: "input" },
  "api.job_ab_compare_request.v1.schema.json": { schema: ApiJobAbCompareRequest, io: "input" },
  "api.job_profile_request.v1.schema.json": { schema: ApiJobProfileRequest, io: "input" },
  // Metrics server bodies: schemas/api.<name>.v1.schema.json.
  ...Object.fromEntries(
    Object.entries(API_SCHEMAS).map((
      [name, schema],
    ) => [`${name}.schema.json`, { schema, io: "output" as const }]),
  ),
});

/**
 * The text of every schema file (pretty JSON with a final newline). Documents adhash writes are
 * open: a field added in a later version (the only change a frozen contract allows) must not
 * make a reader that validates against this version refuse them. Requests and configs stay
 * closed, so that a misspelt field is refused rather than ignored.
 */
export function renderSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { schema, io }] of Object.entries(SCHEMA_FILES)) {
    const json = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" });
    const text = JSON.stringify(splitUnionTypes(io === "output" ? open(json) : json), null, 2);
    out[name] = `${text}\n`;
  }
  return out;
}

/** `schema` without `additionalProperties: false` anywhere in it. */
function open(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(open);
  if (typeof schema !== "object" || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).filter(([k, v]) => !(k === "additionalProperties" && v === false))
      .map(([k, v]) => [k, open(v)]),
  );
}

/**
 * `schema` with each `type` that lists more than one type besides `null` (zod writes
 * `type: ["string", "number"]` for a union of plain types) spelt as `anyOf` of one type each, the
 * same set of values: validators in strict mode (ajv's `strictTypes`) refuse union types, though
 * they take a type or'ed with `null`.
 */
export function splitUnionTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(splitUnionTypes);
  if (typeof schema !== "object" || schema === null) return schema;
  const node = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, k === "type" ? v : splitUnionTypes(v)]),
  );
  const type = node.type;
  if (!Array.isArray(type) || type.filter((t) => t !== "null").length < 2) return node;
  if ("anyOf" in node) throw new Error(`cannot split type ${JSON.stringify(type)} beside anyOf`);
  // Keep the key order: anyOf takes type's place.
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) =>
      k === "type" ? ["anyOf", (v as string[]).map((t) => ({ type: t }))] : [k, v]
    ),
  );
}
