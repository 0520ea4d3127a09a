/**
 * Atomic file replacement: create the target's directory if needed, write a temporary file
 * beside the target, fsync it, rename it over the target, then fsync the directory. A reader
 * sees the old file or the new one, never a partial one; a failure removes the temporary file.
 * A symbolic link is followed (its target is replaced, the link kept); a FIFO or a device is
 * refused.
 *
 * @module
 */

import { IOError } from "../errors.ts";
import { baseOf, dirOf, isAbsolute, joinPath, withoutDots } from "./path.ts";
import { writeAll } from "./write_all.ts";

/** Temporary files not yet renamed or removed, for {@linkcode removeTempFilesOnSignal}. */
/** Temporary files, each with what says whether a signal may remove it now (always, unset). */
const pending = new Map<string, (() => boolean) | undefined>();
/**
 * Directories made for outputs not yet written: the latest write's first (it may have made one
 * inside a directory made earlier), deepest first within each write.
 */
const createdDirs: string[] = [];
/** SIGHUP too: a closed terminal or SSH session must not leave a hidden temporary file. */
const SIGNALS = [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const;
let onSignal: Array<() => void> | null = null;
let cleanUpOnSignal = false;

/**
 * Makes SIGINT, SIGTERM and SIGHUP remove the temporary files of writes under way (and the
 * directories made for them, when empty), then exit with the conventional 130, 143 or 129.
 * Without it (a library user's process) signals are left alone; the CLI turns it on. The
 * listeners exist only while a temporary file or such a directory does: a signal arriving at
 * any other time gets the default or the program's own handling.
 */
export function removeTempFilesOnSignal(): void {
  cleanUpOnSignal = true;
}

/**
 * Undoes {@linkcode removeTempFilesOnSignal} for a program that handles SIGINT and SIGTERM
 * itself (`serve`): it lets writes under way finish and shuts down in order, which an exit from
 * the middle of a write would prevent.
 */
export function leaveSignalsToProgram(): void {
  cleanUpOnSignal = false;
  if (onSignal !== null) {
    SIGNALS.forEach(([sig], i) => Deno.removeSignalListener(sig, onSignal![i]!));
    onSignal = null;
  }
}

/**
 * Removes the temporary files of writes under way and exits with `code`: what SIGINT and
 * SIGTERM do to the CLI, for a process that must stop for another reason (an orphaned job).
 */
export function exitRemovingTempFiles(code: number): never {
  const removable = [...pending].filter(([, mayRemove]) => mayRemove?.() ?? true);
  for (const p of [...removable.map(([path]) => path), ...createdDirs]) {
    try {
      Deno.removeSync(p); // a directory only when empty: nothing else is lost
    } catch {
      // already gone, or a directory that holds something else
    }
  }
  Deno.exit(code);
}

/**
 * Records (or with `done`, forgets) a temporary file: a signal removes it (before the
 * directories made for it), if `mayRemove` (when given) says so then. A lock's side file is one
 * too.
 */
export function trackTempFile(path: string, done = false, mayRemove?: () => boolean): void {
  if (done) pending.delete(path);
  else pending.set(path, mayRemove);
  listenWhileTracking();
}

/**
 * Records (or with `done`, forgets) the directories a write made for its output, deepest
 * first: a signal before the output is in place removes those still empty.
 */
function trackCreatedDirs(dirs: readonly string[], done = false): void {
  if (!done) createdDirs.unshift(...dirs);
  else {
    for (const d of dirs) {
      const i = createdDirs.indexOf(d);
      if (i >= 0) createdDirs.splice(i, 1);
    }
  }
  listenWhileTracking();
}

/**
 * `mkdir -p dir`; returns the directories it made, deepest first, tracked until
 * {@linkcode removeDirs} or a commit forgets them: a write that fails (or a signal) must not
 * leave behind the directories made for its output.
 */
export function makeDirs(dir: string): string[] {
  const made: string[] = [];
  const parts = withoutDots(dir).split("/");
  for (let i = 1; i <= parts.length; i++) {
    if (parts[i - 1] === "") continue;
    const prefix = parts.slice(0, i).join("/");
    try {
      Deno.statSync(prefix);
    } catch {
      // A link to a directory not there yet (an unmounted volume) is the user's: mkdir would
      // fail on it, and removing what was "made" then deleted the link.
      const link = linkTarget(prefix);
      if (link !== null) {
        throw new Deno.errors.NotFound(
          `${JSON.stringify(prefix)} is a symbolic link to ${
            JSON.stringify(link)
          }, which does not exist`,
        );
      }
      made.unshift(prefix);
    }
  }
  trackCreatedDirs(made);
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (err) {
    removeDirs(made);
    throw err;
  }
  return made;
}

/**
 * Gives the temporary file `tmp` the mode, owner and group of the file `target` it is to replace,
 * as a write in place keeps them: a snapshot made private stays private, a shared file keeps its
 * group. A new file keeps the umask's mode. Owner and group are kept as far as this user may set
 * them (root: both; others: a group they belong to).
 */
export function keepOwnership(tmp: string, target: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(target);
  } catch {
    return; // a new file, or not ours to look at
  }
  // Permission bits only: set-user-ID and set-group-ID do not survive a write in place either.
  if (info.mode !== null) Deno.chmodSync(tmp, info.mode & 0o777);
  if (info.uid === null || info.gid === null) return; // Windows
  try {
    Deno.chownSync(tmp, info.uid, info.gid);
  } catch {
    try {
      Deno.chownSync(tmp, null, info.gid);
    } catch { /* not a group of ours: the file gets ours, as a new one would */ }
  }
}

