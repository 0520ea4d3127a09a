/**
 * The metrics server run alongside a replay (`run-csv --metrics-port`): a listening server and the
 * tick consumer to hand to the replay.
 *
 * The server runs in a worker thread (src/server/live_worker.ts) with its own heap, so neither the
 * replay's work nor its garbage collections hold a request up. Where the worker's module cannot be
 * loaded (a `deno bundle` file carries no worker modules) it falls back to serving from the
 * replay's own thread, yielding to it every `yieldEveryMs`.
 *
 * @module
 */

import type { MetricsTick } from "../contracts/metrics.ts";
import { serverEnv } from "./env.ts";
import { MetricsHub } from "./hub.ts";
import type { FromWorker, ToWorker } from "./live_worker.ts";
import type { Traceable } from "./probe_routes.ts";
import { startMetricsServer, stoppedText } from "./start.ts";
import { workerModuleOnDisk } from "./worker_module.ts";
import { log } from "../log/setup.ts";

/** Options of {@linkcode startLiveMetrics}. */
export interface LiveMetricsOptions {
  /** Interface (default 127.0.0.1; `--metrics-host`, env `ADHASH_METRICS_HOST`). */
  host?: string;
  /** Port or `auto` (`--metrics-port`, env `ADHASH_METRICS_PORT`). */
  port: number | "auto";
  /** Ticks kept (default 360). */
  historyLimit?: number;
  /** The map being replayed, for `/api/probe`. */
  liveMap?: () => Traceable | null;
  /**
   * Longest stretch of replay work between two yields, in ms (default 2 when sharing the
   * replay's thread; 20 with a worker, where yields only serve `/api/probe`).
   */
  yieldEveryMs?: number;
  /** `false` serves from the replay's thread even where a worker could be used. */
  worker?: boolean;
  /**
   * How much to raise the replay thread's nice value while the server runs in its worker
   * (default 10; 0 leaves it). On a machine with no idle core the scheduler then runs the
   * server, and anything querying it, ahead of the replay. Restored by `close()`. Needs
   * `--allow-sys`; without it the priority is left as it is.
   */
  replayNice?: number;
}

/** A live metrics server and its tick consumer. */
export interface LiveMetrics {
  /** Where it listens. */
  server: { port: number; url: string };
  /** Whether the server has its own thread (false: it shares the replay's). */
  threaded: boolean;
  /** The replay thread's nice value while serving, or null when left unchanged. */
  replayNice: number | null;
  /** Pass as the replay's `onTick` (e.g. `RunContext.onTick`). */
  onTick: (tick: MetricsTick) => void | Promise<void>;
  /** Stops the server (call after the replay). */
  close(): Promise<void>;
}

/** A tick consumer that also yields to the event loop after `budget` ms of work. */
function yielding(publish: (tick: MetricsTick) => void, budget: number): LiveMetrics["onTick"] {
  let lastYield = performance.now();
  return (tick) => {
    publish(tick);
    if (performance.now() - lastYield < budget) return;
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        lastYield = performance.now();
        resolve();
      }, 0)
    );
  };
}

/** The server cannot listen again: the replay is what was asked for, so it goes on. */
function warnStopped(message: string): void {
  log("server").warn("{message}; the replay goes on without its live metrics server", { message });
}

/** The server stopped listening on its own (out of file descriptors, say) for a while. */
function warnInterrupted(message: string): void {
  log("server").warn("{message}", { message });
}

function noteResumed(port: number): void {
  log("server").info("The live metrics server listens again on port {port}", { port });
}

/**
 * Starts the metrics server for a replay. Settings from the environment (`ADHASH_TOKEN`,
 * `ADHASH_SNAPSHOT_DIR`, `ADHASH_RATE_LIMIT`, `ADHASH_CORS_ORIGINS`) apply as for `serve`.
 */
