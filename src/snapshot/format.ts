/**
 * The snapshot container: a fixed big-endian header, a BLAKE2b-512 checksum of the stored
 * payload bytes, then the payload (gzip-compressed when flag bit 0 is set).
 *
 * ```
 * offset size field
 *      0    8 magic "ADHSNAP1"
 *      8    2 version (u16) = 2
 *     10    1 flags (u8): bit0 gzip, bit1 keyed checksum; other bits must be 0
 *     11    1 reserved (u8) = 0
 *     12    2 checksum_len (u16) = 64
 *     14    8 payload_len (u64): bytes stored after the checksum
 *     22   64 checksum: BLAKE2b-512(stored payload), or HMAC-BLAKE2b-512(key, stored payload)
 *     86    n payload
 * ```
 *
 * Everything is checked before it is trusted: sizes against the limit and the bytes present,
 * the checksum before decompression, the decompressed size against the limit while inflating.
 *
 * @module
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { BadInputError, IOError, PolicyError } from "../errors.ts";
import { showValue } from "../core/storage.ts";
import { MAGIC } from "./magic.ts";

export { MAGIC };
/** The format version this module writes and reads (1 was the original's pickle payload). */
export const FORMAT_VERSION = 2;
/** Bytes before the checksum. */
export const HEADER_SIZE = 22;
/** Flag bit 0: the payload is gzip-compressed. */
export const FLAG_GZIP = 0x01;
/** Flag bit 1: the checksum is an HMAC keyed with `ADHASH_SNAPSHOT_KEY`. */
export const FLAG_KEYED = 0x02;
/** Length of the BLAKE2b-512 digest. */
export const CHECKSUM_LEN = 64;
/** Default limit on the stored and on the decompressed payload: 256 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;
/** The environment variable holding the checksum key. */
export const KEY_ENV = "ADHASH_SNAPSHOT_KEY";

/** The decoded header of a snapshot. */
export interface SnapshotHeader {
  /** Always `ADHSNAP1`. */
  magic: string;
  /** Format version (2). */
  version: number;
  /** Raw flag byte. */
  flags: number;
  /** Flag bit 0: gzip payload. */
  compressed: boolean;
  /** Flag bit 1: keyed checksum. */
  keyed: boolean;
  /** Checksum length (64). */
  checksumLength: number;
  /** Stored payload bytes. */
  payloadLength: number;
}

/** A key for the checksum: `undefined` reads `ADHASH_SNAPSHOT_KEY`, `null` means none. */
export type ChecksumKey = string | Uint8Array | null | undefined;

/** Options for packing a payload. */
export interface PackOptions {
  compress?: boolean;
  key?: ChecksumKey;
}

/** Options for unpacking a snapshot. */
export interface UnpackOptions {
  key?: ChecksumKey;
  /** Limit on the stored and on the decompressed payload (default 256 MiB). */
  maxPayloadBytes?: number;
}

/** A verified snapshot's parts. */
export interface Unpacked {
  header: SnapshotHeader;
  checksum: Uint8Array;
  /** The payload after decompression. */
  payload: Uint8Array;
}

/**
 * The checksum key to use: explicit option, else the environment, else none. Throws
 * `PolicyError` when the environment cannot be read and `BadInputError` when the variable is
 * empty: either way a key that was meant would be passed over, and a reader would then take an
 * unkeyed file, which anyone can write, where a keyed one is required.
 */
export function resolveKey(key: ChecksumKey): Uint8Array | null {
  if (key === null) return null;
  if (key === undefined) {
    let env: string | undefined;
    const deno = (globalThis as { Deno?: typeof Deno }).Deno;
    try {
      // Outside Deno (Node, Bun) the process's environment; a browser has none.
      env = deno === undefined
        ? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
          ?.[KEY_ENV]
        : deno.env.get(KEY_ENV);
    } catch {
      throw new PolicyError(`${KEY_ENV} cannot be read without --allow-env=${KEY_ENV}`, {
        hint: "Grant that permission, or (in code) pass key: null for snapshots without a key",
      });
    }
    if (env === undefined) return null;
    if (env === "") {
      throw new BadInputError(`${KEY_ENV} is empty, which would turn the checksum key off`, {
        hint: `Set the key, or unset ${KEY_ENV} for snapshots without a key`,
      });
    }
    key = env;
  }
  return typeof key === "string" ? new TextEncoder().encode(key) : key;
}

/** A running checksum: fed the stored payload in pieces, then digested once. */
export interface RunningChecksum {
  update(data: Uint8Array): RunningChecksum;
  digest(): Uint8Array;
}