/** Where `path` leads when it is a symbolic link, else null. */
function linkTarget(path: string): string | null {
  try {
    return Deno.lstatSync(path).isSymlink ? Deno.readLinkSync(path) : null;
  } catch {
    return null;
  }
}

/** Removes the directories of {@linkcode makeDirs}, deepest first, while they are empty. */
export function removeDirs(made: readonly string[]): void {
  for (const dir of made) {
    try {
      Deno.removeSync(dir); // only if empty: nothing else is lost
    } catch {
      break; // not empty (nor, then, any above it), or gone
    }
  }
  trackCreatedDirs(made, true);
}

/** Installs the signal listeners while anything is tracked, and removes them after. */
function listenWhileTracking(): void {
  if (!cleanUpOnSignal || Deno.build.os === "windows") return;
  const tracking = pending.size + createdDirs.length > 0;
  if (tracking && onSignal === null) {
    onSignal = SIGNALS.map(([, code]) => () => exitRemovingTempFiles(code));
    SIGNALS.forEach(([sig], i) => Deno.addSignalListener(sig, onSignal![i]!));
  } else if (!tracking && onSignal !== null) {
    SIGNALS.forEach(([sig], i) => Deno.removeSignalListener(sig, onSignal![i]!));
    onSignal = null;
  }
}

/** The longest prefix of `s` whose UTF-8 encoding fits in `bytes`, cut between characters. */
export function utf8Prefix(s: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    used += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (used > bytes) break;
    end += ch.length;
  }
  return s.slice(0, end);
}

/** A new temporary path beside `path` (recorded by {@linkcode trackTempFile}). */
export function tempPathFor(path: string): string {
  // At most 100 bytes of the name: file systems allow 255 bytes, and the pid and random number
  // add up to 33 more, so a long name that is valid itself stays writable.
  const base = utf8Prefix(baseOf(path), 100);
  const rand = crypto.getRandomValues(new Uint32Array(2)).join("");
  const tmp = joinPath(dirOf(path), `.${base}.${Deno.pid}.${rand}.tmp`);
  trackTempFile(tmp);
  return tmp;
}

/**
 * Removes the temporary files that process `pid` (any process, without one) left under `dir` and
 * its subdirectories (named as {@linkcode tempPathFor} names them): a process ended by SIGKILL
 * cannot remove its own. Symbolic links are not followed. Returns the paths removed.
 */
export async function removeTempFilesOf(dir: string, pid?: number): Promise<string[]> {
  const pattern = new RegExp(`^\\..+\\.${pid ?? "\\d+"}\\.\\d+\\.tmp$`);
  const removed: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) removed.push(...await removeTempFilesOf(path, pid));
    else if (entry.isFile && pattern.test(entry.name)) {
      await Deno.remove(path);
      removed.push(path);
    }
  }
  return removed;
}

/**
 * Fsyncs a directory so that a rename in it is durable. Best effort: some platforms refuse to
 * open a directory. Synchronous: an asynchronous call also waits for a thread-pool wake-up,
 * which took 1-9 ms after a replay on a busy 2-core machine.
 */
function syncDirSync(dir: string): void {
  try {
    const f = Deno.openSync(dir, { read: true });
    try {
      f.syncSync();
    } finally {
      f.close();
    }
  } catch {
    // Best effort only.
  }
}

