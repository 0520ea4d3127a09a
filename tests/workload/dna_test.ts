import assert from "node:assert/strict";
import {
  analyseWorkload,
  fitZipf,
  hasNumericSuffix,
  recommend,
  uniformLoadLimit,
  WorkloadDnaAnalyzer,
} from "../../src/workload/dna.ts";
import {
  type ByteReader,
  OP_DEL,
  OP_GET,
  OP_PUT,
  type OpBatch,
  readWorkload,
} from "../../src/workload/csv_reader.ts";
import {
  GENERATE_DEFAULTS,
  generateCsvChunks,
  type GenerateOptions,
} from "../../src/workload/generate.ts";
import { WorkloadDna } from "../../src/contracts/workload_dna.ts";

const OPS = { put: OP_PUT, get: OP_GET, del: OP_DEL } as const;

/** A batch of `rows` written as "put a", "get b", ... */
function batch(...rows: string[]): OpBatch {
  const b: OpBatch = { length: 0, ops: new Uint8Array(rows.length), keys: [], values: [] };
  for (const row of rows) {
    const [op, key] = row.split(" ") as [keyof typeof OPS, string];
    b.ops[b.length] = OPS[op];
    b.keys.push(key);
    b.values.push(op === "put" ? "1" : "");
    b.length++;
  }
  return b;
}

/** The report of a generated workload, read through readWorkload() from memory. */
async function generated(o: Partial<GenerateOptions>, cap?: number): Promise<WorkloadDna> {
  const parts = [...generateCsvChunks({ ...GENERATE_DEFAULTS, ...o })].map((c) => c.slice());
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  let pos = 0;
  const reader: ByteReader = {
    read(p: Uint8Array): Promise<number | null> {
      if (pos >= bytes.length) return Promise.resolve(null);
      const n = Math.min(p.length, bytes.length - pos);
      p.set(bytes.subarray(pos, pos + n));
      pos += n;
      return Promise.resolve(n);
    },
  };
  const opts = cap === undefined ? {} : { maxTrackedKeys: cap };
  return WorkloadDna.parse(await analyseWorkload(readWorkload(reader), "gen.csv", opts));
}

Deno.test("WorkloadDnaAnalyzer counts the op mix, distinct keys, key lengths and suffixes exactly", () => {
  const a = new WorkloadDnaAnalyzer();
  a.add(batch("put K1", "get K1", "get K22", "del K1", "get user_7"));
  a.add(batch("put a1b", "get K22", "get 42"));
  const r = WorkloadDna.parse(a.report("x.csv"));
  assert.equal(r.schema, "workload_dna.v1");
  assert.equal(r.csv, "x.csv");
  assert.equal(r.rows, 8);
  assert.deepEqual(r.ops_by_type, { put: 2, get: 5, del: 1 });
  assert.deepEqual(r.op_ratios, { put: 0.25, get: 0.625, del: 0.125 });
  assert.equal(r.keys.distinct, 5);
  assert.equal(r.keys.distinct_exact, true);
  assert.equal(r.keys.untracked_rows, 0);
  // Lengths 2,2,3,2,6,3,3,2 over the rows.
  assert.deepEqual(r.keys.length, { min: 2, mean: 2.875, max: 6 });
  // K1 x3, K22 x2, user_7, 42 have numeric suffixes; a1b does not.
  assert.equal(r.keys.numeric_suffix_share, 0.875);
  assert.equal(r.top_keys_error_bound, 0);
});

Deno.test("hasNumericSuffix() accepts a digit-free prefix and a number", () => {
  for (const k of ["K123", "user_0", "7", "Ключ42"]) assert.equal(hasNumericSuffix(k), true, k);
  for (const k of ["K", "a1b", "K1x", "v2_3", ""]) assert.equal(hasNumericSuffix(k), false, k);
});

Deno.test("WorkloadDnaAnalyzer tracks peak and final live keys as a replay would", () => {
  const a = new WorkloadDnaAnalyzer();
  // live after each row: 1 2 2(update) 1 1(del of dead) 1(del of unseen) 1(get) 2 3 2
  a.add(batch("put a", "put b", "put a", "del a", "del a", "del c", "get d", "put c"));
  a.add(batch("put a", "del b"));
  const r = a.report("-");
  assert.deepEqual(r.live_keys, { peak: 3, final: 2, exact: true });
  assert.equal(r.keys.distinct, 4);
});

