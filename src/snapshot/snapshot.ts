/**
 * Saving and loading maps as snapshots (format version 2, docs/snapshot_format.md).
 *
 * @module
 */

import { type AnyMap, restoreMap } from "../core/factory.ts";
import {
  type AdaptivePolicy,
  type AdaptiveState,
  DEFAULT_POLICY,
  type MapState,
} from "../core/adaptive_map.ts";
import { showValue } from "../core/storage.ts";
import type { BackendName, BackendState } from "../core/types.ts";
import { BadInputError, InvariantError, IOError, messageOf, PolicyError } from "../errors.ts";
import { type StagedFile, stageFile } from "../io/atomic_write.ts";
import { writeAll } from "../io/write_all.ts";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import {
  CHECKSUM_LEN,
  type ChecksumKey,
  checkTotalSize,
  DEFAULT_MAX_PAYLOAD_BYTES,
  fixGzipOs,
  HEADER_SIZE,
  headerBytes,
  packSnapshot,
  readHeader,
  resolveKey,
  runningChecksum,
  type SnapshotHeader,
  toHex,
  unpackSnapshot,
} from "./format.ts";
import {
  DecodedSizeError,
  decodeState,
  type EncodableState,
  type EncodedAdaptiveState,
  encodeState,
  encodeStateChunks,
  MalformedPayloadError,
} from "./codec.ts";
import { rebuildFromState, soundState } from "./repair.ts";
import { readFull } from "../io/read_full.ts";
import { resolveCompression } from "./compression.ts";

/**
 * Default limit on a table's declared size (buckets or slots) when loading: 2^30, the largest
 * table the core builds, so that whatever a writer saves reads back. What a snapshot may make
 * a reader allocate is bounded by {@linkcode checkTableBudget} instead.
 */
export const DEFAULT_MAX_CAPACITY: number = 2 ** 30;

/**
 * Default limit on the memory a snapshot's values may take decoded, as its reader estimates it
 * (`DECODED_COST` in codec.ts: strings, arrays and objects): 2 GiB, half of V8's usual heap.
 * Values of numbers, booleans and short strings stay far under it at any payload size; values
 * that expand into tens of millions of tiny arrays or objects do not.
 */
export const DEFAULT_MAX_DECODED_BYTES: number = 2 * 1024 ** 3;

/**
 * Slots or buckets a snapshot's table may declare whatever it holds (docs/snapshot_format.md):
 * 2^24, the former limit on every table, so that every file readers took before still reads.
 */
export const FREE_SLOTS: number = 2 ** 24;
/** Slots or buckets a table may declare per entry or tombstone stored, above FREE_SLOTS. */
export const SLOTS_PER_ENTRY: number = 64;

/**
 * Why `state` breaks the table budget, or null: every table it declares (and an adaptive map's
 * initial tables, which `clear()` and migrations build) has at most max({@linkcode FREE_SLOTS},
 * {@linkcode SLOTS_PER_ENTRY} x the entries and tombstones of the whole map) slots or buckets.
 * Loading a table sets up storage for each slot (a chaining table's buckets cost little memory
 * but are walked), so this keeps what a snapshot costs to load in proportion to what it
 * stores, while any table a map reaches by growing (never below 1/40 full) passes.
 */
