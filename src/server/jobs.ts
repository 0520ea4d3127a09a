/**
 * The job service behind `/api/jobs`: runs `hashmap-cli` commands (`run-csv`, `workload-dna`,
 * `ab-compare`, `profile`) for HTTP
 * clients, one child process per job, at most `maxJobs` at a time, and keeps each job's files in
 * its own directory under the job root: `request.json`, `status.json` (the `api.job.v1` record,
 * rewritten atomically at every change), `logs.ndjson` (the child's JSON log lines and the
 * service's own lifecycle lines), `result.json` and the artifacts the job wrote.
 *
 * A child process, not a worker: a job that runs out of memory or crashes takes only itself
 * down, its output files get the CLI's own atomic writes and clean-up on SIGTERM, and from the
 * source tree it runs with permissions scoped to the input directory and its job directory.
 *
 * @module
 */

import { checkDelay } from "./delay.ts";
import { BadInputError, IOError, messageOf, PolicyError } from "../errors.ts";
import {
  atomicWrite,
  removeTempFilesOf,
  rewriteInPlace,
  systemMessage,
} from "../io/atomic_write.ts";
import { baseOf, dirOf, joinPath, slashed } from "../io/path.ts";
import { writeAll } from "../io/write_all.ts";
import { log } from "../log/setup.ts";
import { round } from "../format.ts";
import { ApiJob } from "../contracts/api.ts";
import { inputPath, JOB_KINDS, type JobKind } from "./job_kinds.ts";
import { JOB_PARENT_ENV } from "../cli/parent_watch.ts";

/** Where a job is in its life. */
export type JobStatus = "pending" | "running" | "completed" | "failed" | "cancelled";

/**
 * Why a job failed: the CLI's error envelope, or the service's own `Timeout`, `Interrupted`, `IO`
 * or `Internal`.
 */
export interface JobError {
  /** Error code. */
  error: string;
  /** What went wrong. */
  detail: string;
  /** What to do about it. */
  hint?: string;
}

/** A job as `/api/jobs/{id}` reports it and `status.json` stores it (`api.job.v1`). */
export interface JobRecord {
  /** Always `api.job.v1`. */
  schema: "api.job.v1";
  /** Sortable by creation: `20261123T120501Z-a1b2c3`. */
  id: string;
  /** The command, e.g. `run-csv`. */
  kind: string;
  /** Where the job is in its life. */
  status: JobStatus;
  /** ISO time of submission. */
  created_at: string;
  /** ISO time the child process started. */
  started_at: string | null;
  /** ISO time the job ended (any end). */
  finished_at: string | null;
  /** Running time, once finished. */
  duration_seconds: number | null;
  /** The request as submitted (validated). */
  request: Record<string, unknown>;
  /** Whether a cancel was asked for. */
  cancel_requested: boolean;
  /** The child's exit code, once it exited. */
  exit_code: number | null;
  /** Why it failed, when it failed. */
  error: JobError | null;
  /** The command's `--json` result once completed (e.g. `run_summary.v1` for run-csv). */
  result: Record<string, unknown> | null;
  /** Files that can be fetched from `/api/jobs/{id}/artifacts/{name}`. */
  artifacts: string[];
}

/** Options of {@linkcode JobService.open}. */
export interface JobServiceOptions {
  /** Directory of the job directories (created when missing). */
  root: string;
  /** Request paths are resolved in, and must stay inside, this directory (default `.`). */
  inputDir?: string;
  /** Jobs running at once (default 4). */
  maxJobs?: number;
  /** Jobs waiting to run before submissions are refused (default 64). */
  maxPending?: number;
  /** Finished jobs remembered in memory; older ones stay on disk (default 1000). */
  maxRecords?: number;
  /**
   * The `hashmap-cli` entry module to run with `deno run`, or `null` when this executable is
   * `hashmap-cli` itself (`deno compile`). Default: `null` when compiled, else `cli.ts` beside
   * this package.
   */
  script?: string | null;
  /** Grace between SIGTERM and SIGKILL when cancelling (default 5000 ms). */
  killAfterMs?: number;
  /** TOML config the jobs run with (their `ADHASH_CONFIG`); default none. */
  config?: string | undefined;
  /**
   * Bytes the finished jobs' directories may take in all (default 10 GiB): past it the oldest
   * finished jobs are removed, from disk and from the listings, the newest one always kept.
   */
  maxRootBytes?: number | undefined;
}

/** The default of {@linkcode JobServiceOptions.maxRootBytes}. */
export const DEFAULT_MAX_ROOT_BYTES: number = 10 * 1024 ** 3;

/** A submission refused because `maxPending` jobs already wait. */
export class JobQueueFullError extends IOError {}

/** Files of a job directory that are the service's own, not the job's artifacts. */
const OWN_FILES = new Set(["request.json", "status.json", "logs.ndjson"]);

/** Largest log a job keeps; later lines are dropped (the last line is still read for errors). */
const MAX_LOG_BYTES = 16 << 20;
/** Largest stdout read from a child: its `--json` result line. */
const MAX_STDOUT_BYTES = 4 << 20;
/** Artifacts whose paths the service rewrites (reports; metrics and snapshots name none). */
const REPORT_ARTIFACT = /\.(json|md)$/;
/** Largest report artifact rewritten; a bigger one is served as written. */
const MAX_REPORT_BYTES = 4 << 20;
/**
 * Longest `status.json` (in characters) of a finished job whose result is kept in memory (typical
 * results are 1-3 KB); a larger result is read from the job's directory when asked for, so the
 * records in memory stay small however large the results (`workload-dna` with 10000 top keys:
 * 0.5 MB).
 */
const MAX_KEPT_RECORD_CHARS = 16 << 10;
const ID_PATTERN = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;
/**
 * The service's own settings, not its jobs'; ADHASH_CONFIG is set from `config`. ADHASH_DEBUG
 * would put stack traces, and with them the server's install path, into job logs that clients
 * read.
 */
const ENV_NOT_PASSED = [
  "ADHASH_TOKEN",
  "ADHASH_METRICS_PORT",
  "ADHASH_METRICS_HOST",
  "ADHASH_CONFIG",
  "ADHASH_DEBUG",
];

interface Running {
  child: Deno.ChildProcess;
  timer: ReturnType<typeof setTimeout> | undefined;
  killTimer: ReturnType<typeof setTimeout> | undefined;
  timedOut: boolean;
}

/**
 * Where a job is, finer than its status: `starting` (left the queue, no process yet) and
 * `finishing` (process exited, end not yet recorded) are `running` to clients, but a cancel
 * must treat them apart.
 */
