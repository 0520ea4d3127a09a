/**
 * Loads the configuration: a TOML file (`--config` or `ADHASH_CONFIG`), then environment
 * overrides `ADAPTIVE_<KEY>` and `WATCHDOG_<KEY>` (the snake_case key upper-cased), validated
 * with the zod schema in src/contracts/config.ts. Any problem is a BadInputError naming the key.
 *
 * @module
 */

import type { z } from "zod";
import { BadInputError, IOError } from "../errors.ts";
import { readSmallText } from "../io/read_text.ts";
import type { AdaptiveConfig, WatchdogConfig } from "../contracts/config.ts";
import { type AdaptivePolicy, DEFAULT_POLICY, validatePolicy } from "../core/adaptive_map.ts";
import { OVERRIDE_VAR, WATCHDOG_DEFAULTS } from "./defaults.ts";

/** Adaptive policy overrides in the core's camelCase. */
export type PolicyOverrides = Partial<AdaptivePolicy>;

/** The resolved configuration. */
export interface AdhashConfig {
  /** Policy overrides for `createMap` (only the keys that were set). */
  policy: PolicyOverrides;
  /** The `[adaptive]` section as written (snake_case), after env overrides. */
  adaptive: AdaptiveConfig;
  /** Watchdog thresholds with defaults applied. */
  watchdog: WatchdogConfig;
  /** The file read, or null when none. */
  source: string | null;
  /** The `ADAPTIVE_*`/`WATCHDOG_*` variables applied over the file, sorted. */
  overrides: string[];
}

const HINT = "See docs/config.md";

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Converts `[adaptive]` snake_case keys to the core's camelCase policy fields. */
export function toPolicy(adaptive: AdaptiveConfig): PolicyOverrides {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(adaptive)) if (v !== undefined) out[camel(k)] = v;
  return out as PolicyOverrides;
}

/**
 * An override's text as a value: `true`/`false`, a finite number, else the trimmed string
 * (the zod schema then says whether it fits the key). `config-edit --set` reads values so too.
 */
export function envValue(raw: string): unknown {
  const t = raw.trim();
  if (t === "true") return true;
  if (t === "false") return false;
  if (t !== "" && Number.isFinite(Number(t))) return Number(t);
  return t;
}

function describeIssues(prefix: string, error: z.ZodError): string {
  return error.issues.map((i) => {
    const path = i.path.length ? i.path.join(".") : "";
    const where = [prefix, path].filter((s) => s !== "").join(".");
    if (i.code === "unrecognized_keys") {
      const keys = (i as { keys: string[] }).keys;
      return `unknown key ${
        keys.map((k) => `'${[where, k].filter((s) => s !== "").join(".")}'`).join(", ")
      }`;
    }
    return `'${where}': ${i.message}`;
  }).join("; ");
}

/** The environment, or null without permission to read all of it. */
function wholeEnv(): Record<string, string> | null {
  try {
    return Deno.env.toObject();
  } catch {
    return null;
  }
}

/** With only partial env permission (`--allow-env=...`): the readable override variables. */
function readableOverrides(
  shapes: Record<"adaptive" | "watchdog", object>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const names = [
    ...Object.keys(shapes.adaptive).map((k) => `ADAPTIVE_${k.toUpperCase()}`),
    ...Object.keys(shapes.watchdog).map((k) => `WATCHDOG_${k.toUpperCase()}`),
  ];
  for (const name of names) {
    try {
      const v = Deno.env.get(name);
      if (v !== undefined) out[name] = v;
    } catch {
      // not readable: no override
    }
  }
  return out;
}

/**
 * Reads and validates the configuration.
 *
 * @param path TOML file, or undefined for none (defaults and env only).
 * @param env Environment to read overrides from (defaults to `Deno.env.toObject()`).
 * @param options `partial`: the file is a part of a configuration (a preset), so limits across
 *   keys are not checked.
 */
