/**
 * Snapshot commands (issue 4): `put`, `get`, `del`, `items` (a small persistent key-value store
 * with `--snapshot P`), plus `verify-snapshot`, `compact-snapshot`, `inspect-snapshot`
 * (src/cli/commands/snapshot_tools.ts) and `probe-visualize`
 * (src/cli/commands/probe_visualize.ts).
 *
 * @module
 */

import type { Command } from "../command.ts";
import { type AnyMap, createMap } from "../../core/factory.ts";
import { AdaptiveMap } from "../../core/adaptive_map.ts";
import type { Key } from "../../core/types.ts";
import { BadInputError, withFileHint } from "../../errors.ts";
import { csvField, visible } from "../../format.ts";
import { jsonKey, numberKey, numberKeyOf } from "../../key_text.ts";
import { checkOutputFiles } from "../paths.ts";
import { commitAll, type StagedFile } from "../../io/atomic_write.ts";
import { lockFile } from "../../io/file_lock.ts";
import { warnIfLargeMap } from "../large_map.ts";
import { encodeLines } from "../../io/write_all.ts";
import { log } from "../../log/setup.ts";
import {
  commandConfig,
  emitSuccess,
  globalOptions,
  writeStdout,
  writeStdoutBytes,
} from "../program.ts";
import { registerSnapshotToolCommands } from "./snapshot_tools.ts";
import { registerProbeVisualizeCommand } from "./probe_visualize.ts";

/**
 * The snapshot codec, loaded on first use: it brings in `node:crypto` and `node:zlib`, which
 * would otherwise add to the start-up of every command, `run-csv` included.
 */
export function snapshotCodec(): Promise<typeof import("../../snapshot/mod.ts")> {
  return import("../../snapshot/mod.ts");
}

interface StoreFlags {
  snapshot?: string;
  numeric?: boolean;
}

/** `--numeric`: the key is a number, as `/api/probe`'s `numeric=1` says. */
export const NUMERIC_KEY_HELP = 'KEY is a number (a map keeps 5 and "5" apart)';

/** A key from the command line: its text, or with `--numeric` the number it spells. */
export function cliKey(text: string, numeric: boolean | undefined): Key {
  if (numeric !== true) return text;
  try {
    return numberKey(text);
  } catch (err) {
    throw new BadInputError(`--numeric: key ${(err as RangeError).message}`);
  }
}

/** The map a key-value command works on, and how to save it back. */
export interface Store {
  map: AnyMap<unknown>;
  /** No snapshot existed: the map is new. */
  created: boolean;
  /** The snapshot read was gzipped: saving it back keeps it so, whatever its name. */
  compressed: boolean;
  /** Releases the snapshot's lock, held from the read through the save by a writing command. */
  release?: () => void;
}

/**
 * The map saved at `path` and whether the file was gzipped (rewrites keep it so); an error
 * found inside the file names it in the hint.
 */
export async function readSnapshotAt(
  path: string,
): Promise<{ map: AnyMap<unknown>; compressed: boolean }> {
  const codec = await snapshotCodec();
  return await withFileHint(path, async () => {
    const { map, header } = codec.decodeSnapshot(await codec.readSnapshotFile(path));
    warnIfLargeMap(commandConfig(), "snapshot", map.size, path);
    return { map, compressed: header.compressed };
  });
}

/**
 * The map saved at `path`, to change and save back: an adaptive one takes the policy fields the
 * configuration sets (`[adaptive]`, `ADAPTIVE_*`) over those it was saved with, as they override
 * a new map's defaults; `category` logs that it did.
 */
export async function continueSnapshotAt(
  path: string,
  category: string,
): Promise<{ map: AnyMap<unknown>; compressed: boolean }> {
  const loaded = await readSnapshotAt(path);
  const config = commandConfig();
  const fields = Object.entries(config.adaptive).filter(([, v]) => v !== undefined)
    .map(([k]) => k);
  if (!(loaded.map instanceof AdaptiveMap) || fields.length === 0) return loaded;
  // loadConfig validated the fields, and no field's range depends on another's.
  loaded.map.setPolicy(config.policy);
  log(category).info(
    `${fields.join(", ")} from the configuration ${
      fields.length === 1 ? "overrides" : "override"
    } the policy saved in {path}`,
    { path },
  );
  return loaded;
}

