/**
 * The configuration file (TOML): `[adaptive]` policy and `[watchdog]` thresholds, snake_case
 * keys as in the original. Every key is optional; unknown keys are refused.
 *
 * @module
 */

import { z } from "zod";
import { WATCHDOG_DEFAULTS as W } from "../config/defaults.ts";

/** `[adaptive]`: the adaptive map's policy. Omitted keys take the core's defaults. */
export const AdaptiveConfig = z.object({
  start_backend: z.enum(["chaining", "robinhood"]).optional(),
  initial_buckets: z.number().int().min(1).max(2 ** 30).optional(),
  groups_per_bucket: z.number().int().min(1).max(2 ** 30).optional(),
  initial_capacity_rh: z.number().int().min(1).max(2 ** 30).optional(),
  incremental_batch: z.number().int().min(1).max(2 ** 30).optional(),
  max_lf_chaining: z.number().gt(0).max(8).optional(),
  max_group_len: z.number().int().min(1).max(2 ** 30).optional(),
  max_avg_probe_robinhood: z.number().gt(0).optional(),
  max_tombstone_ratio: z.number().gt(0).max(1).optional(),
  large_map_warn_threshold: z.number().int().min(1).max(2 ** 30).optional(),
  rh_deletion: z.enum(["backshift", "tombstone"]).optional(),
}).strict().meta({ id: "AdaptiveConfig" });

/** `[watchdog]`: thresholds that raise alerts in metrics ticks and log warnings. */
export const WatchdogConfig = z.object({
  enabled: z.boolean().default(W.enabled),
  load_factor_warn: z.number().positive().default(W.load_factor_warn),
  avg_probe_warn: z.number().positive().default(W.avg_probe_warn),
  tombstone_ratio_warn: z.number().positive().max(1).default(W.tombstone_ratio_warn),
}).strict().meta({ id: "WatchdogConfig" });

/** The whole configuration file. */
export const ConfigFile = z.object({
  adaptive: AdaptiveConfig.default({}),
  watchdog: WatchdogConfig.default({ ...W }),
}).strict().meta({ id: "adhash.config", title: "adhash configuration (TOML)" });

/** `[adaptive]` as parsed. */
export type AdaptiveConfig = z.infer<typeof AdaptiveConfig>;
/** `[watchdog]` with defaults applied. */
export type WatchdogConfig = z.infer<typeof WatchdogConfig>;
/** A parsed configuration file with defaults applied. */
export type ConfigFile = z.infer<typeof ConfigFile>;
