/**
 * The payload codec of snapshot format version 2: a small, self-describing binary encoding
 * of a map's exact state (docs/snapshot_format.md, "Payload").
 *
 * Decoding only ever creates strings, numbers, booleans, `null`, plain arrays and plain
 * objects: no type named by the input is looked up or instantiated. Every count and length is
 * checked against the bytes that remain before anything is allocated, nesting is bounded, and
 * the memory the decoded state takes is estimated as it is read and bounded too (see
 * {@linkcode DECODED_COST}), so hostile input ends in a {@linkcode MalformedPayloadError},
 * never a crash or a huge allocation.
 *
 * Encoding: unsigned integers are LEB128 varints (at most 8 bytes, values up to 2^53 - 1);
 * fixed-width numbers (IEEE-754 doubles) are big-endian, like the header.
 *
 * @module
 */

import { prefix } from "../format.ts";
import type { BackendState, ChainingState, Key, RobinHoodState } from "../core/types.ts";

/** Tags of encoded values and keys. */
export const TAG = Object.freeze({
  NULL: 0x00,
  FALSE: 0x01,
  TRUE: 0x02,
  INT: 0x03,
  FLOAT: 0x04,
  STRING: 0x05,
  ARRAY: 0x06,
  OBJECT: 0x07,
});

/** Kinds of encoded states. */
export const KIND = Object.freeze({ CHAINING: 0x01, ROBINHOOD: 0x02, ADAPTIVE: 0x03 });

/** Deepest nesting of arrays/objects accepted in a value (encode and decode). */
export const MAX_DEPTH = 256;

/**
 * Estimated heap bytes of the strings, arrays and objects a payload's values decode to, charged
 * by readers and writers alike as they go. A value byte can become far more memory (`06 00`, an
 * empty array, is a 32-byte object; gzip makes 100 million of them a 200 KB file), so a
 * payload's size alone does not bound a reader's memory. Entries, their keys, numbers, booleans,
 * `null` and object field names (shared by V8) are not charged: what they take is a small
 * multiple of their payload bytes, which the payload limit bounds.
 */
export const DECODED_COST = Object.freeze({
  /** A string of `utf8Bytes` bytes: its header and characters. */
  string: (utf8Bytes: number): number => 16 + utf8Bytes,
  /** An array: its header and a slot per element. */
  array: (elements: number): number => 32 + 8 * elements,
  /** An object: its header and a property per field. */
  object: (fields: number): number => 32 + 16 * fields,
});

/** The {@linkcode DECODED_COST} spent so far, against a limit. */
class DecodedBudget {
  #spent = 0;
  constructor(readonly limit: number) {}

  /** Adds `bytes`; false once the total is past the limit. */
  spend(bytes: number): boolean {
    return (this.#spent += bytes) <= this.limit;
  }
}

/** A writer's state would decode past its readers' limit (see {@linkcode DECODED_COST}). */
export class DecodedSizeError extends RangeError {
  constructor(readonly limit: number) {
    super(`decoding it would take over ${limit} bytes of memory (estimated)`);
    this.name = "DecodedSizeError";
  }
}

/** The payload is structurally invalid; the message says where and why. */
export class MalformedPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedPayloadError";
  }
}

/** An adaptive map's state as the payload stores it (policy fields by name). */
export interface EncodedAdaptiveState {
  kind: "adaptive";
  policy: Record<string, number | string>;
  active: BackendState;
  target: BackendState | null;
  migrations: number;
  compactions: number;
}

/** Any state the payload can hold. */
export type EncodableState = BackendState | EncodedAdaptiveState;

// ---------------------------------------------------------------------------------------------
// Writer

/** Growable byte buffer with the payload's primitive encodings. */
export class PayloadWriter {
  #buf: Uint8Array;
  #view: DataView;
  #pos = 0;
  readonly #initialSize: number;
  readonly #budget: DecodedBudget;

