/**
 * The `inspect-snapshot --json` / `inspectSnapshot()` result (`snapshot_inspect.v1`), also
 * served to the dashboard's Snapshot view. Documented in docs/snapshot_format.md.
 *
 * @module
 */

import { z } from "zod";

const nonNegInt = z.number().int().min(0);
const backend = z.enum(["chaining", "robinhood"]);
const key = z.union([z.string(), z.number()]);
/** Present, and true, when a value was too long to show (the value is then null). */
const omitted = z.literal(true).optional().describe(
  "present when the value is too long to show (over 64 KiB of JSON, or past the 1 MiB a preview shows): it is then null",
);

const BackendConfiguration = z.object({
  backend,
  capacity: z.number().int().min(1),
  max_load_factor: z.number(),
  deletion: z.enum(["backshift", "tombstone"]).nullable(),
  entries: nonNegInt,
  tombstones: nonNegInt,
});

/** Inspection of one snapshot file. */
export const SnapshotInspectionSchema = z.object({
  schema: z.literal("snapshot_inspect.v1"),
  path: z.string(),
  file_bytes: nonNegInt,
  header: z.object({
    magic: z.literal("ADHSNAP1"),
    version: z.literal(2),
    flags: z.number().int().min(0).max(3),
    compressed: z.boolean(),
    keyed: z.boolean(),
    checksum_len: z.literal(64),
    payload_len: nonNegInt,
  }),
  checksum: z.object({
    algorithm: z.enum(["blake2b-512", "hmac-blake2b-512"]),
    hex: z.string().regex(/^[0-9a-f]{128}$/),
    verified: z.literal(true),
  }),
  payload_bytes: nonNegInt,
  kind: z.enum(["chaining", "robinhood", "adaptive"]),
  backend,
  configuration: z.object({
    kind: z.enum(["chaining", "robinhood", "adaptive"]),
    active: BackendConfiguration,
    target: BackendConfiguration.nullable(),
    policy: z.record(z.string(), z.union([z.string(), z.number()])).nullable(),
    migrations: nonNegInt.nullable(),
    compactions: nonNegInt.nullable(),
  }),
  stats: z.object({
    size: nonNegInt,
    capacity: z.number().int().min(1),
    load_factor: z.number(),
    max_group_len: nonNegInt,
    avg_probe_distance: z.number(),
    tombstones: nonNegInt,
    tombstone_ratio: z.number(),
    probe_histogram: z.array(z.tuple([nonNegInt, nonNegInt])),
    bytes_estimate: nonNegInt,
  }),
  invariants: z.object({ ok: z.boolean(), problems: z.array(z.string()) }),
  entries: z.object({
    matched: nonNegInt,
    contains: z.string().nullable(),
    limit: nonNegInt,
    shown: z.array(z.object({
      key,
      key_repr: z.string(),
      value: z.unknown(),
      value_omitted: omitted,
    })),
    truncated: z.boolean(),
  }),
  lookup: z.object({
    key: z.string(),
    found: z.boolean(),
    matched_key: key.nullable(),
    // Added after v1 was published: absent from earlier documents.
    matched_key_repr: z.string().nullable().optional(),
    value: z.unknown(),
    value_omitted: omitted,
  }).nullable(),
}).meta({ id: "snapshot_inspect.v1", title: "adhash snapshot inspection" });