type Phase = "queued" | "starting" | "running" | "finishing" | "ended";

interface Job {
  record: JobRecord;
  dir: string;
  phase: Phase;
  /** The child process while `running`. */
  process: Running | null;
  /** Resolves when the job reaches an end state. */
  ended: Promise<void>;
  end: () => void;
  /** Writes of status.json, in order. */
  saving: Promise<void>;
  /** The result is too large to keep: `record.result` is null, `status.json` holds it. */
  resultOnDisk: boolean;
}

/** A listing of jobs (see {@linkcode JobService.list}). */
export interface JobListing {
  /** How many records `records` yields. */
  count: number;
  /** The records, newest first, each with its result read as it is reached (iterate once). */
  records: AsyncIterable<JobRecord>;
}

let lastStamp = 0;

/**
 * The wall clock, held still while it is stepped back (NTP, a resumed VM): a job's times never
 * go backwards, so it never ends before it started, and later jobs are never created earlier.
 */
function isoNow(): string {
  lastStamp = Math.max(lastStamp, Date.now());
  return new Date(lastStamp).toISOString();
}

/** A new id for a job created at `createdAt` (ISO), so that the id's second is its creation's. */
function newId(createdAt: string): string {
  const stamp = createdAt.replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const rnd = crypto.getRandomValues(new Uint8Array(3));
  return `${stamp}-${Array.from(rnd, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The id stamp (`20261123T120501Z`) `seconds` before the one of job id `id`. */
function idSecondsBefore(id: string, seconds: number): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id)!;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - seconds * 1000;
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** Orders jobs as they were created; ids, random within a second, only break ties. */
function byCreation(a: JobRecord, b: JobRecord): number {
  const t = Date.parse(a.created_at) - Date.parse(b.created_at);
  if (t < 0) return -1;
  if (t > 0) return 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function isTerminal(status: JobStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

/** Whether a record, stored as `text`, is final and has a result too large to keep in memory. */
function tooLargeToKeep(record: JobRecord, text: string): boolean {
  return record.result !== null && isTerminal(record.status) && text.length > MAX_KEPT_RECORD_CHARS;
}

/** What {@linkcode JobService.open} resolved: real paths and the executable to spawn. */
interface Resolved {
  root: string;
  lock: RootLock;
  inputDir: string;
  executable: string;
  config: string | undefined;
}

/** Whether a segment of `path` (other than `.` and `..`) starts with a dot. */
function isHidden(path: string): boolean {
  return path.split(/[\\/]/).some((part) => /^\.(?!\.?$)/.test(part));
}

/** Runs `hashmap-cli` commands as jobs; see the module documentation. */
export class JobService {
  /** Jobs running at once. */
  readonly maxJobs: number;
  readonly #root: string;
  readonly #inputDir: string;
  readonly #executable: string;
  readonly #maxPending: number;
  readonly #maxRecords: number;
  readonly #script: string | null;
  readonly #killAfterMs: number;
  readonly #config: string | undefined;
  /** Submissions past the queue check and not yet queued (they count against maxPending). */
  #admitting = 0;
  readonly #jobs = new Map<string, Job>();
  readonly #queue: Job[] = [];
  /** Waiting jobs being cancelled (their log line written first): the answer to a cancel. */
  readonly #cancelling = new Map<string, Promise<JobRecord | undefined>>();
  #running = 0;
  #closed = false;
  /** The locks on the job root (`.lock` and the directory), held while the service is open. */
  readonly #lock: RootLock;
  readonly #maxRootBytes: number;
  /** The finished jobs' directories, oldest first, with their sizes (see maxRootBytes). */
  readonly #finished: Array<{ id: string; bytes: number }> = [];
  #finishedBytes = 0;
  /** Set once the jobs found on opening are loaded and counted. */
  #opened = false;
  /** Accounting and removals, one at a time, in the order jobs end. */
  #pruning: Promise<void> = Promise.resolve();

  private constructor(resolved: Resolved, options: JobServiceOptions) {
    this.#root = resolved.root;
    this.#lock = resolved.lock;
    this.#inputDir = resolved.inputDir;
    this.#executable = resolved.executable;
    this.#config = resolved.config;
    this.maxJobs = options.maxJobs ?? 4;
    this.#maxPending = options.maxPending ?? 64;
    this.#maxRecords = options.maxRecords ?? 1000;
    this.#script = options.script !== undefined
      ? options.script
      : Deno.build.standalone
      ? null
      : new URL("../../cli.ts", import.meta.url).href;
    this.#killAfterMs = options.killAfterMs ?? 5000;
    this.#maxRootBytes = options.maxRootBytes ?? DEFAULT_MAX_ROOT_BYTES;
  }

  /**
   * Opens the service: checks its permissions, creates the job root and loads the jobs found
   * there. Jobs a previous server left pending or running are marked failed (`Interrupted`).
   */
  static async open(options: JobServiceOptions): Promise<JobService> {
    if (!(Number.isInteger(options.maxJobs ?? 1) && (options.maxJobs ?? 1) >= 1)) {
      throw new RangeError(`maxJobs must be an integer >= 1, got ${options.maxJobs}`);
    }
    if (!((options.maxRootBytes ?? 0) >= 0)) {
      throw new RangeError(`maxRootBytes must be a number >= 0, got ${options.maxRootBytes}`);
    }
    checkDelay("killAfterMs", options.killAfterMs ?? 5000, 0); // before the root is made and locked
    const executable = await runnableExecutable();
    if (executable === undefined) {
      throw new PolicyError(`The job service needs --allow-run=${Deno.execPath()} (or =deno)`, {
        hint: "Grant it, or start the server without --job-root",
      });
    }
    if ((await Deno.permissions.query({ name: "write", path: options.root })).state !== "granted") {
      throw new PolicyError(`The job service needs --allow-write=${options.root}`, {
        hint: "Grant it, or start the server without --job-root",
      });
    }
    let inputDir: string;
    try {
      inputDir = await Deno.realPath(options.inputDir ?? ".");
      if (!(await Deno.stat(inputDir)).isDirectory) throw new Deno.errors.NotADirectory();
    } catch (err) {
      if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
        throw err;
      }
      throw new BadInputError(
        `Job input directory ${JSON.stringify(options.inputDir ?? ".")} is not a directory`,
        { cause: err },
      );
    }
    try {
      // Private to the server's user, as the job directories: requests, results, logs and
      // snapshots hold the clients' data. A root that exists keeps the mode it was given.
      await Deno.mkdir(options.root, { recursive: true, mode: 0o700 });
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) {
        throw new BadInputError(`Job root ${JSON.stringify(options.root)} is not a directory`);
      }
      throw err;
    }
    const root = await Deno.realPath(options.root);
    const config = options.config === undefined ? undefined : await configFile(options.config);
    const lock = await lockRoot(root);
    const service = new JobService({
      root,
      lock,
      inputDir,
      executable: Deno.build.standalone ? Deno.execPath() : executable,
      config,
    }, options);
    try {
      await service.#load();
    } catch (err) {
      lock.close();
      throw err;
    }
    return service;
  }

  /**
   * Reads the newest `maxRecords` jobs, oldest first, as they were created (`created_at`, to the
   * millisecond; the id, whose suffix is random, only breaks ties); marks unfinished ones as
   * interrupted.
   */
  async #load(): Promise<void> {
    const ids: string[] = [];
    for await (const e of Deno.readDir(this.#root)) {
      if (e.isDirectory && ID_PATTERN.test(e.name)) ids.push(e.name);
    }
    ids.sort().reverse();
    // Before status.json is read only an id's second is known: its creation's, or the next one
    // for a job stored before ids were taken from created_at. The newest maxRecords jobs by
    // created_at are therefore among the ids from one second before the maxRecords-th newest
    // id's second on; only those records are read.
    const last = ids[Math.min(ids.length, this.#maxRecords) - 1];
    const from = last === undefined ? "" : idSecondsBefore(last, 1);
    const records: Array<{ record: JobRecord; dir: string; resultOnDisk: boolean }> = [];
    for (const id of ids) {
      if (id < from) break;
      const dir = joinPath(this.#root, id);
      try {
        const text = await Deno.readTextFile(joinPath(dir, "status.json"));
        const parsed = ApiJob.safeParse(JSON.parse(text));
        if (!parsed.success || parsed.data.id !== id) throw new Error("not an api.job.v1 record");
        const record = parsed.data as JobRecord;
        // Dropped as each is read: a thousand large results never sit in memory at once.
        const resultOnDisk = tooLargeToKeep(record, text);
        if (resultOnDisk) record.result = null;
        records.push({ record, dir, resultOnDisk });
        // A server killed with its jobs (SIGKILL to the group, the OOM killer) removed none of
        // the temporary files they were writing, which can be as large as a snapshot. Removed
        // before the directory is sized; no process writes in it now: the service holds the
        // root, and an orphaned job stops.
        if (!isTerminal(record.status)) await removeLeftTempFiles(dir);
      } catch (err) {
        log("jobs").warn("Skipping job directory {dir}: {error}", {
          dir,
          error: messageOf(err),
        });
      }
    }
    records.sort((a, b) => byCreation(a.record, b.record));
    // Every job found is finished by now (or is marked Interrupted below), and counts against
    // maxRootBytes: those whose records were not read (older) first, by id, then the rest as
    // they were created (ids of one second are not in creation order).
    const read = new Set(records.map((r) => r.record.id));
    const order = [...ids.filter((id) => !read.has(id)).reverse(), ...read];
    for (const id of order) {
      let bytes = 0;
      try {
        bytes = await dirBytes(joinPath(this.#root, id));
      } catch (err) {
        // Not readable: it cannot be removed either; counted as nothing, as it was skipped.
        log("jobs").warn("Cannot size job directory {id}: {error}", { id, error: messageOf(err) });
      }
      this.#finished.push({ id, bytes });
      this.#finishedBytes += bytes;
    }
    for (const { record, dir, resultOnDisk } of records.slice(-this.#maxRecords)) {
      const job = this.#track(record, dir);
      job.resultOnDisk = resultOnDisk;
      if (!isTerminal(record.status)) {
        const detail = `The server stopped while the job was ${record.status}`;
        await noteInLog(dir, "error", `Failed: ${detail}`);
        this.#finish(job, "failed", null, {
          error: "Interrupted",
          detail,
          hint: "Submit it again",
        });
      } else {
        job.end();
      }
    }
    this.#opened = true;
    await this.#prune();
  }

  #track(record: JobRecord, dir: string): Job {
    let end = (): void => {};
    const ended = new Promise<void>((resolve) => (end = resolve));
    const job: Job = {
      record,
      dir,
      phase: isTerminal(record.status) ? "ended" : "queued",
      process: null,
      ended,
      end,
      saving: Promise.resolve(),
      resultOnDisk: false,
    };
    this.#jobs.set(record.id, job);
    return job;
  }

  /** The kinds of job that can be submitted. */
  get kinds(): string[] {
    return Object.keys(JOB_KINDS);
  }

  /** Jobs waiting to run. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running;
  }

  /**
   * Validates and queues a job. Throws BadInputError for a bad request or path, and IOError
   * (`Busy`) when `maxPending` jobs already wait.
   */
  async submit(kind: string, body: unknown): Promise<JobRecord> {
    if (this.#closed) throw new IOError("The job service is shutting down");
    // Own properties only: "constructor" is no kind.
    const spec = Object.hasOwn(JOB_KINDS, kind) ? JOB_KINDS[kind] : undefined;
    if (spec === undefined) {
      throw new BadInputError(`Unknown job kind ${JSON.stringify(kind)}`, {
        hint: `Kinds: ${this.kinds.join(", ")}`,
      });
    }
    const parsed = spec.schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      throw new BadInputError(`Invalid ${kind} request: ${where}${issue?.message ?? "invalid"}`, {
        hint: "See docs/server.md (Job service)",
      });
    }
    const request = parsed.data;
    await this.#inputPaths(spec, request);
    await this.#checkRoot();
    if (this.#queue.length + this.#admitting >= this.#maxPending) {
      throw new JobQueueFullError(`The job queue is full (${this.#maxPending} jobs waiting)`, {
        hint: "Retry later, or cancel waiting jobs",
      });
    }
    this.#admitting++;
    let dir: string | undefined;
    try {
      const record: JobRecord = {
        schema: "api.job.v1",
        id: "",
        kind,
        status: "pending",
        created_at: isoNow(),
        started_at: null,
        finished_at: null,
        duration_seconds: null,
        request: { ...request },
        cancel_requested: false,
        exit_code: null,
        error: null,
        result: null,
        artifacts: [],
      };
      for (let tries = 0; dir === undefined; tries++) {
        const id = newId(record.created_at);
        try {
          await Deno.mkdir(joinPath(this.#root, id), { mode: 0o700 });
          record.id = id;
          dir = joinPath(this.#root, id);
        } catch (err) {
          if (!(err instanceof Deno.errors.AlreadyExists) || tries > 8) throw err;
        }
      }
      await atomicWrite(joinPath(dir, "request.json"), `${JSON.stringify(request, null, 2)}\n`);
      await atomicWrite(joinPath(dir, "status.json"), `${JSON.stringify(record, null, 2)}\n`);
      // Exists from the start, so a waiting job's log can be read (and followed).
      await Deno.writeFile(joinPath(dir, "logs.ndjson"), new Uint8Array());
      if (this.#closed) throw new IOError("The job service is shutting down");
      const job = this.#track(record, dir);
      this.#forgetOld();
      this.#queue.push(job);
      this.#pump();
      return { ...record };
    } catch (err) {
      // No half-made job directory is left to be listed after a restart.
      if (dir !== undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
      if (err instanceof Deno.errors.NotCapable) throw err;
      if (this.#closed) throw new IOError("The job service is shutting down");
      log("jobs").error("Could not store a {kind} job: {error}", { kind, error: String(err) });
      throw new IOError(`Could not store the job: ${this.#hidePaths(messageOf(err))}`, {
        hint: "Check the job root's disk space and permissions",
        cause: err,
      });
    } finally {
      this.#admitting--;
    }
  }

  /**
   * The absolute path of a request path: relative, inside the input directory once symbolic
   * links are resolved, existing, and not hidden. Anything else is BadInput naming the field.
   */
  async #inputPath(field: string, path: string): Promise<string> {
    // The input directory defaults to the server's working directory, which may hold `.env` and
    // the like, and a CSV error quotes the file's first line: hidden names are never inputs.
    const hidden = (): BadInputError =>
      new BadInputError(
        `${field} ${JSON.stringify(path)} is hidden (a name starting with "."): not a job input`,
      );
    if (isHidden(path)) throw hidden();
    const real = await inputPath(this.#inputDir, field, path);
    if (isHidden(real.slice(this.#inputDir.length))) throw hidden(); // a link to a hidden file
    return real;
  }

  /**
   * `text` without the job root's path: a job's files are named by their names, as the client
   * knows them (`result.json`), and a job's directory by its id.
   */
  #hidePaths(text: string): string {
    // On Windows a path comes with `\` (Deno.realPath's) or `/` (the path functions'): as one.
    const root = slashed(this.#root);
    return slashed(text).split(`${root}/`).join("").split(root).join("the job root")
      .replace(/\b\d{8}T\d{6}Z-[0-9a-f]{6}\//g, "");
  }

  /** Drops the oldest finished jobs from memory beyond `maxRecords` (their files stay). */
  #forgetOld(): void {
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size <= this.#maxRecords) break;
      if (isTerminal(job.record.status)) this.#jobs.delete(id);
    }
  }

  /** A copy of the job's record, or undefined for an unknown (or forgotten) id. */
  async get(id: string): Promise<JobRecord | undefined> {
    const job = this.#jobs.get(id);
    return job === undefined ? undefined : await this.#copy(job)();
  }

  /**
   * Up to `limit` jobs, newest first, optionally only those with `status`, as they are now. A
   * large result is read from its job's directory only as its record is reached, so a listing
   * holds one at a time however many it has.
   */
  list(limit: number, status?: JobStatus): JobListing {
    const copies: Array<() => Promise<JobRecord>> = [];
    // Jobs submitted at once are tracked as their directories are made, not as they were
    // created: sorted, as a restarted service lists them.
    const newestFirst = [...this.#jobs.values()].sort((a, b) => byCreation(b.record, a.record));
    for (const job of newestFirst) {
      if (copies.length >= limit) break;
      if (status === undefined || job.record.status === status) copies.push(this.#copy(job));
    }
    return {
      count: copies.length,
      records: (async function* () {
        for (const copy of copies) yield await copy();
      })(),
    };
  }

  /** Resolves with the record once the job has ended (tests, `batch`, the log stream). */
  async settled(id: string): Promise<JobRecord | undefined> {
    const job = this.#jobs.get(id);
    if (job === undefined) return undefined;
    await job.ended;
    await job.saving;
    return await this.#copy(job)();
  }

  /**
   * The job's record as it is now, to be completed later with its result, read from `status.json`
   * when it is not kept in memory (or from `result.json` should `status.json` have been lost).
   */
  #copy(job: Job): () => Promise<JobRecord> {
    const record = { ...job.record };
    if (!job.resultOnDisk) return () => Promise.resolve(record);
    return async () => {
      try {
        const text = await Deno.readTextFile(joinPath(job.dir, "status.json"));
        const saved = ApiJob.parse(JSON.parse(text));
        // Another job's record copied over this one's would serve its result as this job's.
        if (saved.id !== record.id) throw new Error(`status.json holds job ${saved.id}`);
        return { ...record, result: saved.result };
      } catch (err) {
        try {
          const text = await Deno.readTextFile(joinPath(job.dir, "result.json"));
          return { ...record, result: JSON.parse(text) };
        } catch {
          log("jobs").warn("The result of job {id} could not be read: {error}", {
            id: record.id,
            error: messageOf(err),
          });
          return record;
        }
      }
    };
  }

  /**
   * Cancels a job: a pending one ends at once; a running one gets SIGTERM (the CLI removes its
   * temporary files and exits), then SIGKILL after the grace period. Returns the record, or
   * undefined for an unknown id; a finished job is returned unchanged. The cancel itself is done
   * when this returns; the promise is the record, whose result may have to be read.
   */
  cancel(id: string): Promise<JobRecord | undefined> {
    const job = this.#jobs.get(id);
    if (job === undefined) return Promise.resolve(undefined);
    switch (job.phase) {
      case "queued":
        job.record.cancel_requested = true;
        this.#queue.splice(this.#queue.indexOf(job), 1);
        // Out of the queue now; a second cancel while the log line is written gets this one's
        // answer.
        job.phase = "finishing";
        {
          const cancelled = noteInLog(job.dir, "info", "Cancelled before it started").then(() => {
            this.#finish(job, "cancelled", null, null);
            this.#cancelling.delete(id);
            return this.#copy(job)();
          });
          this.#cancelling.set(id, cancelled);
          return cancelled;
        }
      case "starting": // #run sees the request before and after it spawns the process
        job.record.cancel_requested = true;
        void this.#save(job);
        break;
      case "running":
        job.record.cancel_requested = true;
        this.#stop(job.process!);
        void this.#save(job);
        break;
      case "finishing": // the process has exited (or the job never started): too late
        return this.#cancelling.get(id) ?? this.#copy(job)();
      case "ended":
        break;
    }
    return this.#copy(job)();
  }

  #stop(running: Running): void {
    try {
      running.child.kill("SIGTERM");
    } catch {
      return; // already exited
    }
    running.killTimer ??= setTimeout(() => {
      try {
        running.child.kill("SIGKILL");
      } catch { /* exited meanwhile */ }
    }, this.#killAfterMs);
  }

  /** The path of a job's log file, or undefined for an unknown id. */
  logPath(id: string): string | undefined {
    const job = this.#jobs.get(id);
    return job === undefined ? undefined : joinPath(job.dir, "logs.ndjson");
  }

  /** Whether the job has ended; undefined for an unknown id. */
  isFinished(id: string): boolean | undefined {
    const job = this.#jobs.get(id);
    return job === undefined ? undefined : isTerminal(job.record.status);
  }

  /** The path of one of a job's artifacts, or undefined when it has no such artifact. */
  artifactPath(id: string, name: string): string | undefined {
    const job = this.#jobs.get(id);
    if (job === undefined || !job.record.artifacts.includes(name)) return undefined;
    return joinPath(job.dir, name);
  }

  /**
   * Refuses new work once the job root is no longer the directory this service locked (removed,
   * renamed, or replaced by a new one that another service may hold).
   */
  async #checkRoot(): Promise<void> {
    const locked = this.#lock.dir;
    if (locked === null) return;
    let same = false;
    try {
      const [now, ours] = await Promise.all([Deno.stat(this.#root), locked.stat()]);
      same = now.ino === ours.ino && now.dev === ours.dev;
    } catch { /* removed */ }
    if (!same) {
      // The client is not told where the server keeps its files; the server's log is.
      log("jobs").error("Job root {root} was removed or replaced while this service ran", {
        root: this.#root,
      });
      throw new IOError(
        "Could not store the job: the job root was removed or replaced while the server ran",
        { hint: "Restart the server on the job root it should use" },
      );
    }
  }

  /**
   * Cancels every job and waits (up to the kill grace) for the running ones to exit, and for
   * every record to be saved.
   */
  async close(): Promise<void> {
    this.#closed = true;
    // Removals under way finish before the root is released (after the jobs end, below).
    const ends: Promise<void>[] = [];
    for (const job of this.#jobs.values()) {
      // A job that has just ended may still be saving its record (in place, on a full disk:
      // slower): left behind, its status.json would say "running".
      if (job.phase === "ended") {
        ends.push(job.saving);
        continue;
      }
      void this.cancel(job.record.id);
      ends.push(job.ended.then(() => job.saving));
    }
    await Promise.all(ends);
    await this.#pruning;
    try {
      this.#lock.close(); // releases the job root
    } catch { /* closed by an earlier close() */ }
  }

  #pump(): void {
    while (!this.#closed && this.#running < this.maxJobs && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      job.phase = "starting";
      this.#running++;
      this.#run(job).catch((err) => {
        log("jobs").error("Job {id} could not be run: {error}", {
          id: job.record.id,
          error: messageOf(err),
        });
        // Never leave a process behind a job recorded as ended.
        try {
          job.process?.child.kill("SIGKILL");
        } catch { /* exited */ }
        if (job.phase !== "ended") this.#finish(job, "failed", null, this.#jobError(err));
      }).finally(() => {
        this.#running--;
        this.#pump();
      });
    }
  }

  /**
   * An unexpected error of the service while running a job as the job's `error`: `IO` for the
   * system's refusal to read or write (a full disk), else `Internal`; paths as a client names
   * them either way.
   */
  #jobError(err: unknown): JobError {
    if (isSystemError(err)) {
      return {
        error: "IO",
        detail: this.#hidePaths(messageOf(err)),
        hint: "Check the job root's disk space and permissions",
      };
    }
    return { error: "Internal", detail: this.#hidePaths(String(err)) };
  }

  /** The real paths of a request's input files, by field. */
  async #inputPaths(
    spec: JobKind,
    request: Record<string, unknown>,
  ): Promise<Record<string, string>> {
    const paths: Record<string, string> = {};
    for (const field of spec.inputs) {
      const value = request[field];
      if (typeof value === "string") paths[field] = await this.#inputPath(field, value);
    }
    return paths;
  }

  /** The command line of a job and the files it reads. */
  async #commandLine(
    job: Job,
  ): Promise<{ args: string[]; readPaths: string[]; input: Record<string, string> }> {
    const spec = JOB_KINDS[job.record.kind]!;
    const input = await this.#inputPaths(spec, job.record.request);
    return {
      args: ["--json", "--log-json", ...spec.args(job.record.request, job.dir, input)],
      readPaths: Object.values(input),
      input,
    };
  }

  /**
   * Rewrites the server's paths in a job's output as its client knows them: an input by the
   * path in the request, the job's own files by name, the server's config by file name. The
   * child is given real paths (its read permission names exactly those files); clients of the
   * API need not learn where the server keeps things.
   */
  #clientPaths(job: Job, input: Record<string, string>): PathRewrite {
    const pairs: Array<[string, string]> = [[`${job.dir}/`, ""], [job.dir, "."]];
    for (const [field, real] of Object.entries(input)) {
      pairs.push([real, String(job.record.request[field])]);
    }
    if (this.#config !== undefined) {
      pairs.push([this.#config, baseOf(this.#config)]);
    }
    pairs.sort((a, b) => b[0].length - a[0].length); // a longer path before its prefix
    // In JSON a path is spelt escaped (`"` and `\` in a name): replaced as spelt, the text stays
    // JSON. An escaped absolute path starts with "/", which no escape sequence contains, so a
    // match never starts inside one.
    const escaped = (t: string): string => JSON.stringify(t).slice(1, -1);
    const replacer = (list: Array<[string, string]>) => (text: string): string =>
      list.reduce((t, [from, to]) => t.split(from).join(to), text);
    return {
      text: replacer(pairs),
      json: replacer(pairs.map(([from, to]) => [escaped(from), escaped(to)])),
    };
  }

  /**
   * Rewrites the paths in a job's report artifacts (`ab.json`, `ab.md`, `profile.json`) as in
   * its result. One that cannot be rewritten (a full disk) is left whole as the command wrote
   * it, and the log says so.
   */
  async #rewriteReports(
    job: Job,
    artifacts: string[],
    rewrite: PathRewrite,
    logs: JobLog,
  ): Promise<void> {
    for (const name of artifacts) {
      // result.json is the service's own, written with client paths already.
      if (!REPORT_ARTIFACT.test(name) || name === "result.json") continue;
      const path = joinPath(job.dir, name);
      try {
        if ((await Deno.stat(path)).size > MAX_REPORT_BYTES) continue;
        const text = await Deno.readTextFile(path);
        const out = name.endsWith(".json") ? rewrite.json(text) : rewrite.text(text);
        if (out !== text) await atomicWrite(path, out);
      } catch (err) {
        if (!isSystemError(err)) throw err;
        await logs.note(
          "error",
          `${name} names paths as the server knows them: ${this.#hidePaths(messageOf(err))}`,
        );
      }
    }
  }

  async #run(job: Job): Promise<void> {
    const logPath = joinPath(job.dir, "logs.ndjson");
    const logFile = await Deno.open(logPath, { create: true, append: true });
    const logs = new JobLog(logFile, logPath);
    try {
      let line: { args: string[]; readPaths: string[]; input: Record<string, string> };
      try {
        line = await this.#commandLine(job);
      } catch (err) {
        // An input removed or replaced since submission.
        const detail = messageOf(err);
        await logs.note("error", `Job not started: ${detail}`);
        this.#finish(job, "failed", null, { error: "BadInput", detail });
        return;
      }
      const clientPaths = this.#clientPaths(job, line.input);
      logs.rewrite = clientPaths;
      if (job.record.cancel_requested) {
        await logs.note("info", "Cancelled before it started");
        this.#finish(job, "cancelled", null, null);
        return;
      }
      const env = Deno.env.toObject();
      for (const name of ENV_NOT_PASSED) delete env[name];
      if (this.#config !== undefined) env.ADHASH_CONFIG = this.#config;
      env[JOB_PARENT_ENV] = String(Deno.pid); // the job stops if this process dies first
      const config = this.#config === undefined ? [] : await withTarget(this.#config);
      const readPaths = [...line.readPaths, job.dir, ...config];
      const argv = this.#script === null ? line.args : [
        "run",
        "--no-prompt",
        `--allow-read=${readPaths.join(",")}`,
        `--allow-write=${job.dir}`,
        "--allow-env",
        this.#script,
        ...line.args,
      ];
      const child = new Deno.Command(this.#executable, {
        args: argv,
        cwd: this.#inputDir,
        clearEnv: true,
        env: { ...env, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const running: Running = { child, timer: undefined, killTimer: undefined, timedOut: false };
      job.process = running;
      job.phase = "running";
      const started = performance.now();
      job.record.status = "running";
      job.record.started_at = isoNow();
      void this.#save(job);
      await logs.note("info", `Started ${job.record.kind} (pid ${child.pid})`);
      for (const note of JOB_KINDS[job.record.kind]!.notes?.(job.record.request) ?? []) {
        await logs.note("info", note);
      }
      const timeout = (job.record.request as { timeout_seconds?: number }).timeout_seconds;
      if (timeout !== undefined) {
        running.timer = setTimeout(() => {
          running.timedOut = true;
          this.#stop(running);
        }, timeout * 1000);
      }
      if (job.record.cancel_requested) this.#stop(running);
      const [stdout, lastLine] = await Promise.all([
        readCapped(child.stdout, MAX_STDOUT_BYTES),
        logs.copy(child.stderr),
      ]);
      const status = await child.status;
      clearTimeout(running.timer);
      clearTimeout(running.killTimer);
      job.process = null;
      job.phase = "finishing";
      const seconds = (performance.now() - started) / 1000;
      job.record.duration_seconds = round(seconds, 6);
      job.record.exit_code = status.code;
      const result = status.success && stdout !== null
        ? parseResult(clientPaths.json(stdout))
        : null;
      let unstored: JobError | null = null;
      if (status.success && result === null) {
        // A completed job promises its result: one the service cannot keep fails the job.
        unstored = stdout === null
          ? {
            error: "BadInput",
            detail: `The job's result is larger than the ${
              MAX_STDOUT_BYTES >> 20
            } MiB the service keeps`,
            hint: "Ask for less (top_keys, say), or run the command with hashmap-cli",
          }
          : { error: "Internal", detail: "hashmap-cli printed no --json result" };
      } else if (result !== null) {
        try {
          await atomicWrite(
            joinPath(job.dir, "result.json"),
            `${JSON.stringify(result, null, 2)}\n`,
          );
        } catch (err) {
          if (!isSystemError(err)) throw err;
          // The job did its work, but a completed job promises its result.json.
          unstored = {
            error: "IO",
            detail: `The job's result could not be stored: ${this.#hidePaths(messageOf(err))}`,
            hint: "Free space in the job root (or fix its permissions), then submit it again",
          };
        }
      }
      if (status.signal !== null) await this.#removeTempFiles(job, child.pid, logs);
      const artifacts = await artifactsIn(job.dir);
      await this.#rewriteReports(job, artifacts, clientPaths, logs);
      const how = status.signal === null ? `exit code ${status.code}` : `signal ${status.signal}`;
      if (unstored !== null) {
        await logs.note("error", `Failed (${how}): ${unstored.detail}`);
        this.#finish(job, "failed", status.code, unstored, artifacts);
      } else if (status.success) {
        job.record.result = result;
        await logs.note("info", `Completed in ${seconds.toFixed(3)} s`);
        this.#finish(job, "completed", status.code, null, artifacts);
      } else if (running.timedOut) {
        const detail = `The job ran longer than its timeout_seconds (${timeout}) and was stopped`;
        await logs.note("error", detail);
        this.#finish(job, "failed", status.code, { error: "Timeout", detail }, artifacts);
      } else if (job.record.cancel_requested) {
        await logs.note("info", `Cancelled (${how})`);
        this.#finish(job, "cancelled", status.code, null, artifacts);
      } else {
        const error = parseEnvelope(lastLine) ??
          { error: "Internal", detail: `hashmap-cli ended with ${how}` };
        await logs.note("error", `Failed (${how}): ${error.detail}`);
        this.#finish(job, "failed", status.code, error, artifacts);
      }
    } finally {
      logFile.close();
    }
  }

  /**
   * Removes the temporary files of writes a job had under way when a signal ended it: SIGKILL
   * (a job ignoring SIGTERM, or the kernel's OOM killer) leaves them, and they can be as large
   * as the snapshot being written.
   */
  async #removeTempFiles(job: Job, pid: number, logs: JobLog): Promise<void> {
    try {
      const removed = await removeTempFilesOf(job.dir, pid);
      if (removed.length > 0) {
        const names = removed.map((p) => p.slice(job.dir.length + 1)).sort().join(", ");
        await logs.note("info", `Removed the temporary files the job left: ${names}`);
      }
    } catch (err) {
      if (!isSystemError(err)) throw err;
      await logs.note(
        "error",
        `Could not remove the job's temporary files: ${this.#hidePaths(messageOf(err))}`,
      );
    }
  }

  /** Records the end of a job; `artifacts` are the files it left (none if it never ran). */
  #finish(
    job: Job,
    status: JobStatus,
    exitCode: number | null,
    error: JobError | null,
    artifacts: string[] = [],
  ): void {
    const r = job.record;
    r.status = status;
    r.finished_at = isoNow();
    if (exitCode !== null) r.exit_code = exitCode;
    r.error = error;
    r.artifacts = artifacts;
    job.phase = "ended";
    const saved = this.#save(job);
    if (this.#opened) {
      // Its directory is complete once its record is saved. (Jobs found on opening, those
      // marked Interrupted among them, are counted as they are found.)
      this.#pruning = this.#pruning.then(async () => {
        await saved;
        const bytes = await dirBytes(job.dir);
        this.#finished.push({ id: r.id, bytes });
        this.#finishedBytes += bytes;
        await this.#prune();
      }).catch((err) => {
        log("jobs").error("Could not count job {id} against the job root's bound: {error}", {
          id: r.id,
          error: messageOf(err),
        });
      });
    }
    job.end();
  }

  /**
   * Removes the oldest finished jobs while the finished jobs take more than `maxRootBytes`,
   * keeping the newest. Called in the `#pruning` chain (or while opening).
   */
  async #prune(): Promise<void> {
    while (this.#finishedBytes > this.#maxRootBytes && this.#finished.length > 1) {
      const { id, bytes } = this.#finished[0]!;
      try {
        await Deno.remove(joinPath(this.#root, id), { recursive: true });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) {
          log("jobs").error("Could not remove job {id} to keep the job root in bounds: {error}", {
            id,
            error: messageOf(err),
          });
          return; // tried again when the next job ends
        }
      }
      this.#finished.shift();
      this.#finishedBytes -= bytes;
      this.#jobs.delete(id);
      log("jobs").info(
        "Removed job {id} ({bytes} bytes): the finished jobs took more than {max} bytes",
        { id, bytes, max: this.#maxRootBytes },
      );
    }
  }

  /**
   * Queues a write of status.json after the writes before it. Once a finished job's record is
   * stored, a large result is dropped from memory (status.json has it).
   */
  #save(job: Job): Promise<void> {
    job.saving = job.saving.then(async () => {
      // The record is final, and saved; without its result it would overwrite status.json's.
      if (job.resultOnDisk) return;
      const path = joinPath(job.dir, "status.json");
      const text = `${JSON.stringify(job.record, null, 2)}\n`;
      const drop = tooLargeToKeep(job.record, text);
      try {
        await atomicWrite(path, text);
      } catch (err) {
        if (!isSystemError(err)) throw err;
        // No room for a second copy (a full disk): left as it was, the record would tell the
        // next server "running", and it would mark a job that ended Interrupted.
        await rewriteInPlace(path, text);
        log("jobs").warn("Saved the status of job {id} in place: {error}", {
          id: job.record.id,
          error: messageOf(err),
        });
      }
      if (drop) {
        job.record.result = null;
        job.resultOnDisk = true;
      }
    }).catch((err) => {
      log("jobs").error("Could not save the status of job {id}: {error}", {
        id: job.record.id,
        error: messageOf(err),
      });
    });
    return job.saving;
  }
}

/**
 * Adds a service line to the log of a job without a process (`#run` holds its own log open):
 * one cancelled while it waited, or found unfinished when the service opens.
 */
async function noteInLog(dir: string, level: "info" | "error", message: string): Promise<void> {
  const path = joinPath(dir, "logs.ndjson");
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { create: true, append: true });
  } catch (err) {
    log("jobs").warn("Cannot write to {path}: {error}", { path, error: messageOf(err) });
    return;
  }
  try {
    await new JobLog(file, path).note(level, message);
  } finally {
    file.close();
  }
}