  constructor(initialSize = 1 << 16, maxDecodedBytes = Infinity) {
    this.#initialSize = initialSize;
    this.#budget = new DecodedBudget(maxDecodedBytes);
    this.#buf = new Uint8Array(initialSize);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Adds `bytes` to the decoded cost (see {@linkcode DECODED_COST}); throws past the limit. */
  charge(bytes: number): void {
    if (!this.#budget.spend(bytes)) throw new DecodedSizeError(this.#budget.limit);
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }

  /** How many bytes are written. */
  get length(): number {
    return this.#pos;
  }

  /**
   * The bytes written so far, handed over: the writer starts again on a new buffer, so a chunk
   * taken may be kept while the writer goes on.
   */
  take(): Uint8Array {
    const out = this.bytes();
    this.#buf = new Uint8Array(this.#initialSize);
    this.#view = new DataView(this.#buf.buffer);
    this.#pos = 0;
    return out;
  }

  #ensure(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = v;
  }

  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new RangeError(`Cannot encode ${v} as an unsigned varint`);
    }
    this.#ensure(8);
    const buf = this.#buf;
    while (v >= 0x80) {
      buf[this.#pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.#pos++] = v;
  }

  f64(v: number): void {
    this.#ensure(8);
    this.#view.setFloat64(this.#pos, v, false);
    this.#pos += 8;
  }

  /** Writes `s`; `charged`: a value's string, whose decoded cost counts. */
  string(s: string, charged = false): void {
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      if (charged) this.charge(DECODED_COST.string(n));
      this.varint(n);
      this.#ensure(n);
      const buf = this.#buf;
      let p = this.#pos;
      for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
      this.#pos = p;
      return;
    }
    if (!s.isWellFormed()) {
      throw new TypeError(
        `Cannot encode string ${
          JSON.stringify(prefix(s, 40))
        } in a snapshot: it has lone surrogates`,
      );
    }
    const bytes = encoder.encode(s);
    if (charged) this.charge(DECODED_COST.string(bytes.length));
    this.varint(bytes.length);
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.length;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  const proto = Object.getPrototypeOf(v);
  const ctor = proto?.constructor;
  return typeof ctor === "function" && ctor.name ? ctor.name : "object";
}

function isInt32(n: number): boolean {
  return (n | 0) === n && !Object.is(n, -0);
}

/** Writes a number with the shortest exact tag. */
function writeNumber(w: PayloadWriter, n: number): void {
  if (isInt32(n)) {
    w.u8(TAG.INT);
    w.varint(n >= 0 ? n * 2 : -n * 2 - 1); // zigzag
  } else {
    w.u8(TAG.FLOAT);
    w.f64(n);
  }
}

/** Writes a key: a string or a number other than `NaN`. */
function writeKey(w: PayloadWriter, key: Key): void {
  if (typeof key === "string") {
    w.u8(TAG.STRING);
    w.string(key);
  } else if (typeof key === "number" && !Number.isNaN(key)) {
    writeNumber(w, key);
  } else {
    throw new TypeError(`Cannot encode key of type ${typeName(key)} in a snapshot`);
  }
}

/**
 * Writes a JSON-compatible value (numbers may also be `NaN`, infinities and `-0`: they are
 * stored exactly). Anything else throws a `TypeError` naming its type.
 */
export function writeValue(w: PayloadWriter, value: unknown, depth = 0): void {
  switch (typeof value) {
    case "string":
      w.u8(TAG.STRING);
      w.string(value, true);
      return;
    case "number":
      writeNumber(w, value);
      return;
    case "boolean":
      w.u8(value ? TAG.TRUE : TAG.FALSE);
      return;
    case "object": {
      if (value === null) {
        w.u8(TAG.NULL);
        return;
      }
      if (depth >= MAX_DEPTH) {
        throw new TypeError(
          `Cannot encode value nested deeper than ${MAX_DEPTH} levels (or cyclic) in a snapshot`,
        );
      }
      if (Array.isArray(value)) {
        w.charge(DECODED_COST.array(value.length));
        w.u8(TAG.ARRAY);
        w.varint(value.length);
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new TypeError("Cannot encode sparse array in a snapshot");
          writeValue(w, value[i], depth + 1);
        }
        return;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) break;
      const keys = Object.keys(value);
      w.charge(DECODED_COST.object(keys.length));
      w.u8(TAG.OBJECT);
      w.varint(keys.length);
      for (const k of keys) {
        w.string(k);
        writeValue(w, (value as Record<string, unknown>)[k], depth + 1);
      }
      return;
    }
  }
  throw new TypeError(`Cannot encode value of type ${typeName(value)} in a snapshot`);
}

