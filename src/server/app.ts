/**
 * The metrics server as a Hono app: health routes, Prometheus `/metrics`, the JSON API, the SSE
 * stream and the embedded Mission Control dashboard.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { compress } from "hono/compress";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import denoJson from "../../deno.json" with { type: "json" };
import type {
  ApiCompare,
  ApiEvents,
  ApiHealth,
  ApiHeatmap,
  ApiLatencyHistogram,
  ApiProbeHistogram,
  ApiReady,
  ApiStreamHello,
  ApiVersion,
} from "../contracts/api.ts";
import type { z } from "zod";
import type { MetricsTick } from "../contracts/metrics.ts";
import { ASSETS } from "./assets_generated.ts";
import { LAZY_BODY_IDLE_MS, type LazyBodyOptions } from "./lazy_body.ts";
import { historyCsv } from "./history_csv.ts";
import { historyJson } from "./history_json.ts";
import type { MetricsHub } from "./hub.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from "./prometheus.ts";
import { TickCache } from "./tick_cache.ts";
import { log } from "../log/setup.ts";
import { BadInputError } from "../errors.ts";
import { type ProbeOptions, probeRoutes } from "./probe_routes.ts";
import { intQuery, strictQuery } from "./query.ts";
import { answerHeadAsGet, headersOnly, isHead } from "./head.ts";
import { allowedMethods, answerOptions, methodNotAllowed } from "./allow.ts";
import { checkDelay } from "./delay.ts";
import { jobRoutes } from "./job_routes.ts";
import type { JobService } from "./jobs.ts";
import { SnapshotPool, TaskLimiter } from "./snapshot_pool.ts";
import {
  bearerAuth,
  errorResponse,
  limitBody,
  loopbackHostOnly,
  rateLimit,
  type RateLimitOptions,
  securityHeaders,
} from "./security.ts";

/** Options of {@linkcode createApp}. */
export interface CreateAppOptions extends ProbeOptions {
  /** Where ticks come from. */
  hub: MetricsHub;
  /**
   * When set, `/api/*` and `/metrics` need `Authorization: Bearer <token>`. An empty string is
   * refused (BadInputError) rather than taken as no auth.
   */
  token?: string | undefined;
  /**
   * Allowed CORS origins; `false` sends no CORS headers. Default: `["*"]` with a token, which a
   * page must then send; none without, so that no other site's page can read the API.
   */
  corsOrigins?: string[] | false | undefined;
  /**
   * The server listens on a loopback address: without a token it then answers `/api/*` and
   * `/metrics` only for loopback names (DNS rebinding).
   */
  loopback?: boolean | undefined;
  /** Per-client limit on `/api/*` and `/metrics` (default 200/s, burst 400); `false` disables it. */
  rateLimit?: RateLimitOptions | false | undefined;
  /** Largest accepted request body in bytes (default 64 KiB). */
  maxBodyBytes?: number | undefined;
  /** Interval of SSE keep-alive comments in milliseconds (default 15000). */
  keepAliveMs?: number | undefined;
  /** Open SSE streams at most; more get 503 `Busy` (default 256). */
  maxStreams?: number | undefined;
  /** History bodies (JSON or CSV) being sent at most; more get 503 `Busy` (default 16). */
  maxHistoryBodies?: number | undefined;
  /** A history body its client has not read from for this long is ended (default 30,000 ms). */
  historyIdleMs?: number | undefined;
  /** The job service behind `/api/jobs`; without it those routes answer 404. */
  jobs?: JobService | undefined;
  /**
   * When aborted, every open SSE stream is ended (so a graceful shutdown does not wait on them)
   * and the snapshot worker is stopped.
   */
  shutdownSignal?: AbortSignal | undefined;
  /**
   * Snapshot inspections and snapshot probes run at once (default 1, in a worker thread), and
   * waiting (default 4); more get 503 `Busy` with `Retry-After`.
   */
  snapshotTasks?:
    | { running?: number | undefined; waiting?: number | undefined }
    | undefined;
}

/**
 * Bytes an SSE stream may hold for a client that has stopped reading. Past them it takes no more
 * ticks, yet keeps its place among the streams until the client goes: closed or errored, a
 * stream under a client that reads nothing keeps its connection anyway (Deno writes no more to
 * a socket that does not drain, so never sees the end), and freeing its place would let such
 * clients pile up without bound.
 */
const MAX_SSE_BACKLOG_BYTES = 256 << 10;
/** How often a stalled stream checks whether its client has caught up, in ms. */
const STALL_CHECK_MS = 250;

type Json<T extends z.ZodType> = z.infer<T>;

