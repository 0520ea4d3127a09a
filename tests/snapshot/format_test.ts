import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { gzipSync } from "node:zlib";
import { IOError } from "../../src/errors.ts";
import {
  CHECKSUM_LEN,
  checksumOf,
  fixGzipOs,
  GZIP_OS,
  HEADER_SIZE,
  packSnapshot,
  readHeader,
  unpackSnapshot,
} from "../../src/snapshot/format.ts";
import { saveSnapshot } from "../../src/snapshot/mod.ts";
import { RobinHoodMap } from "../../src/core/robin_hood_map.ts";

const payload = new TextEncoder().encode("any payload bytes");

function ioError(re: RegExp): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof IOError, `expected IOError, got ${String(err)}`);
    assert.equal(err.exitCode, 5);
    assert.match(err.message, re);
    return true;
  };
}

function withHeader(bytes: Uint8Array, edit: (v: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

Deno.test("packSnapshot() lays out the big-endian header, checksum and payload", () => {
  const bytes = packSnapshot(payload, { key: null });
  const v = new DataView(bytes.buffer);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "ADHSNAP1");
  assert.equal(v.getUint16(8, false), 2);
  assert.equal(v.getUint8(10), 0);
  assert.equal(v.getUint8(11), 0);
  assert.equal(v.getUint16(12, false), 64);
  assert.equal(v.getBigUint64(14, false), BigInt(payload.length));
  const digest = new Uint8Array(createHash("blake2b512").update(payload).digest());
  assert.deepEqual(bytes.subarray(22, 86), digest);
  assert.deepEqual(bytes.subarray(86), payload);
});

Deno.test("packSnapshot() with a key sets flag bit 1 and stores HMAC-BLAKE2b-512", () => {
  const bytes = packSnapshot(payload, { key: "k1", compress: true });
  assert.equal(bytes[10], 0x03);
  const stored = bytes.subarray(86);
  const mac = new Uint8Array(createHmac("blake2b512", "k1").update(stored).digest());
  assert.deepEqual(bytes.subarray(22, 86), mac);
  assert.deepEqual(unpackSnapshot(bytes, { key: "k1" }).payload, payload);
});

Deno.test("unpackSnapshot() returns the payload of a valid snapshot, compressed or not", () => {
  for (const compress of [false, true]) {
    const u = unpackSnapshot(packSnapshot(payload, { compress, key: null }), { key: null });
    assert.deepEqual(u.payload, payload);
    assert.equal(u.header.compressed, compress);
    assert.equal(u.header.keyed, false);
  }
});

Deno.test("unpackSnapshot() rejects bad magic, versions, flags and checksum lengths", () => {
  const good = packSnapshot(payload, { key: null });
  const opts = { key: null };
  const badMagic = good.slice();
  badMagic[0] = 0x58;
  assert.throws(() => unpackSnapshot(badMagic, opts), ioError(/^Bad magic$/));
  assert.throws(
    () => unpackSnapshot(new TextEncoder().encode("PK\x03\x04"), opts),
    ioError(/^Bad magic$/),
  );
  assert.throws(
    () => unpackSnapshot(withHeader(good, (v) => v.setUint16(8, 1, false)), opts),
    ioError(/^Unsupported snapshot version 1$/),
  );
  assert.throws(
    () => unpackSnapshot(withHeader(good, (v) => v.setUint16(8, 3, false)), opts),
    ioError(/^Unsupported snapshot version 3$/),
  );
  assert.throws(
    () => unpackSnapshot(withHeader(good, (v) => v.setUint8(10, 0x04)), opts),
    ioError(/^Unsupported snapshot flags 0x04$/),
  );
  assert.throws(
    () => unpackSnapshot(withHeader(good, (v) => v.setUint8(11, 1)), opts),
    ioError(/reserved byte is 1/),
  );
  assert.throws(
    () => unpackSnapshot(withHeader(good, (v) => v.setUint16(12, 32, false)), opts),
    ioError(/^Unsupported checksum length 32$/),
  );
});

Deno.test("unpackSnapshot() reports truncation at every length and trailing bytes", () => {
  const good = packSnapshot(payload, { key: null });
  for (let n = 0; n < good.length; n++) {
    assert.throws(
      () => unpackSnapshot(good.subarray(0, n), { key: null }),
      ioError(/^Truncated snapshot$/),
    );
  }
  const longer = new Uint8Array(good.length + 3);
  longer.set(good);
  assert.throws(() => unpackSnapshot(longer, { key: null }), ioError(/3 trailing bytes/));
});

Deno.test("unpackSnapshot() detects a changed payload or checksum", () => {
  const good = packSnapshot(payload, { key: null });
  for (const at of [22, 50, 85, 86, good.length - 1]) {
    const bad = good.slice();
    bad[at]! ^= 0x01;
    assert.throws(() => unpackSnapshot(bad, { key: null }), ioError(/^Checksum mismatch$/));
  }
});

Deno.test("unpackSnapshot() enforces the payload limit before reading and while inflating", () => {
  const good = packSnapshot(payload, { key: null });
  assert.throws(
    () => unpackSnapshot(good, { key: null, maxPayloadBytes: payload.length - 1 }),
    ioError(/^Snapshot payload exceeds maximum allowed size/),
  );
  // The limit itself is allowed, stored or decompressed.
  const atLimit = unpackSnapshot(good, { key: null, maxPayloadBytes: payload.length });
  assert.deepEqual(atLimit.payload, payload);
  const zeros = packSnapshot(new Uint8Array(1000), { compress: true, key: null });
  assert.equal(unpackSnapshot(zeros, { key: null, maxPayloadBytes: 1000 }).payload.length, 1000);
  const huge = withHeader(good, (v) => v.setBigUint64(14, 0xffffffffffffffffn, false));
  assert.throws(
    () => unpackSnapshot(huge, { key: null }),
    ioError(/^Snapshot payload exceeds maximum/),
  );
  // A decompression bomb: 64 MiB of zeros in ~64 KiB of gzip, with a valid checksum.
  const bomb = packSnapshot(new Uint8Array(64 * 1024 * 1024), { compress: true, key: null });
  assert.ok(bomb.length < 200_000);
  assert.throws(
    () => unpackSnapshot(bomb, { key: null, maxPayloadBytes: 1024 * 1024 }),
    ioError(/^Snapshot payload exceeds maximum allowed size \(decompressed/),
  );
});

Deno.test("unpackSnapshot() reports a corrupt gzip payload whose checksum is right", () => {
  const notGzip = packSnapshot(payload, { key: null });
  const flagged = withHeader(notGzip, (v) => v.setUint8(10, 0x01));
  assert.throws(() => unpackSnapshot(flagged, { key: null }), ioError(/^Corrupt gzip payload$/));
  const gz = new Uint8Array(gzipSync(payload));
  const cut = gz.subarray(0, gz.length - 6);
  const stored = packSnapshot(cut, { key: null });
  const marked = withHeader(stored, (v) => v.setUint8(10, 0x01));
  assert.throws(() => unpackSnapshot(marked, { key: null }), ioError(/^Corrupt gzip payload$/));
});

Deno.test("unpackSnapshot() refuses a keyed snapshot without the key and the wrong key", () => {
  const keyed = packSnapshot(payload, { key: "right" });
  assert.throws(
    () => unpackSnapshot(keyed, { key: null }),
    ioError(/keyed: ADHASH_SNAPSHOT_KEY is needed/),
  );
  assert.throws(() => unpackSnapshot(keyed, { key: "wrong" }), ioError(/^Checksum mismatch$/));
  // Clearing the keyed flag cannot downgrade it to a plain checksum.
  const stripped = withHeader(keyed, (v) => v.setUint8(10, 0));
  assert.throws(() => unpackSnapshot(stripped, { key: null }), ioError(/^Checksum mismatch$/));
});

Deno.test("unpackSnapshot() refuses an unkeyed snapshot while a key is configured", () => {
  const plain = packSnapshot(payload, { key: null });
  assert.throws(
    () => unpackSnapshot(plain, { key: "k" }),
    ioError(/not keyed but ADHASH_SNAPSHOT_KEY is set/),
  );
});

Deno.test("packSnapshot() and unpackSnapshot() read ADHASH_SNAPSHOT_KEY when no key is given", () => {
  const before = Deno.env.get("ADHASH_SNAPSHOT_KEY");
  try {
    Deno.env.set("ADHASH_SNAPSHOT_KEY", "from-env");
    const bytes = packSnapshot(payload);
    assert.equal(bytes[10], 0x02);
    assert.deepEqual(
      bytes.subarray(22, 86),
      checksumOf(bytes.subarray(86), new TextEncoder().encode("from-env")),
    );
    assert.deepEqual(unpackSnapshot(bytes).payload, payload);
    Deno.env.set("ADHASH_SNAPSHOT_KEY", "other");
    assert.throws(() => unpackSnapshot(bytes), ioError(/^Checksum mismatch$/));
    Deno.env.delete("ADHASH_SNAPSHOT_KEY");
    assert.throws(() => unpackSnapshot(bytes), ioError(/keyed/));
  } finally {
    if (before === undefined) Deno.env.delete("ADHASH_SNAPSHOT_KEY");
    else Deno.env.set("ADHASH_SNAPSHOT_KEY", before);
  }
});

Deno.test("readHeader() decodes the header fields", () => {
  const h = readHeader(packSnapshot(payload, { compress: true, key: "x" }), 1 << 20);
  assert.equal(h.magic, "ADHSNAP1");
  assert.equal(h.version, 2);
  assert.equal(h.flags, 3);
  assert.equal(h.compressed, true);
  assert.equal(h.keyed, true);
  assert.equal(h.checksumLength, 64);
  assert.ok(h.payloadLength > 0);
});

Deno.test("packSnapshot() and saveSnapshot() write gzip's operating-system byte as 3 on every platform", async () => {
  // zlib writes a code for the platform it was built for: fixGzipOs() makes it 3 wherever
  // byte 9 falls among the chunks of a stream (19 stands for another platform's).
  const header = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 19, 0xaa);
  const chunks = [header.slice(0, 4), header.slice(4, 9), header.slice(9)];
  let offset = 0;
  for (const c of chunks) {
    fixGzipOs(c, offset);
    offset += c.length;
  }
  assert.deepEqual(chunks.map((c) => [...c]).flat(), [...header.slice(0, 9), GZIP_OS, 0xaa]);
  assert.equal(GZIP_OS, 3);
  const gz = (snapshot: Uint8Array) => snapshot.subarray(HEADER_SIZE + CHECKSUM_LEN);
  const packed = gz(packSnapshot(new Uint8Array(100), { compress: true, key: null }));
  assert.deepEqual([packed[0], packed[1], packed[9]], [0x1f, 0x8b, GZIP_OS]);
  const dir = await Deno.makeTempDir();
  try {
    const m = new RobinHoodMap<number>();
    for (let i = 0; i < 1_000; i++) m.set(`K${i}`, i);
    await saveSnapshot(`${dir}/m.adhsnap.gz`, m, { key: null });
    const saved = gz(await Deno.readFile(`${dir}/m.adhsnap.gz`));
    assert.deepEqual([saved[0], saved[1], saved[9]], [0x1f, 0x8b, GZIP_OS]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
