/**
 * Configuration presets: named sets of keys that `config-edit --apply-preset` merges over a
 * configuration. Built-in presets ship in this file and are read-only; others are TOML files
 * `<dir>/<name>.toml` in the presets directory (`--presets-dir`, env `ADHASH_PRESETS_DIR`).
 * Names are `[a-z0-9-]`, so a name can never leave the directory.
 *
 * @module
 */

import { AdhashError, BadInputError, PolicyError } from "../errors.ts";
import { type ConfigSections, emptySections } from "./keys.ts";
import { readConfigFile } from "./edit.ts";

const HINT = "See docs/config.md#presets";

/** A preset name: lower-case letters, digits and dashes, not starting with a dash. */
export const PRESET_NAME: RegExp = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** A preset as listed and applied. */
export interface Preset {
  name: string;
  source: "builtin" | "directory";
  /** The file, for a directory preset. */
  path: string | null;
  /** What it is for (built-in presets). */
  description: string | null;
  /** The keys it sets, or null when the file is invalid. */
  config: ConfigSections | null;
  /** Why a directory preset cannot be applied, or null. */
  problem: string | null;
}

function builtin(name: string, description: string, set: Partial<ConfigSections>): Preset {
  const config = { ...emptySections(), ...set };
  return { name, source: "builtin", path: null, description, config, problem: null };
}

/**
 * The built-in presets. Each states what it does in terms a test checks through `run-csv`
 * (tests/cli/config_edit_test.ts); the measurements behind the numbers are in docs/config.md.
 */
export const BUILTIN_PRESETS: readonly Preset[] = [
  builtin(
    "latency-first",
    "Reach Robin Hood early, migrate in small steps: leave chaining above load 0.5 (a new map " +
      "switches at 257 entries, not 420) or a chain longer than 4, and move at most 256 entries " +
      "per operation while migrating or growing (shorter pauses, more of them).",
    { adaptive: { max_lf_chaining: 0.5, max_group_len: 4, incremental_batch: 256 } },
  ),
  builtin(
    "small-maps",
    "Small maps stay small: a new map is an 8-slot Robin Hood table instead of 512 chains " +
      "(100 keys: 28 bytes per entry, not 54). Maps above about 600 keys are sized alike either " +
      "way; the map still moves to chaining if keys collide.",
    { adaptive: { start_backend: "robinhood", initial_capacity_rh: 8 } },
  ),
  builtin(
    "early-warning",
    "Watchdog alerts before the default policy acts: load factor above 0.75 (chaining migrates " +
      "at 0.82, Robin Hood grows at 0.8), average probe above 4 (Robin Hood gives up at 6), " +
      "tombstone ratio above 0.2 (compaction at 0.25).",
    { watchdog: { load_factor_warn: 0.75, avg_probe_warn: 4.0, tombstone_ratio_warn: 0.2 } },
  ),
];

/** Throws BadInputError unless `name` is a valid preset name. */
export function checkPresetName(name: string, flag: string): void {
  if (!PRESET_NAME.test(name)) {
    throw new BadInputError(
      `${flag} ${JSON.stringify(name)} is not a preset name: use a-z, 0-9 and -, at most 64`,
      { hint: HINT },
    );
  }
}

/** The built-in preset `name`, if any. */
function builtinPreset(name: string): Preset | undefined {
  return BUILTIN_PRESETS.find((p) => p.name === name);
}

/** The file of directory preset `name` (a checked name). */
export function presetPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}.toml`;
}

/** The keys preset `name` sets: built in, else `<dir>/<name>.toml`. */
export async function presetConfig(name: string, dir: string | undefined): Promise<Preset> {
  checkPresetName(name, "--apply-preset");
  const found = builtinPreset(name);
  if (found !== undefined) return found;
  const builtins = BUILTIN_PRESETS.map((p) => p.name).join(", ");
  if (dir === undefined) {
    throw new BadInputError(
      `Unknown preset '${name}': the built-in presets are ${builtins}, and no presets ` +
        `directory is set`,
      { hint: "Give --presets-dir (or ADHASH_PRESETS_DIR), or run config-edit --list-presets" },
    );
  }
  const path = presetPath(dir, name);
  try {
    Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotADirectory) throw notADirectory(dir);
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new BadInputError(
      `Unknown preset '${name}': not built in (${builtins}) and no file '${path}'`,
      { hint: "Run config-edit --list-presets to see the presets" },
    );
  }
  const config = await readConfigFile(path, true);
  return { name, source: "directory", path, description: null, config, problem: null };
}

function notADirectory(dir: string): BadInputError {
  return new BadInputError(`Presets directory '${dir}' is not a directory`, { hint: HINT });
}

/** Refuses to write preset `name` over a built-in one. */
export function checkWritablePreset(name: string): void {
  checkPresetName(name, "--save-preset");
  if (builtinPreset(name) !== undefined) {
    throw new PolicyError(`Preset '${name}' is built in and read-only`, {
      hint: "Save it under another name",
    });
  }
}

/**
 * The built-in presets, then the `*.toml` files of `dir` by name. A file that cannot be
 * applied (bad name, a built-in's name, invalid TOML or keys) is listed with its problem.
 * A directory that does not exist yet lists nothing.
 */
export async function listPresets(
  dir: string | undefined,
): Promise<{ presets: Preset[]; dirExists: boolean }> {
  const presets = [...BUILTIN_PRESETS];
  if (dir === undefined) return { presets, dirExists: false };
  let names: string[];
  try {
    names = [...Deno.readDirSync(dir)]
      .filter((e) => !e.isDirectory && e.name.endsWith(".toml") && !e.name.startsWith("."))
      .map((e) => e.name.slice(0, -".toml".length))
      .sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { presets, dirExists: false };
    if (err instanceof Deno.errors.NotADirectory) throw notADirectory(dir);
    throw err;
  }
  for (const name of names) {
    const path = presetPath(dir, name);
    const entry: Preset = {
      name,
      source: "directory",
      path,
      description: null,
      config: null,
      problem: null,
    };
    if (!PRESET_NAME.test(name)) entry.problem = "the name is not a-z, 0-9 and -";
    else if (builtinPreset(name) !== undefined) {
      entry.problem = "a built-in preset has this name, so the file is never used";
    } else {
      try {
        entry.config = await readConfigFile(path, true);
      } catch (err) {
        // Unreadable or invalid: one bad file does not hide the others.
        if (!(err instanceof AdhashError)) throw err;
        entry.problem = err.message;
      }
    }
    presets.push(entry);
  }
  return { presets, dirExists: true };
}