/** Fails as {@linkcode readSnapshotAt} would on a file that is no snapshot, reading its header. */
export async function checkSnapshotAt(path: string): Promise<void> {
  const codec = await snapshotCodec();
  await withFileHint(path, () => codec.checkSnapshotFile(path));
}

/**
 * Throws BadInputError when `--snapshot` names a directory or a path under a file: the paths
 * rule of docs/cli.md, found before any work rather than as an IO error at the read or write.
 */
function checkStorePath(path: string, writes: boolean): void {
  // An output also must not be a FIFO, a device or the --config file.
  if (writes) checkOutputFiles([["--snapshot", path]]);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotADirectory) {
      throw new BadInputError(`--snapshot "${path}": a directory on its path is a file`, {
        hint: "Name a snapshot file inside a directory",
      });
    }
    return; // missing (a new store) or not ours to look at: the read reports it
  }
  if (info.isDirectory) {
    throw new BadInputError(`--snapshot "${path}" is a directory`, {
      hint: "Name a snapshot file",
    });
  }
}

/**
 * The map a key-value command works on: the snapshot at `path` when it exists, a new map of
 * the global `--mode` (with the configured policy) otherwise. `writes`: the command saves the
 * map back to `path`.
 */
export async function openStore(
  cmd: Command,
  path: string | undefined,
  writes = false,
): Promise<Store> {
  // Concurrent writers each read, change and replace the file: without the lock the last
  // rename wins and the other changes are lost, though every command said OK.
  if (path !== undefined) checkStorePath(path, writes);
  const release = path !== undefined && writes ? await lockFile(path) : undefined;
  if (path !== undefined) {
    try {
      await Deno.lstat(path);
      const loaded = writes ? continueSnapshotAt(path, cmd.name()) : readSnapshotAt(path);
      return { ...await loaded, created: false, ...(release && { release }) };
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        release?.();
        throw err;
      }
    }
  }
  if (path !== undefined && !writes) {
    // A misspelt name would otherwise answer from an empty map as if the file held nothing.
    log(cmd.name()).warn("No snapshot at {path}: reading a new, empty map", { path });
  }
  const { mode } = globalOptions(cmd);
  return {
    map: createMap<unknown>(mode, commandConfig().policy),
    created: true,
    compressed: false,
    ...(release && { release }),
  };
}

/**
 * Stages the snapshot of `map` for `path`, gzipped as `compress` says (undefined: when `path`
 * ends in `.gz`), for the caller to commit with its other outputs ({@linkcode commitAll}).
 */
export async function stageSnapshotAt(
  path: string,
  map: AnyMap<unknown>,
  compress?: boolean,
): Promise<StagedFile> {
  // Not in the codec's public module: the staged file is the CLI's own business.
  const { stageSnapshot } = await import("../../snapshot/snapshot.ts");
  return (await stageSnapshot(path, map, compress === undefined ? {} : { compress })).staged;
}

/** Stages a store's map for `path`, gzipped when it was read so or `path` ends in `.gz`. */
export function stageStore(path: string, store: Store): Promise<StagedFile> {
  return stageSnapshotAt(path, store.map, store.compressed || undefined);
}

/** Saves a store's map back to `path` (as {@linkcode stageStore}) and releases its lock. */
export async function saveStore(path: string, store: Store): Promise<void> {
  try {
    commitAll([await stageStore(path, store)]);
  } finally {
    store.release?.();
  }
}

/**
 * Text of a value in `get`/`items` output: strings as they are, anything else as JSON, except
 * that numbers JSON has no literal for read as JavaScript writes them (`NaN`, `Infinity`, `-0`)
 * instead of `null` and `0`.
 */
export function valueText(value: unknown): string {
  return typeof value === "string" ? value : readable(value);
}