/** Removes the temporary files of any process in the job directory `dir`, noting them in its log. */
async function removeLeftTempFiles(dir: string): Promise<void> {
  try {
    const removed = await removeTempFilesOf(dir);
    if (removed.length > 0) {
      const names = removed.map((p) => p.slice(dir.length + 1)).sort().join(", ");
      await noteInLog(dir, "info", `Removed the temporary files the job left: ${names}`);
    }
  } catch (err) {
    if (!isSystemError(err)) throw err;
    log("jobs").warn("Cannot remove the temporary files in {dir}: {error}", {
      dir,
      error: messageOf(err),
    });
  }
}

/**
 * What a file takes on disk: its blocks where the system counts them (a job's small files take
 * 4 KiB each, 20 times their bytes), else its size.
 */
function diskBytes(info: Deno.FileInfo): number {
  return info.blocks !== null ? info.blocks * 512 : info.size;
}

/** Bytes `dir` and everything under it take on disk (0 when it is gone). */
async function dirBytes(dir: string): Promise<number> {
  let bytes = 0;
  try {
    bytes += diskBytes(await Deno.lstat(dir));
    for await (const e of Deno.readDir(dir)) {
      const path = joinPath(dir, e.name);
      if (e.isDirectory) bytes += await dirBytes(path);
      else bytes += diskBytes(await Deno.lstat(path));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return bytes;
}

/**
 * The executable this process may spawn to run `hashmap-cli` jobs: its own path, or `deno`
 * (`--allow-run=deno` grants the name on PATH, not the path of this executable); undefined
 * when neither is granted.
 */
export async function runnableExecutable(): Promise<string | undefined> {
  for (const command of [Deno.execPath(), "deno"]) {
    if ((await Deno.permissions.query({ name: "run", command })).state === "granted") {
      return command;
    }
  }
  return undefined;
}

/** The locks a job service holds on its root. */
interface RootLock {
  /** The root directory, locked too where the system can (null: not on Windows). */
  dir: Deno.FsFile | null;
  close(): void;
}

/**
 * Takes the job root's locks, `ROOT/.lock` and the directory itself (advisory flocks, released
 * when the process ends however it ends): two services on one root would each mark the other's
 * running jobs `Interrupted` and overwrite their records. `.lock` alone was not enough: deleted by
 * hand, it let a second service in.
 */
async function lockRoot(root: string): Promise<RootLock> {
  const inUse = () =>
    new IOError(`Job root ${JSON.stringify(root)} is in use by another job service`, {
      hint: "Give each server and each batch a job root of its own",
    });
  const file = await Deno.open(joinPath(root, ".lock"), { write: true, create: true });
  if (!(await file.tryLock(true))) {
    file.close();
    throw inUse();
  }
  let dir: Deno.FsFile | null = null;
  let locked = true;
  try {
    dir = await Deno.open(root, { read: true });
    locked = await dir.tryLock(true);
  } catch {
    dir?.close(); // a system that opens or locks no directory: `.lock` alone, then
    dir = null;
  }
  if (!locked) {
    dir!.close();
    file.close();
    throw inUse();
  }
  return {
    dir,
    close(): void {
      dir?.close();
      file.close();
    },
  };
}

/**
 * The absolute path of the jobs' config file, its directory resolved but not the file's own name:
 * a link (`current.toml -> v2.toml`) stays a link, so each job reads what it leads to when the
 * job starts, as a command run by hand would. BadInput unless it names a file now.
 */
async function configFile(path: string): Promise<string> {
  try {
    const absolute = joinPath(await Deno.realPath(dirOf(path)), baseOf(path));
    if ((await Deno.stat(absolute)).isFile) return absolute;
  } catch (err) {
    if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
      throw err;
    }
  }
  throw new BadInputError(`The jobs' config ${JSON.stringify(path)} is not a readable file`);
}

/** `path` and, when it is a link, the file it leads to now: what a job must be allowed to read. */
async function withTarget(path: string): Promise<string[]> {
  try {
    const real = await Deno.realPath(path);
    return real === path ? [path] : [path, real];
  } catch {
    return [path]; // gone: the job says so, naming the configured path
  }
}

/** Whether `err` is the system refusing a file operation (a full disk, a read-only file system). */
function isSystemError(err: unknown): boolean {
  if (err instanceof Deno.errors.NotCapable) return false; // Deno's permissions: a bug here
  return err instanceof IOError || systemMessage(err) !== null;
}

/** The artifacts a job left in its directory: its files but the service's own and temporaries. */
async function artifactsIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && !OWN_FILES.has(e.name) && !e.name.startsWith(".")) found.push(e.name);
  }
  return found.sort();
}

