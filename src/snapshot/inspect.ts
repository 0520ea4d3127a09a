/**
 * A JSON-able description of a snapshot file for `inspect-snapshot` and the dashboard's
 * Snapshot view. The shape is the `snapshot_inspect.v1` contract (src/contracts/snapshot.ts).
 *
 * @module
 */

import type { Key, MapStats } from "../core/types.ts";
import { keyRepr } from "../core/hash.ts";
import { jsonKey, numberKeyOf } from "../key_text.ts";
import type { AnyMap } from "../core/factory.ts";
import { type ChecksumKey, DEFAULT_MAX_PAYLOAD_BYTES } from "./format.ts";
import { decodeSnapshot, readSnapshotFile, type SnapshotConfiguration } from "./snapshot.ts";

/** Options of {@linkcode inspectSnapshot}. */
export interface InspectOptions {
  /** Look this key up (the string, then the number it spells if it spells one). */
  key?: string;
  /** Preview only entries whose key (as text) contains this substring. */
  contains?: string;
  /** Entries in the preview (default 20). */
  limit?: number;
  /** Checksum key; `undefined` reads `ADHASH_SNAPSHOT_KEY`. */
  checksumKey?: ChecksumKey;
  /** Limit on the payload (default 256 MiB). */
  maxPayloadBytes?: number;
}

/**
 * The longest value (in characters of its JSON, about) an inspection shows: a longer one is
 * omitted (`value: null, value_omitted: true`). `get` prints any value whole.
 */
export const PREVIEW_VALUE_CHARS = 64 * 1024;
/**
 * The most an inspection's preview shows in all (characters of JSON, about): it ends, marked
 * truncated, before an entry whose key would pass it, and omits a value that would. So an
 * inspection's size is bounded whatever the snapshot holds and `limit` asks for.
 */
export const PREVIEW_CHARS = 1024 * 1024;

/** One previewed entry. */
export interface InspectedEntry {
  /** The key as stored. */
  key: Key;
  /** The key as text: strings JSON-quoted, numbers bare. */
  key_repr: string;
  /** The value as stored, or null when omitted. */
  value: unknown;
  /** Present (true) when the value was too long to show (see {@linkcode PREVIEW_VALUE_CHARS}). */
  value_omitted?: true;
}

/** The result of {@linkcode inspectSnapshot}. */
export interface SnapshotInspection {
  /** Contract id. */
  schema: "snapshot_inspect.v1";
  /** The file inspected. */
  path: string;
  /** Size of the file. */
  file_bytes: number;
  /** The header fields. */
  header: {
    magic: string;
    version: number;
    flags: number;
    compressed: boolean;
    keyed: boolean;
    checksum_len: number;
    payload_len: number;
  };
  /** The verified checksum. */
  checksum: { algorithm: "blake2b-512" | "hmac-blake2b-512"; hex: string; verified: true };
  /** Payload bytes after decompression. */
  payload_bytes: number;
  /** The kind of map stored. */
  kind: "chaining" | "robinhood" | "adaptive";
  /** The backend holding the entries. */
  backend: "chaining" | "robinhood";
  /** The stored configuration. */
  configuration: SnapshotConfiguration;
  /** The map's statistics (snake_case `MapStats`). */
  stats: StatsJson;
  /** The full invariant check. */
  invariants: { ok: boolean; problems: string[] };
  /** The preview of entries, in table order. */
  entries: {
    /** Entries matching `contains` (all entries without it). */
    matched: number;
    contains: string | null;
    limit: number;
    shown: InspectedEntry[];
    truncated: boolean;
  };
  /** The `key` lookup, or null without one (its value omitted as a preview's would be). */
  lookup: {
    key: string;
    found: boolean;
    matched_key: Key | null;
    /** The key found as text, as `key_repr` (tells the number `Infinity` from the string). */
    matched_key_repr: string | null;
    value: unknown;
    value_omitted?: true;
  } | null;
}

/**
 * About the length of `value`'s JSON text (strings counted without their escapes), or
 * Infinity as soon as it passes `max`: a long value is not walked, let alone serialised, whole.
 */
export function jsonCharsWithin(value: unknown, max: number): number {
  let n = 0;
  const walk = (v: unknown): boolean => {
    if (typeof v === "string") n += v.length + 2;
    else if (v === null || typeof v !== "object") n += String(v).length;
    else if (Array.isArray(v)) {
      n += 2 + v.length;
      for (const x of v) if (n > max || !walk(x)) return false;
    } else {
      for (const [k, x] of Object.entries(v)) {
        n += k.length + 4;
        if (n > max || !walk(x)) return false;
      }
      n += 2;
    }
    return n <= max;
  };
  return walk(value) ? n : Infinity;
}