/**
 * The file a write to `path` replaces: `path` itself, or what a symbolic link there leads to,
 * so that the link stays a link and its target gets the new content. Something other than a
 * regular file (a FIFO, a device such as `/dev/null`) is an IOError: renaming a file over it
 * would replace it rather than write to it.
 */
export function writeTarget(path: string): string {
  const target = followLinks(path);
  if (target === null) {
    throw new IOError(`Cannot write '${path}': too many levels of symbolic links`);
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(target);
  } catch {
    return target; // not there yet (created by the write), or not ours to look at
  }
  if (info.isFile || info.isDirectory) return target; // a directory fails at the rename
  throw new IOError(`Cannot write '${path}': not a regular file`, {
    hint: "Outputs are written whole and renamed into place; name a regular file",
  });
}

/**
 * Where the symbolic links at `path` lead, the last one possibly to nothing yet (`path` itself
 * when it is no link, or cannot be looked at); null past 40 links.
 */
export function followLinks(path: string): string | null {
  let target = path;
  for (let links = 0; links <= 40; links++) {
    try {
      if (!Deno.lstatSync(target).isSymlink) return target;
    } catch {
      return target;
    }
    const link = Deno.readLinkSync(target);
    target = isAbsolute(link) ? link : joinPath(dirOf(target), link);
  }
  return null;
}

/** A complete, fsynced file under a temporary name, waiting to replace its target. */
export interface StagedFile {
  /** The target path. */
  readonly path: string;
  /** The temporary file, to read the content back before it is committed. */
  readonly tmp: string;
  /** Renames the file over its target (and fsyncs the directory); on failure, discards it. */
  commit(): void;
  /** Throws IOError naming the target when the temporary file is no longer there. */
  check(): void;
  /** Removes the temporary file; the target is left as it was. */
  discard(): void;
}

/**
 * A staged file at `tmp` for `path`, to be renamed over `target` (`path`, or the file its
 * symbolic link leads to: {@linkcode writeTarget}). `made`: the directories made for it
 * ({@linkcode makeDirs}), which a discard removes and a commit keeps.
 */
export function stagedFile(
  path: string,
  tmp: string,
  target: string = path,
  made: readonly string[] = [],
): StagedFile {
  const staged: StagedFile = {
    path,
    tmp,
    commit(): void {
      try {
        Deno.renameSync(tmp, target);
      } catch (err) {
        staged.discard();
        throw writeError(path, err);
      }
      trackTempFile(tmp, true);
      trackCreatedDirs(made, true);
      syncDirSync(dirOf(target));
    },
    check(): void {
      try {
        Deno.lstatSync(tmp);
      } catch (err) {
        throw writeError(path, err);
      }
    },
    discard(): void {
      try {
        Deno.removeSync(tmp);
      } catch {
        // already gone
      }
      trackTempFile(tmp, true);
      removeDirs(made);
    },
  };
  return staged;
}

/**
 * The operating system's refusal to write `path` as an IOError naming `path`: its own message
 * names the temporary file, or no file at all (`File name too long`). Deno's own permission
 * refusals (`NotCapable`, Policy) and errors that are not the system's pass unchanged.
 */
export function writeError(path: string, err: unknown): unknown {
  if (err instanceof Deno.errors.NotCapable) return err;
  const os = systemMessage(err);
  return os === null ? err : new IOError(`Cannot write '${path}': ${os}`, { cause: err });
}

/**
 * The system's words in `err` (`File too large (os error 27)`), or null when the error is not the
 * system's. Deno gives some system errors (EFBIG) neither a class of its own nor a `code`.
 */
export function systemMessage(err: unknown): string | null {
  const os = err instanceof Error ? /^(.*?\(os error \d+\))/.exec(err.message) : null;
  return os === null ? null : os[1]!;
}

/**
 * What a file is written from: bytes, text, chunks of bytes, or a function that writes the
 * open file itself (to write out of order, as a header known only at the end).
 */
export type FileData =
  | Uint8Array
  | string
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>
  | ((file: Deno.FsFile) => Promise<void>);

/**
 * Writes `data` to a temporary file beside `path` and fsyncs it, creating the directory if
 * needed; `commit()` then replaces `path`. Several outputs of one run are staged first and
 * committed together, so a failure while writing any of them commits none. `made`: directories
 * the caller made for the file ({@linkcode makeDirs}), removed with it if it is discarded.
 */