/** How a job's output names paths for its client: in plain text, and inside JSON text. */
export interface PathRewrite {
  /** Rewrites paths in plain text. */
  text(text: string): string;
  /** Rewrites paths in JSON text, as JSON strings spell them; the result is JSON still. */
  json(text: string): string;
}

/** A job's logs.ndjson: the child's stderr lines plus the service's own lines. */
export class JobLog {
  #file: Deno.FsFile;
  #path: string;
  #bytes = 0;
  #truncated = false;
  #broken = false;
  #encoder = new TextEncoder();
  /** Applied to each line copied from the child (the service's path rewriting). */
  rewrite: PathRewrite = { text: (t) => t, json: (t) => t };

  constructor(file: Deno.FsFile, path: string) {
    this.#file = file;
    this.#path = path;
  }

  /** Writes a line of the service itself. */
  note(level: "info" | "error", message: string): Promise<void> {
    return this.#write({
      "@timestamp": isoNow(),
      level: level.toUpperCase(),
      logger: "adhash.jobs",
      message,
    });
  }

  /**
   * Appends a record. A log that cannot be written (disk full) stops taking lines but never
   * fails the job: the child's output must still be drained and its end recorded.
   */
  async #write(record: Record<string, unknown>): Promise<void> {
    if (this.#broken) return;
    let bytes = this.#encoder.encode(`${JSON.stringify(record)}\n`);
    if (this.#bytes + bytes.length > MAX_LOG_BYTES) {
      if (this.#truncated) return;
      this.#truncated = true;
      const note = {
        "@timestamp": isoNow(),
        level: "WARNING",
        logger: "adhash.jobs",
        message: `Log truncated at ${MAX_LOG_BYTES} bytes`,
      };
      bytes = this.#encoder.encode(`${JSON.stringify(note)}\n`);
    }
    this.#bytes += bytes.length;
    try {
      await writeAll(this.#file, bytes);
    } catch (err) {
      this.#broken = true;
      log("jobs").error("Job log {path} cannot be written, later lines are dropped: {error}", {
        path: this.#path,
        error: messageOf(err),
      });
    }
  }

  /**
   * Copies a child's stderr, line by line: `--log-json` records as they are, other lines (the
   * error envelope among them) wrapped as a record. Resolves with the last non-empty line (the
   * error envelope of a failed command).
   */
  async copy(stream: ReadableStream<Uint8Array>): Promise<string> {
    const decoder = new TextDecoder();
    let rest = "";
    let last = "";
    const take = async (line: string): Promise<void> => {
      const raw = line.endsWith("\r") ? line.slice(0, -1) : line;
      if (raw.trim() === "") return;
      let value: unknown = null;
      try {
        value = JSON.parse(raw);
      } catch { /* not JSON */ }
      const json = value !== null && typeof value === "object" && !Array.isArray(value);
      const text = json ? this.rewrite.json(raw) : this.rewrite.text(raw);
      last = text;
      await this.#write(
        json && "@timestamp" in (value as object)
          ? (text === raw ? value : JSON.parse(text)) as Record<string, unknown>
          : { "@timestamp": isoNow(), level: "INFO", logger: "adhash.jobs.stderr", message: text },
      );
    };
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        await take(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
    }
    await take(rest + decoder.decode());
    return last;
  }
}