export function checkTableBudget(state: MapState, freeSlots = FREE_SLOTS): string | null {
  const tables: Array<[string, BackendState]> = state.kind === "adaptive"
    ? [
      ["active ", state.active],
      ...(state.target === null
        ? []
        : [["target ", state.target]] as Array<[string, BackendState]>),
    ]
    : [["", state]];
  let stored = 0;
  for (const [, t] of tables) {
    stored += t.keys.length + (t.kind === "robinhood" ? t.tombstoneSlots.length : 0);
  }
  const limit = Math.max(freeSlots, SLOTS_PER_ENTRY * stored);
  // [what it is, with its size; its slots or buckets]
  const sizes: Array<[string, number]> = [];
  const rh = (what: string, n: number): void => void sizes.push([`${what} of ${n} slots`, n]);
  const ch = (what: string, n: number): void => void sizes.push([`${what} of ${n} buckets`, n]);
  for (const [where, t] of tables) {
    if (t.kind === "robinhood") rh(`${where}Robin Hood table`, t.capacity);
    else ch(`${where}chaining table`, t.bucketCount);
  }
  if (state.kind === "adaptive") {
    // Both: clear() starts again on one, and a migration builds the other at its initial size.
    const p = state.policy;
    rh("adaptive policy's initial Robin Hood table", p.initialCapacityRh);
    ch("adaptive policy's initial chaining table", p.initialBuckets * p.groupsPerBucket);
  }
  for (const [what, size] of sizes) {
    if (size > limit) {
      return `${what} exceeds the ${limit} a snapshot of ${stored} entries and tombstones ` +
        `may declare (max(${freeSlots}, ${SLOTS_PER_ENTRY} per entry))`;
    }
  }
  return null;
}

/** Throws PolicyError when `state` is one no reader would load (see checkTableBudget). */
function checkWritable(state: MapState, freeSlots = FREE_SLOTS): void {
  const why = checkTableBudget(state, freeSlots);
  if (why !== null) {
    throw new PolicyError(`Cannot save the map as a snapshot: its ${why}`, {
      hint: why.includes("chaining")
        ? "Shrink the map's buckets (compactMap, compact-snapshot) or lower its initial chaining " +
          "table (adaptive.initial_buckets x groups_per_bucket): see docs/snapshot_format.md"
        : "Compact the map (RobinHoodMap.compact(), compact-snapshot) or lower its initial " +
          "Robin Hood capacity (adaptive.initial_capacity_rh): see docs/snapshot_format.md",
    });
  }
}

/** Options for writing a snapshot. */
export interface EncodeOptions {
  /** Gzip the payload (flag bit 0). */
  compress?: boolean;
  /** Checksum key; `undefined` reads `ADHASH_SNAPSHOT_KEY`, `null` forces an unkeyed checksum. */
  key?: ChecksumKey;
  /**
   * The free Robin Hood slots of the readers the snapshot is for (default
   * {@linkcode FREE_SLOTS}): lower it to write only what readers with a tighter `freeSlots` load.
   */
  freeSlots?: number;
  /**
   * The payload limit of the readers the snapshot is for (default
   * {@linkcode DEFAULT_MAX_PAYLOAD_BYTES}, their default): a larger payload is refused, as they
   * would refuse it.
   */
  maxPayloadBytes?: number;
  /**
   * The decoded-memory limit of the readers the snapshot is for (default
   * {@linkcode DEFAULT_MAX_DECODED_BYTES}): a map that would decode past it is refused.
   */
  maxDecodedBytes?: number;
}

/** Options for reading a snapshot. */
export interface DecodeOptions {
  /** Checksum key; `undefined` reads `ADHASH_SNAPSHOT_KEY`, `null` means none. */
  key?: ChecksumKey;
  /** Limit on the stored and on the decompressed payload (default 256 MiB). */
  maxPayloadBytes?: number;
  /** Limit on a table's declared buckets or slots (default 2^30). */
  maxCapacity?: number;
  /**
   * Limit on the memory the state takes decoded, as estimated while reading (default
   * {@linkcode DEFAULT_MAX_DECODED_BYTES}): past it the payload is refused as malformed
   * before the rest is allocated.
   */
  maxDecodedBytes?: number;
  /**
   * Robin Hood slots a snapshot may declare whatever it stores (default
   * {@linkcode FREE_SLOTS}, 2^24; see {@linkcode checkTableBudget}). Raise it only for
   * snapshots you trust; lower it to bound what a file can make this reader allocate.
   */
  freeSlots?: number;
  /** Run the map's full invariant check and throw {@linkcode InvariantError} (default true). */
  checkInvariants?: boolean;
}