/** BLAKE2b-512, or HMAC-BLAKE2b-512 when `key` is given, of what it is fed. */
export function runningChecksum(key: Uint8Array | null): RunningChecksum {
  return key === null ? createHash("blake2b512") : createHmac("blake2b512", key);
}

/** BLAKE2b-512 of `data`, or HMAC-BLAKE2b-512 when `key` is given. */
export function checksumOf(data: Uint8Array, key: Uint8Array | null): Uint8Array {
  return new Uint8Array(runningChecksum(key).update(data).digest());
}

function tooBig(what: string, max: number): IOError {
  return new IOError(`Snapshot payload exceeds maximum allowed size (${what} > ${max} bytes)`, {
    hint: "Raise the limit (maxPayloadBytes) only for snapshots you trust",
  });
}

/** The gzip header's operating-system byte every snapshot carries: 3, Unix. */
export const GZIP_OS = 3;

/**
 * Sets the operating-system byte (offset 9) of a gzip stream, given a chunk of it that starts
 * at byte `offset`, to {@linkcode GZIP_OS}. zlib writes a code for the platform it was built
 * for (3 on Linux), so the same map would otherwise get snapshots with other bytes, and other
 * checksums, on other platforms.
 */
export function fixGzipOs(chunk: Uint8Array, offset = 0): void {
  if (offset <= 9 && 9 < offset + chunk.length) chunk[9 - offset] = GZIP_OS;
}

/** Wraps `payload` in a header and checksum, compressing it first if asked. */
export function packSnapshot(payload: Uint8Array, options: PackOptions = {}): Uint8Array {
  const compress = options.compress ?? false;
  const key = resolveKey(options.key);
  const stored = compress ? new Uint8Array(gzipSync(payload, { level: 6 })) : payload;
  if (compress) fixGzipOs(stored);
  const out = new Uint8Array(HEADER_SIZE + CHECKSUM_LEN + stored.length);
  out.set(headerBytes(compress, key !== null, stored.length, checksumOf(stored, key)));
  out.set(stored, HEADER_SIZE + CHECKSUM_LEN);
  return out;
}

/** The header and checksum that precede a stored payload of `storedLength` bytes. */
export function headerBytes(
  compress: boolean,
  keyed: boolean,
  storedLength: number,
  checksum: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + CHECKSUM_LEN);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint16(8, FORMAT_VERSION, false);
  view.setUint8(10, (compress ? FLAG_GZIP : 0) | (keyed ? FLAG_KEYED : 0));
  view.setUint8(11, 0);
  view.setUint16(12, CHECKSUM_LEN, false);
  view.setBigUint64(14, BigInt(storedLength), false);
  out.set(checksum, HEADER_SIZE);
  return out;
}

/**
 * Reads and validates the header alone (no checksum check): throws {@linkcode IOError} for
 * anything but a supported, size-consistent header, and TypeError or RangeError for a
 * `maxPayloadBytes` that is not a non-negative integer (every reader's limit passes here).
 */
export function readHeader(bytes: Uint8Array, maxPayloadBytes: number): SnapshotHeader {
  if (
    typeof maxPayloadBytes !== "number" || !Number.isSafeInteger(maxPayloadBytes) ||
    maxPayloadBytes < 0
  ) {
    const E = typeof maxPayloadBytes === "number" ? RangeError : TypeError;
    throw new E(
      `maxPayloadBytes must be a non-negative integer: received ${showValue(maxPayloadBytes)}`,
    );
  }
  const m = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < m; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new IOError("Bad magic", { hint: "This is not an adhash snapshot" });
    }
  }
  if (bytes.length < HEADER_SIZE) throw new IOError("Truncated snapshot");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, false);
  if (version !== FORMAT_VERSION) {
    throw new IOError(`Unsupported snapshot version ${version}`, {
      hint: version === 1
        ? "Version 1 snapshots hold Python pickles, which adhash never loads"
        : `This adhash reads version ${FORMAT_VERSION}`,
    });
  }
  const flags = view.getUint8(10);
  if ((flags & ~(FLAG_GZIP | FLAG_KEYED)) !== 0) {
    throw new IOError(`Unsupported snapshot flags 0x${flags.toString(16).padStart(2, "0")}`);
  }
  const reserved = view.getUint8(11);
  if (reserved !== 0) throw new IOError(`Unsupported snapshot flags: reserved byte is ${reserved}`);
  const checksumLength = view.getUint16(12, false);
  if (checksumLength !== CHECKSUM_LEN) {
    throw new IOError(`Unsupported checksum length ${checksumLength}`);
  }
  const big = view.getBigUint64(14, false);
  if (big > BigInt(maxPayloadBytes)) throw tooBig(`${big} bytes stored`, maxPayloadBytes);
  const payloadLength = Number(big);
  return {
    magic: "ADHSNAP1",
    version,
    flags,
    compressed: (flags & FLAG_GZIP) !== 0,
    keyed: (flags & FLAG_KEYED) !== 0,
    checksumLength,
    payloadLength,
  };
}

