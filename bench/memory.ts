// Bytes per entry at 100,000 entries: V8 heap plus external memory (typed arrays), measured
// around building each map (run with --expose-gc):
//   deno run --v8-flags=--expose-gc bench/memory.ts
import { AdaptiveMap, ChainingMap, RobinHoodMap } from "../mod.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");
const N = 100_000;
const keys = Array.from({ length: N }, (_, i) => `K${i}`); // shared: key memory is not counted

function measure(make: () => { set(k: string, v: number): unknown }): number {
  gc!();
  gc!();
  const used = () => {
    const u = Deno.memoryUsage();
    return u.heapUsed + u.external;
  };
  const before = used();
  const m = make();
  for (let i = 0; i < N; i++) m.set(keys[i]!, i & 0xffff); // small ints: values cost no heap
  gc!();
  gc!();
  const after = used();
  if (!m) throw new Error("unreachable");
  return (after - before) / N;
}

const rows: Array<
  [string, () => { set(k: string, v: number): unknown; stats?: () => { bytesEstimate: number } }]
> = [
  ["Map", () => new Map<string, number>()],
  ["RobinHoodMap", () => new RobinHoodMap<number>()],
  ["RobinHoodMap (load 0.95)", () => new RobinHoodMap<number>({ maxLoadFactor: 0.95 })],
  ["ChainingMap", () => new ChainingMap<number>()],
  ["AdaptiveMap", () => new AdaptiveMap<number>()],
];
console.log("| map | bytes/entry (measured) | estimate from stats() |");
console.log("|---|---|---|");
for (const [name, make] of rows) {
  const measured = Math.min(measure(make), measure(make), measure(make));
  const m = make();
  for (let i = 0; i < N; i++) m.set(keys[i]!, i & 0xffff);
  const est = m.stats ? (m.stats().bytesEstimate / N).toFixed(1) : "-";
  console.log(`| ${name} | ${measured.toFixed(1)} | ${est} |`);
}