Deno.test("WorkloadDnaAnalyzer lists the hottest keys with exact counts, ties in first-seen order", () => {
  const a = new WorkloadDnaAnalyzer({ topKeys: 3 });
  a.add(batch("get x", "get y", "get z", "get y", "get w", "get z", "get y", "get w", "get v"));
  const r = a.report("-");
  assert.deepEqual(r.top_keys, [
    { key: "y", count: 3, share: 0.333333, exact: true },
    { key: "z", count: 2, share: 0.222222, exact: true },
    { key: "w", count: 2, share: 0.222222, exact: true },
  ]);
  assert.deepEqual(new WorkloadDnaAnalyzer({ topKeys: 0 }).report("-").top_keys, []);
});

Deno.test("WorkloadDnaAnalyzer keeps first-seen order among ties of many keys, tracked or late", () => {
  // Thousands of keys make the tracking map rebuild itself several times on the way.
  const keys = Array.from({ length: 5000 }, (_, i) => `get k${(i * 7919) % 5000}`);
  const tracked = new WorkloadDnaAnalyzer({ topKeys: 4 });
  tracked.add(batch(...keys, ...keys.slice(0, 4000).reverse()));
  assert.deepEqual(
    tracked.report("-").top_keys.map((t) => t.key),
    keys.slice(0, 4).map((row) => row.slice(4)),
  );
  // Past the cap, the Misra-Gries estimates keep the order in which keys were admitted.
  const late = new WorkloadDnaAnalyzer({ maxTrackedKeys: 1, topKeys: 3 });
  late.add(batch("get first", "get c", "get a", "get b", "get a", "get c", "get b"));
  assert.deepEqual(late.report("-").top_keys.map((t) => [t.key, t.count]), [
    ["c", 2],
    ["a", 2],
    ["b", 2],
  ]);
});

Deno.test("WorkloadDnaAnalyzer at --max-tracked-keys reports lower bounds and finds a late hot key", () => {
  const a = new WorkloadDnaAnalyzer({ maxTrackedKeys: 2, topKeys: 2 });
  a.add(batch("put a", "put b", "put c", "put d"));
  const late = Array.from({ length: 50 }, (_, i) => i % 2 === 0 ? "get hot" : `get cold${i}`);
  a.add(batch(...late));
  const r = WorkloadDna.parse(a.report("-"));
  assert.equal(r.keys.distinct, 2);
  assert.equal(r.keys.distinct_exact, false);
  assert.equal(r.keys.untracked_rows, 52, "c, d and the 50 late rows");
  assert.deepEqual(r.live_keys, { peak: 2, final: 2, exact: false });
  assert.equal(r.rows, 54);
  assert.equal(r.ops_by_type.get, 50, "op counts stay exact");
  const hot = r.top_keys[0]!;
  assert.equal(hot.key, "hot");
  assert.equal(hot.exact, false);
  assert.ok(hot.count <= 25 && hot.count >= 25 - r.top_keys_error_bound, JSON.stringify(r));
  assert.equal(r.top_keys_error_bound, Math.floor(52 / 65));
  assert.deepEqual(r.top_keys[1], { key: "a", count: 1, share: 0.018519, exact: true });
});

Deno.test("WorkloadDnaAnalyzer keeps a hot late key within its error bound among many cold ones", () => {
  const a = new WorkloadDnaAnalyzer({ maxTrackedKeys: 1, topKeys: 1 });
  a.add(batch("get first"));
  // 1000 rows on "hot" among 2000 keys seen once: the 64-counter summary decrements often.
  a.add(batch(...Array.from({ length: 3000 }, (_, i) => i % 3 === 0 ? "get hot" : `get c${i}`)));
  const r = a.report("-");
  assert.equal(r.top_keys_error_bound, Math.floor(3000 / 65));
  const [top] = r.top_keys;
  assert.equal(top?.key, "hot");
  assert.ok(top.count <= 1000 && top.count >= 1000 - r.top_keys_error_bound, String(top.count));
});

Deno.test("WorkloadDnaAnalyzer refuses options out of range", () => {
  assert.throws(() => new WorkloadDnaAnalyzer({ maxTrackedKeys: 0 }), RangeError);
  assert.throws(() => new WorkloadDnaAnalyzer({ topKeys: -1 }), RangeError);
});

Deno.test("WorkloadDnaAnalyzer reports an empty workload with zeros and the empty rule", () => {
  const r = WorkloadDna.parse(new WorkloadDnaAnalyzer().report("e.csv"));
  assert.equal(r.rows, 0);
  assert.deepEqual(r.keys.length, { min: 0, mean: 0, max: 0 });
  assert.equal(r.skew.zipf_exponent, null);
  assert.equal(r.hash_pressure.worst_prefix, null);
  assert.equal(r.hash_pressure.buckets, 8);
  assert.deepEqual(r.recommendation.rule, "empty");
  assert.equal(r.recommendation.mode, "adaptive");
});

