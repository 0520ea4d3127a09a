/**
 * Worker side of {@linkcode startLiveMetrics}: the hub and the HTTP server run here, in their own
 * thread and heap, so a replay's long stretches of work and its garbage collections never hold a
 * request up. Ticks arrive by message; `/api/probe` on the live map asks the replay thread.
 *
 * Messages in: `start`, `tick`, `trace-result`, `close`. Out: `listening`, `failed`,
 * `interrupted`, `resumed`, `stopped`, `trace`, `closed`.
 *
 * @module
 */

import { HTTPException } from "hono/http-exception";
import type { MetricsTick } from "../contracts/metrics.ts";
import type { Key, ProbeTrace } from "../core/types.ts";
import { serverEnv } from "./env.ts";
import { MetricsHub } from "./hub.ts";
import { noLiveMap, type Traceable } from "./probe_routes.ts";
import { type MetricsServer, startMetricsServer, stoppedText } from "./start.ts";
import { messageOf } from "../errors.ts";

/** What the replay thread sends. */
export type ToWorker =
  | { type: "start"; host: string; port: number | "auto"; historyLimit?: number; probe: boolean }
  | { type: "tick"; tick: MetricsTick }
  | { type: "trace-result"; id: number; trace: ProbeTrace | null; error?: string }
  | { type: "close" };

/** What the worker sends back. */
export type FromWorker =
  | { type: "listening"; port: number; url: string }
  | { type: "failed"; message: string }
  | { type: "interrupted"; message: string }
  | { type: "resumed"; port: number }
  | { type: "stopped"; message: string }
  | { type: "trace"; id: number; op: "get" | "put"; key: Key; value: unknown }
  | { type: "closed" };

/** The worker's global scope (JSR does not publish modules with `/// <reference lib>`). */
const scope = self as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};

let hub: MetricsHub | null = null;
let server: MetricsServer | null = null;
let stopped = false;
let nextId = 1;
const waiting = new Map<number, (m: Extract<ToWorker, { type: "trace-result" }>) => void>();

function post(m: FromWorker): void {
  scope.postMessage(m);
}

/** Asks the replay thread to trace on its map; resolves when it next yields. */
function remoteTrace(op: "get" | "put", key: Key, value: unknown): Promise<ProbeTrace> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, (m) => {
      if (m.trace !== null) resolve(m.trace);
      else if (m.error !== undefined) reject(new HTTPException(400, { message: m.error }));
      else reject(noLiveMap());
    });
    post({ type: "trace", id, op, key, value });
  });
}

const remoteMap: Traceable = {
  traceGet: (key) => remoteTrace("get", key, undefined),
  tracePut: (key, value) => remoteTrace("put", key, value),
};

scope.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  switch (m.type) {
    case "start":
      try {
        hub = new MetricsHub(m.historyLimit === undefined ? {} : { historyLimit: m.historyLimit });
        server = await startMetricsServer({
          ...serverEnv(),
          hub,
          host: m.host,
          port: m.port,
          liveMap: m.probe ? () => remoteMap : undefined,
          onStopped: (err, retryMs) =>
            post({ type: "interrupted", message: stoppedText(err, retryMs) }),
          onResumed: (port) => post({ type: "resumed", port }),
        });
        post({ type: "listening", port: server.port, url: server.url });
        void server.failure.then((err) => {
          stopped = true;
          post({ type: "stopped", message: err.message });
        });
      } catch (err) {
        post({ type: "failed", message: messageOf(err) });
      }
      break;
    case "tick":
      hub?.publish(m.tick);
      break;
    case "trace-result":
      waiting.get(m.id)?.(m);
      waiting.delete(m.id);
      break;
    case "close":
      if (!stopped) await server?.close();
      post({ type: "closed" });
      break;
  }
};