/**
 * Where a payload being written may be cut into chunks: after an entry (or a tombstone), once
 * `chunkBytes` are written. Infinity writes the payload as one chunk.
 */
interface Chunking {
  readonly w: PayloadWriter;
  readonly chunkBytes: number;
}

function* writeChaining({ w, chunkBytes }: Chunking, s: ChainingState): Generator<Uint8Array> {
  if (s.keys.length !== s.values.length) throw new RangeError("keys and values differ in length");
  w.u8(KIND.CHAINING);
  w.varint(s.bucketCount);
  w.f64(s.maxLoadFactor);
  w.varint(s.keys.length);
  const { keys, values } = s;
  for (let i = 0; i < keys.length; i++) {
    writeKey(w, keys[i] as Key);
    writeValue(w, values[i]);
    if (w.length >= chunkBytes) yield w.take();
  }
}

function* writeRobinHood({ w, chunkBytes }: Chunking, s: RobinHoodState): Generator<Uint8Array> {
  const n = s.keys.length;
  if (s.values.length !== n || s.slots.length !== n) {
    throw new RangeError("slots, keys and values differ in length");
  }
  if (s.tombstoneSlots.length !== s.tombstoneDistances.length) {
    throw new RangeError("tombstone slots and distances differ in length");
  }
  w.u8(KIND.ROBINHOOD);
  w.varint(s.capacity);
  w.f64(s.maxLoadFactor);
  w.u8(s.deletion === "tombstone" ? 1 : 0);
  w.varint(n);
  const { slots, keys, values } = s;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const slot = slots[i] as number;
    // Gaps between ascending slots, minus one, keep the varints short.
    w.varint(slot - prev - 1);
    prev = slot;
    writeKey(w, keys[i] as Key);
    writeValue(w, values[i]);
    if (w.length >= chunkBytes) yield w.take();
  }
  const t = s.tombstoneSlots.length;
  w.varint(t);
  prev = -1;
  for (let i = 0; i < t; i++) {
    const slot = s.tombstoneSlots[i] as number;
    w.varint(slot - prev - 1);
    prev = slot;
    w.varint(s.tombstoneDistances[i] as number);
    if (w.length >= chunkBytes) yield w.take();
  }
}

function writeBackend(c: Chunking, s: BackendState): Generator<Uint8Array> {
  return s.kind === "chaining" ? writeChaining(c, s) : writeRobinHood(c, s);
}

/**
 * Encodes a state as a payload; throws {@linkcode DecodedSizeError} when it would decode past
 * `maxDecodedBytes`.
 */
export function encodeState(state: EncodableState, maxDecodedBytes = Infinity): Uint8Array {
  const [payload] = encodeStateChunks(state, Infinity, maxDecodedBytes);
  return payload!;
}

/**
 * Encodes a state as a payload in chunks of about `chunkBytes` (more when one entry is
 * larger), so that a payload written to a file never has to be in memory whole. Each chunk is
 * the caller's to keep. The chunks joined are {@linkcode encodeState}'s payload.
 */