Deno.test("fitZipf() recovers the exponent of a power law and needs three ranks", () => {
  const counts = Float64Array.from({ length: 5000 }, (_, i) => Math.round(1e7 / (i + 1) ** 1.5));
  counts.sort();
  const fit = fitZipf(counts);
  assert.ok(Math.abs(fit.exponent! - 1.5) < 0.01, String(fit.exponent));
  const flat = new Float64Array(1000).fill(7);
  assert.equal(fitZipf(flat).exponent, 0);
  assert.deepEqual(fitZipf(Float64Array.from([1, 1, 5, 9])), { exponent: null, points: 2 });
});

Deno.test("uniformLoadLimit() lies above the mean and grows with it", () => {
  const small = uniformLoadLimit(100, 64);
  const big = uniformLoadLimit(10_000, 64);
  assert.ok(small > 100 / 64 && big > 10_000 / 64 && big > small);
  // Tighter relative to the mean as the mean grows: ~6.6 standard deviations at 10,000/64.
  assert.ok((big - 10_000 / 64) / Math.sqrt(10_000 / 64) < 8);
});

Deno.test("analyseWorkload() estimates more skew for a Zipf workload than for a uniform one", async () => {
  const flat = await generated({ ops: 30_000, keySpace: 3000 });
  const zipf = await generated({ ops: 30_000, keySpace: 3000, keySkew: 1.2 });
  assert.ok(flat.skew.zipf_exponent! < 0.3, JSON.stringify(flat.skew));
  assert.ok(zipf.skew.zipf_exponent! > 0.9, JSON.stringify(zipf.skew));
  assert.ok(zipf.skew.top_1pct_share > 5 * flat.skew.top_1pct_share);
  assert.equal(flat.skew.skewed, false);
  assert.equal(zipf.skew.skewed, true);
  assert.equal(zipf.top_keys[0]!.key, "K0");
  assert.equal(flat.recommendation.rule, "read-heavy");
  assert.equal(flat.recommendation.mode, "fast-lookup");
  assert.equal(zipf.recommendation.rule, "skewed");
  assert.equal(zipf.recommendation.mode, "adaptive");
});

Deno.test("analyseWorkload() flags adversarial colliding keys and not uniform ones", async () => {
  const flat = await generated({ ops: 20_000, keySpace: 2000 });
  const adv = await generated({ ops: 20_000, keySpace: 2000, adversarialRatio: 0.1 });
  assert.equal(flat.hash_pressure.adversarial, false, JSON.stringify(flat.hash_pressure));
  assert.equal(adv.hash_pressure.adversarial, true, JSON.stringify(adv.hash_pressure));
  // generate-csv's default --adversarial-lowbits 6: the keys share their top 6 hash bits.
  assert.equal(adv.hash_pressure.worst_prefix!.bits, 6);
  const w = adv.hash_pressure.worst_prefix!;
  assert.ok(w.max_load > 3 * w.uniform_limit);
  assert.equal(adv.recommendation.rule, "adversarial");
  // Sized like the map: the smallest power of two keeping the load at or below 0.85.
  const hp = flat.hash_pressure;
  assert.equal(hp.buckets, 2 ** hp.table_bits);
  assert.ok(hp.expected_load <= 0.85 && hp.expected_load > 0.85 / 2);
  assert.ok(Math.abs(hp.colliding_key_share - hp.uniform_colliding_key_share) < 0.05);
});

Deno.test("recommend() picks fast-lookup, fast-insert or adaptive from the op mix", () => {
  const mix = (...rows: string[]): WorkloadDna["recommendation"] => {
    const a = new WorkloadDnaAnalyzer();
    a.add(batch(...rows));
    return a.report("-").recommendation;
  };
  // Six keys of one row each: not skewed, not adversarial.
  assert.equal(mix("get a", "get b", "get c", "get d", "get e", "get f").mode, "fast-lookup");
  assert.equal(mix("put a", "put b", "del a", "get c", "get d", "get e").mode, "fast-insert");
  const mixed = mix("put a", "get b", "get c", "get d", "get e", "del f", "get g", "put h");
  assert.deepEqual([mixed.mode, mixed.rule], ["adaptive", "mixed"]);
  assert.match(mixed.reason, /62\.5% gets, 37\.5% writes/);
  const base = new WorkloadDnaAnalyzer().report("-");
  const adversarial = recommend({
    ...base,
    rows: 1,
    hash_pressure: {
      ...base.hash_pressure,
      adversarial: true,
      worst_prefix: { bits: 6, buckets: 64, expected_load: 2, max_load: 90, uniform_limit: 30 },
    },
  });
  assert.deepEqual([adversarial.mode, adversarial.rule], ["fast-insert", "adversarial"]);
  assert.match(adversarial.reason, /90 keys in one of 64 top-bit buckets/);
});
