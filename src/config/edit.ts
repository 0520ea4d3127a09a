/**
 * Editing a configuration as the keys it sets: reading a file's keys, `--set`/`--unset`,
 * merging presets, checking the result exactly as every command's loader will, and the list
 * of changes. Keys a file does not set stay unset, so a later change of a default reaches them.
 *
 * @module
 */

import { parse as parseToml } from "smol-toml";
import { BadInputError } from "../errors.ts";
import { readSmallText } from "../io/read_text.ts";
import {
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigSections,
  type ConfigValue,
  emptySections,
  findKey,
  parseValue,
  SECTIONS,
} from "./keys.ts";
import { loadConfig } from "./load.ts";

const HINT = "See docs/config.md";

/**
 * The keys `path` sets, after the loader has accepted the file: a file that `--config` would
 * refuse is refused here with the same message. A `partial` file (a preset) is checked key by
 * key; the configuration it is merged into is checked whole.
 */
export async function readConfigFile(path: string, partial = false): Promise<ConfigSections> {
  const loaded = await loadConfig(path, {}, { partial });
  const raw = parseToml(await readSmallText(path, "Config file", { hint: HINT })) as Record<
    string,
    Record<string, unknown>
  >;
  const out = emptySections();
  for (const section of SECTIONS) {
    const parsed: Record<string, unknown> = loaded[section];
    for (const name of Object.keys(raw[section] ?? {})) {
      out[section][name] = parsed[name] as ConfigValue;
    }
  }
  return out;
}

/** `base` with every key `over` sets replaced or added. */
export function mergeSections(base: ConfigSections, over: ConfigSections): ConfigSections {
  return {
    adaptive: { ...base.adaptive, ...over.adaptive },
    watchdog: { ...base.watchdog, ...over.watchdog },
  };
}

/** The key `id` names, or a BadInputError saying which keys exist. */
export function requireKey(id: string, where: string): ConfigKey {
  const key = findKey(id);
  if (key !== undefined) return key;
  const section = id.split(".", 1)[0]!;
  const names = CONFIG_KEYS.filter((k) => k.section === section).map((k) => k.name);
  const known = names.length > 0
    ? `[${section}] has ${names.join(", ")}`
    : `keys are section.key, the sections ${SECTIONS.map((s) => `[${s}]`).join(" and ")}`;
  throw new BadInputError(`Unknown config key '${id}' in ${where}: ${known}`, { hint: HINT });
}

/** One `--set key=value`: the key and its checked value. */
export function parseAssignment(text: string): { key: ConfigKey; value: ConfigValue } {
  const eq = text.indexOf("=");
  if (eq < 0) {
    throw new BadInputError(`--set "${text}" is not key=value`, {
      hint: `${HINT}: e.g. --set adaptive.max_lf_chaining=0.7`,
    });
  }
  const id = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  const key = requireKey(id, `--set "${text}"`);
  const parsed = parseValue(key, raw);
  if (!parsed.ok) {
    throw new BadInputError(
      `Invalid value ${JSON.stringify(raw)} for '${key.id}' in --set "${text}": ${parsed.problem}`,
      { hint: HINT },
    );
  }
  return { key, value: parsed.value };
}

/** `sections` as the environment overrides that would set the same keys. */
function asOverrides(sections: ConfigSections): Record<string, string> {
  const env: Record<string, string> = {};
  for (const section of SECTIONS) {
    for (const [name, value] of Object.entries(sections[section])) {
      env[`${section.toUpperCase()}_${name.toUpperCase()}`] = String(value);
    }
  }
  return env;
}

/**
 * Throws BadInputError when the loader would refuse `sections`: each value was checked alone,
 * and this adds the checks across keys (initial_buckets * groups_per_bucket <= 2^30). The keys
 * go through the loader as environment overrides, which it validates like a file's keys, so
 * the two can never disagree on what a valid configuration is.
 */
export async function checkSections(sections: ConfigSections): Promise<void> {
  try {
    await loadConfig(undefined, asOverrides(sections));
  } catch (err) {
    if (!(err instanceof BadInputError)) throw err;
    throw new BadInputError(`The edited configuration is invalid: ${err.message}`, { hint: HINT });
  }
}

/** A key whose value changed: null is "not set" (the default applies). */
export interface ConfigChange {
  key: string;
  before: ConfigValue | null;
  after: ConfigValue | null;
}

/** The keys set differently in `after` than in `before`, in key order. */
export function diffSections(before: ConfigSections, after: ConfigSections): ConfigChange[] {
  const changes: ConfigChange[] = [];
  for (const key of CONFIG_KEYS) {
    const a = before[key.section][key.name] ?? null;
    const b = after[key.section][key.name] ?? null;
    if (a !== b) changes.push({ key: key.id, before: a, after: b });
  }
  return changes;
}

/** `sections` with its keys in schema order (the order the TOML and the JSON show). */
export function orderedSections(sections: ConfigSections): ConfigSections {
  const out = emptySections();
  for (const key of CONFIG_KEYS) {
    const v = sections[key.section][key.name];
    if (v !== undefined) out[key.section][key.name] = v;
  }
  return out;
}
