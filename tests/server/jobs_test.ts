import assert from "node:assert/strict";
import { createApp } from "../../src/server/app.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { JobLog, JobService, type JobServiceOptions } from "../../src/server/jobs.ts";
import { ApiError, ApiJob, ApiJobList } from "../../src/contracts/api.ts";
import { IOError } from "../../src/errors.ts";
import { RunSummary } from "../../src/contracts/run_summary.ts";
import { ProfileReport } from "../../src/contracts/profile.ts";
import { WorkloadDna } from "../../src/contracts/workload_dna.ts";
import { AbCompareReport } from "../../src/contracts/ab_compare.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../../src/workload/generate.ts";
import { waitFor } from "../_helpers.ts";
import { startMetricsServer } from "../../src/server/start.ts";
import { replayTicks } from "./_fixtures.ts";

const SLOW = new URL("./_slow_job.ts", import.meta.url).href;
const ROWS = 3000;

interface Fixture {
  dir: string;
  root: string;
  jobs: JobService;
  app: ReturnType<typeof createApp>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A job service over a temp dir holding `in/w.csv` (ROWS generated rows) and `in/bad.csv`. */
async function fixture(options: Partial<JobServiceOptions> = {}, token?: string): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "adhash_jobs_" });
  await Deno.mkdir(`${dir}/in`);
  const chunks = [...generateCsvChunks({ ...GENERATE_DEFAULTS, ops: ROWS, keySpace: 500 })];
  await Deno.writeFile(`${dir}/in/w.csv`, ReadableStream.from(chunks));
  await Deno.writeTextFile(`${dir}/in/bad.csv`, "op,key,value\nget,K1,\nbad,K2,\n");
  await Deno.writeTextFile(`${dir}/secret.csv`, "op,key,value\nget,K1,\n");
  await Deno.symlink(`${dir}/secret.csv`, `${dir}/in/link.csv`);
  const root = `${dir}/jobs`;
  const jobs = await JobService.open({ root, inputDir: `${dir}/in`, ...options });
  const app = createApp({ hub: new MetricsHub(), jobs, rateLimit: false, token });
  return {
    dir,
    root,
    jobs,
    app,
    async [Symbol.asyncDispose]() {
      await jobs.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function post(
  f: Fixture,
  body: unknown,
  kind = "run-csv",
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(f.app.request(`/api/jobs/${kind}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  }));
}

async function submit(f: Fixture, body: unknown, kind = "run-csv"): Promise<string> {
  const res = await post(f, body, kind);
  assert.equal(res.status, 202, await res.clone().text());
  const job = ApiJob.parse(await res.json());
  assert.equal(res.headers.get("Location"), `/api/jobs/${job.id}`);
  return job.id;
}

/** The job directories in the job root (its `.lock` aside). */
function jobDirs(f: Fixture): string[] {
  return [...Deno.readDirSync(f.root)].filter((e) => e.isDirectory).map((e) => e.name);
}

async function getJob(f: Fixture, id: string): Promise<ApiJob> {
  const res = await f.app.request(`/api/jobs/${id}`);
  assert.equal(res.status, 200);
  return ApiJob.parse(await res.json());
}

type ApiJob = ReturnType<typeof ApiJob.parse>;

Deno.test("POST /api/jobs/run-csv runs the replay and keeps its result, metrics and logs", async () => {
  await using f = await fixture();
  const id = await submit(f, { csv: "w.csv", snapshot: true });
  await f.jobs.settled(id);
  const job = await getJob(f, id);
  assert.equal(job.status, "completed", JSON.stringify(job.error));
  assert.equal(job.exit_code, 0);
  assert.equal(job.error, null);
  assert.ok(job.started_at !== null && job.finished_at !== null && job.duration_seconds! > 0);
  const summary = RunSummary.parse(job.result);
  assert.equal(summary.total_ops, ROWS);
  assert.equal(summary.mode, "adaptive");
  assert.deepEqual(job.artifacts, ["metrics.ndjson", "result.json", "snapshot.bin"]);
  // status.json on disk is the record the API serves; result.json is the result.
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${f.root}/${id}/status.json`)), job);
  const res = await f.app.request(`/api/jobs/${id}/artifacts/result.json`);
  assert.deepEqual(await res.json(), job.result);
  const metrics = await (await f.app.request(`/api/jobs/${id}/artifacts/metrics.ndjson`)).text();
  const ticks = metrics.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(ticks.length, summary.ticks);
  assert.equal(ticks.at(-1).ops, ROWS);
  const snap = await f.app.request(`/api/jobs/${id}/artifacts/snapshot.bin`);
  assert.equal(snap.headers.get("Content-Type"), "application/octet-stream");
  assert.equal(
    new TextDecoder().decode((await snap.bytes()).subarray(0, 8)),
    "ADHSNAP1",
  );
  const missing = await f.app.request(`/api/jobs/${id}/artifacts/status.json`);
  assert.equal(missing.status, 404);
  const logs = (await (await f.app.request(`/api/jobs/${id}/logs`)).text()).trimEnd().split("\n")
    .map((l) => JSON.parse(l));
  assert.match(logs[0].message, /^Started run-csv \(pid \d+\)$/);
  assert.match(logs.at(-1).message, /^Completed in /);
  // The child got real paths; clients see theirs: the input as requested, outputs by name.
  assert.equal(summary.csv, "w.csv");
  assert.equal(summary.metrics_file, "metrics.ndjson");
  assert.equal(summary.snapshot_out, "snapshot.bin");
  const real = await Deno.realPath(f.dir);
  assert.ok(!JSON.stringify(job).includes(real), JSON.stringify(job));
  assert.ok(!JSON.stringify(logs).includes(real), JSON.stringify(logs));
});

Deno.test("POST /api/jobs/run-csv passes the request's flags to run-csv", async () => {
  await using f = await fixture();
  const id = await submit(f, {
    csv: "w.csv",
    mode: "fast-insert",
    metrics: false,
    tick_every: 500,
    latency_buckets: "micro",
  });
  const job = await f.jobs.settled(id);
  const summary = RunSummary.parse(job!.result);
  assert.equal(summary.mode, "fast-insert");
  assert.equal(summary.final_backend, "chaining");
  assert.equal(summary.ticks, Math.ceil(ROWS / 500) + 1);
  assert.equal(summary.latency_histogram_preset, "micro");
  assert.deepEqual(job!.artifacts, ["result.json"]);
  const dry = await f.jobs.settled(await submit(f, { csv: "w.csv", dry_run: true }));
  assert.equal(dry!.result!.status, "validated");
  assert.equal(dry!.result!.rows, ROWS);
  const limited = await f.jobs.settled(await submit(f, { csv: "w.csv", csv_max_rows: 10 }));
  assert.equal(limited!.status, "failed");
  assert.equal(limited!.error!.detail, `CSV row limit exceeded (11 > 10)`);
  // Any safe integer, as first published; past the CLI's 2^40 it means the same: no limit.
  const huge = await f.jobs.settled(
    await submit(f, { csv: "w.csv", csv_max_rows: Number.MAX_SAFE_INTEGER, metrics: false }),
  );
  assert.equal(huge!.status, "completed", JSON.stringify(huge!.error));
});

Deno.test("a failing run-csv job carries the CLI's error envelope and leaves no outputs", async () => {
  await using f = await fixture();
  // The server's debug setting is its own: in a job it put stack traces, and the server's
  // install path, into the log that clients read.
  Deno.env.set("ADHASH_DEBUG", "1");
  let id: string;
  try {
    id = await submit(f, { csv: "bad.csv", snapshot: true });
  } finally {
    Deno.env.delete("ADHASH_DEBUG");
  }
  const job = await f.jobs.settled(id);
  assert.equal(job!.status, "failed");
  assert.equal(job!.exit_code, 2);
  assert.deepEqual(job!.error, {
    error: "BadInput",
    detail: "Unknown op 'bad' at line 3",
    hint: "See docs/workload_schema.md",
  });
  assert.equal(job!.result, null);
  assert.deepEqual(job!.artifacts, []);
  const logs = await (await f.app.request(`/api/jobs/${id}/logs`)).text();
  assert.match(logs, /Failed \(exit code 2\): Unknown op 'bad' at line 3/);
  // Every line is a log record; the envelope, which is not one, is wrapped as a stderr line.
  const records = logs.trim().split("\n").map((line) => JSON.parse(line));
  for (const r of records) assert.ok("@timestamp" in r && "level" in r && "logger" in r, r);
  const stderr = records.filter((r) => r.logger === "adhash.jobs.stderr");
  assert.deepEqual(stderr.map((r) => JSON.parse(r.message)), [job!.error]);
  assert.doesNotMatch(logs, /file:\/\/|\bat async\b/);
  // The job service's files are the server user's alone: requests and results hold clients' data.
  if (Deno.build.os !== "windows") {
    for (const dir of [f.root, `${f.root}/${id}`]) {
      assert.equal((Deno.statSync(dir).mode! & 0o777).toString(8), "700", dir);
    }
  }
});

