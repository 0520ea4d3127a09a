/**
 * The `--json` results of `config-edit` and `config-wizard`: `config_result.v1` (what was
 * written) and `config_presets.v1` (`config-edit --list-presets`).
 *
 * @module
 */

import { z } from "zod";
import { AdaptiveConfig, WatchdogConfig } from "./config.ts";

const Value = z.union([z.boolean(), z.number(), z.string()]);
const w = WatchdogConfig.shape;

/** The keys a configuration sets, by section; no defaults are filled in. */
export const ConfigKeysSet = z.object({
  adaptive: AdaptiveConfig,
  watchdog: z.object({
    enabled: w.enabled.unwrap().optional(),
    load_factor_warn: w.load_factor_warn.unwrap().optional(),
    avg_probe_warn: w.avg_probe_warn.unwrap().optional(),
    tombstone_ratio_warn: w.tombstone_ratio_warn.unwrap().optional(),
  }),
}).meta({ id: "ConfigKeysSet" });

/** What a `config-edit` or `config-wizard` run wrote. */
export const ConfigResult = z.object({
  schema: z.literal("config_result.v1"),
  infile: z.string().nullable().describe("the configuration edited; null: the defaults"),
  outfile: z.string().nullable().describe("the file written, - for stdout, null for none"),
  presets_applied: z.array(z.string()).describe("--apply-preset names, in the order applied"),
  preset_saved: z.string().nullable().describe("the preset file --save-preset wrote"),
  config: ConfigKeysSet.describe("the keys the written file sets"),
  changes: z.array(
    z.object({
      key: z.string().describe("section.key"),
      before: Value.nullable().describe("in the infile (null: not set, the default applies)"),
      after: Value.nullable().describe("in the written file (null: not set)"),
    }),
  ).describe("keys set differently than in the infile, in file order"),
}).meta({ id: "config_result.v1", title: "config-edit / config-wizard result" });

/** `config-edit --list-presets`. */
export const ConfigPresets = z.object({
  schema: z.literal("config_presets.v1"),
  presets_dir: z.string().nullable().describe("--presets-dir or ADHASH_PRESETS_DIR, if set"),
  presets_dir_exists: z.boolean(),
  presets: z.array(
    z.object({
      name: z.string(),
      source: z.enum(["builtin", "directory"]),
      path: z.string().nullable().describe("the file of a directory preset"),
      description: z.string().nullable().describe("what a built-in preset is for"),
      config: ConfigKeysSet.nullable().describe("the keys it sets; null when it cannot be read"),
      problem: z.string().nullable().describe("why it cannot be applied, or null"),
    }),
  ).describe("built-in presets, then the directory's *.toml files by name"),
}).meta({ id: "config_presets.v1", title: "config-edit --list-presets" });

/** A parsed `config_result.v1`. */
export type ConfigResult = z.infer<typeof ConfigResult>;
/** A parsed `config_presets.v1`. */
export type ConfigPresets = z.infer<typeof ConfigPresets>;
