/**
 * `/api/probe` (probe traces on the live or a snapshot's map) and `/api/snapshot(s)` (snapshot
 * inspection), both confined to `ADHASH_SNAPSHOT_DIR`.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ApiProbe, ApiSnapshot, ApiSnapshotList } from "../contracts/api.ts";
import type { Key, ProbeTrace } from "../core/types.ts";
import type { z } from "zod";
import { errorResponse } from "./security.ts";
import { intQuery } from "./query.ts";
import { AdhashError, messageOf } from "../errors.ts";
import { SnapshotBusyError, SnapshotWorkerError, type TaskLimiter } from "./snapshot_pool.ts";
import { numberKey } from "../key_text.ts";
import { isInside, joinPath } from "../io/path.ts";
import { startsWithMagic } from "../snapshot/magic.ts";

/**
 * The 404 of a probe with no live map to trace, with the hint the envelope carries: a server
 * following a metrics file (`--source`) has none, nor does a replay that has not started.
 */
export function noLiveMap(): HTTPException {
  return new HTTPException(404, {
    message: "no live map to probe",
    cause: { hint: "Pass snapshot=NAME, or probe during run-csv" },
  });
}

/**
 * Anything that can trace a probe without changing its entries: every adhash map (an adaptive
 * map caught mid-migration moves a batch first, as the operation would), or a proxy for a map in
 * another thread (hence the promises).
 */
export interface Traceable {
  /** The probe path `get(key)` takes. */
  traceGet(key: Key): ProbeTrace | Promise<ProbeTrace>;
  /** The probe path `set(key, value)` would take. */
  tracePut(key: Key, value: unknown): ProbeTrace | Promise<ProbeTrace>;
}

/** Options of the probe and snapshot routes. */
export interface ProbeOptions {
  /** The map a replay is running on, when there is one. */
  liveMap?: (() => Traceable | null) | undefined;
  /** The only directory snapshots are read from (`ADHASH_SNAPSHOT_DIR`). */
  snapshotDir?: string | undefined;
  /** Inspects a snapshot file (the snapshot module's `inspectSnapshot`). */
  inspectSnapshot?:
    | ((
      path: string,
      options: { key?: string; contains?: string; limit?: number },
    ) => Promise<unknown>)
    | undefined;
  /** Loads the map stored in a snapshot file. */
  loadSnapshotMap?: ((path: string) => Promise<Traceable>) | undefined;
}

const encoder = new TextEncoder();

/**
 * Whether `name` is a plain file name: no separator, no dot first (nor `..` anywhere), no
 * control character, at most 255 bytes, and text the file system can hold as it is: no lone
 * surrogate, and no U+FFFD, which stands in a listed name for bytes that were not UTF-8, so that
 * the name does not open the file it came from. Any script is welcome.
 */
function plainName(name: string): boolean {
  return /^[^./\\\p{Cc}\uFFFD][^/\\\p{Cc}\uFFFD]*$/u.test(name) && !name.includes("..") &&
    name.isWellFormed() && encoder.encode(name).length <= 255;
}

/** Names `/api/snapshots` lists at most. */
const LIST_LIMIT = 1000;

/**
 * `err` of reading ADHASH_SNAPSHOT_DIR, as the answer: a directory moved or removed while the
 * server runs is the operator's to restore (503 IO, as a job root's is), anything else a fault.
 */
function dirGone(err: unknown): unknown {
  if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory)) {
    return err;
  }
  return new HTTPException(503, {
    message: "the snapshot directory is gone (moved or removed while the server ran)",
    cause: { hint: "Restore ADHASH_SNAPSHOT_DIR, or restart the server with another" },
  });
}

/**
 * Resolves `name` inside `dir`, refusing anything that is not a plain file name or that resolves
 * (through symlinks) outside the directory.
 */
async function resolveInDir(dir: string, name: string): Promise<string> {
  if (name === "") throw new HTTPException(400, { message: "query name is required" });
  if (!plainName(name)) {
    throw new HTTPException(403, {
      message: `snapshot name ${
        JSON.stringify(name)
      } refused: give a file name inside ADHASH_SNAPSHOT_DIR`,
    });
  }
  const root = await Deno.realPath(dir).catch((err) => {
    throw dirGone(err);
  });
  let real: string;
  try {
    real = await Deno.realPath(`${root}/${name}`);
  } catch {
    throw new HTTPException(404, { message: `no snapshot ${JSON.stringify(name)}` });
  }
  if (!isInside(root, real)) {
    throw new HTTPException(403, {
      message: `snapshot ${JSON.stringify(name)} resolves outside ADHASH_SNAPSHOT_DIR`,
    });
  }
  if (!await isFile(real)) throw noSnapshot(name);
  return real;
}

function noSnapshot(name: string): HTTPException {
  return new HTTPException(404, { message: `no snapshot ${JSON.stringify(name)}` });
}

/** Whether `path` is a file now; false once it is gone (or cannot be looked at). */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * The 400 of a snapshot task that failed on the file named `name` (real path `path`), or the
 * 404 of a file removed or renamed while its request waited for the worker (the task's stat or
 * open found it gone: a 500 for a probe, and a 400 naming the server's directory for an
 * inspection). The error names the file as the client did, never where the server keeps it.
 */
async function snapshotFailure(
  c: Context,
  name: string,
  path: string,
  err: unknown,
): Promise<Response> {
  if (!await isFile(path)) throw noSnapshot(name);
  const detail = messageOf(err).replaceAll(path, name);
  return errorResponse(c, 400, "BadInput", `snapshot ${JSON.stringify(name)}: ${detail}`);
}