export async function loadConfig(
  path: string | undefined,
  env?: Record<string, string>,
  options: { partial?: boolean } = {},
): Promise<AdhashConfig> {
  const hasPath = path !== undefined && path !== "";
  const vars = env ?? wholeEnv();
  if (!hasPath && vars !== null && !Object.keys(vars).some((k) => OVERRIDE_VAR.test(k))) {
    // Nothing to read or validate: the defaults, without loading zod and the TOML parser.
    return {
      policy: {},
      adaptive: {},
      watchdog: { ...WATCHDOG_DEFAULTS },
      source: null,
      overrides: [],
    };
  }
  const [{ parse: parseToml }, { AdaptiveConfig, ConfigFile, WatchdogConfig }] = await Promise
    .all([import("smol-toml"), import("../contracts/config.ts")]);
  const overrides = vars ??
    readableOverrides({ adaptive: AdaptiveConfig.shape, watchdog: WatchdogConfig.shape });
  let raw: Record<string, unknown> = {};
  if (hasPath) {
    let text: string;
    try {
      text = await readSmallText(path, "Config file", { hint: HINT });
    } catch (err) {
      if (err instanceof BadInputError) throw err;
      if (err instanceof Deno.errors.NotFound) {
        throw new BadInputError(`Config file not found: '${path}'`, { hint: HINT });
      }
      if (err instanceof Deno.errors.IsADirectory) {
        throw new BadInputError(`Config '${path}' is a directory, not a TOML file`, { hint: HINT });
      }
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        throw err; // Policy, as for every other path
      }
      throw new IOError(`Cannot read config file '${path}': ${(err as Error).message}`, {
        hint: HINT,
      });
    }
    try {
      raw = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      const first = String((err as Error).message).split("\n")[0];
      throw new BadInputError(`Invalid TOML in config '${path}': ${first}`, { hint: HINT });
    }
  }
  const sections: Record<string, Record<string, unknown>> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k !== "adaptive" && k !== "watchdog") {
      throw new BadInputError(`Unknown config section or key '${k}' in '${path}'`, {
        hint: `${HINT}: only [adaptive] and [watchdog] exist`,
      });
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw new BadInputError(`Config '${k}' must be a table ([${k}])`, { hint: HINT });
    }
    sections[k] = { ...(v as Record<string, unknown>) };
  }
  const applied: string[] = [];
  for (
    const [name, value] of Object.entries(overrides).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
  ) {
    const m = OVERRIDE_VAR.exec(name);
    if (!m) continue;
    applied.push(name);
    const section = m[1]!.toLowerCase() as "adaptive" | "watchdog";
    const key = m[2]!.toLowerCase();
    const shape = section === "adaptive" ? AdaptiveConfig.shape : WatchdogConfig.shape;
    if (!(key in shape)) {
      throw new BadInputError(`Unknown environment override ${name} (no key '${section}.${key}')`, {
        hint: HINT,
      });
    }
    const parsed = (shape as Record<string, z.ZodType>)[key]!.safeParse(envValue(value));
    if (!parsed.success) {
      throw new BadInputError(
        `Invalid environment override ${name}=${JSON.stringify(value)}: ${
          describeIssues(`${section}.${key}`, parsed.error)
        }`,
        { hint: HINT },
      );
    }
    (sections[section] ??= {})[key] = parsed.data;
  }
  const result = ConfigFile.safeParse(sections);
  if (!result.success) {
    throw new BadInputError(
      `Invalid config${path ? ` '${path}'` : ""}: ${describeIssues("", result.error)}`,
      { hint: HINT },
    );
  }
  const policy = toPolicy(result.data.adaptive);
  // A part of a configuration (a preset) is checked key by key; its limits across keys hold
  // only once it is merged into a whole one.
  if (!options.partial) {
    try {
      // The core's own check, so both agree on what a valid policy is.
      validatePolicy({ ...DEFAULT_POLICY, ...policy });
    } catch (err) {
      const field = /policy\.(\w+)/.exec((err as Error).message)?.[1] ?? "";
      const snake = field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      throw new BadInputError(`Invalid config key 'adaptive.${snake}': ${(err as Error).message}`, {
        hint: HINT,
      });
    }
  }
  return {
    policy,
    adaptive: result.data.adaptive,
    watchdog: result.data.watchdog,
    source: path ? path : null,
    overrides: applied,
  };
}