export async function startLiveMetrics(options: LiveMetricsOptions): Promise<LiveMetrics> {
  if (options.worker !== false) {
    const threaded = await startInWorker(options);
    if (threaded !== null) return threaded;
  }
  const hub = new MetricsHub(
    options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit },
  );
  const server = await startMetricsServer({
    ...serverEnv(),
    hub,
    host: options.host ?? "127.0.0.1",
    port: options.port,
    liveMap: options.liveMap,
    onStopped: (err, retryMs) => warnInterrupted(stoppedText(err, retryMs)),
    onResumed: noteResumed,
  });
  let stopped = false;
  void server.failure.then((err) => {
    stopped = true;
    warnStopped(err.message);
  });
  return {
    server,
    threaded: false,
    replayNice: null,
    onTick: yielding((t) => hub.publish(t), options.yieldEveryMs ?? 2),
    close: () => stopped ? Promise.resolve() : server.close(),
  };
}

/** The worker-hosted server, or null when the worker cannot start (the caller falls back). */
async function startInWorker(options: LiveMetricsOptions): Promise<LiveMetrics | null> {
  const url = new URL("./live_worker.ts", import.meta.url);
  if (!workerModuleOnDisk(url)) return null;
  let worker: Worker;
  try {
    worker = new Worker(url.href, { type: "module" });
  } catch {
    return null;
  }
  const send = (m: ToWorker): void => worker.postMessage(m);
  const first = await new Promise<FromWorker | null>((resolve) => {
    worker.onerror = (e) => {
      e.preventDefault(); // a module that cannot load must not take the process down
      resolve(null);
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => resolve(e.data);
    send({
      type: "start",
      host: options.host ?? "127.0.0.1",
      port: options.port,
      probe: options.liveMap !== undefined,
      ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
    });
  });
  if (first === null || first.type !== "listening") {
    // Not loadable, or the server failed (e.g. port in use): the same-thread path reports
    // the original error with its type.
    worker.terminate();
    return null;
  }
  const restorePriority = await lowerPriority(options.replayNice ?? 10);
  let closed: () => void = () => {};
  worker.onerror = (e) => e.preventDefault();
  worker.onmessage = async (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    if (m.type === "closed") closed();
    if (m.type === "stopped") warnStopped(m.message);
    if (m.type === "interrupted") warnInterrupted(m.message);
    if (m.type === "resumed") noteResumed(m.port);
    if (m.type !== "trace") return;
    try {
      const map = options.liveMap?.() ?? null;
      const trace = map === null
        ? null
        : await (m.op === "get" ? map.traceGet(m.key) : map.tracePut(m.key, m.value));
      send({ type: "trace-result", id: m.id, trace });
    } catch (err) {
      send({ type: "trace-result", id: m.id, trace: null, error: String(err) });
    }
  };
  return {
    server: { port: first.port, url: first.url },
    threaded: true,
    replayNice: restorePriority?.nice ?? null,
    onTick: yielding((tick) => send({ type: "tick", tick }), options.yieldEveryMs ?? 20),
    async close(): Promise<void> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = new Promise<void>((resolve) => {
        closed = resolve;
        timer = setTimeout(resolve, 2000); // a stuck server must not keep the process alive
      });
      send({ type: "close" });
      await done;
      clearTimeout(timer);
      worker.terminate();
      restorePriority?.restore();
    },
  };
}

/**
 * Raises the calling thread's nice value by `by` (on Linux a thread's priority is its own, so
 * the server's worker thread keeps its priority; on macOS the whole process is lowered, which
 * changes nothing between them). Returns the new value and a restore, or null when not
 * permitted or not supported.
 */
async function lowerPriority(
  by: number,
): Promise<{ nice: number; restore: () => void } | null> {
  if (!(by > 0)) return null;
  try {
    // Queried first: an ungranted permission would otherwise prompt on a terminal.
    for (const kind of ["getPriority", "setPriority"] as const) {
      if (Deno.permissions.querySync({ name: "sys", kind }).state !== "granted") return null;
    }
    const os = await import("node:os");
    const before = os.getPriority(0);
    const nice = Math.min(19, before + by);
    os.setPriority(0, nice);
    return {
      nice,
      restore: () => {
        try {
          os.setPriority(0, before);
        } catch {
          // Raising priority back needs privilege (RLIMIT_NICE): the thread keeps the lower one.
        }
      },
    };
  } catch {
    return null;
  }
}
