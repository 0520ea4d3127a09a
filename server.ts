/**
 * The adhash metrics server: Prometheus `/metrics`, the JSON API, live ticks over SSE and the
 * Mission Control dashboard, as a Hono app.
 *
 * ```ts ignore
 * import { createApp, MetricsHub, startMetricsServer } from "./server.ts";
 * const hub = new MetricsHub({ historyLimit: 360 });
 * const server = await startMetricsServer({ hub, port: "auto" });
 * console.log(`Dashboard: ${server.url}`);
 * hub.publish(tick); // each metrics.v1 tick of a replay
 * ```
 *
 * Run directly, it behaves like `hashmap-cli serve` with the same flags and environment.
 *
 * @module
 */

export { createApp, type CreateAppOptions } from "./src/server/app.ts";
export {
  DEFAULT_EVENT_LIMIT,
  DEFAULT_HISTORY_LIMIT,
  type HubEvent,
  MetricsHub,
  type MetricsHubOptions,
  type TickSubscriber,
} from "./src/server/hub.ts";
export { renderPrometheus } from "./src/server/prometheus.ts";
export { followSource, type FollowSourceOptions, type SourceHandle } from "./src/server/source.ts";
export {
  type MetricsServer,
  parsePort,
  startMetricsServer,
  type StartMetricsServerOptions,
} from "./src/server/start.ts";
export type { Traceable } from "./src/server/probe_routes.ts";
export { type LiveMetrics, type LiveMetricsOptions, startLiveMetrics } from "./src/server/live.ts";
export { type ServerEnv, serverEnv } from "./src/server/env.ts";
export {
  type JobError,
  type JobListing,
  type JobRecord,
  JobService,
  type JobServiceOptions,
  type JobStatus,
} from "./src/server/jobs.ts";
export type { ProbeOptions } from "./src/server/probe_routes.ts";
// The types the exports above take and return, so that callers can name them.
export type { Alert, MetricsTick, TickEvent } from "./src/contracts/metrics.ts";
export type { RateLimitOptions } from "./src/server/security.ts";

if (import.meta.main) {
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(["serve", ...Deno.args]));
}
