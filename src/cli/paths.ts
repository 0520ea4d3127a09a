/**
 * Refusing output paths before the work: one file named for two roles (`run-csv --csv w.csv
 * --json-summary-out w.csv` would replace the workload with the summary), a directory where a
 * file goes, a file where a directory goes.
 *
 * @module
 */

import { BadInputError } from "../errors.ts";
import { followLinks } from "../io/atomic_write.ts";
import { dirOf, isAbsolute, joinPath, rootOf, slashed, withoutDots } from "../io/path.ts";

/**
 * What a path names, for comparing: the file's device and inode when it exists (so hard links
 * and symbolic links to one file compare equal), else the path made absolute with `.` and `..`
 * resolved.
 */
function identity(path: string): string {
  // Where a write would go: a link to a file not there yet names that file.
  const target = followLinks(path) ?? path;
  try {
    const info = Deno.statSync(target);
    if (info.ino !== null) return `inode ${info.dev}:${info.ino}`;
  } catch {
    // not there yet (an output), or not ours to look at: compare the spelled path
  }
  return spelled(target);
}

/** `path` made absolute with `.` and `..` resolved, through the symlinks of the part that exists. */
function spelled(path: string): string {
  const abs = withoutDots(isAbsolute(path) ? path : joinPath(Deno.cwd(), path));
  const root = rootOf(abs);
  const parts = abs.slice(root.length).split("/").filter((p) => p !== "");
  // The part that exists, with its links resolved (`sd/out.json`, sd a link to real/, is
  // real/out.json), then the rest as spelled: an output is often not there yet.
  for (let i = parts.length; i >= 0; i--) {
    try {
      const head = slashed(Deno.realPathSync(root + parts.slice(0, i).join("/")));
      return i === parts.length ? head : joinPath(head, parts.slice(i).join("/"));
    } catch {
      // not there (or not ours to look at): try the directory above
    }
  }
  return abs;
}

/** Whether `a` and `b` name one file: through links, `.` and `..`, however they are spelled. */
export function sameFilePath(a: string, b: string): boolean {
  return identity(a) === identity(b);
}

/**
 * Files no output may replace, whichever command writes it: the global `--config` and
 * `--log-file`, and those of a command that runs another (`profile --then`).
 */
let reserved: Array<[string, string]> = [];

/** Adds `roles` (`[flag, path]`, undefined skipped) to the files outputs are kept away from. */
export function reservePaths(roles: ReadonlyArray<[string, string | undefined]>): void {
  for (const [flag, path] of roles) if (path !== undefined) reserved.push([flag, path]);
}

/** Forgets every reserved file: a new command line starts. */
export function clearReservedPaths(): void {
  reserved = [];
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

/** What `path` is, or null when it is missing or cannot be looked at (the write reports it). */
function kindOf(path: string): "directory" | "file" | "other" | null {
  try {
    const info = Deno.statSync(path);
    return info.isDirectory ? "directory" : info.isFile ? "file" : "other";
  } catch {
    return null;
  }
}

/**
 * Throws BadInputError when a directory that would hold `path` (its parent, or the nearest
 * ancestor that exists) is a file: `mkdir` would fail with "File exists" only at the write.
 */
function checkAncestors(flag: string, path: string): void {
  for (let dir = dirOf(path);; dir = dirOf(dir)) {
    const kind = kindOf(dir);
    if (kind === "directory") return;
    if (kind !== null) {
      throw new BadInputError(`${flag} "${path}": "${dir}" is not a directory`, {
        hint: "Name a path inside a directory (missing directories are created)",
      });
    }
    if (dir === "." || dir === "/" || dirOf(dir) === dir) return;
  }
}

/**
 * Throws BadInputError when an output path of `roles` (`[flag, path, takesStdout]`) is an
 * existing directory, a FIFO or a device (a rename would replace it), lies under a file, is a
 * reserved file ({@linkcode reservePaths}), or is `-` for a flag that cannot write to stdout:
 * found before the work, not when its result is renamed into place.
 */
export function checkOutputFiles(
  roles: ReadonlyArray<readonly [string, string | undefined, boolean?]>,
): void {
  for (const [flag, path, takesStdout] of roles) {
    if (path === undefined || (path === "-" && takesStdout === true)) continue;
    if (path === "-") {
      throw new BadInputError(`${flag} "-" is not a file: this output cannot go to stdout`, {
        hint: "Name a file (./- for a file called '-'); --json prints results on stdout",
      });
    }
    const kind = kindOf(path);
    // "out/" or "out/." names a directory even before it exists: the rename would fail late.
    if (kind === "directory" || /(^|\/)\.{0,2}$/.test(path)) {
      throw new BadInputError(`${flag} "${path}" is a directory`, {
        hint: "Name a file to write",
      });
    }
    if (kind === "other") {
      throw new BadInputError(`${flag} "${path}" is not a regular file (a FIFO or a device)`, {
        hint: "Outputs are written whole and renamed into place, which would replace it; " +
          "name a regular file",
      });
    }
    checkAncestors(flag, path);
    for (const role of reserved) {
      checkDistinctPaths([role, [flag, path]]);
      checkNotNested(role, [flag, path]);
    }
  }
  const files = roles.filter((r): r is readonly [string, string, boolean?] =>
    r[1] !== undefined && r[1] !== "-"
  );
  for (let a = 0; a < files.length; a++) {
    for (let b = a + 1; b < files.length; b++) checkNotNested(files[a]!, files[b]!);
  }
}

/**
 * Throws BadInputError when one of two files (`[flag, path]`) would lie under the other: the
 * first written leaves no directory for the second, which failed at the commit, after the work.
 */
function checkNotNested(
  a: readonly [string, string, boolean?],
  b: readonly [string, string, boolean?],
): void {
  const pa = spelled(a[1]);
  const pb = spelled(b[1]);
  for (const [outer, inner, po, pi] of [[a, b, pa, pb], [b, a, pb, pa]] as const) {
    if (po !== rootOf(po) && pi.startsWith(`${po}/`)) {
      throw new BadInputError(
        `${inner[0]} "${inner[1]}" lies under ${outer[0]} "${outer[1]}", which is a file`,
        { hint: "Give each output a path of its own, outside the others" },
      );
    }
  }
}

/**
 * Throws BadInputError when an output directory of `roles` exists as something else, or lies
 * under a file (missing directories are fine: they are created).
 */
export function checkOutputDirs(roles: ReadonlyArray<[string, string | undefined]>): void {
  for (const [flag, path] of roles) {
    if (path === undefined) continue;
    const kind = kindOf(path);
    if (kind === "file" || kind === "other") {
      throw new BadInputError(`${flag} "${path}" is not a directory`, {
        hint: "Name a directory (created if missing)",
      });
    }
    checkAncestors(flag, path);
  }
}
