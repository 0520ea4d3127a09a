/**
 * `/api/jobs`: the REST face of the {@linkcode JobService}. Without a service (no `--job-root`)
 * every route answers 404 with a hint to enable it.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { AdhashError, BadInputError, messageOf } from "../errors.ts";
import { JobQueueFullError, type JobService, type JobStatus } from "./jobs.ts";
import { errorResponse, LOOPBACK_HOSTS } from "./security.ts";
import { headersOnly, isHead } from "./head.ts";
import { allowedMethods, methodNotAllowed, refusal } from "./allow.ts";
import { log } from "../log/setup.ts";

const STATUSES: readonly JobStatus[] = ["pending", "running", "completed", "failed", "cancelled"];
/** How often a followed log is checked for new lines. */
const LOG_POLL_MS = 200;
/** Jobs listed when no `limit` is asked for, and the most listed. */
const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 1000;
/** A followed log's read buffer: small, as every follower has its own while the job runs. */
const LOG_CHUNK_BYTES = 16 * 1024;
const encoder = new TextEncoder();

const CONTENT_TYPES: Record<string, string> = {
  json: "application/json",
  ndjson: "application/x-ndjson",
  md: "text/markdown; charset=utf-8",
  gz: "application/gzip",
};

function notFound(c: Context, id: string): Response {
  return errorResponse(c, 404, "NotFound", `no job ${JSON.stringify(id)}`);
}

/** `limit`, clamped to 1..1000 however large, as the other routes' limits are. */
function limitQuery(c: Context): number {
  const raw = c.req.query("limit");
  if (raw === undefined || raw === "") return DEFAULT_LIST_LIMIT;
  if (!/^\d+$/.test(raw)) {
    throw new HTTPException(400, {
      message: `query limit=${JSON.stringify(raw)} is not a non-negative integer`,
    });
  }
  return Math.min(MAX_LIST_LIMIT, Math.max(1, Number(raw)));
}

/**
 * A job's log as a stream: what is there now and, with `follow`, the lines appended until the
 * job ends. The file and its buffer are taken on the first read and given back as soon as the
 * stream ends or its client goes (`release`, called once either way), so a stream never read
 * holds no file and a cancelled one neither polls again nor keeps its place among the followers.
 */
function logStream(
  jobs: JobService,
  id: string,
  opened: Deno.FsFile,
  follow: boolean,
  release: () => void,
): ReadableStream<Uint8Array> {
  let file: Deno.FsFile | null = opened;
  let buf: Uint8Array | null = null;
  let done = false;
  let wake: (() => void) | null = null;
  const finish = (): void => {
    if (done) return;
    done = true;
    try {
      file?.close();
    } catch { /* closed */ }
    file = null;
    buf = null;
    wake?.();
    release();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        buf ??= new Uint8Array(LOG_CHUNK_BYTES);
        while (!done && file !== null) {
          // Read whether the job has ended before reading, so lines written just before the
          // end are not missed.
          const ended = jobs.isFinished(id) !== false;
          const n = await file.read(buf);
          if (done) return; // cancelled while reading
          if (n !== null && n > 0) {
            controller.enqueue(buf.slice(0, n));
            return;
          }
          if (!follow || ended) {
            finish();
            controller.close();
            return;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, LOG_POLL_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = null;
        }
      } catch (err) {
        if (done) return; // the client went while the file was being read
        finish();
        throw err;
      }
    },
    cancel() {
      finish();
    },
  });
}

/** What the job routes need to know of the server's security settings. */
export interface JobRouteOptions {
  /** Whether requests need a bearer token. */
  tokenRequired: boolean;
  /** Origins explicitly allowed cross-origin requests (`*` does not count here). */
  corsOrigins: string[];
  /** Logs followed at once at most; more get 503 `Busy` (default 256, as streams). */
  maxLogFollowers?: number;
}

function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false; // "null" and other opaque origins
  }
}

/**
 * Jobs run commands, so a page on another site must not start them through a visitor's browser:
 * a request with an `Origin` other than the server's own (or one listed explicitly) is refused,
 * and without a token only requests addressed to a loopback name are served, which a DNS
 * rebinding page cannot forge.
 */
