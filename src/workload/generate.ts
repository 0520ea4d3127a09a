/**
 * Synthetic workload CSV generation (`generate-csv`). The byte stream depends only on the
 * options: see docs/workload_schema.md for the exact draw order.
 *
 * @module
 */

import { Sfc32 } from "./prng.ts";
import { ZipfSampler } from "./zipf.ts";
import { adversarialPoolSize, findCollidingKeys } from "./adversarial.ts";

/** Options of {@linkcode generateCsvChunks}; defaults are the original's. */
export interface GenerateOptions {
  /** Rows after the header. */
  ops: number;
  /** Share of rows that are `get`. */
  readRatio: number;
  /** Zipf exponent of key choice; 0 = uniform. */
  keySkew: number;
  /** Keys `K0..K<keySpace-1>`. */
  keySpace: number;
  /** uint32 seed. */
  seed: number;
  /** Share of writes that are `del`. */
  delRatio: number;
  /** Share of rows whose key is an adversarial (colliding) key. */
  adversarialRatio: number;
  /** Adversarial keys collide in a table of `2 ** adversarialLowbits` slots. */
  adversarialLowbits: number;
}

/** The original's defaults (apart from ops, which callers always choose). */
export const GENERATE_DEFAULTS: Readonly<GenerateOptions> = Object.freeze({
  ops: 100_000,
  readRatio: 0.8,
  keySkew: 0,
  keySpace: 10_000,
  seed: 1337,
  delRatio: 0.2,
  adversarialRatio: 0,
  adversarialLowbits: 6,
});

/** The CSV header line. */
export const CSV_HEADER = "op,key,value\n";

const TWO32 = 4294967296;
const C_COMMA = 44;
const C_NL = 10;
const GET = [103, 101, 116, 44]; // "get,"
const PUT = [112, 117, 116, 44]; // "put,"
const DEL = [100, 101, 108, 44]; // "del,"
const C_K = 75; // "K"
const MAX_ROW = 64;

function writeUint(buf: Uint8Array, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  let digits = 0;
  for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
  let p = pos + digits - 1;
  for (let m = n; m > 0; m = Math.floor(m / 10)) buf[p--] = 48 + (m % 10);
  return pos + digits;
}

function threshold(ratio: number): number {
  // Compared against a uint32: ratio 1 gives 2^32, always above.
  return ratio >= 1 ? TWO32 : Math.floor(ratio * TWO32);
}

/**
 * Yields the CSV (header included) in chunks of about `chunkBytes` bytes. The yielded buffer is
 * reused: consume (write) it before asking for the next one. `onProgress(rows)` is called once
 * per chunk.
 */
export function* generateCsvChunks(
  options: GenerateOptions,
  chunkBytes = 1 << 20,
  onProgress?: (rows: number) => void,
): Generator<Uint8Array> {
  const o = options;
  const rng = new Sfc32(o.seed);
  const zipf = o.keySkew > 0 ? new ZipfSampler(o.keySpace, o.keySkew) : null;
  const readThr = threshold(o.readRatio);
  const delThr = threshold(o.delRatio);
  const advThr = o.adversarialRatio > 0 ? threshold(o.adversarialRatio) : 0;
  const enc = new TextEncoder();
  const pool = advThr > 0
    ? findCollidingKeys(o.adversarialLowbits, adversarialPoolSize(o.adversarialLowbits)).map((
      k,
    ) => enc.encode(k))
    : [];
  const buf = new Uint8Array(Math.max(chunkBytes, 4 * MAX_ROW));
  const limit = buf.length - MAX_ROW;
  let pos = 0;
  const header = enc.encode(CSV_HEADER);
  buf.set(header, 0);
  pos = header.length;
  for (let i = 0; i < o.ops; i++) {
    let opBytes: number[];
    const rOp = rng.nextUint32();
    if (rOp < readThr) opBytes = GET;
    else opBytes = rng.nextUint32() < delThr ? DEL : PUT;
    buf[pos] = opBytes[0]!;
    buf[pos + 1] = opBytes[1]!;
    buf[pos + 2] = opBytes[2]!;
    buf[pos + 3] = C_COMMA;
    pos += 4;
    if (advThr > 0 && rng.nextUint32() < advThr) {
      const key = pool[Math.floor((rng.nextUint32() / TWO32) * pool.length)]!;
      buf.set(key, pos);
      pos += key.length;
    } else {
      const idx = zipf !== null
        ? zipf.rank(rng.nextUint32() / TWO32)
        : Math.floor((rng.nextUint32() / TWO32) * o.keySpace);
      buf[pos++] = C_K;
      pos = writeUint(buf, pos, idx);
    }
    buf[pos++] = C_COMMA;
    if (opBytes === PUT) {
      pos = writeUint(buf, pos, Math.floor((rng.nextUint32() / TWO32) * 1000001));
    }
    buf[pos++] = C_NL;
    if (pos > limit) {
      yield buf.subarray(0, pos);
      pos = 0;
      onProgress?.(i + 1);
    }
  }
  if (pos > 0) yield buf.subarray(0, pos);
  onProgress?.(o.ops);
}