/** What {@linkcode decodeSnapshot} returns. */
export interface DecodedSnapshot {
  /** The verified header. */
  header: SnapshotHeader;
  /** Hex of the verified checksum. */
  checksum: string;
  /** Payload bytes after decompression. */
  payloadBytes: number;
  /** `chaining`, `robinhood` or `adaptive`. */
  kind: MapState["kind"];
  /** The restored map. */
  map: AnyMap<unknown>;
  /** The stored configuration of the map. */
  configuration: SnapshotConfiguration;
  /** Invariant problems (always empty when `checkInvariants` is true). */
  problems: string[];
}

/** A backend's stored configuration. */
export interface BackendConfiguration {
  /** Which backend. */
  backend: BackendName;
  /** Buckets (chaining) or slots (Robin Hood). */
  capacity: number;
  /** Entries per bucket (chaining) or per slot (Robin Hood) that trigger growth. */
  max_load_factor: number;
  /** Robin Hood only. */
  deletion: "backshift" | "tombstone" | null;
  /** Live entries stored. */
  entries: number;
  /** Tombstones stored (Robin Hood with tombstone deletion). */
  tombstones: number;
}

/** The configuration a snapshot records (JSON-able, snake_case). */
export interface SnapshotConfiguration {
  /** `chaining`, `robinhood` or `adaptive`. */
  kind: MapState["kind"];
  /** The backend holding entries (the active one for an adaptive map). */
  active: BackendConfiguration;
  /** Adaptive mid-migration: the backend being filled; otherwise null. */
  target: BackendConfiguration | null;
  /** Adaptive only (else null). */
  policy: AdaptivePolicy | null;
  /** Completed migrations (adaptive only, else null). */
  migrations: number | null;
  /** Compactions so far (adaptive only, else null). */
  compactions: number | null;
}

function describeBackend(s: BackendState): BackendConfiguration {
  return s.kind === "chaining"
    ? {
      backend: "chaining",
      capacity: s.bucketCount,
      max_load_factor: s.maxLoadFactor,
      deletion: null,
      entries: s.keys.length,
      tombstones: 0,
    }
    : {
      backend: "robinhood",
      capacity: s.capacity,
      max_load_factor: s.maxLoadFactor,
      deletion: s.deletion,
      entries: s.keys.length,
      tombstones: s.tombstoneSlots.length,
    };
}

/** Describes a state's configuration. */
function describeState(state: MapState): SnapshotConfiguration {
  if (state.kind !== "adaptive") {
    return {
      kind: state.kind,
      active: describeBackend(state),
      target: null,
      policy: null,
      migrations: null,
      compactions: null,
    };
  }
  return {
    kind: "adaptive",
    active: describeBackend(state.active),
    target: state.target === null ? null : describeBackend(state.target),
    policy: { ...state.policy },
    migrations: state.migrations,
    compactions: state.compactions,
  };
}

/** What {@linkcode saveSnapshot} reports. */
export interface SnapshotInfo {
  /** The file written. */
  path: string;
  /** Bytes written to the file. */
  bytes: number;
  /** Whether the payload is gzip-compressed. */
  compressed: boolean;
  /** Whether the checksum is keyed (HMAC). */
  keyed: boolean;
  /** Payload bytes before compression. */
  payloadBytes: number;
  /** Hex of the checksum. */
  checksum: string;
  /** `chaining`, `robinhood` or `adaptive`. */
  kind: MapState["kind"];
  /** The backend holding the entries. */
  backend: BackendName;
  /** Live entries. */
  size: number;
}

function toEncodable(state: MapState): EncodableState {
  if (state.kind !== "adaptive") return state;
  return {
    kind: "adaptive",
    policy: { ...state.policy } as unknown as Record<string, number | string>,
    active: state.active,
    target: state.target,
    migrations: state.migrations,
    compactions: state.compactions,
  };
}