Deno.test("a run-csv job's snapshot is compressed as compress says, whatever snapshot_in is", async () => {
  await using f = await fixture();
  const gz = await f.jobs.settled(
    await submit(f, { csv: "w.csv", metrics: false, snapshot: true, compress: true }),
  );
  assert.deepEqual(gz!.artifacts, ["result.json", "snapshot.bin.gz"]);
  const compressed = (bytes: Uint8Array) => (bytes[10]! & 1) === 1; // the header's flag
  const gzBytes = await Deno.readFile(`${f.root}/${gz!.id}/snapshot.bin.gz`);
  assert.ok(compressed(gzBytes));
  await Deno.writeFile(`${f.dir}/in/g.bin.gz`, gzBytes);
  const plain = await f.jobs.settled(
    await submit(f, { csv: "w.csv", metrics: false, snapshot: true, snapshot_in: "g.bin.gz" }),
  );
  assert.equal(plain!.status, "completed", JSON.stringify(plain!.error));
  assert.deepEqual(plain!.artifacts, ["result.json", "snapshot.bin"]);
  assert.ok(!compressed(await Deno.readFile(`${f.root}/${plain!.id}/snapshot.bin`)));
  // compress alone writes no snapshot, and the job's log says so.
  const alone = await f.jobs.settled(await submit(f, { csv: "w.csv", compress: true }));
  assert.equal(alone!.status, "completed", JSON.stringify(alone!.error));
  assert.deepEqual(alone!.artifacts, ["metrics.ndjson", "result.json"]);
  const logs = await (await f.app.request(`/api/jobs/${alone!.id}/logs`)).text();
  assert.match(logs, /compress does nothing without snapshot: no snapshot is written/);
});

Deno.test("jobs name inputs whose names hold quotes and backslashes as the request did", async () => {
  await using f = await fixture();
  const name = 'q"u\\ote.csv'; // q"u\ote.csv: JSON spells both characters escaped
  await Deno.symlink(`${f.dir}/in/w.csv`, `${f.dir}/in/${name}`);
  const ok = await f.jobs.settled(await submit(f, { csv: name, metrics: false, snapshot: true }));
  assert.equal(ok!.status, "completed", JSON.stringify(ok!.error));
  const summary = RunSummary.parse(ok!.result);
  assert.equal(summary.csv, name);
  assert.equal(summary.snapshot_out, "snapshot.bin");
  assert.deepEqual(ok!.artifacts, ["result.json", "snapshot.bin"]);
  const logs = await (await f.app.request(`/api/jobs/${ok!.id}/logs`)).text();
  assert.ok(!logs.includes(f.dir) && !logs.includes(await Deno.realPath(f.dir)), logs);
  for (const line of logs.trimEnd().split("\n")) JSON.parse(line);
  // A snapshot that is none: the CLI's own error, naming the file as the request did.
  const junk = 'j"unk.bin';
  await Deno.writeTextFile(`${f.dir}/in/${junk}`, "not a snapshot");
  const bad = await f.jobs.settled(await submit(f, { csv: "w.csv", snapshot_in: junk }));
  assert.equal(bad!.status, "failed");
  assert.equal(bad!.exit_code, 5);
  assert.equal(bad!.error?.error, "IO");
  assert.equal(bad!.error?.detail, "Bad magic");
  assert.ok(bad!.error?.hint?.includes(junk), bad!.error?.hint);
  assert.ok(!JSON.stringify(bad).includes(f.dir), JSON.stringify(bad));
});

Deno.test("POST /api/jobs/run-csv refuses bad requests with 400 and starts nothing", async () => {
  await using f = await fixture();
  // Hidden files (a `.env` beside the server) are not inputs, named or reached by a link.
  await Deno.writeTextFile(`${f.dir}/in/.env`, "SECRET=1\n");
  await Deno.mkdir(`${f.dir}/in/.cache`);
  await Deno.copyFile(`${f.dir}/in/w.csv`, `${f.dir}/in/.cache/w.csv`);
  await Deno.symlink(".env", `${f.dir}/in/env.csv`);
  const cases: Array<[unknown, RegExp]> = [
    [{ csv: ".env" }, /^csv ".env" is hidden \(a name starting with "\."\): not a job input$/],
    [{ csv: "./.cache/w.csv" }, /csv ".\/.cache\/w.csv" is hidden/],
    [{ csv: "env.csv" }, /csv "env.csv" is hidden/],
    [{ csv: "w.csv", snapshot_in: ".env" }, /snapshot_in ".env" is hidden/],
    [{ csv: "../secret.csv" }, /must be a relative path inside the input directory/],
    [{ csv: `${f.dir}/secret.csv` }, /must be a relative path inside the input directory/],
    [{ csv: "link.csv" }, /is not a file inside the input directory/],
    [{ csv: "nope.csv" }, /"nope.csv" does not exist/],
    [{ csv: "w.csv\u0000x" }, /is not a usable path/],
    [{ csv: "w\ud800.csv" }, /holds a lone surrogate or U\+FFFD: no file can be named so/],
    [{ csv: "w\ufffd.csv" }, /holds a lone surrogate or U\+FFFD/],
    [{ csv: "w.csv", snapshot_in: "nope.bin" }, /snapshot_in "nope.bin" does not exist/],
    [{ csv: "w.csv", extra: 1 }, /Unrecognized key: "extra"/],
    [{ csv: "w.csv", mode: "fast" }, /^Invalid run-csv request: mode: /],
    [{ csv: "w.csv", timeout_seconds: 0 }, /timeout_seconds/],
    [{}, /csv/],
    ["{not json", /^request body is not JSON: .*JSON at position 1/],
    ['{"csv":', /^request body is not JSON: Unexpected end of JSON input$/],
  ];
  for (const [body, detail] of cases) {
    const res = await post(f, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const err = ApiError.parse(await res.json());
    assert.equal(err.error, "BadInput");
    assert.match(err.detail, detail);
  }
  // Bytes that are not UTF-8 are the body's fault, not a path's.
  const bytes = await f.app.request("/api/jobs/run-csv", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: new Uint8Array([
      ...new TextEncoder().encode('{"csv":"w'),
      0xff,
      ...new TextEncoder().encode('.csv"}'),
    ]),
  });
  assert.equal(bytes.status, 400);
  assert.equal(ApiError.parse(await bytes.json()).detail, "request body is not UTF-8");
  const kind = await post(f, { csv: "w.csv" }, "rm-rf");
  assert.equal(kind.status, 404);
  assert.equal((await kind.json()).hint, "Kinds: run-csv, workload-dna, ab-compare, profile");
  assert.deepEqual(jobDirs(f), []);
  const list = ApiJobList.parse(await (await f.app.request("/api/jobs")).json());
  assert.equal(list.count, 0);
});

