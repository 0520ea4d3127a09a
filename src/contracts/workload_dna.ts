/**
 * `workload_dna.v1`: what a workload CSV does to a hash map, as analysed by `workload-dna`
 * (the `--json` success line's data and the `--json-out` file). Documented field by field in
 * docs/workload_dna.md. Change only by additions.
 *
 * @module
 */

import { z } from "zod";
import { exact } from "./exact.ts";

// Every schema has an explicit type (see exact.ts).
type Num = z.ZodNumber;
type Bool = z.ZodBoolean;
type Str = z.ZodString;
type Obj<T extends z.core.$ZodLooseShape> = z.ZodObject<T, z.core.$strip>;

const count = (): Num => z.number().int().nonnegative();
const share = (): Num => z.number().min(0).max(1);

type OpCountsSchema = Obj<{ put: Num; get: Num; del: Num }>;
type KeysSchema = Obj<{
  distinct: Num;
  distinct_exact: Bool;
  max_tracked: Num;
  untracked_rows: Num;
  length: Obj<{ min: Num; mean: Num; max: Num }>;
  numeric_suffix_share: Num;
}>;
type TopKeySchema = Obj<{ key: Str; count: Num; share: Num; exact: Bool }>;
type SkewSchema = Obj<{
  top_1pct_keys: Num;
  top_1pct_share: Num;
  zipf_exponent: z.ZodNullable<Num>;
  zipf_fit_points: Num;
  skewed: Bool;
}>;
type LiveKeysSchema = Obj<{ peak: Num; final: Num; exact: Bool }>;
type PrefixSchema = Obj<{
  bits: Num;
  buckets: Num;
  expected_load: Num;
  max_load: Num;
  uniform_limit: Num;
}>;
type HashPressureSchema = Obj<{
  keys_hashed: Num;
  table_bits: Num;
  buckets: Num;
  expected_load: Num;
  max_bucket_load: Num;
  colliding_key_share: Num;
  uniform_colliding_key_share: Num;
  worst_prefix: z.ZodNullable<PrefixSchema>;
  adversarial: Bool;
}>;
type RecommendationSchema = Obj<{
  mode: z.ZodEnum<
    { adaptive: "adaptive"; "fast-insert": "fast-insert"; "fast-lookup": "fast-lookup" }
  >;
  rule: z.ZodEnum<
    {
      empty: "empty";
      adversarial: "adversarial";
      skewed: "skewed";
      "read-heavy": "read-heavy";
      "write-heavy": "write-heavy";
      mixed: "mixed";
    }
  >;
  reason: Str;
}>;
type WorkloadDnaSchema = z.ZodObject<
  {
    schema: z.ZodLiteral<"workload_dna.v1">;
    csv: Str;
    rows: Num;
    ops_by_type: OpCountsSchema;
    op_ratios: OpCountsSchema;
    keys: KeysSchema;
    top_keys: z.ZodArray<TopKeySchema>;
    top_keys_error_bound: Num;
    skew: SkewSchema;
    live_keys: LiveKeysSchema;
    hash_pressure: HashPressureSchema;
    recommendation: RecommendationSchema;
  },
  z.core.$loose
>;

/** The `workload_dna.v1` report. */
export const WorkloadDna: WorkloadDnaSchema = exact<WorkloadDnaSchema>()(
  z.object({
    schema: z.literal("workload_dna.v1"),
    csv: z.string().describe("the --csv argument (- for stdin)"),
    rows: count().describe("data rows"),
    ops_by_type: z.object({ put: count(), get: count(), del: count() }),
    op_ratios: z.object({ put: share(), get: share(), del: share() }).describe(
      "ops_by_type / rows (0 when there are no rows)",
    ),
    keys: z.object({
      distinct: count().describe(
        "distinct keys tracked; a lower bound when distinct_exact is false",
      ),
      distinct_exact: z.boolean().describe("false when --max-tracked-keys was reached"),
      max_tracked: count().describe("the --max-tracked-keys cap"),
      untracked_rows: count().describe("rows whose key arrived after the cap was reached"),
      length: z.object({ min: count(), mean: z.number().nonnegative(), max: count() }).describe(
        "key length in UTF-16 code units over all rows (0 when there are no rows)",
      ),
      numeric_suffix_share: share().describe(
        "share of rows whose key is a digit-free prefix and a decimal number, like K123",
      ),
    }),
    top_keys: z.array(z.object({
      key: z.string(),
      count: count().describe("rows on this key; a lower bound when exact is false"),
      share: share().describe("count / rows"),
      exact: z.boolean().describe("false: a Misra-Gries estimate for a key seen after the cap"),
    })).describe("the hottest keys, most rows first, ties in order of first appearance"),
    top_keys_error_bound: count().describe(
      "an inexact top-key count is low by at most this many rows (0 when the cap was not hit)",
    ),
    skew: z.object({
      top_1pct_keys: count().describe("ceil(1% of the distinct keys)"),
      top_1pct_share: share().describe("share of rows on the top_1pct_keys hottest keys"),
      zipf_exponent: z.number().nonnegative().nullable().describe(
        "minus the least-squares slope of ln(count) against ln(rank), log-spaced ranks",
      ),
      zipf_fit_points: count().describe("ranks used by the fit (null exponent below 3)"),
      skewed: z.boolean().describe("top_1pct_share >= 0.10 and >= 5x the fair share"),
    }),
    live_keys: z.object({
      peak: count().describe("most keys live at once if the ops were replayed"),
      final: count().describe("keys live after the last row"),
      exact: z.boolean().describe("false: tracked keys only, so lower bounds"),
    }),
    hash_pressure: z.object({
      keys_hashed: count().describe("the tracked distinct keys"),
      table_bits: count(),
      buckets: count().describe("smallest power of two >= 8 with keys_hashed <= 0.85 x buckets"),
      expected_load: z.number().nonnegative().describe("keys_hashed / buckets"),
      max_bucket_load: count(),
      colliding_key_share: share().describe("share of keys whose bucket holds another key"),
      uniform_colliding_key_share: share().describe(
        "the same under a uniform hash: 1 - (1 - 1/buckets)^(keys_hashed - 1)",
      ),
      worst_prefix: z.object({
        bits: count(),
        buckets: count(),
        expected_load: z.number().nonnegative(),
        max_load: count(),
        uniform_limit: z.number().nonnegative().describe(
          "load a uniform hash exceeds in any bucket with probability below 1e-6",
        ),
      }).nullable().describe("the top-bits width whose fullest bucket is most over its limit"),
      adversarial: z.boolean().describe("some max_load exceeds its uniform_limit"),
    }),
    recommendation: z.object({
      mode: z.enum(["adaptive", "fast-insert", "fast-lookup"]),
      rule: z.enum(["empty", "adversarial", "skewed", "read-heavy", "write-heavy", "mixed"]),
      reason: z.string(),
    }),
  }).loose().meta({ id: "workload_dna.v1", title: "workload-dna report" }),
);

/** A parsed `workload_dna.v1` report. */
export type WorkloadDna = z.infer<typeof WorkloadDna>;
