// deno task bench: the replay path (streaming CSV parse + map ops + ticks + latency sampling)
// on adhash maps and on the built-in Map, in the same run. The 1,000,000-row workload
// (uniform over 100,000 keys, 50% get / 40% put / 10% del) is written before timing.
import { ChainingMap, createMap, type MapStats } from "../mod.ts";
import { replay, type ReplayMap } from "../src/replay/replay.ts";
import { readWorkload } from "../src/workload/csv_reader.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../src/workload/generate.ts";
import { writeAllSync } from "../src/io/write_all.ts";

const dir = "runs/bench";
Deno.mkdirSync(dir, { recursive: true });
const csv = `${dir}/replay_1m.csv`;
const file = Deno.openSync(csv, { write: true, create: true, truncate: true });
for (
  const chunk of generateCsvChunks({
    ...GENERATE_DEFAULTS,
    ops: 1_000_000,
    keySpace: 100_000,
    readRatio: 0.5,
    delRatio: 0.2,
    seed: 7,
  })
) writeAllSync(file, chunk);
file.close();

/** The built-in Map seen through the replay's interface (its statistics are not observable). */
class BuiltinMap extends Map<string, string> implements ReplayMap {
  readonly backend = "builtin";
  stats(): MapStats {
    return new ChainingMap().stats(); // a fixed, empty summary: Map exposes none of its own
  }
  occupancy(cells: number): number[] {
    return new Array(cells).fill(0);
  }
}

const makers: Array<[string, () => ReplayMap]> = [
  ["Map", () => new BuiltinMap()],
  ["adaptive", () => createMap<string>("adaptive")],
  ["robinhood", () => createMap<string>("fast-lookup")],
  ["chaining", () => createMap<string>("fast-insert")],
];

for (const [name, make] of makers) {
  Deno.bench({
    name: `run-csv path, ${name}`,
    group: "replay 1M rows",
    baseline: name === "Map",
    n: 6,
    warmup: 1,
    async fn() {
      await replay(make(), readWorkload(csv), { onTick: (t) => void JSON.stringify(t) });
    },
  });
}

Deno.bench({
  name: "parse only (no map)",
  group: "replay 1M rows",
  n: 6,
  warmup: 1,
  async fn() {
    let rows = 0;
    for await (const b of readWorkload(csv)) rows += b.length;
    if (rows !== 1_000_000) throw new Error(`read ${rows} rows`);
  },
});
