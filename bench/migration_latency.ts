// Longest single operation while an AdaptiveMap of 1,000,000 entries migrates.
//   deno run --v8-flags=--expose-gc bench/migration_latency.ts chaining|robinhood [batch] [entries]
// One direction per process, and a full GC before the migration starts, so garbage from
// filling the map (or from another run) is not collected inside the measured window. The
// main thread then sleeps 300 ms: the GC's sweeping finishes in the background meanwhile, and
// without the pause allocations in the first ~30 operations paid for it (1.1-1.5 ms each).
import { AdaptiveMap, type AdaptivePolicy, DEFAULT_POLICY } from "../mod.ts";

const BATCH = Number(Deno.args[1] ?? DEFAULT_POLICY.incrementalBatch);
const N = Number(Deno.args[2] ?? 1_000_000);
const keys = Array.from({ length: N * 2 }, (_, i) => `K${i}`);

function run(start: AdaptivePolicy["startBackend"]): void {
  // Thresholds that hold still while the map fills...
  const m = new AdaptiveMap<number>(
    start === "chaining"
      ? {
        startBackend: start,
        initialBuckets: 1 << Math.max(4, Math.ceil(Math.log2(N / 8))), // 2^17 for 1M
        maxLfChaining: 1.5,
        maxGroupLen: 1e6,
        incrementalBatch: BATCH,
      }
      : { startBackend: start, maxAvgProbeRobinhood: 1e6, incrementalBatch: BATCH },
  );
  for (let i = 0; i < N; i++) m.set(keys[i]!, i);
  if (m.backend !== start || m.migrating) throw new Error("the map switched while filling");
  // ...then lowered on the live map, so the next insertion starts a migration of 1,000,000 entries.
  m.setPolicy(start === "chaining" ? { maxLfChaining: 0.01 } : { maxAvgProbeRobinhood: 0.001 });
  (globalThis as { gc?: () => void }).gc?.();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  const lat: number[] = [];
  const worst = { ms: 0, op: "" };
  let i = N;
  const t0 = performance.now();
  console.error(`-- start ${t0.toFixed(0)}`);
  do {
    const op = (i - N) % 3; // new key (the first starts the migration) / read / delete
    const k = keys[(i * 7919) % i]!;
    const s = performance.now();
    if (op === 0) m.set(keys[i]!, i);
    else if (op === 1) m.get(k);
    else m.delete(k);
    const d = performance.now() - s;
    if (d > worst.ms) Object.assign(worst, { ms: d, op: ["set", "get", "delete"][op] });
    lat.push(d);
    i++;
  } while (m.migrating);
  const total = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const q = (f: number) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]!.toFixed(3);
  console.log(
    `${start} -> ${m.backend}: ${lat.length} ops, ${total.toFixed(0)} ms in all; per op p50 ${
      q(0.5)
    } ms, ` +
      `p99 ${q(0.99)} ms, max ${worst.ms.toFixed(3)} ms (${worst.op}); over 1 ms: ${
        lat.filter((x) => x > 1).length
      }; slowest three ${lat.slice(-3).reverse().map((x) => x.toFixed(3)).join(", ")} ms`,
  );
}

const dir = Deno.args[0] ?? "chaining";
if (dir !== "chaining" && dir !== "robinhood") {
  throw new TypeError(`direction must be chaining or robinhood: "${dir}"`);
}
run(dir);
