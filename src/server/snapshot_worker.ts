/**
 * Worker side of {@linkcode SnapshotPool}: reads, decodes and inspects snapshots (or traces a
 * probe on the map one stores) in its own thread and heap, so that a snapshot of millions of
 * entries never holds up `/metrics` or `/healthz`, and its memory goes when the worker does.
 *
 * Messages in: {@linkcode SnapshotTask}. Out: {@linkcode SnapshotReply}.
 *
 * @module
 */

import { AdhashError } from "../errors.ts";
import type { Key, ProbeTrace } from "../core/types.ts";
import { AdaptiveMap } from "../core/adaptive_map.ts";
import type { AnyMap } from "../core/factory.ts";
import { inspectSnapshot, loadSnapshot } from "../snapshot/mod.ts";

/** A task for the worker. `version` identifies the file's content (path, size, mtime). */
export type SnapshotTask =
  | {
    id: number;
    type: "inspect";
    path: string;
    options: { key?: string; contains?: string; limit?: number };
  }
  | {
    id: number;
    type: "trace";
    path: string;
    version: string;
    op: "get" | "put";
    key: Key;
    value: unknown;
  };

/** The worker's answer to the task `id`. */
export type SnapshotReply =
  | { id: number; ok: true; result: unknown }
  | {
    id: number;
    ok: false;
    error: { name: string; message: string; code?: AdhashError["code"]; hint?: string };
  };

/** The worker's global scope (JSR does not publish modules with `/// <reference lib>`). */
const scope = self as unknown as {
  postMessage(message: SnapshotReply): void;
  onmessage: ((e: MessageEvent<SnapshotTask>) => void) | null;
};

/**
 * The map of the snapshot probed last: a user probing key after key in one snapshot pays for
 * decoding it once. One map at most, and the pool ends an idle worker, which frees it.
 */
let probed: { version: string; map: AnyMap<unknown> } | null = null;

async function lowerPriority(): Promise<void> {
  try {
    // Queried first: an ungranted permission would otherwise prompt on a terminal.
    for (const kind of ["getPriority", "setPriority"] as const) {
      if (Deno.permissions.querySync({ name: "sys", kind }).state !== "granted") return;
    }
    const os = await import("node:os");
    // On Linux a nice value belongs to a thread: the server's thread keeps its priority, so on a
    // machine without an idle core the scheduler answers scrapes before decoding.
    os.setPriority(0, Math.min(19, os.getPriority(0) + 10));
  } catch {
    // Not permitted or not supported: the decode runs at the server's priority.
  }
}
const ready = lowerPriority();

async function run(task: SnapshotTask): Promise<unknown> {
  if (task.type === "inspect") return await inspectSnapshot(task.path, task.options);
  if (probed?.version !== task.version) {
    probed = null; // the old map is garbage before the new one is decoded
    const loaded = await loadSnapshot(task.path);
    // A map caught mid-migration runs a migration step before its first operation: run it once
    // here, and trace every probe without another, so each sees the map as a fresh load of the
    // file would (a copy per probe took 1.4-1.7 s for 3.4M entries).
    if (loaded instanceof AdaptiveMap && loaded.migrating) loaded.traceGet("");
    probed = { version: task.version, map: loaded };
  }
  const map = probed.map;
  if (map instanceof AdaptiveMap) {
    const asLoaded = { step: false };
    return task.op === "get"
      ? map.traceGet(task.key, asLoaded)
      : map.tracePut(task.key, task.value, asLoaded);
  }
  const trace: ProbeTrace = task.op === "get"
    ? map.traceGet(task.key)
    : map.tracePut(task.key, task.value);
  return trace;
}

scope.onmessage = async (e: MessageEvent<SnapshotTask>) => {
  const task = e.data;
  await ready;
  try {
    scope.postMessage({ id: task.id, ok: true, result: await run(task) });
  } catch (err) {
    const error: Extract<SnapshotReply, { ok: false }>["error"] = err instanceof Error
      ? { name: err.name, message: err.message }
      : { name: "Error", message: String(err) };
    if (err instanceof AdhashError) {
      error.code = err.code;
      if (err.hint !== undefined) error.hint = err.hint;
    }
    scope.postMessage({ id: task.id, ok: false, error });
  }
};