function fromEncodable(state: EncodableState, maxCapacity: number, freeSlots: number): MapState {
  const out = state.kind !== "adaptive"
    ? state
    : { ...state, policy: decodePolicy(state, maxCapacity) } as AdaptiveState;
  const why = checkTableBudget(out, freeSlots);
  if (why !== null) throw new MalformedPayloadError(why);
  return out;
}

function decodePolicy(state: EncodedAdaptiveState, maxCapacity: number): AdaptivePolicy {
  const policy: Record<string, unknown> = { ...DEFAULT_POLICY };
  for (const [name, value] of Object.entries(state.policy)) {
    if (!Object.hasOwn(DEFAULT_POLICY, name)) {
      throw new MalformedPayloadError(`unknown adaptive policy field ${JSON.stringify(name)}`);
    }
    const expected = typeof (DEFAULT_POLICY as unknown as Record<string, unknown>)[name];
    if ((typeof value === "number" ? "number" : "string") !== expected) {
      throw new MalformedPayloadError(`adaptive policy field ${name} is not a ${expected}`);
    }
    policy[name] = value;
  }
  const p = policy as unknown as AdaptivePolicy;
  // The constructor allocates these tables before the recorded ones replace them.
  if (p.initialBuckets * p.groupsPerBucket > maxCapacity || p.initialCapacityRh > maxCapacity) {
    throw new MalformedPayloadError(
      `adaptive policy's initial tables exceed the limit ${maxCapacity}`,
    );
  }
  return p;
}

/** The `AnyMap` given to the encoder (every core map has `exportState`). */
export type SnapshotSource = Pick<AnyMap<unknown>, "exportState">;

/**
 * Encodes `map` as snapshot bytes. Keys must be strings or numbers; values JSON-compatible
 * (numbers of any value): anything else throws a `TypeError` naming its type.
 */
export function encodeSnapshot(map: SnapshotSource, options: EncodeOptions = {}): Uint8Array {
  const state = toEncodable(writableState(map, options));
  const payload = decodable(() => encodeState(state, maxDecodedOf(options)));
  const pack: { compress?: boolean; key?: ChecksumKey } = { key: options.key };
  if (options.compress !== undefined) pack.compress = options.compress;
  const bytes = packSnapshot(payload, pack);
  // Readers limit the stored payload and, when gzipped, the decompressed one.
  const size = Math.max(payload.length, bytes.length - HEADER_SIZE - CHECKSUM_LEN);
  const max = maxPayloadOf(options);
  if (size > max) throw payloadTooLarge(`${size}`, max);
  return bytes;
}

/**
 * `map`'s state, when every reader for `options` would load it (else PolicyError); TypeError
 * for a `map` that is not an adhash map (a `Map` has no state to export).
 */
function writableState(map: SnapshotSource, options: EncodeOptions): MapState {
  if (typeof (map as Partial<SnapshotSource> | null)?.exportState !== "function") {
    throw new TypeError(
      `Only a ChainingMap, RobinHoodMap or AdaptiveMap is saved as a snapshot: received ${
        showValue(map)
      }`,
    );
  }
  const state = map.exportState() as MapState;
  checkWritable(state, options.freeSlots);
  return state;
}

function maxPayloadOf(options: EncodeOptions): number {
  return options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
}

function maxDecodedOf(options: { maxDecodedBytes?: number | undefined }): number {
  return options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
}

/** `encode()`, with a state past the readers' decoded-memory limit refused as a PolicyError. */
function decodable<T>(encode: () => T): T {
  try {
    return encode();
  } catch (err) {
    if (!(err instanceof DecodedSizeError)) throw err;
    throw new PolicyError(
      `Cannot save the map as a snapshot: ${err.message}, more than readers accept`,
      { hint: "Store fewer or smaller strings, arrays and objects as values" },
    );
  }
}

function payloadTooLarge(size: string, max: number): PolicyError {
  return new PolicyError(
    `Cannot save the map as a snapshot: its payload of ${size} bytes exceeds the ${max} bytes ` +
      "readers accept",
    { hint: "Split the entries across maps, or store shorter values: see docs/snapshot_format.md" },
  );
}

