/**
 * Refusing a command line that names one file for two roles, e.g. `run-csv --csv w.csv
 * --json-summary-out w.csv`, which would replace the workload with the summary.
 *
 * @module
 */

import { BadInputError } from "../errors.ts";

/** `path` made absolute with `.` and `..` resolved, through symlinks where it exists. */
function identity(path: string): string {
  const abs = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const parts: string[] = [];
  for (const p of abs.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  const full = `/${parts.join("/")}`;
  try {
    return Deno.realPathSync(full);
  } catch {
    return full; // not there yet (an output), or not readable: compare the spelled path
  }
}

/**
 * Throws BadInputError naming both flags when two of `roles` (`[flag, path]`; undefined and
 * `-`, stdin or stdout, are skipped) are the same file.
 */
export function checkDistinctPaths(roles: ReadonlyArray<[string, string | undefined]>): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of roles) {
    if (path === undefined || path === "-") continue;
    const id = identity(path);
    const other = seen.get(id);
    if (other !== undefined) {
      throw new BadInputError(`${other} and ${flag} name the same file: "${path}"`, {
        hint: "Give each output a path of its own; inputs are never overwritten",
      });
    }
    seen.set(id, flag);
  }
}

/**
 * Throws BadInputError when an output path of `roles` is an existing directory: found before
 * the work, not when its result is renamed into place.
 */
export function checkOutputFiles(roles: ReadonlyArray<[string, string | undefined]>): void {
  for (const [flag, path] of roles) {
    if (path === undefined || path === "-") continue;
    let isDir = false;
    try {
      isDir = Deno.statSync(path).isDirectory;
    } catch {
      // missing (to be created) or unreadable: the write reports it
    }
    if (isDir) {
      throw new BadInputError(`${flag} "${path}" is a directory`, {
        hint: "Name a file to write",
      });
    }
  }
}
