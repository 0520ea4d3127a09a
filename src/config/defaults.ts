/**
 * The configuration in effect when no file and no environment override is given. Kept apart
 * from the zod schemas so a run without configuration never loads zod or the TOML parser.
 *
 * @module
 */

/** `[watchdog]` thresholds when none are set. */
export const WATCHDOG_DEFAULTS: Readonly<{
  enabled: boolean;
  load_factor_warn: number;
  avg_probe_warn: number;
  tombstone_ratio_warn: number;
}> = Object.freeze({
  enabled: true,
  load_factor_warn: 0.9,
  avg_probe_warn: 8.0,
  tombstone_ratio_warn: 0.35,
});

/**
 * Environment variables that override configuration keys. Not systemd's `WATCHDOG_USEC` and
 * `WATCHDOG_PID`, which it sets for a unit with `WatchdogSec=`: as unknown overrides they
 * stopped every command.
 */
export const OVERRIDE_VAR: RegExp = /^(ADAPTIVE|WATCHDOG)_(?!(?:USEC|PID)$)(.*)$/;