/** Payload bytes written to a snapshot file at a time. */
const CHUNK_BYTES = 1 << 20;

/** A snapshot written under a temporary name ({@linkcode stageSnapshot}). */
export interface StagedSnapshot {
  /** Commit it to replace the target, or discard it. */
  staged: StagedFile;
  /** What was written. */
  info: SnapshotInfo;
}

/**
 * Writes the snapshot of `map` to a temporary file beside `path` and fsyncs it, for the caller
 * to commit with its other outputs (or discard); {@linkcode saveSnapshot} commits it at once.
 * The payload goes to the file about 1 MiB at a time as it is encoded (gzipped on the way),
 * the checksum is computed on the way and the header written last, so the payload is never in
 * memory whole: the state the map exports is the one copy of its entries made. A payload that
 * grows past the readers' limit stops the write with a `PolicyError`, and nothing is left.
 */
export async function stageSnapshot(
  path: string,
  map: AnyMap<unknown>,
  options: EncodeOptions = {},
): Promise<StagedSnapshot> {
  needDeno();
  const compress = resolveCompression(path, options.compress);
  const state = writableState(map, options);
  const max = maxPayloadOf(options);
  const key = resolveKey(options.key);
  const checksum = runningChecksum(key);
  let payloadBytes = 0;
  let stored = 0;
  const chunks = encodeStateChunks(toEncodable(state), CHUNK_BYTES, maxDecodedOf(options));
  function* payload(): Generator<Uint8Array> {
    for (;;) {
      const next = decodable(() => chunks.next());
      if (next.done === true) return;
      payloadBytes += next.value.length;
      if (payloadBytes > max) throw payloadTooLarge(`at least ${payloadBytes}`, max);
      yield next.value;
    }
  }
  let digest: Uint8Array = new Uint8Array(0);
  const staged = await stageFile(path, async (file) => {
    const store = async (chunk: Uint8Array): Promise<void> => {
      if (compress) fixGzipOs(chunk, stored);
      stored += chunk.length;
      if (stored > max) throw payloadTooLarge(`at least ${stored}`, max);
      checksum.update(chunk);
      await writeAll(file, chunk);
    };
    await writeAll(file, new Uint8Array(HEADER_SIZE + CHECKSUM_LEN)); // written last, below
    if (compress) {
      // A write that fails (a full disk) leaves the loop below, which destroys the gzip stream,
      // and the pipeline rejects with that AbortError: the write's own error is the one to tell.
      // (Asserted, not declared: TypeScript does not see the assignment in the callback.)
      let failed = null as { err: unknown } | null;
      try {
        await pipeline(
          Readable.from(payload()),
          createGzip({ level: 6, chunkSize: 1 << 18 }),
          async (gzipped: AsyncIterable<Uint8Array>) => {
            try {
              for await (const chunk of gzipped) await store(chunk);
            } catch (err) {
              failed = { err };
              throw err;
            }
          },
        );
      } catch (err) {
        throw failed === null ? err : failed.err;
      }
    } else {
      for (const chunk of payload()) await store(chunk);
    }
    digest = checksum.digest();
    await file.seek(0, Deno.SeekMode.Start);
    await writeAll(file, headerBytes(compress, key !== null, stored, digest));
  });
  const stats = map.stats();
  return {
    staged,
    info: {
      path,
      bytes: HEADER_SIZE + CHECKSUM_LEN + stored,
      compressed: compress,
      keyed: key !== null,
      payloadBytes,
      checksum: toHex(digest),
      kind: state.kind,
      backend: stats.backend,
      size: map.size,
    },
  };
}

/**
 * Verifies and decodes snapshot bytes into a map of the same kind, backend, capacity, layout
 * and statistics. Throws {@linkcode IOError} for unreadable or corrupt input and
 * {@linkcode InvariantError} when a well-formed snapshot's map breaks its invariants.
 */