/**
 * The size in bytes of the file `header` begins, checked against `size`, the bytes there are:
 * `Truncated snapshot` when fewer, `Malformed snapshot: N trailing bytes` when more.
 */
export function checkTotalSize(header: SnapshotHeader, size: number): number {
  const total = HEADER_SIZE + CHECKSUM_LEN + header.payloadLength;
  if (size < total) throw new IOError("Truncated snapshot");
  if (size > total) {
    throw new IOError(`Malformed snapshot: ${size - total} trailing bytes after the payload`);
  }
  return total;
}

/**
 * Validates a whole snapshot and returns its decompressed payload. Throws {@linkcode IOError}
 * with the reference messages: `Bad magic`, `Unsupported snapshot version N`,
 * `Truncated snapshot`, `Checksum mismatch`, `Corrupt gzip payload`,
 * `Snapshot payload exceeds maximum allowed size`.
 */
export function unpackSnapshot(bytes: Uint8Array, options: UnpackOptions = {}): Unpacked {
  const max = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const header = readHeader(bytes, max);
  const total = checkTotalSize(header, bytes.length);
  const checksum = bytes.subarray(HEADER_SIZE, HEADER_SIZE + CHECKSUM_LEN);
  const stored = bytes.subarray(HEADER_SIZE + CHECKSUM_LEN, total);
  const key = resolveKey(options.key);
  if (header.keyed && key === null) {
    throw new IOError(`Snapshot checksum is keyed: ${KEY_ENV} is needed to verify it`, {
      hint: `Set ${KEY_ENV} to the key the snapshot was written with`,
    });
  }
  if (!header.keyed && key !== null) {
    // Accepting an unkeyed file while a key is configured would let anyone forge one.
    throw new IOError(`Snapshot checksum is not keyed but ${KEY_ENV} is set`, {
      hint: `Unset ${KEY_ENV} to load an unkeyed snapshot you trust`,
    });
  }
  const expected = checksumOf(stored, key);
  if (!timingSafeEqual(expected, checksum)) {
    throw new IOError("Checksum mismatch", {
      hint: header.keyed
        ? `The file is corrupt or ${KEY_ENV} is not the key it was written with`
        : "The file is corrupt",
    });
  }
  const payload = header.compressed ? gunzipCapped(stored, max) : stored;
  return { header, checksum, payload };
}

function isTooLarge(err: unknown): boolean {
  return (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE";
}

/**
 * Gunzips `stored`, refusing more than `max` bytes of output, in about the memory of the
 * output. gzip's trailer gives the size of its (last) member's output modulo 2^32: when that
 * is within `max`, the output is inflated into one buffer of that size, not into 16 KiB chunks
 * joined at the end (which took twice the output, three times with a copy). Otherwise, or when
 * the output outgrows the trailer's size (several members, or a trailer that lies), it is
 * inflated in chunks, still capped at `max`. The trailer is only a hint: a corrupt stream is
 * reported as corrupt, whatever its last bytes say.
 */
function gunzipCapped(stored: Uint8Array, max: number): Uint8Array {
  const trailer = stored.length >= 4
    ? new DataView(stored.buffer, stored.byteOffset + stored.length - 4, 4).getUint32(0, true)
    : 0;
  let out: Uint8Array | null = null;
  try {
    if (trailer >= 1 && trailer <= max) {
      try {
        out = gunzipSync(stored, {
          maxOutputLength: trailer,
          chunkSize: Math.max(64, trailer + 1), // zlib's smallest chunk is 64 bytes
        });
      } catch (err) {
        if (!isTooLarge(err)) throw err;
      }
    }
    out ??= gunzipSync(stored, { maxOutputLength: max });
  } catch (err) {
    if (isTooLarge(err)) throw tooBig("decompressed", max);
    throw new IOError("Corrupt gzip payload", { cause: err });
  }
  // A view, not a copy: Buffer is a Uint8Array already.
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