export function* encodeStateChunks(
  state: EncodableState,
  chunkBytes: number,
  maxDecodedBytes = Infinity,
): Generator<Uint8Array> {
  // Room for a chunk and the entry that crosses its end, so that a buffer rarely grows.
  const w = new PayloadWriter(
    Number.isFinite(chunkBytes) ? chunkBytes + (1 << 16) : 1 << 16,
    maxDecodedBytes,
  );
  const c = { w, chunkBytes };
  if (state.kind === "adaptive") {
    w.u8(KIND.ADAPTIVE);
    const names = Object.keys(state.policy).sort();
    w.varint(names.length);
    for (const name of names) {
      w.string(name);
      const v = state.policy[name];
      if (typeof v === "string") {
        w.u8(TAG.STRING);
        w.string(v);
      } else if (typeof v === "number") {
        writeNumber(w, v);
      } else {
        throw new TypeError(`Cannot encode policy field ${name} of type ${typeName(v)}`);
      }
    }
    w.varint(state.migrations);
    w.varint(state.compactions);
    yield* writeBackend(c, state.active);
    if (state.target === null) w.u8(0);
    else {
      w.u8(1);
      yield* writeBackend(c, state.target);
    }
  } else {
    yield* writeBackend(c, state);
  }
  yield w.take();
}

// ---------------------------------------------------------------------------------------------
// Reader

/** Limits applied while decoding. */
export interface DecodeLimits {
  /** Largest table (buckets or slots) a payload may declare. */
  maxCapacity: number;
  /** Most {@linkcode DECODED_COST} the state may take (default: no limit). */
  maxDecodedBytes?: number;
}

/** Reads the payload's primitives, checking every read against the remaining bytes. */
export class PayloadReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;
  readonly #budget: DecodedBudget;

  constructor(bytes: Uint8Array, maxDecodedBytes = Infinity) {
    this.#buf = bytes;
    this.#budget = new DecodedBudget(maxDecodedBytes);
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  get offset(): number {
    return this.#pos;
  }

  fail(what: string): never {
    throw new MalformedPayloadError(`${what} at byte ${this.#pos}`);
  }

  /**
   * Adds `bytes` to the decoded cost (see {@linkcode DECODED_COST}), before they are allocated;
   * fails past the limit.
   */
  charge(bytes: number, what: string): void {
    if (!this.#budget.spend(bytes)) {
      this.fail(
        `${what}: the state would take over ${this.#budget.limit} bytes of memory decoded ` +
          "(estimated)",
      );
    }
  }

  u8(what: string): number {
    if (this.#pos >= this.#buf.length) this.fail(`unexpected end of payload reading ${what}`);
    return this.#buf[this.#pos++] as number;
  }

  varint(what: string): number {
    const buf = this.#buf;
    let pos = this.#pos;
    if (pos < buf.length) {
      const b = buf[pos] as number;
      if (b < 0x80) {
        this.#pos = pos + 1;
        return b;
      }
    }
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= buf.length) this.fail(`unexpected end of payload reading ${what}`);
      const b = buf[pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (i > 0 && b === 0) this.fail(`non-canonical varint for ${what}`);
        if (!Number.isSafeInteger(result)) this.fail(`varint too large for ${what}`);
        this.#pos = pos;
        return result;
      }
      scale *= 0x80;
    }
    return this.fail(`varint too long for ${what}`);
  }

  /** A count of items each taking at least `minBytes` bytes: never more than could fit. */
  count(what: string, minBytes = 1): number {
    const n = this.varint(what);
    if (n * minBytes > this.remaining) {
      this.fail(`${what} ${n} exceeds the ${this.remaining} bytes that remain`);
    }
    return n;
  }

  f64(what: string): number {
    if (this.remaining < 8) this.fail(`unexpected end of payload reading ${what}`);
    const v = this.#view.getFloat64(this.#pos, false);
    this.#pos += 8;
    return v;
  }

  /** Reads a string; `charged`: a value's string, whose decoded cost counts. */
  string(what: string, charged = false): string {
    const n = this.varint(`${what} length`);
    if (n > this.remaining) {
      this.fail(`${what} length ${n} exceeds the ${this.remaining} bytes that remain`);
    }
    if (charged) this.charge(DECODED_COST.string(n), what);
    const buf = this.#buf;
    const start = this.#pos;
    const end = start + n;
    this.#pos = end;
    if (n <= 64) {
      let ascii = true;
      for (let i = start; i < end; i++) {
        if ((buf[i] as number) >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
      }
    }
    try {
      return decoder.decode(buf.subarray(start, end));
    } catch {
      this.#pos = start;
      return this.fail(`invalid UTF-8 in ${what}`);
    }
  }
}