/**
 * Reads a stream whole, or null when it passes `max` bytes: the rest is read and dropped so the
 * child never blocks on it.
 */
async function readCapped(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<string | null> {
  const parts: Uint8Array[] = [];
  let size = 0;
  let full = false;
  for await (const chunk of stream) {
    if (full || size + chunk.length > max) {
      full = true;
      continue;
    }
    parts.push(chunk);
    size += chunk.length;
  }
  if (full) return null;
  const all = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return new TextDecoder().decode(all);
}

/** The data of the `{"ok":true,"command":...}` line a `--json` command printed last. */
function parseResult(stdout: string): Record<string, unknown> | null {
  const line = stdout.trimEnd().split("\n").pop() ?? "";
  try {
    const value = JSON.parse(line);
    if (value === null || typeof value !== "object" || value.ok !== true) return null;
    const { ok: _ok, command: _command, ...data } = value as Record<string, unknown>;
    return data;
  } catch {
    return null;
  }
}

/** The error envelope on a failed command's last stderr line, if it is one. */
function parseEnvelope(line: string): JobError | null {
  try {
    const v = JSON.parse(line);
    if (typeof v?.error !== "string" || typeof v?.detail !== "string") return null;
    return typeof v.hint === "string"
      ? { error: v.error, detail: v.detail, hint: v.hint }
      : { error: v.error, detail: v.detail };
  } catch {
    return null;
  }
}