/** Builds the metrics server app around `options.hub`. */
export function createApp(options: CreateAppOptions): Hono {
  const hub = options.hub;
  const keepAliveMs = checkDelay("keepAliveMs", options.keepAliveMs ?? 15_000);
  const app = new Hono();
  answerHeadAsGet(app);
  const encoder = new TextEncoder();
  let openStreams = 0;
  // Every stream sends the same bytes for a tick: serialised and encoded once, not per stream.
  let frameTick: MetricsTick | null = null;
  let frame = new Uint8Array(0);
  const tickFrame = (tick: MetricsTick): Uint8Array => {
    if (tick !== frameTick) {
      frameTick = tick;
      frame = encoder.encode(`event: tick\ndata: ${JSON.stringify(tick)}\n\n`);
    }
    return frame;
  };

  app.onError((err, c) => {
    if (err instanceof HTTPException) {
      const status = err.status as 400 | 401 | 403 | 404 | 413 | 503;
      const code = status === 503
        ? "IO"
        : status === 400
        ? "BadInput"
        : status === 413
        ? "TooLarge"
        : status === 404
        ? "NotFound"
        : status === 403
        ? "Policy"
        : "Error";
      // An exception that knows what to do next carries it as `cause.hint`.
      const hint = (err.cause as { hint?: unknown } | undefined)?.hint;
      return errorResponse(
        c,
        status,
        code,
        err.message,
        typeof hint === "string" ? hint : undefined,
      );
    }
    // The request's connection ended before its body did (the client went away, or shutdown
    // cut it off): no fault of the server's, and nobody is left to read an answer.
    if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset) {
      log("server").info("{method} {path}: the connection ended before the request did", {
        method: c.req.method,
        path: c.req.path,
      });
      return errorResponse(c, 400, "BadInput", "the request ended before its body was read");
    }
    // No stack trace or internals in the body; the operator finds the cause in the log.
    log("server").error("{method} {path} failed: {error}", {
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return errorResponse(c, 500, "Internal", "internal server error");
  });
  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length === 0) {
      return errorResponse(c, 404, "NotFound", `no route ${c.req.method} ${c.req.path}`);
    }
    return methodNotAllowed(c, allowed);
  });

  app.use("*", securityHeaders());
  app.use("*", answerOptions(app));
  const gzip = compress();
  app.use("*", async (c, next) => {
    // SSE and followed job logs must reach the client line by line, not buffered in gzip.
    if (c.req.path === "/api/stream" || c.req.path.endsWith("/logs")) return await next();
    return await gzip(c, next);
  });
  const origins = options.corsOrigins ?? (options.token === undefined ? false : ["*"]);
  if (origins !== false) {
    const corsMw = cors({
      origin: origins.includes("*") ? "*" : origins,
      allowHeaders: ["Authorization", "Content-Type"],
      // Per path, so a browser learns before sending it that a method is refused.
      allowMethods: (_origin, c) => allowedMethods(app, c.req.path),
      maxAge: 600,
    });
    app.use("/api/*", corsMw);
    app.use("/metrics", corsMw);
  }
  if (options.rateLimit !== false) {
    // /metrics too: a token guessed there is as good as one guessed on the API.
    const limit = rateLimit(options.rateLimit ?? { perSecond: 200, burst: 400 });
    app.use("/api/*", limit);
    app.use("/metrics", limit);
  }
  if (options.token === undefined && options.loopback === true) {
    app.use("/api/*", loopbackHostOnly());
    app.use("/metrics", loopbackHostOnly());
  }
  // An empty token is a secret that went missing, not a request for an open server.
  if (options.token === "") {
    throw new BadInputError("token is empty, which would turn auth off", {
      hint: "Pass a token, or leave token undefined to serve without auth",
    });
  }
  if (options.token !== undefined) {
    const auth = bearerAuth(options.token);
    app.use("/api/*", auth);
    app.use("/metrics", auth);
  }
  // After the rate limit and the token: a refused client's body is never read.
  app.use("*", limitBody(options.maxBodyBytes ?? 64 * 1024));
  app.use("/api/*", strictQuery());

  app.get(
    "/healthz",
    (c) => c.json({ schema: "api.health.v1", status: "ok" } satisfies Json<typeof ApiHealth>),
  );
  app.get("/readyz", (c) => {
    const body: Json<typeof ApiReady> = {
      schema: "api.ready.v1",
      ready: hub.received > 0,
      ticks: hub.received,
    };
    return c.json(body, body.ready ? 200 : 503);
  });

  const promCache = new TickCache(
    (tick) => renderPrometheus(tick, hub.latestAt),
    PROMETHEUS_CONTENT_TYPE,
  );
  app.get("/metrics", (c) => promCache.respond(c, hub.latest()));

  app.get("/api/version", (c) =>
    c.json(
      {
        schema: "api.version.v1",
        name: denoJson.name,
        version: denoJson.version,
        deno: Deno.version.deno,
        metrics_schema: "metrics.v1",
      } satisfies Json<typeof ApiVersion>,
    ));

  const tickCache = new TickCache((tick) => JSON.stringify(tick), "application/json");
  app.get("/api/metrics", (c) => {
    const tick = hub.latest();
    if (tick === null) return errorResponse(c, 503, "NotReady", "no tick received yet");
    return tickCache.respond(c, tick);
  });

  // Each history body being sent holds the ticks it started with, which the history may have
  // replaced since: bodies at once are bounded, and one its client stopped reading is ended.
  let historyBodies = 0;
  const maxBodies = options.maxHistoryBodies ?? 16;
  if (!(Number.isInteger(maxBodies) && maxBodies >= 1)) {
    throw new RangeError(`maxHistoryBodies must be a whole number from 1: received ${maxBodies}`);
  }
  const idleMs = checkDelay("historyIdleMs", options.historyIdleMs ?? LAZY_BODY_IDLE_MS);
  const historyBody = (
    c: Context,
    body: (
      limit: number,
      ticks: readonly MetricsTick[],
      options: LazyBodyOptions,
    ) => ReadableStream<Uint8Array>,
    headers: Record<string, string>,
  ): Response => {
    const limit = intQuery(c, "limit", hub.historyLimit, 1, hub.historyLimit);
    if (isHead(c)) return headersOnly(c, headers);
    if (historyBodies >= maxBodies) {
      c.header("Retry-After", "5");
      return errorResponse(
        c,
        503,
        "Busy",
        `${maxBodies} histories are being sent, the most served`,
      );
    }
    historyBodies++;
    const stream = body(limit, hub.history(limit), { idleMs, onEnd: () => historyBodies-- });
    return c.body(stream, 200, headers);
  };

  app.get(
    "/api/metrics/history",
    (c) => historyBody(c, historyJson, { "Content-Type": "application/json" }),
  );

  app.get(
    "/api/metrics/history.csv",
    (c) =>
      historyBody(c, (_limit, ticks, o) => historyCsv(ticks, o), {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="adhash_timeline.csv"',
      }),
  );

  app.get("/api/metrics/histogram/latency", (c) => {
    const tick = hub.latest();
    return c.json(
      {
        schema: "api.latency_histogram.v1",
        t: tick?.t ?? null,
        operations: tick?.latency_hist_ms ?? {},
      } satisfies Json<typeof ApiLatencyHistogram>,
    );
  });

  app.get("/api/metrics/histogram/probe", (c) => {
    const tick = hub.latest();
    return c.json(
      {
        schema: "api.probe_histogram.v1",
        t: tick?.t ?? null,
        backend: tick?.backend ?? null,
        buckets: tick?.probe_hist ?? [],
      } satisfies Json<typeof ApiProbeHistogram>,
    );
  });

  app.get("/api/metrics/heatmap", (c) => {
    const tick = hub.latest();
    return c.json(
      {
        schema: "api.heatmap.v1",
        t: tick?.t ?? null,
        backend: tick?.backend ?? null,
        heatmap: tick?.key_heatmap ?? null,
      } satisfies Json<typeof ApiHeatmap>,
    );
  });

  app.get("/api/events", (c) => {
    const limit = intQuery(c, "limit", 100, 1, 512);
    return c.json(
      { schema: "api.events.v1", limit, events: hub.events(limit) } satisfies Json<
        typeof ApiEvents
      >,
    );
  });

  app.get("/api/compare", (c) => {
    if (hub.compare === null) {
      return errorResponse(
        c,
        404,
        "NotFound",
        "no comparison loaded",
        "Start the server with --compare AB.json",
      );
    }
    return c.json(
      { schema: "api.compare.v1", compare: hub.compare } satisfies Json<typeof ApiCompare>,
    );
  });

  app.get("/api/stream", (c) => {
    const headers = {
      "Content-Type": "text/event-stream; charset=utf-8",
      "X-Accel-Buffering": "no",
    };
    // No subscription, timer or queue for a HEAD.
    if (isHead(c)) return headersOnly(c, headers);
    // Each stream holds a subscription, a timer and up to MAX_SSE_BACKLOG_BYTES: bound them.
    const maxStreams = options.maxStreams ?? 256;
    if (openStreams >= maxStreams) {
      c.header("Retry-After", "5");
      return errorResponse(c, 503, "Busy", `${maxStreams} streams are open, the most served`);
    }
    let cleanup = (): void => {};
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let closed = false;
        let stalled = false;
        const send = (text: string | Uint8Array): void => {
          if (closed) return;
          const waiting = -(controller.desiredSize ?? 0); // bytes queued (high-water mark 0)
          if (stalled) {
            // Reading again, and caught up: the stream ends, and the client (EventSource)
            // reconnects and fetches the ticks it missed from the history.
            if (waiting <= 0) onAbort();
            return;
          }
          if (waiting > MAX_SSE_BACKLOG_BYTES) {
            stalled = true;
            unsubscribe();
            // Checked often, not at the next keep-alive: a client reading again would see its
            // stream live but frozen for up to keepAliveMs.
            clearInterval(timer);
            timer = setInterval(() => send(""), STALL_CHECK_MS);
            return;
          }
          try {
            controller.enqueue(typeof text === "string" ? encoder.encode(text) : text);
          } catch {
            cleanup();
          }
        };
        const unsubscribe = hub.subscribe((tick) => send(tickFrame(tick)));
        let timer = setInterval(() => send(": keep-alive\n\n"), keepAliveMs);
        openStreams++;
        const onAbort = (): void => {
          cleanup();
          try {
            controller.close();
          } catch { /* already closed */ }
        };
        cleanup = () => {
          if (closed) return;
          closed = true;
          openStreams--;
          unsubscribe();
          clearInterval(timer);
          options.shutdownSignal?.removeEventListener("abort", onAbort);
        };
        // Deno cancels the body stream when the client goes away (cancel() below); the request's
        // own signal is not used because Deno.serve aborts it on every finished response.
        options.shutdownSignal?.addEventListener("abort", onAbort);
        if (options.shutdownSignal?.aborted) onAbort();
        const hello: Json<typeof ApiStreamHello> = {
          schema: "api.stream_hello.v1",
          ticks: hub.received,
          history_limit: hub.historyLimit,
        };
        send(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`);
        const latest = hub.latest();
        if (latest !== null) send(tickFrame(latest));
      },
      cancel() {
        cleanup();
      },
    }, { highWaterMark: 0, size: (chunk) => chunk.byteLength });
    return c.body(stream, 200, headers);
  });

  // Decoding a large snapshot takes seconds of CPU and hundreds of MB: never on this thread,
  // which answers /metrics and /healthz, and never many at once. Started at the first task.
  let pool: SnapshotPool | null = null;
  const snapshots = (): SnapshotPool => {
    if (pool === null) {
      // A running worker keeps its process alive: without a shutdown signal to end it (an app
      // in a library user's process), it ends as soon as it has nothing to do.
      pool = new SnapshotPool(options.shutdownSignal === undefined ? { idleMs: 0 } : {});
      const p = pool;
      options.shutdownSignal?.addEventListener("abort", () => p.close(), { once: true });
      if (options.shutdownSignal?.aborted) p.close();
    }
    return pool;
  };
  app.route(
    "/",
    probeRoutes({
      liveMap: options.liveMap,
      snapshotDir: options.snapshotDir,
      inspectSnapshot: options.inspectSnapshot ?? ((path, o) => snapshots().inspect(path, o)),
      loadSnapshotMap: options.loadSnapshotMap ?? ((path) => snapshots().loadMap(path)),
    }, new TaskLimiter(options.snapshotTasks?.running ?? 1, options.snapshotTasks?.waiting ?? 4)),
  );

  app.route(
    "/",
    jobRoutes(options.jobs, {
      tokenRequired: options.token !== undefined,
      corsOrigins: origins === false ? [] : origins.filter((o) => o !== "*"),
    }),
  );

  // The dashboard shell holds no data, so it loads without the token; the login form asks for it.
  const serveAsset = (c: Context, name: string): Response => {
    const asset = ASSETS[name];
    if (asset === undefined) return errorResponse(c, 404, "NotFound", `no asset ${name}`);
    return c.body(asset.body, 200, { "Content-Type": asset.type });
  };
  app.get("/", (c) => serveAsset(c, "index.html"));
  app.get("/index.html", (c) => serveAsset(c, "index.html"));
  app.get("/favicon.ico", (c) => serveAsset(c, "favicon.svg"));
  app.get("/assets/*", (c) => serveAsset(c, c.req.path.slice("/assets/".length)));
  // Last, so that on /api/* and /metrics the CORS middleware answers a preflight first.
  app.options("*", (c) => c.body(null, 204));

  return app;
}