export function decodeSnapshot(bytes: Uint8Array, options: DecodeOptions = {}): DecodedSnapshot {
  return restoreDecoded(decodeSnapshotState(bytes, options), options);
}

/**
 * Builds the map of a decoded state (see {@linkcode decodeSnapshot}). A setting inside the
 * format's range that the core refuses (a load factor, a policy field) is a problem, as a
 * broken table is: with `checkInvariants: false` the map is built with the nearest setting the
 * core accepts so that it can still be described.
 */
export function restoreDecoded(
  raw: DecodedState,
  options: Pick<DecodeOptions, "checkInvariants"> = {},
): DecodedSnapshot {
  const { state } = raw;
  const check = options.checkInvariants ?? true;
  const sound = soundState(state);
  const problems = [...sound.problems];
  let map: AnyMap<unknown>;
  try {
    map = restoreMap<unknown>(sound.state);
    problems.push(...map.checkInvariants());
  } catch (err) {
    if (check) {
      throw new InvariantError(
        `Snapshot map breaks its invariants: ${messageOf(err)}`,
        { cause: err, hint: REPAIR_HINT },
      );
    }
    // A table that cannot even be built (a key stored twice, say) is still described, as the
    // map its readable entries make: what `verify-snapshot --repair` would write.
    map = rebuildFromState(state).map;
    problems.push(
      messageOf(err),
      "the table cannot be built as stored: its figures and entries are those of the map " +
        "rebuilt from its readable entries (verify-snapshot --repair)",
    );
  }
  if (problems.length > 0 && check) {
    throw new InvariantError(
      `Snapshot map breaks its invariants: ${problems.slice(0, 5).join("; ")}${
        problems.length > 5 ? `; and ${problems.length - 5} more` : ""
      }`,
      { hint: REPAIR_HINT },
    );
  }
  return {
    header: raw.header,
    checksum: raw.checksum,
    payloadBytes: raw.payloadBytes,
    kind: state.kind,
    map,
    configuration: describeState(state),
    problems,
  };
}

const REPAIR_HINT = "verify-snapshot --repair --out P rebuilds the map from its readable entries";

/** A verified, parsed snapshot whose map has not been built yet. */
export interface DecodedState {
  /** The verified header. */
  header: SnapshotHeader;
  /** Hex of the verified checksum. */
  checksum: string;
  /** Payload bytes after decompression. */
  payloadBytes: number;
  /** The parsed state. */
  state: MapState;
}

/**
 * Verifies snapshot bytes and parses the payload into the map's state without building the
 * map (so a state whose map cannot be built can still be repaired). Throws
 * {@linkcode IOError} for unreadable or corrupt input, TypeError for `bytes` that are not a
 * `Uint8Array`.
 */
export function decodeSnapshotState(bytes: Uint8Array, options: DecodeOptions = {}): DecodedState {
  const given: unknown = bytes; // typed, but JavaScript callers pass what they have
  if (!(given instanceof Uint8Array)) {
    throw new TypeError(
      `Snapshot bytes must be a Uint8Array: received ${showValue(given)}` +
        (given instanceof ArrayBuffer ? " (view it with new Uint8Array(buffer))" : ""),
    );
  }
  const { header, checksum, payload } = unpackSnapshot(bytes, {
    key: options.key,
    maxPayloadBytes: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
  });
  try {
    const maxCapacity = options.maxCapacity ?? DEFAULT_MAX_CAPACITY;
    const state = fromEncodable(
      decodeState(payload, {
        maxCapacity,
        maxDecodedBytes: maxDecodedOf(options),
      }),
      maxCapacity,
      options.freeSlots ?? FREE_SLOTS,
    );
    return { header, checksum: toHex(checksum), payloadBytes: payload.length, state };
  } catch (err) {
    if (err instanceof MalformedPayloadError) {
      throw new IOError(`Malformed payload: ${err.message}`, {
        hint: "The snapshot was written by an incompatible or faulty writer",
      });
    }
    throw err;
  }
}

