/**
 * What `config-edit` and `config-wizard` share when they write: the checks on `--outfile`
 * made before any work, the TOML file's header, the commit of every output together, and the
 * text that reports the changes.
 *
 * @module
 */

import { BadInputError, PolicyError } from "../errors.ts";
import { checkOutputFiles } from "../cli/paths.ts";
import { findKey, showValue } from "./keys.ts";
import type { ConfigChange } from "./edit.ts";

/**
 * Refuses, before any work, an output that cannot or may not be written: a directory
 * (BadInput), an existing file without `--force` (Policy, exit 4), and `-` (stdout) together
 * with `--json`, which prints its result there.
 */
export function checkOutfile(
  flag: string,
  path: string | undefined,
  force: boolean,
  json: boolean,
): void {
  if (path === undefined) return;
  if (path === "-") {
    if (json) {
      throw new BadInputError(
        `${flag} - prints the TOML on stdout, where --json prints the result`,
        {
          hint: `Give ${flag} a file, or drop --json`,
        },
      );
    }
    return;
  }
  checkOutputFiles([[flag, path]]);
  if (force) return;
  try {
    Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  throw new PolicyError(`${flag} '${path}' exists; nothing was written`, {
    hint: "Add --force to replace it",
  });
}

/** The header comment lines of a configuration file written by `command`. */
export function fileHeader(command: string, sources: readonly string[]): string[] {
  return [
    `adhash configuration, written by hashmap-cli ${command}.`,
    ...(sources.length > 0 ? [`From ${sources.join(", ")}.`] : []),
    "Keys not listed take their defaults; every key is described in docs/config.md.",
  ];
}

function show(id: string, value: ConfigChange["before"]): string {
  const key = findKey(id)!;
  return value === null ? `default ${showValue(key, key.defaultValue)}` : showValue(key, value);
}

/** `  key: before -> after` lines, or a line saying nothing changed. */
export function formatChanges(changes: readonly ConfigChange[]): string[] {
  if (changes.length === 0) return ["  no key changed"];
  return changes.map((c) => `  ${c.key}: ${show(c.key, c.before)} -> ${show(c.key, c.after)}`);
}