/** `value`, or null and `value_omitted` when its {@linkcode jsonCharsWithin} `chars` passed. */
function preview(value: unknown, chars: number): { value: unknown; value_omitted?: true } {
  return chars === Infinity ? { value: null, value_omitted: true } : { value };
}

function lookup(map: AnyMap<unknown>, text: string): SnapshotInspection["lookup"] {
  // Text that spells no number is looked up as a string only.
  const n = numberKeyOf(text);
  for (const k of n === undefined ? [text] : [text, n]) {
    if (map.has(k)) {
      const value = map.get(k) ?? null;
      const shown = preview(value, jsonCharsWithin(value, PREVIEW_VALUE_CHARS));
      return {
        key: text,
        found: true,
        matched_key: jsonKey(k),
        matched_key_repr: keyRepr(k),
        ...shown,
      };
    }
  }
  return { key: text, found: false, matched_key: null, matched_key_repr: null, value: null };
}

/**
 * Reads, verifies and describes the snapshot at `path`: header, checksum, kind, backend and
 * configuration, statistics, invariant check, a preview of entries in table order and an
 * optional key lookup. Throws `IOError` for unreadable or corrupt files; a map that breaks its
 * invariants is reported (`invariants.ok: false`), not thrown.
 */
export async function inspectSnapshot(
  path: string,
  options: InspectOptions = {},
): Promise<SnapshotInspection> {
  const limit = options.limit ?? 20;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  }
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const bytes = await readSnapshotFile(path, maxPayloadBytes);
  const decoded = decodeSnapshot(bytes, {
    key: options.checksumKey,
    maxPayloadBytes,
    checkInvariants: false,
  });
  const { map, header } = decoded;
  const s = map.stats();
  const contains = options.contains ?? null;
  const shown: InspectedEntry[] = [];
  let matched = 0;
  let room = PREVIEW_CHARS;
  for (const [key, value] of map.entries()) {
    if (contains !== null && !String(key).includes(contains)) continue;
    matched++;
    if (shown.length >= limit || room < 0) continue;
    const repr = keyRepr(key);
    room -= 2 * repr.length + 40; // the key twice, and the field names
    if (room < 0) continue; // the preview ends here
    const size = jsonCharsWithin(value, Math.min(PREVIEW_VALUE_CHARS, room));
    room -= size === Infinity ? 20 : size;
    shown.push({ key: jsonKey(key), key_repr: repr, ...preview(value, size) });
  }
  return {
    schema: "snapshot_inspect.v1",
    path,
    file_bytes: bytes.length,
    header: {
      magic: header.magic,
      version: header.version,
      flags: header.flags,
      compressed: header.compressed,
      keyed: header.keyed,
      checksum_len: header.checksumLength,
      payload_len: header.payloadLength,
    },
    checksum: {
      algorithm: header.keyed ? "hmac-blake2b-512" : "blake2b-512",
      hex: decoded.checksum,
      verified: true,
    },
    payload_bytes: decoded.payloadBytes,
    kind: decoded.kind,
    backend: s.backend,
    configuration: decoded.configuration,
    stats: statsJson(s),
    invariants: { ok: decoded.problems.length === 0, problems: decoded.problems.slice(0, 50) },
    entries: { matched, contains, limit, shown, truncated: matched > shown.length },
    lookup: options.key === undefined ? null : lookup(map, options.key),
  };
}

/** A map's statistics in the snake_case JSON form of the CLI and the inspect output. */
export interface StatsJson {
  /** {@linkcode MapStats.size}. */
  size: number;
  /** {@linkcode MapStats.capacity}. */
  capacity: number;
  /** {@linkcode MapStats.loadFactor}. */
  load_factor: number;
  /** {@linkcode MapStats.maxGroupLen}. */
  max_group_len: number;
  /** {@linkcode MapStats.avgProbeDistance}. */
  avg_probe_distance: number;
  /** {@linkcode MapStats.tombstones}. */
  tombstones: number;
  /** {@linkcode MapStats.tombstoneRatio}. */
  tombstone_ratio: number;
  /** {@linkcode MapStats.probeHistogram}. */
  probe_histogram: Array<[number, number]>;
  /** {@linkcode MapStats.bytesEstimate}. */
  bytes_estimate: number;
}

/** {@linkcode StatsJson} of a map's statistics. */
export function statsJson(s: MapStats): StatsJson {
  return {
    size: s.size,
    capacity: s.capacity,
    load_factor: s.loadFactor,
    max_group_len: s.maxGroupLen,
    avg_probe_distance: s.avgProbeDistance,
    tombstones: s.tombstones,
    tombstone_ratio: s.tombstoneRatio,
    probe_histogram: s.probeHistogram,
    bytes_estimate: s.bytesEstimate,
  };
}
