/**
 * Load test of the metrics server (`deno task loadtest`, not part of CI).
 *
 * Spawns a second process serving the metrics app while it replays a generated workload on an
 * adaptive map (ticks published live, as `run-csv --metrics-port` does), then drives `/metrics`
 * and `/api/metrics` over loopback at a fixed open-loop rate and reports p50/p99 and errors.
 *
 *   deno task loadtest [--rate 1000] [--seconds 10] [--concurrency 256] [--no-replay]
 *
 * Results are printed and written to runs/loadtest/loadtest-<time>.json.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createMap } from "../src/core/factory.ts";
import { MetricsHub } from "../src/server/hub.ts";
import { startMetricsServer } from "../src/server/start.ts";
import { startLiveMetrics } from "../src/server/live.ts";
import { replay } from "../src/replay/replay.ts";
import { OP_DEL, OP_GET, OP_PUT, type OpBatch } from "../src/workload/csv_reader.ts";
import { atomicWrite } from "../src/io/atomic_write.ts";
import { Sfc32 } from "../src/workload/prng.ts";
import { filePath } from "../src/cli/self_command.ts";

function* batches(total: number, keySpace: number): Generator<OpBatch> {
  const rng = new Sfc32(0x9e3779b9);
  const rnd = (): number => rng.nextFloat();
  const size = 4096;
  const b: OpBatch = {
    length: 0,
    ops: new Uint8Array(size),
    keys: new Array(size),
    values: new Array(size),
  };
  for (let done = 0; done < total; done += size) {
    b.length = Math.min(size, total - done);
    for (let i = 0; i < b.length; i++) {
      const r = rnd();
      const op = r < 0.2 ? OP_PUT : r < 0.95 ? OP_GET : OP_DEL;
      b.ops[i] = op;
      b.keys[i] = `K${Math.floor(rnd() * keySpace)}`;
      b.values[i] = op === OP_PUT ? "1" : "";
    }
    yield b;
  }
}

/** The child: serve the app and keep a replay running until killed. */
async function child(): Promise<void> {
  if (Deno.args.includes("--no-replay")) {
    // Baseline: the same server with one fixed tick and no replay competing for the thread.
    const hub = new MetricsHub();
    const server = await startMetricsServer({ hub, port: "auto", rateLimit: false });
    await replay(createMap<string>("adaptive"), batches(50_000, 20_000), {
      onTick: (t) => hub.publish(t),
    });
    console.log(`PORT ${server.port}`);
    await new Promise(() => {});
  }
  // As run-csv --metrics-port: the replay feeds the server through startLiveMetrics' onTick.
  const live = await startLiveMetrics({ port: "auto" });
  console.log(`PORT ${live.server.port}`);
  for (;;) {
    await replay(createMap<string>("adaptive"), batches(2_000_000, 200_000), {
      tickEvery: 1024,
      onTick: live.onTick,
    });
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function parent(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rate: { type: "string", default: "1000" },
      seconds: { type: "string", default: "10" },
      concurrency: { type: "string", default: "256" },
      "no-replay": { type: "boolean", default: false },
    },
  });
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const maxInFlight = Number(values.concurrency);
  if (!(rate > 0 && rate <= 20_000) || !(seconds > 0 && seconds <= 300) || !(maxInFlight >= 1)) {
    console.error(
      `bad arguments: --rate ${values.rate} --seconds ${values.seconds} --concurrency ${values.concurrency}`,
    );
    Deno.exit(2);
  }
  const proc = new Deno.Command("deno", {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-env",
      "--allow-read",
      // As `deno task cli`: lets the live server lower the replay thread's priority.
      "--allow-sys=getPriority,setPriority",
      filePath(new URL(import.meta.url)),
      "--child",
      ...(values["no-replay"] ? ["--no-replay"] : []),
    ],
    // The load comes from one client; the per-client limit would otherwise answer 429.
    env: { ADHASH_RATE_LIMIT: "0" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while (!/PORT \d+\n/.test(buf)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("server child exited before listening");
    buf += value;
  }
  reader.releaseLock();
  const port = Number(/PORT (\d+)/.exec(buf)![1]);
  const base = `http://127.0.0.1:${port}`;
  // Let the replay get going so the server is under its real load.
  await new Promise((r) => setTimeout(r, 1000));

  const paths = ["/metrics", "/api/metrics"];
  const lat: Record<string, number[]> = { "/metrics": [], "/api/metrics": [] };
  const errors: Record<string, number> = {};
  let inFlight = 0;
  let sent = 0;
  let skipped = 0;
  const pending = new Set<Promise<void>>();
  const one = async (path: string): Promise<void> => {
    const t0 = performance.now();
    try {
      const res = await fetch(base + path);
      await res.arrayBuffer();
      if (res.status !== 200) {
        errors[`HTTP ${res.status}`] = (errors[`HTTP ${res.status}`] ?? 0) + 1;
      } else lat[path]!.push(performance.now() - t0);
    } catch (err) {
      const k = err instanceof Error ? err.name : "error";
      errors[k] = (errors[k] ?? 0) + 1;
    }
  };
  const start = performance.now();
  const end = start + seconds * 1000;
  // Open loop: requests are due at fixed times whatever the latency; a request that cannot be
  // sent because too many are in flight counts as an error (the server fell behind).
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (sent < due) {
      const path = paths[sent % paths.length]!;
      sent++;
      if (inFlight >= maxInFlight) {
        skipped++;
        continue;
      }
      inFlight++;
      const p = one(path).finally(() => {
        inFlight--;
        pending.delete(p);
      });
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  proc.kill("SIGTERM");
  await proc.status;
  if (skipped > 0) errors["backlog (too many in flight)"] = skipped;

  const summary: Record<string, unknown> = {
    schema: "loadtest.v1",
    date: new Date().toISOString(),
    target_rate: rate,
    seconds: Number(elapsed.toFixed(2)),
    requests: sent,
    achieved_rate: Number((sent / elapsed).toFixed(1)),
    errors,
    error_count: Object.values(errors).reduce((a, b) => a + b, 0),
    latency_ms: {} as Record<string, unknown>,
  };
  const all: number[] = [];
  for (const path of paths) {
    const s = lat[path]!.sort((a, b) => a - b);
    all.push(...s);
    (summary.latency_ms as Record<string, unknown>)[path] = {
      n: s.length,
      p50: Number(percentile(s, 50).toFixed(3)),
      p99: Number(percentile(s, 99).toFixed(3)),
      max: Number((s.at(-1) ?? NaN).toFixed(3)),
    };
  }
  all.sort((a, b) => a - b);
  (summary.latency_ms as Record<string, unknown>).all = {
    n: all.length,
    p50: Number(percentile(all, 50).toFixed(3)),
    p99: Number(percentile(all, 99).toFixed(3)),
    max: Number((all.at(-1) ?? NaN).toFixed(3)),
  };
  const json = JSON.stringify(summary, null, 2);
  console.log(json);
  await Deno.mkdir("runs/loadtest", { recursive: true });
  const out = `runs/loadtest/loadtest-${summary.date as string}.json`.replace(/:/g, "-");
  await atomicWrite(out, json + "\n");
  console.error(`wrote ${out}`);
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") await child();
  else await parent();
}
