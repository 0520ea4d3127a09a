/**
 * The configuration keys as `config-edit` and `config-wizard` see them: every `[section] key`
 * of the zod schema (src/contracts/config.ts) in the schema's order, with its default, the kind
 * of value it takes and one line of help. Deriving the list from the schema means a key added
 * there is editable at once; the help table's type makes a key without help a type error.
 *
 * @module
 */

import { z } from "zod";
import { AdaptiveConfig, WatchdogConfig } from "../contracts/config.ts";
import { DEFAULT_POLICY } from "../core/adaptive_map.ts";
import { WATCHDOG_DEFAULTS } from "./defaults.ts";
import { envValue } from "./load.ts";

/** A section of the configuration file. */
export type Section = "adaptive" | "watchdog";

/** The sections in file order. */
export const SECTIONS: readonly Section[] = ["adaptive", "watchdog"];

/** A configuration value as TOML holds it. */
export type ConfigValue = boolean | number | string;

/** The keys a configuration file sets, by section; keys not there take their defaults. */
export type ConfigSections = Record<Section, Record<string, ConfigValue>>;

/** One configurable key. */
export interface ConfigKey {
  readonly section: Section;
  /** The key inside its section: `max_lf_chaining`. */
  readonly name: string;
  /** The dotted name used on the command line: `adaptive.max_lf_chaining`. */
  readonly id: string;
  /** The value when the file does not set it. */
  readonly defaultValue: ConfigValue;
  /** `integer` and `number` differ in how the TOML writer spells whole numbers. */
  readonly kind: "integer" | "number" | "boolean" | "choice";
  /** The allowed values of a `choice` key. */
  readonly choices: readonly string[];
  /** What the key does, its range first. */
  readonly help: string;
  /** The field's schema, which decides whether a value fits. */
  readonly schema: z.ZodType;
}

/** What each section is for (the wizard's section headings). */
export const SECTION_HELP: Readonly<Record<Section, string>> = {
  adaptive: "the adaptive map's policy (docs/adaptive_policy.md)",
  watchdog: "thresholds of the alerts in metrics ticks and log warnings",
};

const ADAPTIVE_HELP: Readonly<Record<keyof typeof AdaptiveConfig.shape, string>> = {
  start_backend: "backend of a new map",
  initial_buckets: "1..2^30: a new chaining table has initial_buckets * groups_per_bucket chains",
  groups_per_bucket: "1..2^30: a new chaining table has initial_buckets * groups_per_bucket chains",
  initial_capacity_rh: "1..2^30: slots of a new Robin Hood table",
  incremental_batch: "1..2^30: entries moved per operation while migrating or growing",
  max_lf_chaining: "(0, 8]: chaining -> Robin Hood above this load factor",
  max_group_len: "1..2^30: chaining -> Robin Hood above this chain length",
  max_avg_probe_robinhood: "> 0: Robin Hood -> chaining above this average probe distance",
  max_tombstone_ratio: "(0, 1]: Robin Hood compacts at this tombstone ratio",
  large_map_warn_threshold: "1..2^30: map size above which tools warn",
  rh_deletion: "Robin Hood deletion (tombstone to study compaction)",
};

const WATCHDOG_HELP: Readonly<Record<keyof typeof WatchdogConfig.shape, string>> = {
  enabled: "raise watchdog alerts",
  load_factor_warn: "> 0: alert above this load factor",
  avg_probe_warn: "> 0: alert above this average probe distance",
  tombstone_ratio_warn: "(0, 1]: alert above this tombstone ratio",
};

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** The field's schema without its `.optional()` or `.default()` wrapper. */
function inner(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional || schema instanceof z.ZodDefault
    ? inner(schema.unwrap() as z.ZodType)
    : schema;
}

function describe(
  section: Section,
  name: string,
  schema: z.ZodType,
  defaultValue: ConfigValue,
  help: string,
): ConfigKey {
  const base = inner(schema);
  const kind = base instanceof z.ZodBoolean
    ? "boolean"
    : base instanceof z.ZodEnum
    ? "choice"
    : base instanceof z.ZodNumber && base.isInt
    ? "integer"
    : "number";
  const choices = base instanceof z.ZodEnum ? (base.options as string[]) : [];
  return { section, name, id: `${section}.${name}`, defaultValue, kind, choices, help, schema };
}

/** Every key, `[adaptive]` then `[watchdog]`, each in the schema's order. */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  ...Object.entries(AdaptiveConfig.shape).map(([name, schema]) =>
    describe(
      "adaptive",
      name,
      schema,
      DEFAULT_POLICY[camel(name) as keyof typeof DEFAULT_POLICY],
      ADAPTIVE_HELP[name as keyof typeof ADAPTIVE_HELP],
    )
  ),
  ...Object.entries(WatchdogConfig.shape).map(([name, schema]) =>
    describe(
      "watchdog",
      name,
      schema,
      WATCHDOG_DEFAULTS[name as keyof typeof WATCHDOG_DEFAULTS],
      WATCHDOG_HELP[name as keyof typeof WATCHDOG_HELP],
    )
  ),
];

/** The key named `id` (`section.key`), or undefined. */
export function findKey(id: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.id === id);
}

/** `0.82`, `true`, `"chaining"`: a value as the TOML file spells it. */
export function showValue(key: ConfigKey, value: ConfigValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" && key.kind === "number" && Number.isInteger(value)) {
    // A whole number in a float key reads as a float (`6.0`), as the defaults are written.
    return /e/i.test(String(value)) ? String(value) : value.toFixed(1);
  }
  return String(value);
}

/**
 * `text` read as a value for `key` the way environment overrides are read (true/false,
 * numbers, strings), then checked against the key's schema: the value, or why it does not fit.
 */
export function parseValue(
  key: ConfigKey,
  text: string,
): { ok: true; value: ConfigValue } | { ok: false; problem: string } {
  const parsed = key.schema.safeParse(envValue(text));
  if (parsed.success) return { ok: true, value: parsed.data as ConfigValue };
  return { ok: false, problem: parsed.error.issues.map((i) => i.message).join("; ") };
}

/** A configuration that sets no key. */
export function emptySections(): ConfigSections {
  return { adaptive: {}, watchdog: {} };
}

/** The value of `key` in effect under `sections`: the one set, else the default. */
export function valueOf(sections: ConfigSections, key: ConfigKey): ConfigValue {
  return sections[key.section][key.name] ?? key.defaultValue;
}