function readable(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (Array.isArray(value)) return `[${value.map(readable).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${readable(v)}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value) ?? "";
}

function registerKvCommands(program: Command): void {
  program.command("put")
    .description("Set KEY to VALUE (in the snapshot with --snapshot, saved atomically)")
    .argument("<key>", "key (a string)")
    .argument("<value>", "value (stored as a string)")
    .option("--snapshot <path>", "snapshot to load (created if missing) and save")
    .option("--numeric", NUMERIC_KEY_HELP)
    .action(async (text: string, value: string, f: StoreFlags, cmd: Command) => {
      const key = cliKey(text, f.numeric);
      const store = await openStore(cmd, f.snapshot, true);
      const { map, created } = store;
      const existed = map.has(key);
      map.set(key, value);
      if (f.snapshot !== undefined) await saveStore(f.snapshot, store);
      emitSuccess(cmd, {
        key: jsonKey(key),
        value,
        replaced: existed,
        snapshot: f.snapshot ?? null,
        created: f.snapshot !== undefined && created,
        size: map.size,
      }, "OK");
    });

  program.command("get")
    .description("Print the value of KEY (an empty line when missing)")
    .argument("<key>", "key (a string)")
    .option("--snapshot <path>", "snapshot to read")
    .option("--numeric", NUMERIC_KEY_HELP)
    .action(async (text: string, f: StoreFlags, cmd: Command) => {
      const key = cliKey(text, f.numeric);
      const { map } = await openStore(cmd, f.snapshot);
      const found = map.has(key);
      if (!found) noteTwin(cmd, map, key);
      const value = found ? map.get(key) : null;
      if (globalOptions(cmd).json) {
        emitSuccess(cmd, { key: jsonKey(key), found, value: value ?? null });
      } else emitSuccess(cmd, {}, `${found ? onScreen()(valueText(value)) : ""}\n`);
    });

  program.command("del")
    .description("Delete KEY; prints 1 when it existed, 0 otherwise")
    .argument("<key>", "key (a string)")
    .option("--snapshot <path>", "snapshot to load (created if missing) and save")
    .option("--numeric", NUMERIC_KEY_HELP)
    .action(async (text: string, f: StoreFlags, cmd: Command) => {
      const key = cliKey(text, f.numeric);
      const store = await openStore(cmd, f.snapshot, true);
      const deleted = store.map.delete(key);
      if (!deleted) noteTwin(cmd, store.map, key);
      if (f.snapshot !== undefined) await saveStore(f.snapshot, store);
      emitSuccess(
        cmd,
        { key: jsonKey(key), deleted, snapshot: f.snapshot ?? null, size: store.map.size },
        deleted ? "1" : "0",
      );
    });

  program.command("items")
    .description("Print every entry as key,value CSV lines (table order)")
    .option("--snapshot <path>", "snapshot to read")
    .action(async (f: StoreFlags, cmd: Command) => {
      const { map } = await openStore(cmd, f.snapshot);
      if (!globalOptions(cmd).json) {
        const show = onScreen(); // asked once: it is a system call, and a map may hold millions
        writeLines(
          map.entries().map(([k, v]) => `${show(csvField(k))},${show(csvField(valueText(v)))}\n`),
        );
        return;
      }
      // The one line emitSuccess() writes, `{"ok":true,...,"items":[[k,v],...]}`, in pieces.
      const head = JSON.stringify({ ok: true, command: cmd.name(), count: map.size });
      writeStdout(`${head.slice(0, -1)},"items":[`);
      writeLines(
        map.entries().map(([k, v], i) => `${i === 0 ? "" : ","}${JSON.stringify([jsonKey(k), v])}`),
      );
      writeStdout("]}\n");
    });
}

/**
 * Warns that a key `map` lacks is there with the other type (`5` for `"5"`, or the reverse): a
 * map keeps them apart, and `--numeric` is easily forgotten.
 */
export function noteTwin(cmd: Command, map: AnyMap<unknown>, key: Key): void {
  const twin = typeof key === "number" ? String(key) : numberKeyOf(key);
  if (twin === undefined || !map.has(twin)) return;
  log(cmd.name()).warn(
    typeof key === "number"
      ? "No number key {key}, but the string {twin} is a key (leave out --numeric)"
      : "No string key {key}, but the number {twin} is a key (add --numeric)",
    { key, twin },
  );
}

/**
 * How `get` and `items` print text: as it is into a pipe or a file, with its controls and bidi
 * overrides made visible on a terminal, where a stored value could otherwise set the window's
 * title or forge lines.
 */
function onScreen(): (text: string) => string {
  return Deno.stdout.isTerminal() ? visible : (text) => text;
}

/** Writes `lines` to stdout in pieces (see {@linkcode encodeLines}). */
function writeLines(lines: Iterable<string>): void {
  for (const chunk of encodeLines(lines)) writeStdoutBytes(chunk);
}

/** Adds the snapshot commands to `program`. */
export function registerSnapshotCommands(program: Command): void {
  registerKvCommands(program);
  registerSnapshotToolCommands(program);
  registerProbeVisualizeCommand(program);
}
