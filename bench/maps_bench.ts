// deno task bench: each group compares adhash maps with the built-in Map in the same run.
// Figures and ratios are recorded in docs/performance.md.
import { AdaptiveMap, ChainingMap, RobinHoodMap } from "../mod.ts";
import { freshKeys, makeWorkload, type OpTarget, pooledKeys, replayCopy } from "./workload.ts";

const uniform = makeWorkload(0);
const zipf = makeWorkload(1.1);
const pooledUniform = pooledKeys(uniform);
const pooledZipf = pooledKeys(zipf);

const makers: Array<[string, () => OpTarget]> = [
  ["Map", () => new Map<string, number>()],
  ["RobinHoodMap", () => new RobinHoodMap<number>()],
  ["ChainingMap", () => new ChainingMap<number>()],
  ["AdaptiveMap", () => new AdaptiveMap<number>()],
];

/** One loop per map, shared by its groups (see `replayCopy`). */
const loops = new Map(makers.map(([label]) => [label, replayCopy()]));

function group(name: string, keysFor: () => string[], w: typeof uniform): void {
  for (const [label, make] of makers) {
    const replay = loops.get(label)!;
    Deno.bench({
      name: `${label} ${name}`,
      group: name,
      baseline: label === "Map",
      n: 8,
      warmup: 2,
      fn(b) {
        const keys = keysFor(); // fresh strings must be built anew for every run
        const m = make();
        b.start();
        replay(m, w, keys);
        b.end();
      },
    });
  }
}

group("fresh keys, uniform", () => freshKeys(uniform), uniform);
group("pooled keys, uniform", () => pooledUniform, uniform);
group("pooled keys, Zipf 1.1", () => pooledZipf, zipf);
group("fresh keys, Zipf 1.1", () => freshKeys(zipf), zipf);