Deno.test("jobs wait for a free slot, and DELETE cancels waiting and running jobs", async () => {
  await using f = await fixture({ script: SLOW, maxJobs: 1, killAfterMs: 5000 });
  const first = await submit(f, { csv: "w.csv" });
  const second = await submit(f, { csv: "w.csv" });
  // Cancel once the job has set up its SIGTERM handler, as the CLI has by its first log line.
  await waitFor(async () =>
    /working on/.test(await (await f.app.request(`/api/jobs/${first}/logs?follow=0`)).text())
  );
  assert.equal((await getJob(f, first)).status, "running");
  assert.equal((await getJob(f, second)).status, "pending");
  const list = ApiJobList.parse(await (await f.app.request("/api/jobs")).json());
  assert.deepEqual([list.running, list.pending, list.max_jobs], [1, 1, 1]);
  assert.deepEqual(list.jobs.map((j) => j.id), [second, first]);
  // Two at once: the job never runs, so neither answer is 202 ("ends shortly").
  const [pending, twice] = await Promise.all([
    f.app.request(`/api/jobs/${second}`, { method: "DELETE" }),
    f.app.request(`/api/jobs/${second}`, { method: "DELETE" }),
  ]);
  assert.equal(pending.status, 200);
  assert.equal(ApiJob.parse(await pending.json()).status, "cancelled");
  const other = await twice.json();
  if (twice.status === 200) assert.equal(ApiJob.parse(other).status, "cancelled");
  else assert.deepEqual([twice.status, other.error], [409, "Conflict"]);
  // Its log says why it never ran, as a cancelled running job's does.
  const waited = await (await f.app.request(`/api/jobs/${second}/logs`)).text();
  assert.match(
    waited,
    /"level":"INFO","logger":"adhash\.jobs","message":"Cancelled before it started"/,
  );
  const running = await f.app.request(`/api/jobs/${first}`, { method: "DELETE" });
  assert.equal(running.status, 202);
  assert.equal(ApiJob.parse(await running.json()).cancel_requested, true);
  const job = await f.jobs.settled(first);
  assert.equal(job!.status, "cancelled");
  assert.equal(job!.exit_code, 143);
  const again = await f.app.request(`/api/jobs/${first}`, { method: "DELETE" });
  assert.equal(again.status, 409);
  assert.equal((await again.json()).error, "Conflict");
  const logs = await (await f.app.request(`/api/jobs/${first}/logs`)).text();
  assert.match(logs, /stopping on SIGTERM/);
  assert.match(logs, /"logger":"adhash.jobs.stderr","message":"a plain text line"/);
  assert.match(logs, /Cancelled \(exit code 143\)/);
  const none = await f.app.request(`/api/jobs/20260101T000000Z-000000`, { method: "DELETE" });
  assert.equal(none.status, 404);
});

Deno.test("a job past its timeout_seconds fails with Timeout; one ignoring SIGTERM is killed", async () => {
  Deno.env.set("SLOW_JOB_IGNORE_TERM", "1");
  try {
    await using f = await fixture({ script: SLOW, killAfterMs: 200 });
    const id = await submit(f, { csv: "w.csv", timeout_seconds: 0.3 });
    const job = await f.jobs.settled(id);
    assert.equal(job!.status, "failed");
    assert.equal(job!.error!.error, "Timeout");
    assert.match(job!.error!.detail, /timeout_seconds \(0.3\)/);
    assert.ok(job!.duration_seconds! >= 0.45, String(job!.duration_seconds));
  } finally {
    Deno.env.delete("SLOW_JOB_IGNORE_TERM");
  }
});

Deno.test("a job ended by SIGKILL has the temporary files it left removed, and only those", async () => {
  Deno.env.set("SLOW_JOB_IGNORE_TERM", "1");
  Deno.env.set("SLOW_JOB_TEMP", "1");
  try {
    await using f = await fixture({ script: SLOW, killAfterMs: 100 });
    const id = await submit(f, { csv: "w.csv" });
    const dir = `${f.root}/${id}`;
    await waitFor(async () =>
      /working on/.test(await (await f.app.request(`/api/jobs/${id}/logs?follow=0`)).text())
    );
    // Another process's temporary file, and a file of the job's own that looks like one.
    await Deno.writeTextFile(`${dir}/.snapshot.bin.1.12345.tmp`, "not this job's");
    await Deno.writeTextFile(`${dir}/sub/.notes.tmp`, "kept");
    await f.jobs.cancel(id);
    const job = await f.jobs.settled(id);
    assert.equal(job!.status, "cancelled");
    assert.deepEqual(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
      [".snapshot.bin.1.12345.tmp", "logs.ndjson", "request.json", "status.json", "sub"],
    );
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), [".notes.tmp"]);
    const logs = await (await f.app.request(`/api/jobs/${id}/logs`)).text();
    assert.match(
      logs,
      /Removed the temporary files the job left: \.snapshot\.bin\.\d+\.12345\.tmp, sub\/\.metrics\.json\.\d+\.678\.tmp/,
    );
  } finally {
    Deno.env.delete("SLOW_JOB_IGNORE_TERM");
    Deno.env.delete("SLOW_JOB_TEMP");
  }
});

Deno.test("GET /api/jobs/{id}/logs follows a running job until it ends", async () => {
  await using f = await fixture({ script: SLOW });
  const id = await submit(f, { csv: "w.csv" });
  const res = await f.app.request(`/api/jobs/${id}/logs`);
  assert.equal(res.headers.get("Content-Type"), "application/x-ndjson; charset=utf-8");
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("a plain text line")) text += (await reader.read()).value ?? "";
  assert.match(text, /working on --json --log-json --mode adaptive run-csv --csv /);
  // A job's metrics are bounded, whatever its tick_every.
  assert.match(text, / --metrics-max-ticks 50000\b/);
  // The job learns its service's pid, to stop should the service die first.
  assert.match(text, new RegExp(`"parent ${Deno.pid}"`));
  await f.jobs.cancel(id);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  assert.match(text, /Cancelled/);
  const now = await f.app.request(`/api/jobs/${id}/logs?follow=0`);
  assert.equal(await now.text(), text);
});

Deno.test("the job queue is bounded: a full queue answers 503 Busy", async () => {
  await using f = await fixture({ script: SLOW, maxJobs: 1, maxPending: 1 });
  await submit(f, { csv: "w.csv" });
  await submit(f, { csv: "w.csv" });
  const res = await post(f, { csv: "w.csv" });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("Retry-After"), "5");
  assert.equal((await res.json()).error, "Busy");
});

/** The `status.json` of a `run-csv` job a server left running when it stopped. */
function leftRunning(id: string, request: Record<string, unknown>): string {
  return JSON.stringify({
    schema: "api.job.v1",
    id,
    kind: "run-csv",
    status: "running",
    created_at: "2026-11-23T12:00:00.000Z",
    started_at: "2026-11-23T12:00:00.100Z",
    finished_at: null,
    duration_seconds: null,
    request,
    cancel_requested: false,
    exit_code: null,
    error: null,
    result: null,
    artifacts: [],
  });
}