function guard(options: JobRouteOptions): MiddlewareHandler {
  return async (c, next): Promise<Response | void> => {
    const url = new URL(c.req.url);
    const origin = c.req.header("origin");
    // Same host is same site: behind a TLS proxy the page is https:// and the request http://.
    if (
      origin !== undefined && !sameHost(origin, url.host) && !options.corsOrigins.includes(origin)
    ) {
      return errorResponse(
        c,
        403,
        "Policy",
        `job requests from origin ${JSON.stringify(origin)} are refused`,
        "List the origin in ADHASH_CORS_ORIGINS to allow it",
      );
    }
    if (!options.tokenRequired && !LOOPBACK_HOSTS.has(url.hostname)) {
      return errorResponse(
        c,
        403,
        "Policy",
        `without ADHASH_TOKEN the job service answers only loopback addresses, not ${
          JSON.stringify(url.hostname)
        }`,
        "Set ADHASH_TOKEN, or use http://127.0.0.1:<port>/",
      );
    }
    await next();
  };
}

/** The `/api/jobs` routes over `jobs` (or 404s when it is undefined). */
export function jobRoutes(jobs: JobService | undefined, options: JobRouteOptions): Hono {
  const app = new Hono();
  if (jobs === undefined) {
    const off = (c: Context): Response =>
      errorResponse(
        c,
        404,
        "NotFound",
        "the job service is off",
        "Start the server with --job-root DIR (or ADHASH_JOB_ROOT)",
      );
    app.all("/api/jobs", off);
    app.all("/api/jobs/*", off);
    return app;
  }
  app.use("/api/jobs", guard(options));
  app.use("/api/jobs/*", guard(options));
  const maxFollowers = options.maxLogFollowers ?? 256;
  let followers = 0;
  app.get("/api/jobs", (c) => {
    const limit = limitQuery(c);
    const status = c.req.query("status");
    if (status !== undefined && !STATUSES.includes(status as JobStatus)) {
      throw new HTTPException(400, {
        message: `query status=${JSON.stringify(status)} is not one of ${STATUSES.join(", ")}`,
      });
    }
    const { count, records } = jobs.list(limit, status as JobStatus | undefined);
    const head = JSON.stringify({
      schema: "api.job_list.v1",
      count,
      running: jobs.running,
      pending: jobs.pending,
      max_jobs: jobs.maxJobs,
    });
    // Written record by record: a thousand large results would make one string of hundreds of
    // megabytes (near V8's limit), and hold them all at once.
    const body = ReadableStream.from((async function* () {
      yield encoder.encode(`${head.slice(0, -1)},"jobs":[`);
      let sep = "";
      for await (const record of records) {
        yield encoder.encode(sep + JSON.stringify(record));
        sep = ",";
      }
      yield encoder.encode("]}");
    })());
    return c.body(body, 200, { "Content-Type": "application/json" });
  });

  // One route per kind, so that `Allow` on a job's own path does not list POST.
  const submit = async (c: Context, kind: string): Promise<Response> => {
    // A cross-site form or "simple" request cannot send this type without a preflight.
    if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
      return errorResponse(
        c,
        415,
        "UnsupportedMediaType",
        "a job request must be sent as Content-Type: application/json",
      );
    }
    let text: string;
    try {
      // Fatal: bytes that are not UTF-8 would reach a path as U+FFFD, and be blamed there.
      text = new TextDecoder("utf-8", { fatal: true }).decode(await c.req.arrayBuffer());
    } catch {
      throw new HTTPException(400, { message: "request body is not UTF-8" });
    }
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (err) {
      throw new HTTPException(400, { message: `request body is not JSON: ${messageOf(err)}` });
    }
    try {
      const record = await jobs.submit(kind, request);
      c.header("Location", `/api/jobs/${record.id}`);
      return c.json(record, 202);
    } catch (err) {
      if (err instanceof BadInputError) {
        return errorResponse(c, 400, "BadInput", err.message, err.hint);
      }
      if (err instanceof JobQueueFullError) {
        c.header("Retry-After", "5");
        return errorResponse(c, 503, "Busy", err.message, err.hint);
      }
      if (err instanceof AdhashError && err.code === "IO") {
        return errorResponse(c, 503, "IO", err.message, err.hint);
      }
      // Deno's permissions: the operator's to fix, so the path stays in the server's log.
      if (err instanceof Deno.errors.NotCapable) {
        log("server").warn("job refused by Deno's permissions: {error}", { error: err.message });
        return errorResponse(
          c,
          403,
          "Policy",
          "the server is not permitted to use this job's files",
          "The operator must grant the server --allow-read/--allow-write for them",
        );
      }
      throw err;
    }
  };
  for (const kind of jobs.kinds) app.post(`/api/jobs/${kind}`, (c) => submit(c, kind));
  app.post(
    "/api/jobs/:kind",
    refusal((c) => {
      const name = c.req.param("kind") ?? "";
      // A job's own path: what is wrong is the method, not the kind.
      if (jobs.isFinished(name) !== undefined) {
        return methodNotAllowed(c, allowedMethods(app, c.req.path));
      }
      return errorResponse(
        c,
        404,
        "NotFound",
        `no job kind ${JSON.stringify(name)}`,
        `Kinds: ${jobs.kinds.join(", ")}`,
      );
    }),
  );

  app.get("/api/jobs/:id", async (c) => {
    const record = await jobs.get(c.req.param("id"));
    return record === undefined ? notFound(c, c.req.param("id")) : c.json(record);
  });

  app.delete("/api/jobs/:id", async (c) => {
    const id = c.req.param("id");
    const finished = jobs.isFinished(id);
    if (finished === undefined) return notFound(c, id);
    const record = (await jobs.cancel(id))!;
    // A pending job is cancelled now (200); a running one once its process has exited (202).
    if (!finished && record.cancel_requested) {
      return c.json(record, record.status === "cancelled" ? 200 : 202);
    }
    const what = finished ? `has already ended (${record.status})` : "has already finished running";
    return errorResponse(c, 409, "Conflict", `job ${id} ${what}`);
  });

  app.get("/api/jobs/:id/logs", async (c) => {
    const id = c.req.param("id");
    const path = jobs.logPath(id);
    if (path === undefined) return notFound(c, id);
    const headers = { "Content-Type": "application/x-ndjson; charset=utf-8" };
    if (isHead(c)) return headersOnly(c, headers);
    // Reading a log once is brief; following a running one holds a file, a buffer and a poll
    // for as long as the job runs, so only that is bounded.
    const follow = c.req.query("follow") !== "0" && jobs.isFinished(id) === false;
    if (follow && followers >= maxFollowers) {
      c.header("Retry-After", "5");
      return errorResponse(
        c,
        503,
        "Busy",
        `${maxFollowers} job logs are being followed, the most served`,
        "Retry later, or read the log without following it (?follow=0)",
      );
    }
    // The place is taken before the open's await: requests arriving meanwhile see it taken.
    let release = (): void => {};
    if (follow) {
      followers++;
      release = () => followers--;
    }
    // Opened before the answer: a log removed by hand is a 404, not a 200 cut short.
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      release();
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      return errorResponse(c, 404, "NotFound", `job ${id}'s log was removed`);
    }
    return c.body(logStream(jobs, id, file, follow, release), 200, headers);
  });

  app.get("/api/jobs/:id/artifacts/:name", async (c) => {
    const id = c.req.param("id");
    const name = c.req.param("name");
    if (jobs.isFinished(id) === undefined) return notFound(c, id);
    const path = jobs.artifactPath(id, name);
    if (path === undefined) {
      return errorResponse(c, 404, "NotFound", `job ${id} has no artifact ${JSON.stringify(name)}`);
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      return errorResponse(c, 404, "NotFound", `job ${id}'s artifact ${name} was removed`);
    }
    const info = await file.stat();
    if (!info.isFile) {
      file.close();
      return errorResponse(c, 404, "NotFound", `job ${id}'s artifact ${name} is not a file`);
    }
    // Artifacts are written once, by rename: the length is known (gzip, if used, drops it). A
    // HEAD's body is cancelled unread, which closes the file.
    return c.body(file.readable, 200, {
      "Content-Type": CONTENT_TYPES[name.slice(name.lastIndexOf(".") + 1)] ??
        "application/octet-stream",
      "Content-Disposition": `attachment; filename="${id}-${name}"`,
      "Content-Length": String(info.size),
    });
  });

  return app;
}
