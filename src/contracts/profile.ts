/**
 * The `profile` report (`profile.v1`): a sample of a workload replayed on every map mode, each
 * mode's median ops/s, and the mode recommended for the whole workload (docs/cli.md, `profile`).
 *
 * @module
 */

import { z } from "zod";
import { exact } from "./exact.ts";

type Num = z.ZodNumber;
type ModeEnum = z.ZodEnum<{
  adaptive: "adaptive";
  "fast-insert": "fast-insert";
  "fast-lookup": "fast-lookup";
  "memory-tight": "memory-tight";
}>;

const mode: () => ModeEnum = () =>
  z.enum(["adaptive", "fast-insert", "fast-lookup", "memory-tight"]);

type ProfileModeSchema = z.ZodObject<
  {
    mode: ModeEnum;
    ops_per_second: Num;
    ops_per_second_min: Num;
    ops_per_second_max: Num;
    relative: Num;
    p99_ms: Num;
    final_backend: z.ZodString;
    migrations: Num;
    bytes_per_entry: Num;
  },
  z.core.$strip
>;

/** One mode's runs on the sample. */
export const ProfileMode: ProfileModeSchema = exact<ProfileModeSchema>()(
  z.object({
    mode: mode(),
    ops_per_second: z.number().nonnegative().describe("median of the measured runs"),
    ops_per_second_min: z.number().nonnegative(),
    ops_per_second_max: z.number().nonnegative(),
    relative: z.number().nonnegative().describe(
      "ops_per_second / the recommended mode's, 4 decimals (1 for the recommended mode)",
    ),
    p99_ms: z.number().nonnegative().describe("overall p99 latency of the median run"),
    final_backend: z.string(),
    migrations: z.number().int().nonnegative().describe("of the median run"),
    bytes_per_entry: z.number().nonnegative().describe("of the median run's final map"),
  }),
);

type ProfileReportSchema = z.ZodObject<
  {
    schema: z.ZodLiteral<"profile.v1">;
    csv: z.ZodString;
    sample_rows: Num;
    whole_file: z.ZodBoolean;
    repeat: Num;
    modes: z.ZodArray<ProfileModeSchema>;
    recommended_mode: ModeEnum;
    margin: Num;
    close: z.ZodBoolean;
    p_value: z.ZodOptional<z.ZodNullable<Num>>;
  },
  z.core.$strip
>;

/** The `profile.v1` report. */
export const ProfileReport: ProfileReportSchema = exact<ProfileReportSchema>()(
  z.object({
    schema: z.literal("profile.v1"),
    csv: z.string(),
    sample_rows: z.number().int().nonnegative().describe("rows replayed per run"),
    whole_file: z.boolean().describe("the sample is the whole workload"),
    repeat: z.number().int().positive().describe("measured runs per mode, rotating the modes"),
    modes: z.array(ProfileMode).min(1).describe("fastest first"),
    recommended_mode: mode().describe("the mode with the highest median ops/s"),
    margin: z.number().nonnegative().describe(
      "recommended / runner-up median ops/s, 4 decimals (1 with a single mode)",
    ),
    close: z.boolean().describe(
      "margin below 1.05, or the runner-up's median at least the recommended mode's slowest run: " +
        "the runner-up would do about as well",
    ),
    // Optional: reports written before it was added lack it and still parse.
    p_value: z.number().min(0).max(1).nullable().optional().describe(
      "two-sided Mann-Whitney U p-value of the recommended and runner-up modes' runs (null with " +
        "one mode or --repeat 1); below 0.05: the recommendation is unlikely to be noise",
    ),
  }).meta({ id: "profile.v1", title: "profile report" }),
);

/** A parsed `profile.v1` report. */
export type ProfileReport = z.infer<typeof ProfileReport>;
