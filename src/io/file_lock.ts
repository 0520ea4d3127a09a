/**
 * An advisory lock serialising read-modify-write cycles on one file across processes.
 *
 * @module
 */

import {
  makeDirs,
  removeDirs,
  trackTempFile,
  utf8Prefix,
  writeError,
  writeTarget,
} from "./atomic_write.ts";
import { baseOf, dirOf, joinPath, withoutDots } from "./path.ts";
import { BadInputError } from "../errors.ts";

/**
 * Takes the exclusive lock of the file a write to `path` replaces (through `.`, `..` and
 * symbolic links, so every name of one file shares its lock), waiting for any other holder;
 * returns the release. The lock is on a side file `.NAME.lock` beside `path` (locking `path`
 * itself would not do: an atomic write renames a new file over it), which the release removes.
 * A process that was waiting on the removed file then finds the name gone or another file under
 * it, and tries again on that. A holder that dies releases the lock with its file descriptor.
 */
export async function lockFile(spelled: string): Promise<() => void> {
  const path = writeTarget(withoutDots(spelled));
  const dir = dirOf(path);
  const lockPath = joinPath(dir, await lockName(baseOf(path)));
  // A new snapshot's directories: removed with the lock file unless the snapshot went in them.
  let made = makeDirs(dir);
  try {
    for (;;) {
      let file: Deno.FsFile;
      try {
        // Synchronous, as a temporary file's open is: a signal cannot come in between.
        file = Deno.openSync(lockPath, { write: true, create: true });
      } catch (err) {
        // The holder we waited for failed to save and removed the directories it had made.
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        made = [...makeDirs(dir), ...made];
        continue;
      }
      try {
        await file.lock(true);
      } catch (err) {
        file.close();
        throw err;
      }
      if (sameFile(file, lockPath)) {
        // A lock file is always empty: one with data is a file of the user's that happens to
        // have the name (an output `.x.snap.lock`), which the release would delete.
        if (file.statSync().size > 0) {
          file.close();
          throw new BadInputError(
            `'${lockPath}' holds data, but adhash takes it as the lock of '${spelled}'`,
            { hint: "Move that file away: it is no lock of adhash's" },
          );
        }
        // Still the lock file, unless an output took its name meanwhile (a lock file is empty).
        const ours = (): boolean => {
          try {
            return sameFile(file, lockPath) && file.statSync().size === 0;
          } catch {
            return false;
          }
        };
        // An interrupted command leaves neither it nor its directories.
        trackTempFile(lockPath, false, ours);
        return () => {
          try {
            if (ours()) Deno.removeSync(lockPath); // still locked: no one can lock it in between
          } catch {
            // removed by hand: nothing to do
          }
          trackTempFile(lockPath, true);
          file.close();
          removeDirs(made);
        };
      }
      file.close();
    }
  } catch (err) {
    removeDirs(made); // those still empty
    throw writeError(spelled, err);
  }
}

/**
 * `.NAME.lock`; for a NAME of over 200 bytes, its first 180 and a hash of the whole (SHA-256, its
 * first 16 hex digits), so that the lock of any name a file system takes (255 bytes) fits too.
 * Web Crypto, not `node:crypto`: importing that took 20 ms of every command's start.
 */
export async function lockName(name: string): Promise<string> {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length <= 200) return `.${name}.lock`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return `.${utf8Prefix(name, 180)}.${hash}.lock`;
}

/** Whether `file` is still the file named `path`. */
function sameFile(file: Deno.FsFile, path: string): boolean {
  try {
    const held = file.statSync();
    const named = Deno.statSync(path);
    return held.ino === named.ino && held.dev === named.dev;
  } catch {
    return false; // the name is gone
  }
}
