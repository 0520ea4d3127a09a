/**
 * Snapshot work for `/api/snapshot` and `/api/probe?snapshot=`, off the server's thread.
 *
 * Decoding a snapshot of 2,000,000 entries takes over a second of CPU and hundreds of MB: done
 * on the thread that serves, a few at once held `/metrics` for 10 s (past Prometheus' scrape
 * timeout) and took the process to 900 MB. Here a worker thread (src/server/snapshot_worker.ts)
 * does it, one task at a time at a lower priority, a few more wait, and any beyond are refused
 * (`Busy`) so memory stays bounded. The worker ends after a while without work, freeing its heap.
 *
 * Where the worker module is not on disk (a `deno bundle` file) the work runs on the calling
 * thread, limited alike. `deno compile` must be given `--include src/server/snapshot_worker.ts`.
 *
 * @module
 */

import { checkDelay } from "./delay.ts";
import { AdhashError } from "../errors.ts";
import type { Key, ProbeTrace } from "../core/types.ts";
import { inspectSnapshot, loadSnapshot } from "../snapshot/mod.ts";
import { CHECKSUM_LEN, HEADER_SIZE, toHex } from "../snapshot/format.ts";
import { readFull } from "../io/read_full.ts";
import type { SnapshotReply, SnapshotTask } from "./snapshot_worker.ts";
import type { Traceable } from "./probe_routes.ts";
import { workerModuleOnDisk } from "./worker_module.ts";

/** Thrown when as many snapshot tasks run and wait as are allowed. */
export class SnapshotBusyError extends Error {
  /** Seconds a client should wait before trying again. */
  readonly retryAfter: number;
  /** An error saying `running` tasks run and `waiting` wait. */
  constructor(running: number, waiting: number, retryAfter: number) {
    super(`${running} snapshot task(s) are running and ${waiting} waiting, the most served`);
    this.name = "SnapshotBusyError";
    this.retryAfter = retryAfter;
  }
}

/** The snapshot worker stopped (crashed, or ran out of memory) before answering. */
export class SnapshotWorkerError extends Error {
  /** An error with the worker's reason. */
  constructor(message: string) {
    super(message);
    this.name = "SnapshotWorkerError";
  }
}

/** Runs at most `maxRunning` tasks at once, with at most `maxWaiting` more queued. */
export class TaskLimiter {
  readonly maxRunning: number;
  readonly maxWaiting: number;
  #running = 0;
  #queue: Array<() => void> = [];

  /** A limiter of `maxRunning` running and `maxWaiting` waiting tasks. */
  constructor(maxRunning: number, maxWaiting: number) {
    this.maxRunning = maxRunning;
    this.maxWaiting = maxWaiting;
  }

  /** Runs `task` when a slot is free; throws {@linkcode SnapshotBusyError} when none will be. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.maxRunning) {
      if (this.#queue.length >= this.maxWaiting) {
        throw new SnapshotBusyError(this.#running, this.#queue.length, 5);
      }
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so a newcomer cannot overtake it.
      const next = this.#queue.shift();
      if (next !== undefined) next();
      else this.#running--;
    }
  }
}

type InspectOptions = { key?: string; contains?: string; limit?: number };

/**
 * Files from this size on (about 100,000 entries) leave the worker's heap large enough to end
 * it after use; smaller ones reuse it, sparing the worker's start-up (~50 ms).
 */
const HEAVY_BYTES = 1 << 20;

/** Options of {@linkcode SnapshotPool}. */
export interface SnapshotPoolOptions {
  /** Milliseconds without work after which the worker ends (default 30000). */
  idleMs?: number;
  /** `false` works on the calling thread (as where no worker module exists). */
  worker?: boolean;
}

/**
 * Whether the worker's module is in this build: a `deno bundle` file carries none, and a
 * binary only with `deno compile --include src/server/snapshot_worker.ts`. Without it, tasks
 * run on the calling thread.
 */
export function snapshotWorkerInBuild(): boolean {
  return workerModuleOnDisk(new URL("./snapshot_worker.ts", import.meta.url));
}

/** The header and checksum a snapshot begins with, as hex (shorter for a file too short). */
async function checksumOf(path: string): Promise<string> {
  using file = await Deno.open(path, { read: true });
  const head = await readFull(file, new Uint8Array(HEADER_SIZE + CHECKSUM_LEN));
  return toHex(head);
}

/** Inspects snapshots and traces probes on their maps in a worker thread. */
export class SnapshotPool {
  readonly #idleMs: number;
  #useWorker: boolean;
  #worker: Worker | null = null;
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  #idle: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Whether the worker has decoded a large file: its heap holds that garbage until it ends. */
  #heavy = false;
  /** The version of the large map the worker keeps for further probes, if any. */
  #kept: string | null = null;