function parseKey(raw: string | undefined, numeric: string | undefined): Key {
  if (raw === undefined || raw === "") {
    throw new HTTPException(400, { message: "query key is required" });
  }
  if (raw.length > 4096) {
    throw new HTTPException(400, { message: "query key is longer than 4096 characters" });
  }
  if (numeric === "1" || numeric === "true") {
    try {
      return numberKey(raw);
    } catch (err) {
      throw new HTTPException(400, { message: `key ${(err as RangeError).message}` });
    }
  }
  return raw;
}

/** 503 `Busy` for a snapshot task refused by the limiter, saying when to come back. */
function busy(c: Context, err: SnapshotBusyError): Response {
  c.header("Retry-After", String(err.retryAfter));
  return errorResponse(c, 503, "Busy", err.message, "Retry after the time in Retry-After");
}

/**
 * The probe and snapshot routes; `limiter` bounds the snapshot inspections and snapshot probes
 * under way (none without it).
 */
export function probeRoutes(options: ProbeOptions, limiter?: TaskLimiter): Hono {
  const app = new Hono();
  const limited = <T>(task: () => Promise<T>): Promise<T> =>
    limiter === undefined ? task() : limiter.run(task);

  const requireDir = (): string => {
    if (options.snapshotDir === undefined || options.snapshotDir === "") {
      throw new HTTPException(404, { message: "no snapshot directory: set ADHASH_SNAPSHOT_DIR" });
    }
    return options.snapshotDir;
  };

  app.get("/api/probe", async (c) => {
    const op = c.req.query("op") ?? "get";
    if (op !== "get" && op !== "put") {
      throw new HTTPException(400, {
        message: `query op=${JSON.stringify(op)} must be get or put`,
      });
    }
    const key = parseKey(c.req.query("key"), c.req.query("numeric"));
    const value = c.req.query("value") ?? "";
    const snapshot = c.req.query("snapshot");
    let trace: ProbeTrace;
    let source: string;
    if (snapshot !== undefined && snapshot !== "") {
      const path = await resolveInDir(requireDir(), snapshot);
      const loadSnapshotMap = options.loadSnapshotMap;
      if (loadSnapshotMap === undefined) {
        return errorResponse(c, 404, "NotFound", "this server cannot load snapshot maps");
      }
      try {
        trace = await limited(async () => {
          const map = await loadSnapshotMap(path);
          return await (op === "get" ? map.traceGet(key) : map.tracePut(key, value));
        });
      } catch (err) {
        if (err instanceof SnapshotBusyError) return busy(c, err);
        // A corrupt snapshot is the user's file, not a server fault (as in /api/snapshot).
        if (!(err instanceof AdhashError) && await isFile(path)) throw err;
        return await snapshotFailure(c, snapshot, path, err);
      }
      source = `snapshot:${snapshot}`;
    } else {
      const map = options.liveMap?.() ?? null;
      if (map === null) throw noLiveMap();
      trace = await (op === "get" ? map.traceGet(key) : map.tracePut(key, value));
      source = "live";
    }
    const body: z.infer<typeof ApiProbe> = {
      schema: "api.probe.v1",
      source,
      trace: trace as unknown as z.infer<typeof ApiProbe>["trace"],
    };
    return c.json(body);
  });

  app.get("/api/snapshots", async (c) => {
    const dir = requireDir();
    // The first LIST_LIMIT names in sorted order, whatever order the directory gives them in,
    // holding at most twice that many at once.
    const names: string[] = [];
    let total = 0;
    try {
      for await (const e of Deno.readDir(dir)) {
        // A directory shared with workloads and reports: only snapshots are offered for them.
        if (!e.isFile || !plainName(e.name) || !await startsWithMagic(joinPath(dir, e.name))) {
          continue;
        }
        total++;
        names.push(e.name);
        if (names.length === 2 * LIST_LIMIT) names.sort().length = LIST_LIMIT;
      }
    } catch (err) {
      throw dirGone(err); // startsWithMagic throws nothing: the directory's own error
    }
    names.sort();
    if (names.length > LIST_LIMIT) names.length = LIST_LIMIT;
    return c.json(
      { schema: "api.snapshot_list.v1", names, total } satisfies z.infer<typeof ApiSnapshotList>,
    );
  });

  app.get("/api/snapshot", async (c) => {
    const name = c.req.query("name") ?? "";
    const path = await resolveInDir(requireDir(), name);
    const inspect = options.inspectSnapshot;
    if (inspect === undefined) {
      return errorResponse(c, 404, "NotFound", "this server cannot inspect snapshots");
    }
    const opts: { key?: string; contains?: string; limit?: number } = {};
    const key = c.req.query("key");
    const contains = c.req.query("contains");
    if (key !== undefined && key !== "") opts.key = key;
    if (contains !== undefined && contains !== "") opts.contains = contains;
    const limit = intQuery(c, "limit", undefined, 1, 1000);
    if (limit !== undefined) opts.limit = limit;
    let inspection: unknown;
    try {
      inspection = await limited(() => inspect(path, opts));
    } catch (err) {
      if (err instanceof SnapshotBusyError) return busy(c, err);
      if (err instanceof SnapshotWorkerError) throw err; // the server's fault: 500, logged
      // A corrupt snapshot is the user's file, not a server fault: report what is wrong with it.
      return await snapshotFailure(c, name, path, err);
    }
    // The server's own directory layout is not the client's business: report the name only.
    if (inspection !== null && typeof inspection === "object" && "path" in inspection) {
      inspection = { ...inspection, path: name };
    }
    // inspectSnapshot()'s report (snapshot_inspect.v1), which the contract promises.
    type Inspection = z.infer<typeof ApiSnapshot>["inspection"];
    const body: z.infer<typeof ApiSnapshot> = {
      schema: "api.snapshot.v1",
      name,
      inspection: inspection as Inspection,
    };
    return c.json(body);
  });

  return app;
}