Deno.test("JobService.open() marks jobs a stopped server left running as Interrupted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_jobs_" });
  try {
    const id = "20261123T120000Z-abcdef";
    await Deno.mkdir(`${dir}/${id}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${id}/status.json`, leftRunning(id, { csv: "w.csv" }));
    await Deno.mkdir(`${dir}/20261123T120001Z-000000`); // no status.json: skipped
    await Deno.mkdir(`${dir}/not-a-job`);
    const jobs = await JobService.open({ root: dir });
    const job = await jobs.settled(id);
    assert.equal(job!.status, "failed");
    assert.equal(job!.error!.error, "Interrupted");
    assert.match(job!.error!.detail, /while the job was running/);
    assert.match(
      await Deno.readTextFile(`${dir}/${id}/logs.ndjson`),
      /"message":"Failed: The server stopped while the job was running"/,
    );
    assert.deepEqual((await Array.fromAsync(jobs.list(10).records)).map((j) => j.id), [id]);
    const saved = ApiJob.parse(JSON.parse(await Deno.readTextFile(`${dir}/${id}/status.json`)));
    assert.equal(saved.status, "failed");
    await jobs.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JobService.open() removes the temporary files of jobs killed with their server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_jobs_" });
  try {
    const id = "20261123T120000Z-abcdef";
    const job = `${dir}/${id}`;
    await Deno.mkdir(`${job}/sub`, { recursive: true });
    await Deno.writeTextFile(
      `${job}/status.json`,
      leftRunning(id, { csv: "w.csv", snapshot: true }),
    );
    // What `kill -KILL -- -PGID` left: the job's snapshot and the server's record half-written.
    await Deno.writeTextFile(`${job}/.snapshot.bin.4242.123456.tmp`, "half a snapshot");
    await Deno.writeTextFile(`${job}/sub/.metrics.ndjson.4242.9.tmp`, "half the ticks");
    await Deno.writeTextFile(`${job}/.status.json.4200.77.tmp`, "{");
    await Deno.writeTextFile(`${job}/notes.tmp`, "not a temporary file of adhash's");
    const jobs = await JobService.open({ root: dir });
    try {
      assert.equal((await jobs.settled(id))!.error!.error, "Interrupted");
      assert.deepEqual(
        [...Deno.readDirSync(job)].map((e) => e.name).sort(),
        ["logs.ndjson", "notes.tmp", "status.json", "sub"],
      );
      assert.deepEqual([...Deno.readDirSync(`${job}/sub`)], []);
      assert.match(
        await Deno.readTextFile(`${job}/logs.ndjson`),
        /Removed the temporary files the job left: \.snapshot\.bin\.4242\.123456\.tmp, \.status\.json\.4200\.77\.tmp, sub\/\.metrics\.ndjson\.4242\.9\.tmp/,
      );
    } finally {
      await jobs.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JobService.open() refuses a job root another service holds, until it closes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_jobs_" });
  try {
    const first = await JobService.open({ root: dir });
    await assert.rejects(
      JobService.open({ root: dir }),
      (err: unknown) =>
        err instanceof IOError && /is in use by another job service$/.test(err.message),
    );
    // Another process (a second server, a batch) is refused as well.
    const other = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open(${JSON.stringify(`${dir}/.lock`)}, { write: true });` +
        "console.log(await f.tryLock(true));",
      ],
    }).output();
    assert.equal(new TextDecoder().decode(other.stdout).trim(), "false");
    await first.close();
    const second = await JobService.open({ root: dir });
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/api/jobs needs the token like every /api route, and is 404 when the service is off", async () => {
  await using f = await fixture({}, "s3cret");
  assert.equal((await f.app.request("/api/jobs")).status, 401);
  assert.equal((await post(f, { csv: "w.csv" })).status, 401);
  const ok = await f.app.request("/api/jobs", { headers: { Authorization: "Bearer s3cret" } });
  assert.equal(ok.status, 200);
  const off = createApp({ hub: new MetricsHub(), rateLimit: false });
  for (const [path, method] of [["/api/jobs", "GET"], ["/api/jobs/run-csv", "POST"]] as const) {
    const res = await off.request(path, { method });
    assert.equal(res.status, 404);
    const err = ApiError.parse(await res.json());
    assert.equal(err.detail, "the job service is off");
    assert.match(err.hint!, /--job-root/);
  }
});

Deno.test("GET /api/jobs validates its query", async () => {
  await using f = await fixture();
  assert.equal((await f.app.request("/api/jobs?status=done")).status, 400);
  for (const bad of ["x", "-1", "1.5"]) {
    const res = await f.app.request(`/api/jobs?limit=${bad}`);
    assert.equal(res.status, 400);
    const err = ApiError.parse(await res.json());
    assert.equal(err.detail, `query limit="${bad}" is not a non-negative integer`);
  }
  assert.equal((await f.app.request("/api/jobs?limit=5000&status=failed")).status, 200);
});

/** A finished job's record, as a server leaves it in `root`. */
async function storeJob(
  root: string,
  id: string,
  createdAt: string,
  result: Record<string, unknown> | null = null,
): Promise<void> {
  await Deno.mkdir(`${root}/${id}`, { recursive: true });
  const record = {
    schema: "api.job.v1",
    id,
    kind: "run-csv",
    status: "completed",
    created_at: createdAt,
    started_at: createdAt,
    finished_at: createdAt,
    duration_seconds: 0.001,
    request: { csv: "w.csv" },
    cancel_requested: false,
    exit_code: 0,
    error: null,
    result,
    artifacts: result === null ? [] : ["result.json"],
  };
  await Deno.writeTextFile(`${root}/${id}/status.json`, JSON.stringify(record, null, 2));
  if (result !== null) {
    await Deno.writeTextFile(`${root}/${id}/result.json`, JSON.stringify(result, null, 2));
  }
}

Deno.test("GET /api/jobs clamps limit like the other routes: 0 lists one, any larger all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_jobs_" });
  try {
    for (let i = 0; i < 60; i++) {
      const ms = String(i).padStart(3, "0");
      const suffix = (0xffffff - i).toString(16);
      await storeJob(dir, `20261123T120000Z-${suffix}`, `2026-11-23T12:00:00.${ms}Z`);
    }
    const jobs = await JobService.open({ root: dir });
    try {
      const app = createApp({ hub: new MetricsHub(), jobs, rateLimit: false });
      const list = async (query: string): Promise<number> => {
        const res = await app.request(`/api/jobs${query}`);
        assert.equal(res.status, 200, await res.clone().text());
        return ApiJobList.parse(await res.json()).count;
      };
      assert.equal(await list(""), 50);
      assert.equal(await list("?limit=0"), 1);
      assert.equal(await list("?limit=99999999999999999999"), 60);
      assert.equal(await list("?limit=1000"), 60);
    } finally {
      await jobs.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("after a restart, jobs of one second are listed and kept newest first by created_at", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_jobs_" });
  try {
    // Ids of one second sort by their random suffix, not by when the jobs were made.
    await storeJob(dir, "20261123T120000Z-ffffff", "2026-11-23T12:00:00.100Z");
    await storeJob(dir, "20261123T120000Z-888888", "2026-11-23T12:00:00.500Z");
    await storeJob(dir, "20261123T120000Z-000001", "2026-11-23T12:00:00.900Z");
    // Made at the end of a second, its id took the next one (before ids used created_at).
    await storeJob(dir, "20261123T120001Z-000000", "2026-11-23T12:00:00.999Z");
    await storeJob(dir, "20261123T115959Z-ffffff", "2026-11-23T11:59:59.000Z");
    const ids = async (maxRecords: number): Promise<string[]> => {
      const jobs = await JobService.open({ root: dir, maxRecords });
      try {
        const app = createApp({ hub: new MetricsHub(), jobs, rateLimit: false });
        const res = await app.request("/api/jobs");
        return ApiJobList.parse(await res.json()).jobs.map((j) => j.id);
      } finally {
        await jobs.close();
      }
    };
    assert.deepEqual(await ids(1000), [
      "20261123T120001Z-000000",
      "20261123T120000Z-000001",
      "20261123T120000Z-888888",
      "20261123T120000Z-ffffff",
      "20261123T115959Z-ffffff",
    ]);
    // The same order decides which jobs are the newest kept.
    assert.deepEqual(await ids(2), ["20261123T120001Z-000000", "20261123T120000Z-000001"]);
    assert.deepEqual(await ids(3), [
      "20261123T120001Z-000000",
      "20261123T120000Z-000001",
      "20261123T120000Z-888888",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("JobService.close() cancels running and waiting jobs and refuses new ones", async () => {
  await using f = await fixture({ script: SLOW, maxJobs: 1 });
  const first = await submit(f, { csv: "w.csv" });
  const second = await submit(f, { csv: "w.csv" });
  await waitFor(async () => (await getJob(f, first)).status === "running");
  await f.jobs.close();
  assert.equal((await getJob(f, first)).status, "cancelled");
  assert.equal((await getJob(f, second)).status, "cancelled");
  const res = await post(f, { csv: "w.csv" });
  assert.equal(res.status, 503);
  assert.match((await res.json()).detail, /shutting down/);
});

Deno.test("POST /api/jobs/workload-dna analyses the workload and returns its report", async () => {
  await using f = await fixture();
  const id = await submit(f, { csv: "w.csv", top_keys: 3 }, "workload-dna");
  const job = await f.jobs.settled(id);
  assert.equal(job!.status, "completed", JSON.stringify(job!.error));
  const report = WorkloadDna.parse(job!.result);
  assert.equal(report.rows, ROWS);
  assert.equal(report.top_keys.length, 3);
  assert.deepEqual(job!.artifacts, ["result.json"]);
  const bad = await f.jobs.settled(await submit(f, { csv: "bad.csv" }, "workload-dna"));
  assert.equal(bad!.error!.detail, "Unknown op 'bad' at line 3");
  const res = await post(f, { csv: "w.csv", top_keys: -1 }, "workload-dna");
  assert.equal(res.status, 400);
  assert.match((await res.json()).detail, /^Invalid workload-dna request: top_keys: /);
});

/** Replaces the result in a job's status.json, as if on disk it differed from memory. */
async function editStoredResult(
  root: string,
  id: string,
  edit: (result: Record<string, unknown>) => unknown,
): Promise<void> {
  const path = `${root}/${id}/status.json`;
  const record = JSON.parse(await Deno.readTextFile(path));
  record.result = edit(record.result);
  await Deno.writeTextFile(path, JSON.stringify(record));
}

/** The jobs `GET /api/jobs` lists, asked for gzip (the body is streamed, record by record). */
async function listedJobs(app: Fixture["app"]): Promise<ApiJob[]> {
  const res = await app.request("/api/jobs?limit=1000", {
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Content-Type"), "application/json");
  assert.equal(res.headers.get("Content-Encoding"), "gzip");
  const text = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text();
  const list = ApiJobList.parse(JSON.parse(text));
  assert.equal(list.count, list.jobs.length);
  return list.jobs;
}

Deno.test("a large job result is read from the job's directory, not kept in memory", async () => {
  await using f = await fixture();
  // 400 top keys make a result of ~35 KB; 3 make one of ~1.5 KB, which stays in memory.
  const large = await submit(f, { csv: "w.csv", top_keys: 400 }, "workload-dna");
  const small = await submit(f, { csv: "w.csv", top_keys: 3 }, "workload-dna");
  const job = await f.jobs.settled(large);
  assert.equal(job!.status, "completed", JSON.stringify(job!.error));
  await f.jobs.settled(small);
  const stored = JSON.parse(await Deno.readTextFile(`${f.root}/${large}/result.json`));
  assert.equal(WorkloadDna.parse(stored).top_keys.length, 400);
  assert.deepEqual(job!.result, stored);
  assert.deepEqual((await getJob(f, large)).result, stored);
  assert.deepEqual((await f.jobs.cancel(large))!.result, stored); // returned unchanged
  const listed = await listedJobs(f.app);
  assert.deepEqual(listed.map((j) => j.id), [small, large]);
  assert.deepEqual(listed[1]!.result, stored);
  assert.equal(WorkloadDna.parse(listed[0]!.result).top_keys.length, 3);
  // Where each comes from: status.json for the large one, memory for the small one.
  const mark = (r: Record<string, unknown>) => ({ ...r, rows: -1 });
  await editStoredResult(f.root, large, mark);
  await editStoredResult(f.root, small, mark);
  assert.equal((await getJob(f, large)).result!.rows, -1);
  assert.equal((await getJob(f, small)).result!.rows, ROWS);
  assert.deepEqual((await listedJobs(f.app)).map((j) => j.result!.rows), [ROWS, -1]);
  // Another job's status.json copied over its own: not that job's result, but its result.json.
  await Deno.copyFile(`${f.root}/${small}/status.json`, `${f.root}/${large}/status.json`);
  assert.deepEqual((await getJob(f, large)).result, stored);
  // Without its status.json, the result is still the job's result.json.
  await Deno.remove(`${f.root}/${large}/status.json`);
  assert.deepEqual((await getJob(f, large)).result, stored);
  // Without either, the record is still served, without its result.
  await Deno.remove(`${f.root}/${large}/result.json`);
  const lost = await getJob(f, large);
  assert.equal(lost.status, "completed");
  assert.equal(lost.result, null);
});

Deno.test("a job whose result is larger than the service keeps fails instead of completing without it", async () => {
  await using f = await fixture();
  // 10,000 keys of 600 characters as top keys: a result of ~6.5 MB, over the 4 MiB kept.
  const rows = ["op,key,value"];
  for (let i = 0; i < 10_000; i++) rows.push(`put,K${String(i).padStart(600, "0")},1`);
  await Deno.writeTextFile(`${f.dir}/in/long.csv`, rows.join("\n") + "\n");
  const id = await submit(f, { csv: "long.csv", top_keys: 10_000 }, "workload-dna");
  const job = await f.jobs.settled(id);
  assert.equal(job!.status, "failed");
  assert.equal(job!.exit_code, 0);
  assert.deepEqual(job!.error, {
    error: "BadInput",
    detail: "The job's result is larger than the 4 MiB the service keeps",
    hint: "Ask for less (top_keys, say), or run the command with hashmap-cli",
  });
  assert.equal(job!.result, null);
  const logs = await (await f.app.request(`/api/jobs/${id}/logs?follow=0`)).text();
  assert.match(logs, /Failed \(exit code 0\): The job's result is larger than the 4 MiB/);
});

Deno.test("after a restart, large results stay on disk and are listed whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_jobs_" });
  try {
    const big = { rows: 1, keys: Array.from({ length: 2000 }, (_, i) => `key-${i}`) };
    await storeJob(dir, "20261123T120000Z-000001", "2026-11-23T12:00:00.000Z", big);
    await storeJob(dir, "20261123T120001Z-000001", "2026-11-23T12:00:01.000Z", { rows: 2 });
    const jobs = await JobService.open({ root: dir });
    try {
      const app = createApp({ hub: new MetricsHub(), jobs, rateLimit: false });
      assert.deepEqual((await listedJobs(app)).map((j) => j.result), [{ rows: 2 }, big]);
      await editStoredResult(dir, "20261123T120000Z-000001", (r) => ({ ...r, rows: -1 }));
      await editStoredResult(dir, "20261123T120001Z-000001", (r) => ({ ...r, rows: -2 }));
      assert.deepEqual((await listedJobs(app)).map((j) => j.result!.rows), [2, -1]);
      assert.equal((await jobs.get("20261123T120000Z-000001"))!.result!.rows, -1);
    } finally {
      await jobs.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("POST /api/jobs/ab-compare compares two modes and keeps the report and metrics", async () => {
  await using f = await fixture();
  await Deno.writeTextFile(`${f.dir}/in/tight.toml`, "[adaptive]\nmax_lf_chaining = 0.5\n");
  const id = await submit(f, {
    csv: "w.csv",
    candidate_mode: "fast-insert",
    candidate_label: "chain",
    candidate_config: "tight.toml",
    warmup_rows: 0,
  }, "ab-compare");
  const job = await f.jobs.settled(id);
  assert.equal(job!.status, "completed", JSON.stringify(job!.error));
  const report = AbCompareReport.parse(job!.result);
  assert.equal(report.candidate.label, "chain");
  assert.equal(report.candidate.summary.final_backend, "chaining");
  assert.match(String(report.candidate.config), /tight\.toml$/);
  assert.deepEqual(job!.artifacts, [
    "ab.json",
    "ab.md",
    "baseline.metrics.ndjson",
    "chain.metrics.ndjson",
    "result.json",
  ]);
  const md = await f.app.request(`/api/jobs/${id}/artifacts/ab.md`);
  assert.equal(md.headers.get("Content-Type"), "text/markdown; charset=utf-8");
  const mdText = await md.text();
  assert.match(mdText, /chain/);
  // The reports name paths as the result does: where the server keeps files stays its own.
  const ab = await (await f.app.request(`/api/jobs/${id}/artifacts/ab.json`)).json();
  assert.deepEqual(ab, job!.result);
  assert.equal(report.csv, "w.csv");
  for (const text of [JSON.stringify(ab), mdText]) {
    assert.ok(!text.includes(f.dir) && !text.includes(await Deno.realPath(f.dir)), text);
  }
  assert.match(mdText, /w\.csv/);
  // Labels name the sides' files: equal ones (in any case) are refused at submission.
  const same = await post(
    f,
    { csv: "w.csv", baseline_label: "X", candidate_label: "x" },
    "ab-compare",
  );
  assert.equal(same.status, 400);
  assert.match((await same.json()).detail, /baseline_label and candidate_label must differ/);
  // A label's file would be hidden, and left out of the job's artifacts.
  const dotted = await post(
    f,
    { csv: "w.csv", baseline_label: "..", candidate_label: "." },
    "ab-compare",
  );
  assert.equal(dotted.status, 400);
  assert.match((await dotted.json()).detail, /may not start with '\.'/);
  const escape = await post(f, { csv: "w.csv", baseline_config: "../secret.csv" }, "ab-compare");
  assert.equal(escape.status, 400);
  assert.match(
    (await escape.json()).detail,
    /^baseline_config "..\/secret.csv" must be a relative/,
  );
});

Deno.test("/api/jobs answers a method it does not take with 405 and Allow", async () => {
  await using f = await fixture();
  const list = await f.app.request("/api/jobs", { method: "POST" });
  assert.equal(list.status, 405);
  assert.equal(list.headers.get("Allow"), "GET, HEAD, OPTIONS");
  const one = await f.app.request("/api/jobs/20261123T120501Z-a1b2c3", { method: "PUT" });
  assert.equal(one.status, 405);
  assert.equal(one.headers.get("Allow"), "DELETE, GET, HEAD, OPTIONS");
  assert.equal(ApiError.parse(await one.json()).error, "MethodNotAllowed");
  // A kind's path is also a (missing) job's: both sets of methods.
  const kind = await f.app.request("/api/jobs/profile", { method: "PUT" });
  assert.equal(kind.headers.get("Allow"), "DELETE, GET, HEAD, OPTIONS, POST");
  await kind.body?.cancel();
  // A job that exists: POST on its path is the wrong method, not a job kind missing.
  const id = await submit(f, { csv: "w.csv", dry_run: true });
  const post = await f.app.request(`/api/jobs/${id}`, { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("Allow"), "DELETE, GET, HEAD, OPTIONS");
  assert.equal(ApiError.parse(await post.json()).detail, `POST is not allowed on /api/jobs/${id}`);
  await f.jobs.settled(id);
  const preflight = await f.app.request("/api/jobs/20261123T120501Z-a1b2c3", {
    method: "OPTIONS",
    headers: { Origin: "http://example.test", "Access-Control-Request-Method": "DELETE" },
  });
  // Without a token there is no CORS: the job routes refuse another site's page outright.
  assert.equal(preflight.status, 403);
  assert.equal(preflight.headers.get("Access-Control-Allow-Methods"), null);
  await preflight.body?.cancel();
  const own = await f.app.request("/api/jobs/20261123T120501Z-a1b2c3", { method: "OPTIONS" });
  assert.equal(own.status, 204);
  assert.equal(own.headers.get("Allow"), "DELETE, GET, HEAD, OPTIONS");
});

Deno.test("POST /api/jobs/profile profiles every mode and keeps profile.json", async () => {
  await using f = await fixture();
  const id = await submit(f, { csv: "w.csv", sample_rows: 500, repeat: 1 }, "profile");
  const job = await f.jobs.settled(id);
  assert.equal(job!.status, "completed", JSON.stringify(job!.error));
  const report = ProfileReport.parse(job!.result);
  assert.equal(report.sample_rows, Math.min(500, ROWS));
  assert.equal(report.modes.length, 4);
  assert.deepEqual(job!.artifacts, ["profile.json", "result.json"]);
  // The result and the artifact name the input as the request did.
  assert.equal(report.csv, "w.csv");
  const file = await f.app.request(`/api/jobs/${id}/artifacts/profile.json`);
  assert.deepEqual(await file.json(), report);
  const res = await post(f, { csv: "w.csv", repeat: 0 }, "profile");
  assert.equal(res.status, 400);
  assert.match((await res.json()).detail, /^Invalid profile request: repeat: /);
  // Any safe integer, as first published: past the CLI's 2^40 rows it means the same.
  const huge = await f.jobs.settled(
    await submit(f, { csv: "w.csv", sample_rows: 2 ** 41, repeat: 1 }, "profile"),
  );
  assert.equal(huge!.status, "completed", JSON.stringify(huge!.error));
  assert.equal(ProfileReport.parse(huge!.result).sample_rows, ROWS);
  const unsafe = await post(f, { csv: "w.csv", sample_rows: 2 ** 53 }, "profile");
  assert.equal(unsafe.status, 400);
  assert.match((await unsafe.json()).detail, /^Invalid profile request: sample_rows: /);
});

Deno.test("a cancel while a job starts ends it before its process starts", async () => {
  await using f = await fixture({ script: SLOW, maxJobs: 1 });
  // submit() leaves the job starting (its log file being opened); cancelling before anything
  // else gets a turn of the event loop catches it there every time. Over HTTP the same cancel
  // may instead land once the process runs, which other tests cover.
  const { id } = await f.jobs.submit("run-csv", { csv: "w.csv" });
  const record = (await f.jobs.cancel(id))!;
  assert.equal(record.status, "pending"); // "running" only once its process exists
  assert.equal(record.cancel_requested, true);
  const job = await f.jobs.settled(id);
  assert.equal(job!.status, "cancelled");
  assert.equal(job!.started_at, null);
  const logs = await (await f.app.request(`/api/jobs/${id}/logs`)).text();
  assert.match(logs, /Cancelled before it started/);
  assert.doesNotMatch(logs, /Started/);
});

Deno.test("cancelling one waiting job leaves the others queued", async () => {
  await using f = await fixture({ script: SLOW, maxJobs: 1 });
  const [a, b, c] = [await submit(f, { csv: "w.csv" }), await submit(f, { csv: "w.csv" })].concat(
    await submit(f, { csv: "w.csv" }),
  );
  assert.equal((await f.app.request(`/api/jobs/${b}`, { method: "DELETE" })).status, 200);
  assert.equal((await getJob(f, c!)).status, "pending");
  const list = ApiJobList.parse(await (await f.app.request("/api/jobs?status=pending")).json());
  assert.deepEqual(list.jobs.map((j) => j.id), [c]);
  assert.equal(list.pending, 1);
  // A waiting job's log exists (empty) and can be read.
  const logs = await f.app.request(`/api/jobs/${c}/logs?follow=0`);
  assert.equal(logs.status, 200);
  assert.equal(await logs.text(), "");
  await f.jobs.cancel(a!);
  await waitFor(async () => (await getJob(f, c!)).status === "running");
});

Deno.test("the queue bound holds under concurrent submissions", async () => {
  await using f = await fixture({ script: SLOW, maxJobs: 1, maxPending: 5 });
  await submit(f, { csv: "w.csv" }); // runs
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => post(f, { csv: "w.csv" }).then((r) => r.status)),
  );
  assert.deepEqual(answers.filter((s) => s === 202).length, 5, String(answers));
  assert.deepEqual(answers.filter((s) => s === 503).length, 15);
  const list = ApiJobList.parse(await (await f.app.request("/api/jobs")).json());
  assert.equal(list.pending, 5);
  assert.equal(jobDirs(f).length, 6);
});

Deno.test("job routes refuse other sites' pages, non-JSON bodies and, without a token, non-loopback hosts", async () => {
  await using f = await fixture();
  const evil = await post(f, { csv: "w.csv" }, "run-csv", { Origin: "http://evil.example" });
  assert.equal(evil.status, 403);
  assert.match((await evil.json()).detail, /origin "http:\/\/evil.example" are refused/);
  const evilGet = await f.app.request("/api/jobs", { headers: { Origin: "http://evil.example" } });
  assert.equal(evilGet.status, 403);
  const same = await post(f, { csv: "w.csv", dry_run: true }, "run-csv", {
    Origin: "http://localhost",
  });
  assert.equal(same.status, 202);
  const plain = await post(f, { csv: "w.csv" }, "run-csv", { "Content-Type": "text/plain" });
  assert.equal(plain.status, 415);
  assert.equal((await plain.json()).error, "UnsupportedMediaType");
  const rebound = await f.app.request("http://attacker.example:9090/api/jobs");
  assert.equal(rebound.status, 403);
  assert.match((await rebound.json()).detail, /only loopback addresses, not "attacker.example"/);
  await using t = await fixture({}, "s3cret");
  const withToken = await t.app.request("http://metrics.internal/api/jobs", {
    headers: { Authorization: "Bearer s3cret" },
  });
  assert.equal(withToken.status, 200);
});

Deno.test("a job root that cannot be written gets 503 IO and leaves nothing behind", async () => {
  await using f = await fixture();
  await Deno.remove(f.root, { recursive: true });
  await Deno.writeTextFile(f.root, "not a directory");
  const res = await post(f, { csv: "w.csv" });
  assert.equal(res.status, 503);
  const err = ApiError.parse(await res.json());
  assert.equal(err.error, "IO");
  assert.match(err.detail, /^Could not store the job: /);
  // Where the server keeps its files is not the client's to learn.
  assert.ok(!err.detail.includes(f.dir), err.detail);
  assert.ok(!err.detail.includes(await Deno.realPath(f.dir)), err.detail);
  assert.equal(f.jobs.list(10).count, 0);
});

Deno.test("a job that exits 0 but whose result cannot be stored fails with IO, naming result.json only", async () => {
  // Stands in for a full disk: the job's own output leaves no room for the service's result.json
  // (a directory is there instead, which no file can be renamed over).
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `const dir = Deno.args[Deno.args.indexOf("--metrics-out-dir") + 1];
       await Deno.mkdir(dir + "/result.json/in-the-way", { recursive: true });
       await Deno.writeTextFile(dir + "/metrics.ndjson", "");
       console.log(JSON.stringify({ ok: true, command: "run-csv", total_ops: 1 }));`,
    );
    await using f = await fixture({ script: new URL(`file://${script}`).href });
    const id = await submit(f, { csv: "w.csv" });
    const job = await f.jobs.settled(id);
    assert.equal(job!.status, "failed");
    assert.equal(job!.exit_code, 0);
    assert.equal(job!.error!.error, "IO");
    assert.match(
      job!.error!.detail,
      /^The job's result could not be stored: Cannot write 'result\.json': /,
    );
    assert.deepEqual(job!.artifacts, ["metrics.ndjson"]);
    const served = await getJob(f, id);
    assert.deepEqual(served.error, job!.error);
    const real = await Deno.realPath(f.dir);
    assert.ok(!JSON.stringify(served).includes(real), JSON.stringify(served));
    const logs = await (await f.app.request(`/api/jobs/${id}/logs`)).text();
    assert.match(logs, /Failed \(exit code 0\): The job's result could not be stored/);
    assert.ok(!logs.includes(real), logs);
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("jobs run with the service's config; a removed artifact is 404", async () => {
  const config = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    // A policy the CLI refuses shows that the config reached the job's process.
    await Deno.writeTextFile(config, '[adaptive]\nmax_lf_chaining = "high"\n');
    await using f = await fixture({ config });
    const bad = await f.jobs.settled(await submit(f, { csv: "w.csv" }));
    assert.equal(bad!.status, "failed");
    assert.equal(bad!.error!.error, "BadInput");
    assert.match(bad!.error!.detail, /max_lf_chaining/);
    await Deno.writeTextFile(config, "[watchdog]\nenabled = false\n");
    const ok = await f.jobs.settled(await submit(f, { csv: "w.csv" }));
    assert.equal(ok!.status, "completed");
    await Deno.remove(`${f.root}/${ok!.id}/metrics.ndjson`);
    const gone = await f.app.request(`/api/jobs/${ok!.id}/artifacts/metrics.ndjson`);
    assert.equal(gone.status, 404);
    assert.match((await gone.json()).detail, /was removed/);
  } finally {
    await Deno.remove(config);
  }
});

Deno.test("JobLog never fails a job when its file cannot be written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/logs.ndjson`, "");
    // Opened read-only, every write fails, as on a full disk.
    const file = await Deno.open(`${dir}/logs.ndjson`, { read: true });
    const logs = new JobLog(file, `${dir}/logs.ndjson`);
    await logs.note("info", "Started");
    const last = await logs.copy(ReadableStream.from([new TextEncoder().encode("a\nb\n")]));
    assert.equal(last, "b"); // the output was still drained to its end
    file.close();
    assert.equal(await Deno.readTextFile(`${dir}/logs.ndjson`), "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("job routes take a same-host origin of either scheme, and serve artifacts that are files", async () => {
  await using f = await fixture({}, "s3cret");
  const auth = { Authorization: "Bearer s3cret" };
  // Behind a TLS proxy the page is https:// while the request reaches the server as http://.
  const proxied = await f.app.request("http://adhash.example.com/api/jobs", {
    headers: { ...auth, Origin: "https://adhash.example.com" },
  });
  assert.equal(proxied.status, 200);
  const other = await f.app.request("http://adhash.example.com/api/jobs", {
    headers: { ...auth, Origin: "https://evil.example.com" },
  });
  assert.equal(other.status, 403);
  const id = (await (await post(f, { csv: "w.csv" }, "run-csv", auth)).json()).id;
  await f.jobs.settled(id);
  await Deno.remove(`${f.root}/${id}/metrics.ndjson`);
  await Deno.mkdir(`${f.root}/${id}/metrics.ndjson`);
  const dir = await f.app.request(`/api/jobs/${id}/artifacts/metrics.ndjson`, { headers: auth });
  assert.equal(dir.status, 404);
  assert.match((await dir.json()).detail, /is not a file/);
});

Deno.test("followers of job logs are capped like streams, and free their places when clients go", async () => {
  await using f = await fixture({ script: SLOW });
  const id = await submit(f, { csv: "w.csv" });
  await waitFor(async () => (await getJob(f, id)).status === "running");
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  for (let i = 0; i < 256; i++) {
    const res = await f.app.request(`/api/jobs/${id}/logs`);
    assert.equal(res.status, 200);
    readers.push(res.body!.getReader());
  }
  const busy = await f.app.request(`/api/jobs/${id}/logs`);
  assert.equal(busy.status, 503);
  // Requests arriving together, while others still open the log, do not pass the bound either.
  await Promise.all(readers.splice(128).map((r) => r.cancel()));
  const burst = await Promise.all(
    Array.from({ length: 300 }, () => f.app.request(`/api/jobs/${id}/logs`)),
  );
  assert.deepEqual(
    [burst.filter((r) => r.status === 200).length, burst.filter((r) => r.status === 503).length],
    [128, 172],
  );
  for (const r of burst) {
    if (r.status === 200) readers.push(r.body!.getReader());
    else await r.body!.cancel();
  }
  assert.equal(busy.headers.get("Retry-After"), "5");
  const err = ApiError.parse(await busy.json());
  assert.equal(err.error, "Busy");
  assert.match(err.detail, /^256 job logs are being followed/);
  // Reading a log once is not following it.
  const once = await f.app.request(`/api/jobs/${id}/logs?follow=0`);
  assert.equal(once.status, 200);
  await once.body!.cancel();
  await readers[0]!.read();
  await Promise.all(readers.map((r) => r.cancel()));
  const again = await f.app.request(`/api/jobs/${id}/logs`);
  assert.equal(again.status, 200);
  await again.body!.cancel();
  await f.jobs.cancel(id);
  await f.jobs.settled(id);
});

Deno.test("HEAD over a socket claims the length GET sends, and opens no stream", async () => {
  // Every HEAD said `Content-Length: 0`: a client sizing an artifact was told it was empty.
  await using f = await fixture();
  const id = await submit(f, { csv: "w.csv" });
  assert.equal((await f.jobs.settled(id))!.status, "completed");
  const hub = new MetricsHub();
  hub.publish((await replayTicks()).ticks[0]!);
  const server = await startMetricsServer({ hub, port: "auto", jobs: f.jobs, rateLimit: false });
  const base = `http://127.0.0.1:${server.port}`;
  const identity = { "Accept-Encoding": "identity" }; // lengths of the bytes as they are
  try {
    for (
      const path of [
        "/",
        "/api/version",
        "/metrics",
        "/api/metrics/history.csv",
        `/api/jobs/${id}`,
        `/api/jobs/${id}/artifacts/metrics.ndjson`,
        "/api/jobs", // streamed: no length either way
        "/api/nothing",
      ]
    ) {
      const get = await fetch(base + path, { headers: identity });
      const bytes = (await get.bytes()).length;
      const head = await fetch(base + path, { method: "HEAD", headers: identity });
      await head.body?.cancel();
      assert.equal(head.status, get.status, path);
      assert.equal(head.headers.get("content-type"), get.headers.get("content-type"), path);
      const length = get.headers.get("content-length");
      assert.equal(head.headers.get("content-length"), length, path);
      if (length !== null) assert.equal(Number(length), bytes, path);
    }
    assert.ok(
      Number((await fetch(`${base}/api/jobs/${id}/artifacts/metrics.ndjson`, {
        method: "HEAD",
      })).headers.get("content-length")) > 1000,
    );
    for (const path of ["/api/stream", `/api/jobs/${id}/logs`]) {
      const head = await fetch(base + path, { method: "HEAD" });
      await head.body?.cancel();
      assert.equal(head.status, 200, path);
      assert.equal(head.headers.get("content-length"), null, path);
    }
    assert.equal(hub.subscriberCount, 0);
  } finally {
    await server.close();
  }
});

Deno.test("GET /api/jobs lists jobs submitted at once by created_at, as after a restart", async () => {
  // They were listed in the order their directories were made, and a restarted service sorted
  // them by created_at: two different orders for the same jobs.
  await using f = await fixture();
  await Promise.all(Array.from({ length: 20 }, () => submit(f, { csv: "w.csv", dry_run: true })));
  for (const r of await Array.fromAsync(f.jobs.list(20).records)) await f.jobs.settled(r.id);
  const listed = async (app: typeof f.app) =>
    ApiJobList.parse(await (await app.request("/api/jobs?limit=20")).json()).jobs
      .map((j) => [j.created_at, j.id].join(" "));
  const live = await listed(f.app);
  assert.deepEqual(live, [...live].sort().reverse());
  await f.jobs.close();
  const again = await JobService.open({ root: f.root, inputDir: `${f.dir}/in` });
  try {
    assert.deepEqual(await listed(createApp({ hub: new MetricsHub(), jobs: again })), live);
  } finally {
    await again.close();
  }
});

Deno.test("a job's times never go backwards when the wall clock is stepped back", async () => {
  // An NTP step of an hour back while a job ran recorded it finishing before it started.
  await using f = await fixture();
  const RealDate = Date;
  let step = 0;
  class SteppedDate extends RealDate {
    constructor(...args: [] | [string | number | Date]) {
      super(args.length === 0 ? RealDate.now() + step : args[0]);
    }
    static override now(): number {
      return RealDate.now() + step;
    }
  }
  globalThis.Date = SteppedDate as DateConstructor;
  try {
    const id = await submit(f, { csv: "w.csv", metrics: false });
    step = -3_600_000;
    const job = (await f.jobs.settled(id))!;
    const [created, started, finished] = [job.created_at, job.started_at!, job.finished_at!]
      .map((t) => RealDate.parse(t));
    assert.ok(created! <= started! && started! <= finished!, JSON.stringify(job));
  } finally {
    globalThis.Date = RealDate;
  }
});

Deno.test("JobService.close() waits for the record of a job that has just ended to be saved", async () => {
  // A server stopped right as a job ended left its status.json saying "running", and the next
  // server marked the job Interrupted.
  await using f = await fixture();
  const id = await submit(f, { csv: "w.csv", metrics: false });
  let job = (await f.jobs.get(id))!;
  await waitFor(async () => (job = (await f.jobs.get(id))!).status === "running");
  // A slow disk: each save takes 300 ms more, so the last one is still under way when the job
  // is seen to end (settled() would wait for it), and the server stops then.
  const sync = Deno.FsFile.prototype.sync;
  Deno.FsFile.prototype.sync = async function (this: Deno.FsFile) {
    await new Promise((r) => setTimeout(r, 300));
    return await sync.call(this);
  };
  try {
    await waitFor(async () => (job = (await f.jobs.get(id))!).finished_at !== null, 30_000);
    await f.jobs.close();
  } finally {
    Deno.FsFile.prototype.sync = sync;
  }
  const saved = JSON.parse(await Deno.readTextFile(`${f.root}/${id}/status.json`));
  assert.deepEqual([saved.status, saved.finished_at], [job.status, job.finished_at]);
});

Deno.test("GET /api/jobs/{id}/logs of a log removed by hand is a 404, not a 200 cut short", async () => {
  await using f = await fixture();
  const id = await submit(f, { csv: "w.csv", metrics: false });
  await f.jobs.settled(id);
  await Deno.remove(`${f.root}/${id}/logs.ndjson`);
  for (const query of ["", "?follow=0"]) {
    const res = await f.app.request(`/api/jobs/${id}/logs${query}`);
    assert.equal(res.status, 404);
    assert.deepEqual(ApiError.parse(await res.json()), {
      schema: "api.error.v1",
      error: "NotFound",
      detail: `job ${id}'s log was removed`,
    });
  }
});

Deno.test("jobs read the server's --config as it is when they start, through a link", async () => {
  // The link was resolved once at start-up: after it was pointed at v2, jobs still read v1, and
  // failed naming v1.toml once that was removed.
  await using f = await fixture();
  const rh = (deletion: string) =>
    `[adaptive]\nstart_backend = "robinhood"\nrh_deletion = "${deletion}"\n`;
  await Deno.writeTextFile(`${f.dir}/v1.toml`, rh("backshift"));
  await Deno.writeTextFile(`${f.dir}/v2.toml`, rh("tombstone"));
  await Deno.symlink("v1.toml", `${f.dir}/current.toml`);
  const jobs = await JobService.open({
    root: `${f.dir}/jobs2`,
    inputDir: `${f.dir}/in`,
    config: `${f.dir}/current.toml`,
  });
  try {
    const tombstones = async () => {
      const { id } = await jobs.submit("run-csv", { csv: "w.csv", metrics: false });
      const job = (await jobs.settled(id))!;
      assert.equal(job.status, "completed", JSON.stringify(job.error));
      return RunSummary.parse(job.result).final_stats.tombstones;
    };
    assert.equal(await tombstones(), 0);
    await Deno.remove(`${f.dir}/current.toml`);
    await Deno.symlink("v2.toml", `${f.dir}/current.toml`);
    assert.ok(await tombstones() > 0);
    await Deno.remove(`${f.dir}/v2.toml`);
    const { id } = await jobs.submit("run-csv", { csv: "w.csv", metrics: false });
    const failed = (await jobs.settled(id))!;
    assert.equal(failed.status, "failed");
    assert.match(failed.error!.detail, /current\.toml/);
  } finally {
    await jobs.close();
  }
});

Deno.test("a job root stays one service's when its .lock is deleted, and a replaced root takes no jobs", async () => {
  // Deleting .lock let a second service open the root in use; it marked the first one's
  // running jobs Interrupted.
  await using f = await fixture();
  await Deno.remove(`${f.root}/.lock`);
  await assert.rejects(
    JobService.open({ root: f.root, inputDir: `${f.dir}/in` }),
    IOError,
    "is in use by another job service",
  );
  // The root removed and made again (say by another server): this service takes no new jobs.
  await Deno.remove(f.root, { recursive: true });
  await Deno.mkdir(f.root);
  const res = await post(f, { csv: "w.csv" });
  assert.equal(res.status, 503);
  assert.match(
    (await res.json()).detail,
    /the job root was removed or replaced while the server ran/,
  );
  assert.deepEqual([...Deno.readDirSync(f.root)], []);
});

Deno.test("JobService keeps its finished jobs within maxRootBytes, removing the oldest first", async () => {
  // Requests of a few bytes each left up to 100 MB on disk, and finished jobs were never removed.
  await using f = await fixture({ maxRootBytes: 1 });
  const first = await submit(f, { csv: "w.csv" }, "workload-dna");
  assert.equal((await f.jobs.settled(first))?.status, "completed");
  const second = await submit(f, { csv: "w.csv" }, "workload-dna");
  assert.equal((await f.jobs.settled(second))?.status, "completed");
  // Every job takes more than one byte: only the newest is kept, on disk and in the listings.
  await waitFor(() => !jobDirs(f).includes(first));
  assert.deepEqual(jobDirs(f), [second]);
  assert.equal((await f.app.request(`/api/jobs/${first}`)).status, 404);
  assert.equal((await getJob(f, second)).status, "completed");
  const list = ApiJobList.parse(await (await f.app.request("/api/jobs")).json());
  assert.deepEqual(list.jobs.map((j) => j.id), [second]);
});

Deno.test("JobService.open() removes the oldest finished jobs past maxRootBytes", async () => {
  await using f = await fixture();
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(await submit(f, { csv: "w.csv" }, "workload-dna"));
    assert.equal((await f.jobs.settled(ids[i]!))?.status, "completed");
  }
  await f.jobs.close();
  // What each job takes on disk (its directory and files in blocks), and the bytes its files hold.
  const measure = (id: string, used: (i: Deno.FileInfo) => number) => {
    let n = used(Deno.lstatSync(`${f.root}/${id}`));
    for (const e of Deno.readDirSync(`${f.root}/${id}`)) {
      n += used(Deno.lstatSync(`${f.root}/${id}/${e.name}`));
    }
    return n;
  };
  const sizes = ids.map((id) => measure(id, (i) => i.blocks! * 512));
  const lengths = ids.map((id) => measure(id, (i) => i.isFile ? i.size : 0));
  // The files' lengths would fit all three: the disk they take is what is bounded.
  assert.ok(lengths[0]! + lengths[1]! + lengths[2]! <= sizes[1]! + sizes[2]!, `${lengths}`);
  // Room for the two newest: the oldest goes as the service opens.
  const reopened = await JobService.open({ root: f.root, maxRootBytes: sizes[1]! + sizes[2]! });
  try {
    assert.deepEqual(jobDirs(f).sort(), ids.slice(1).sort());
    assert.equal(await reopened.get(ids[0]!), undefined);
    assert.equal((await reopened.get(ids[2]!))?.status, "completed");
  } finally {
    await reopened.close();
  }
});