function readNumberTagged(r: PayloadReader, tag: number, what: string): number {
  if (tag === TAG.INT) {
    const z = r.varint(what);
    if (z > 0xffffffff) r.fail(`int ${what} out of range`);
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  return r.f64(what);
}

/** Reads a key. */
function readKey(r: PayloadReader): Key {
  const tag = r.u8("key tag");
  if (tag === TAG.STRING) return r.string("key");
  if (tag === TAG.INT || tag === TAG.FLOAT) {
    const n = readNumberTagged(r, tag, "key");
    if (Number.isNaN(n)) r.fail("NaN key");
    return n;
  }
  return r.fail(`invalid key tag 0x${tag.toString(16)}`);
}

/** Reads a value; only plain data is created. */
export function readValue(r: PayloadReader, depth = 0): unknown {
  const tag = r.u8("value tag");
  switch (tag) {
    case TAG.NULL:
      return null;
    case TAG.FALSE:
      return false;
    case TAG.TRUE:
      return true;
    case TAG.INT:
    case TAG.FLOAT:
      return readNumberTagged(r, tag, "value");
    case TAG.STRING:
      return r.string("string value", true);
    case TAG.ARRAY: {
      if (depth >= MAX_DEPTH) r.fail(`value nested deeper than ${MAX_DEPTH}`);
      const n = r.count("array length");
      r.charge(DECODED_COST.array(n), "array");
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = readValue(r, depth + 1);
      return out;
    }
    case TAG.OBJECT: {
      if (depth >= MAX_DEPTH) r.fail(`value nested deeper than ${MAX_DEPTH}`);
      const n = r.count("object size", 2);
      r.charge(DECODED_COST.object(n), "object");
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = r.string("object key");
        if (Object.hasOwn(out, k)) r.fail(`duplicate object key ${JSON.stringify(k)}`);
        // defineProperty makes "__proto__" an own data property instead of a prototype swap.
        Object.defineProperty(out, k, {
          value: readValue(r, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
  return r.fail(`invalid value tag 0x${tag.toString(16)}`);
}

function readCapacity(r: PayloadReader, what: string, limits: DecodeLimits): number {
  const c = r.varint(what);
  if (c < 1 || (c & (c - 1)) !== 0 || c > 2 ** 30) r.fail(`${what} ${c} is not a power of two`);
  if (c > limits.maxCapacity) r.fail(`${what} ${c} exceeds the limit ${limits.maxCapacity}`);
  return c;
}

function readLoadFactor(r: PayloadReader): number {
  const lf = r.f64("max load factor");
  if (!(lf > 0 && lf <= 64)) r.fail(`max load factor ${lf} out of range`);
  return lf;
}

function readChaining(r: PayloadReader, limits: DecodeLimits): ChainingState {
  const bucketCount = readCapacity(r, "bucket count", limits);
  const maxLoadFactor = readLoadFactor(r);
  const n = r.count("entry count", 3);
  const keys = new Array<Key>(n);
  const values = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    keys[i] = readKey(r);
    values[i] = readValue(r);
  }
  return { kind: "chaining", bucketCount, maxLoadFactor, keys, values };
}

/**
 * `drainable`: the table may be an adaptive map's migration source, whose deletions leave
 * tombstones even with backshift deletion; the caller checks that a target follows.
 */
function readRobinHood(r: PayloadReader, limits: DecodeLimits, drainable = false): RobinHoodState {
  const capacity = readCapacity(r, "capacity", limits);
  const maxLoadFactor = readLoadFactor(r);
  if (maxLoadFactor >= 1) r.fail(`max load factor ${maxLoadFactor} must be below 1`);
  const del = r.u8("deletion strategy");
  if (del > 1) r.fail(`invalid deletion strategy ${del}`);
  const n = r.count("entry count", 4);
  if (n > capacity) r.fail(`entry count ${n} exceeds capacity ${capacity}`);
  const slots = new Int32Array(n);
  const keys = new Array<Key>(n);
  const values = new Array<unknown>(n);
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const slot = prev + 1 + r.varint("slot gap");
    if (slot >= capacity) r.fail(`slot ${slot} outside capacity ${capacity}`);
    slots[i] = slot;
    prev = slot;
    keys[i] = readKey(r);
    values[i] = readValue(r);
  }
  const t = r.count("tombstone count", 2);
  if (n + t > capacity) r.fail(`${n} entries and ${t} tombstones exceed capacity ${capacity}`);
  if (t > 0 && del === 0 && !drainable) r.fail("tombstones in a backshift table");
  const tombstoneSlots = new Int32Array(t);
  const tombstoneDistances = new Int32Array(t);
  prev = -1;
  for (let i = 0; i < t; i++) {
    const slot = prev + 1 + r.varint("tombstone slot gap");
    if (slot >= capacity) r.fail(`tombstone slot ${slot} outside capacity ${capacity}`);
    tombstoneSlots[i] = slot;
    prev = slot;
    const d = r.varint("tombstone distance");
    if (d >= capacity) r.fail(`tombstone distance ${d} exceeds capacity ${capacity}`);
    tombstoneDistances[i] = d;
  }
  return {
    kind: "robinhood",
    capacity,
    maxLoadFactor,
    deletion: del === 1 ? "tombstone" : "backshift",
    slots,
    keys,
    values,
    tombstoneSlots,
    tombstoneDistances,
  };
}

function readBackend(r: PayloadReader, limits: DecodeLimits, drainable = false): BackendState {
  const kind = r.u8("backend kind");
  if (kind === KIND.CHAINING) return readChaining(r, limits);
  if (kind === KIND.ROBINHOOD) return readRobinHood(r, limits, drainable);
  return r.fail(`invalid backend kind 0x${kind.toString(16)}`);
}

/** Decodes a payload into a state, requiring every byte to be used. */
export function decodeState(bytes: Uint8Array, limits: DecodeLimits): EncodableState {
  const r = new PayloadReader(bytes, limits.maxDecodedBytes);
  let state: EncodableState;
  const kind = r.u8("state kind");
  if (kind === KIND.ADAPTIVE) {
    const fields = r.count("policy field count", 3);
    const policy: Record<string, number | string> = {};
    for (let i = 0; i < fields; i++) {
      const name = r.string("policy field name");
      if (Object.hasOwn(policy, name)) r.fail(`duplicate policy field ${JSON.stringify(name)}`);
      const tag = r.u8("policy value tag");
      const v = tag === TAG.STRING
        ? r.string("policy value")
        : tag === TAG.INT || tag === TAG.FLOAT
        ? readNumberTagged(r, tag, "policy value")
        : r.fail(`invalid policy value tag 0x${tag.toString(16)}`);
      Object.defineProperty(policy, name, { value: v, enumerable: true, writable: true });
    }
    const migrations = r.varint("migration count");
    const compactions = r.varint("compaction count");
    const active = readBackend(r, limits, true);
    const hasTarget = r.u8("target flag");
    if (hasTarget > 1) r.fail(`invalid target flag ${hasTarget}`);
    if (
      hasTarget === 0 && active.kind === "robinhood" && active.deletion === "backshift" &&
      active.tombstoneSlots.length > 0
    ) r.fail("tombstones in a backshift table that is not migrating");
    const target = hasTarget === 1 ? readBackend(r, limits) : null;
    state = { kind: "adaptive", policy, active, target, migrations, compactions };
  } else if (kind === KIND.CHAINING) {
    state = readChaining(r, limits);
  } else if (kind === KIND.ROBINHOOD) {
    state = readRobinHood(r, limits);
  } else {
    return r.fail(`invalid state kind 0x${kind.toString(16)}`);
  }
  if (r.remaining !== 0) r.fail(`${r.remaining} trailing bytes`);
  return state;
}