/**
 * Saves `map` to `path` atomically, writing the payload in chunks as it is encoded (see
 * {@linkcode stageSnapshot}).
 */
export async function saveSnapshot(
  path: string,
  map: AnyMap<unknown>,
  options: EncodeOptions = {},
): Promise<SnapshotInfo> {
  const { staged, info } = await stageSnapshot(path, map, options);
  staged.commit();
  return info;
}

/**
 * Reads a snapshot file, checking its declared size against the limit and the file's size
 * before reading it whole.
 */
export async function readSnapshotFile(
  path: string,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Promise<Uint8Array> {
  const { file, head, total } = await openSnapshotFile(path, maxPayloadBytes);
  try {
    const out = new Uint8Array(total);
    out.set(head);
    const rest = await readFull(file, out.subarray(head.length));
    if (head.length + rest.length < total) throw new IOError("Truncated snapshot");
    return out;
  } finally {
    file.close();
  }
}

/**
 * Fails as {@linkcode readSnapshotFile} would on a missing file, a bad header or a size that
 * disagrees with it, reading only the header.
 */
export async function checkSnapshotFile(
  path: string,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Promise<void> {
  (await openSnapshotFile(path, maxPayloadBytes)).file.close();
}

/**
 * Throws a `PolicyError` outside Deno, whose file APIs the functions taking a path use: Node
 * and Bun would otherwise throw `ReferenceError: Deno is not defined`.
 */
function needDeno(): void {
  if (typeof Deno === "undefined") {
    throw new PolicyError("Snapshot files are read and written through Deno's file APIs", {
      hint: "In another runtime, write encodeSnapshot()'s bytes and decodeSnapshot() a file's",
    });
  }
}

/**
 * Throws BadInputError unless `info` is a regular file's: a directory or a FIFO is the caller
 * naming the wrong thing, as for every other input.
 */
function checkRegular(path: string, info: Deno.FileInfo): void {
  if (info.isFile) return;
  const what = info.isDirectory ? "it is a directory" : "not a regular file";
  throw new BadInputError(`Cannot read snapshot '${path}': ${what}`, {
    hint: "Name a snapshot file",
  });
}

/** The open file, its header's bytes and its whole size, checked against each other. */
async function openSnapshotFile(
  path: string,
  maxPayloadBytes: number,
): Promise<{ file: Deno.FsFile; head: Uint8Array; total: number }> {
  needDeno();
  // Opening a FIFO waits for a writer, which may never come: look first, so that naming one
  // fails at once instead of hanging (stat follows links, as open does). Checked again once
  // open, for a file replaced in between.
  let seen: Deno.FileInfo | null = null;
  try {
    seen = await Deno.stat(path);
  } catch {
    // Not there or not readable: open says which, in its own words.
  }
  if (seen !== null) checkRegular(path, seen);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new IOError(`Snapshot not found: '${path}'`, { cause: err });
    }
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw err;
    }
    throw new IOError(`Cannot read snapshot '${path}': ${(err as Error).message}`, { cause: err });
  }
  try {
    const info = await file.stat();
    checkRegular(path, info);
    const head = await readFull(file, new Uint8Array(Math.min(HEADER_SIZE, info.size)));
    const header = readHeader(head, maxPayloadBytes);
    const total = checkTotalSize(header, info.size);
    return { file, head, total };
  } catch (err) {
    file.close();
    throw err;
  }
}

/**
 * Loads the map saved in the snapshot at `path`. `V` is the type you know its values to have
 * (not checked: a snapshot holds JSON values), as for {@linkcode restoreMap}.
 */
export async function loadSnapshot<V = unknown>(
  path: string,
  options: DecodeOptions = {},
): Promise<AnyMap<V>> {
  const bytes = await readSnapshotFile(path, options.maxPayloadBytes);
  return decodeSnapshot(bytes, options).map as AnyMap<V>;
}