  /** A pool; its worker starts with the first task. */
  constructor(options: SnapshotPoolOptions = {}) {
    this.#idleMs = checkDelay("idleMs", options.idleMs ?? 30_000, 0);
    this.#useWorker = options.worker !== false && snapshotWorkerInBuild();
  }

  /** Whether tasks run in a worker thread (false: on the calling thread). */
  get threaded(): boolean {
    return this.#useWorker;
  }

  /** The snapshot module's `inspectSnapshot(path, options)`, in the worker. */
  async inspect(path: string, options: InspectOptions): Promise<unknown> {
    if (!this.#useWorker) return await inspectSnapshot(path, options);
    const { size } = await Deno.stat(path);
    return await this.#send({ id: 0, type: "inspect", path, options }, size >= HEAVY_BYTES);
  }

  /** The map stored at `path`, as a {@linkcode Traceable} whose traces run in the worker. */
  async loadMap(path: string): Promise<Traceable> {
    if (!this.#useWorker) return await loadSnapshot(path);
    // A rewritten file (snapshots are replaced by rename) is a new version to decode; so is one
    // copied over in place keeping its size, inode and mtime, whose checksum tells.
    const info = await Deno.stat(path);
    const version = [path, info.size, info.mtime?.getTime(), info.ino, await checksumOf(path)]
      .join("\0");
    const heavy = info.size >= HEAVY_BYTES;
    const trace = (op: "get" | "put", key: Key, value: unknown): Promise<ProbeTrace> =>
      this.#send(
        { id: 0, type: "trace", path, version, op, key, value },
        heavy,
      ) as Promise<ProbeTrace>;
    return {
      traceGet: (key) => trace("get", key, undefined),
      tracePut: (key, value) => trace("put", key, value),
    };
  }

  /** Ends the worker; later tasks start a new one unless closed for good. */
  close(): void {
    this.#closed = true;
    this.#stop(new SnapshotWorkerError("the server is shutting down"));
  }

  #stop(reason: Error): void {
    clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#worker?.terminate();
    this.#worker = null;
    this.#heavy = false;
    this.#kept = null;
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
  }

  /**
   * Runs `task` in the worker. After a `heavy` task (a large file) the worker is ended as soon
   * as nothing else runs in it, unless the next task probes the same map again: V8 keeps a
   * worker's heap at its high-water mark, and only ending the worker gives the memory back.
   */
  #send(task: SnapshotTask, heavy: boolean): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(new SnapshotWorkerError("the server is shutting down"));
    }
    clearTimeout(this.#idle);
    this.#idle = undefined;
    const reuses = task.type === "trace" && task.version === this.#kept;
    if (this.#heavy && !reuses && this.#pending.size === 0) this.#stop(new Error("recycled"));
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...task, id });
    }).finally(() => {
      if (!heavy || this.#worker !== worker) return;
      this.#heavy = true;
      this.#kept = task.type === "trace" ? task.version : null;
      // An inspection keeps nothing worth its memory: end the worker now, not when idle.
      if (this.#kept === null && this.#pending.size === 0) this.#stop(new Error("recycled"));
    });
  }

  #start(): Worker {
    const worker = new Worker(new URL("./snapshot_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = (e: MessageEvent<SnapshotReply>) => {
      const m = e.data;
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) {
        this.#idle = setTimeout(() => this.#stop(new SnapshotWorkerError("idle")), this.#idleMs);
        Deno.unrefTimer(this.#idle); // an idle worker must not keep a library's host alive
      }
      if (p === undefined) return;
      if (m.ok) p.resolve(m.result);
      else p.reject(rebuild(m.error));
    };
    worker.onerror = (e) => {
      e.preventDefault(); // a crashed worker fails its tasks, not the server
      this.#stop(new SnapshotWorkerError(`snapshot worker failed: ${e.message}`));
    };
    this.#worker = worker;
    return worker;
  }
}

/** The worker's error as the caller would have seen it on its own thread. */
function rebuild(e: Extract<SnapshotReply, { ok: false }>["error"]): Error {
  if (e.code !== undefined) {
    return new AdhashError(e.code, e.message, e.hint === undefined ? {} : { hint: e.hint });
  }
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}