export async function stageFile(
  path: string,
  data: FileData,
  made: readonly string[] = [],
): Promise<StagedFile> {
  const target = writeTarget(path);
  let dirs: string[];
  try {
    dirs = [...makeDirs(dirOf(target)), ...made]; // outputs may name a new directory
  } catch (err) {
    throw writeError(path, err);
  }
  const tmp = tempPathFor(target);
  const staged = stagedFile(path, tmp, target, dirs);
  let file: Deno.FsFile | null = null;
  try {
    // Synchronous: an asynchronous open runs on another thread, and a signal handled meanwhile
    // found no file to remove, exited, and the file appeared after it (strace-delayed: left).
    file = Deno.openSync(tmp, { write: true, createNew: true, mode: creationMode(target) });
    keepOwnership(tmp, target);
    if (typeof data === "string") await writeAll(file, new TextEncoder().encode(data));
    else if (data instanceof Uint8Array) await writeAll(file, data);
    else if (typeof data === "function") await data(file);
    else for await (const chunk of data) await writeAll(file, chunk);
    await file.sync();
  } catch (err) {
    staged.discard();
    throw writeError(path, err);
  } finally {
    file?.close();
  }
  return staged;
}

/**
 * The mode to create `target`'s temporary file with: the target's own permission bits when it
 * exists, so that a private file's new content is never readable by others (a reader who opened
 * it while it was 0644, before {@linkcode keepOwnership}, kept reading it); else 0644, less the
 * umask.
 */
export function creationMode(target: string): number {
  try {
    const mode = Deno.statSync(target).mode;
    if (mode !== null) return mode & 0o777;
  } catch {
    // a new file, or not ours to look at
  }
  return 0o644;
}

/**
 * Writes `data` (bytes, chunks of bytes, text, or a function writing the file: {@linkcode FileData})
 * to `path` atomically.
 *
 * @example
 * ```ts ignore
 * await atomicWrite("out/summary.json", new TextEncoder().encode("{}"));
 * ```
 */
export async function atomicWrite(path: string, data: FileData): Promise<void> {
  (await stageFile(path, data)).commit();
}

/**
 * Rewrites the existing file `path` with `text` in place and fsyncs it, for a small record that
 * must not go stale when {@linkcode atomicWrite} cannot make its temporary copy (a full disk, a
 * directory that takes no new files): the new text goes over the old bytes, in the blocks the file
 * has. A new text that needs more room than there is fails, and the old text is put back: a
 * stale record, not a cut-short one. A crash during the write can still leave it unreadable.
 */
export async function rewriteInPlace(path: string, text: string): Promise<void> {
  const old = await Deno.readFile(path);
  const file = await Deno.open(path, { write: true });
  const put = async (bytes: Uint8Array): Promise<void> => {
    await file.seek(0, Deno.SeekMode.Start);
    await writeAll(file, bytes);
    await file.truncate(bytes.length);
    await file.sync();
  };
  try {
    await put(new TextEncoder().encode(text));
  } catch (err) {
    await put(old).catch(() => {}); // it fitted before
    throw err;
  } finally {
    file.close();
  }
}

/**
 * Writes every `[path, text]` atomically and together: all are staged (written and fsynced
 * under temporary names) before any is renamed into place, so a failure while writing leaves
 * none of them behind.
 */
export async function writeTogether(
  files: ReadonlyArray<readonly [string, string]>,
): Promise<string[]> {
  const staged: StagedFile[] = [];
  try {
    for (const [path, text] of files) staged.push(await stageFile(path, text));
  } catch (err) {
    for (const s of staged) s.discard();
    throw err;
  }
  commitAll(staged);
  return staged.map((s) => s.path);
}

/**
 * Renames staged files over their targets in order, once every temporary file is known to be
 * still there: a directory moved or removed during a long run takes its file with it, and that
 * must fail before any target is replaced, not after some are. On failure, discards those not
 * renamed and throws, with `renamed` telling how many were. A rename the system refuses after
 * others went through (a nearly full file system whose directory must grow to take a new name)
 * cannot be undone: its error then names the targets already replaced.
 */
export function commitAll(
  staged: readonly StagedFile[],
  renamed: { count: number } = { count: 0 },
): void {
  try {
    for (const f of staged) f.check();
    for (const f of staged) {
      f.commit();
      renamed.count++;
    }
  } catch (err) {
    for (const f of staged.slice(renamed.count)) f.discard();
    if (renamed.count === 0 || !(err instanceof IOError)) throw err;
    const done = staged.slice(0, renamed.count).map((f) => `'${f.path}'`).join(", ");
    throw new IOError(`${err.message}; already replaced: ${done}`, {
      cause: err,
      ...(err.hint !== undefined && { hint: err.hint }),
    });
  }
}
