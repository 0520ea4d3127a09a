// Ticks for the server tests: a real replay of generated ops on a real adhash map.
import { createMap, type Mode } from "../../src/core/factory.ts";
import type { MetricsTick } from "../../src/contracts/metrics.ts";
import { replay } from "../../src/replay/replay.ts";
import { OP_DEL, OP_GET, OP_PUT, type OpBatch } from "../../src/workload/csv_reader.ts";
import { Sfc32 } from "../../src/workload/prng.ts";

/** Deterministic op batches: 60% put, 30% get, 10% del over `keySpace` keys. */
export function makeBatches(ops: number, keySpace: number, seed = 7, batchSize = 512): OpBatch[] {
  const rng = new Sfc32(seed);
  const rnd = (): number => rng.nextFloat();
  const out: OpBatch[] = [];
  for (let done = 0; done < ops; done += batchSize) {
    const n = Math.min(batchSize, ops - done);
    const b: OpBatch = { length: n, ops: new Uint8Array(n), keys: [], values: [] };
    for (let i = 0; i < n; i++) {
      const r = rnd();
      const op = r < 0.6 ? OP_PUT : r < 0.9 ? OP_GET : OP_DEL;
      b.ops[i] = op;
      b.keys.push(`K${Math.floor(rnd() * keySpace)}`);
      b.values.push(op === OP_PUT ? String(done + i) : "");
    }
    out.push(b);
  }
  return out;
}

/** Runs a replay and returns its ticks (and the map, for probing). */
export async function replayTicks(
  options: { ops?: number; keySpace?: number; mode?: Mode; tickEvery?: number } = {},
): Promise<{ ticks: MetricsTick[]; map: ReturnType<typeof createMap<string>> }> {
  const map = createMap<string>(options.mode ?? "adaptive");
  const ticks: MetricsTick[] = [];
  await replay(map, makeBatches(options.ops ?? 6000, options.keySpace ?? 3000), {
    tickEvery: options.tickEvery ?? 1024,
    latencySampleEvery: 4,
    heatmapIntervalMs: 0,
    onTick: (t) => {
      ticks.push(structuredClone(t));
    },
  });
  return { ticks, map };
}

/** Reads SSE events from a response body. */
export async function* sseEvents(
  body: ReadableStream<BufferSource>,
): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = "message";
        const data: string[] = [];
        for (const l of block.split("\n")) {
          if (l.startsWith("event: ")) event = l.slice(7);
          if (l.startsWith("data: ")) data.push(l.slice(6));
        }
        if (data.length > 0) yield { event, data: data.join("\n") };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** A launcher prefix that runs a command with at most 64 open file descriptors. */
export const UNDER_64_FDS: string[] = ["sh", "-c", 'ulimit -n 64 && exec "$@"', "sh"];

/** Whether the server on `port` answers `/healthz` (false while it does not listen). */
export async function healthy(port: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
  await res?.body?.cancel();
  return res?.ok === true;
}

/** Whether a connection to `port` is refused: nothing listens there. */
export async function refused(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return false;
  } catch {
    return true;
  }
}

/** Opens `n` connections to `port` that send nothing; stops at the first refused. */
export async function idleConnections(port: number, n: number): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < n; i++) conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  } catch { /* the server stopped listening */ }
  return conns;
}
