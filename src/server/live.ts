/**
 * The metrics server run alongside a replay (`run-csv --metrics-port`): a hub, a listening
 * server and the tick consumer to hand to the replay.
 *
 * @module
 */

import type { MetricsTick } from "../contracts/metrics.ts";
import { serverEnv } from "./env.ts";
import { MetricsHub } from "./hub.ts";
import type { Traceable } from "./probe_routes.ts";
import { type MetricsServer, startMetricsServer } from "./start.ts";

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
  /** Longest stretch of replay work between two yields to the server, in ms (default 2). */
  yieldEveryMs?: number;
}

/** A live metrics server and its tick consumer. */
export interface LiveMetrics {
  hub: MetricsHub;
  server: MetricsServer;
  /** Pass as the replay's `onTick` (e.g. `RunContext.onTick`). */
  onTick: (tick: MetricsTick) => void | Promise<void>;
  /** Stops the server (call after the replay). */
  close(): Promise<void>;
}

/**
 * Starts the metrics server for a replay. Settings from the environment (`ADHASH_TOKEN`,
 * `ADHASH_SNAPSHOT_DIR`, `ADHASH_RATE_LIMIT`, `ADHASH_CORS_ORIGINS`) apply as for `serve`.
 *
 * The replay and the server share one thread, so `onTick` yields to the event loop whenever the
 * replay has run for `yieldEveryMs` without yielding: requests then wait at most about that long.
 */
export async function startLiveMetrics(options: LiveMetricsOptions): Promise<LiveMetrics> {
  const hub = new MetricsHub(
    options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit },
  );
  const server = await startMetricsServer({
    ...serverEnv(),
    hub,
    host: options.host ?? "127.0.0.1",
    port: options.port,
    liveMap: options.liveMap,
  });
  const budget = options.yieldEveryMs ?? 2;
  let lastYield = performance.now();
  return {
    hub,
    server,
    onTick(tick: MetricsTick): void | Promise<void> {
      hub.publish(tick);
      if (performance.now() - lastYield < budget) return;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          lastYield = performance.now();
          resolve();
        }, 0)
      );
    },
    close: () => server.close(),
  };
}
