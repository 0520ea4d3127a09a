/**
 * The kinds of job the job service runs (`POST /api/jobs/<kind>`) and the batch runner plans:
 * each kind's request schema, the request fields that name input files, and its `hashmap-cli`
 * command line. Shared so that `batch` can validate a whole spec, and show its command lines,
 * before it starts any job.
 *
 * @module
 */

import type { z } from "zod";
import { BadInputError } from "../errors.ts";
import { isAbsolute, isInside, joinPath } from "../io/path.ts";
import {
  type AbCompareRequest,
  ApiJobAbCompareRequest,
  ApiJobProfileRequest,
  ApiJobRunCsvRequest,
  ApiJobWorkloadDnaRequest,
  type ProfileRequest,
  type RunCsvRequest,
  type WorkloadDnaRequest,
} from "../contracts/api.ts";

/** A kind of job: its request schema, the request fields naming input files, its command line. */
export interface JobKind {
  /** The request body's schema (`api.job_<kind>_request.v1`). */
  schema: z.ZodType<Record<string, unknown>>;
  /** Request fields that name input files, relative to the input directory. */
  inputs: readonly string[];
  /** The CLI arguments after `--json --log-json`; `input` maps input fields to real paths. */
  args(request: Record<string, unknown>, dir: string, input: Record<string, string>): string[];
  /** What the job's log says of a request before the job starts (fields that do nothing). */
  notes?(request: Record<string, unknown>): string[];
}

/** `--flag value` for each request field that is set. */
function flags(request: Record<string, unknown>, names: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [field, flag] of Object.entries(names)) {
    const value = request[field];
    if (value !== undefined) out.push(flag, String(value));
  }
  return out;
}

/**
 * Ticks a job's metrics.ndjson keeps (the last ones): `tick_every: 1` made one request write
 * 140 MB/s to the job root, and a 5,000,000-row job 10 GB. At the default `tick_every` no job
 * within the default row limit reaches it.
 */
export const JOB_MAX_TICKS = 50_000;

const LIMIT_FLAGS = { csv_max_rows: "--csv-max-rows", csv_max_bytes: "--csv-max-bytes" };

/** Every kind of job, by the name in `POST /api/jobs/{kind}`. */
export const JOB_KINDS: Readonly<Record<string, JobKind>> = {
  "run-csv": {
    schema: ApiJobRunCsvRequest,
    inputs: ["csv", "snapshot_in"],
    args(request, dir, input) {
      const r = request as RunCsvRequest;
      const args = ["--mode", r.mode ?? "adaptive", "run-csv", "--csv", input.csv!];
      if (r.dry_run === true) args.push("--dry-run");
      if (r.metrics !== false) {
        args.push("--metrics-out-dir", dir, "--metrics-max-ticks", String(JOB_MAX_TICKS));
      }
      if (r.snapshot === true) {
        args.push("--snapshot-out", joinPath(dir, r.compress ? "snapshot.bin.gz" : "snapshot.bin"));
        // As the name says: a gzipped snapshot_in would otherwise be continued gzipped.
        args.push(r.compress === true ? "--compress" : "--no-compress");
      }
      if (input.snapshot_in !== undefined) args.push("--snapshot-in", input.snapshot_in);
      return args.concat(flags(r, {
        ...LIMIT_FLAGS,
        tick_every: "--tick-every",
        latency_buckets: "--latency-buckets",
      }));
    },
    notes(request) {
      const r = request as RunCsvRequest;
      return r.compress === true && r.snapshot !== true
        ? ["compress does nothing without snapshot: no snapshot is written"]
        : [];
    },
  },
  "workload-dna": {
    schema: ApiJobWorkloadDnaRequest,
    inputs: ["csv"],
    args(request, _dir, input) {
      const r = request as WorkloadDnaRequest;
      return ["workload-dna", "--csv", input.csv!].concat(flags(r, {
        ...LIMIT_FLAGS,
        top_keys: "--top-keys",
        max_tracked_keys: "--max-tracked-keys",
      }));
    },
  },
  "ab-compare": {
    schema: ApiJobAbCompareRequest,
    inputs: ["csv", "baseline_config", "candidate_config"],
    args(request, dir, input) {
      const r = request as AbCompareRequest;
      return ["ab-compare", "--csv", input.csv!, "--out-dir", dir].concat(
        flags(input, {
          baseline_config: "--baseline-config",
          candidate_config: "--candidate-config",
        }),
        flags(r, {
          ...LIMIT_FLAGS,
          baseline_mode: "--baseline-mode",
          candidate_mode: "--candidate-mode",
          baseline_label: "--baseline-label",
          candidate_label: "--candidate-label",
          repeat: "--repeat",
          warmup_rows: "--warmup-rows",
        }),
      );
    },
  },
  profile: {
    schema: ApiJobProfileRequest,
    inputs: ["csv"],
    args(request, dir, input) {
      const r = request as ProfileRequest;
      return ["profile", "--csv", input.csv!, "--json-out", joinPath(dir, "profile.json")].concat(
        flags(r, { ...LIMIT_FLAGS, sample_rows: "--sample-rows", repeat: "--repeat" }),
      );
    },
  },
};

/** How {@linkcode inputPath} names things in its messages. */
export interface InputPathWording {
  /** Before the field, e.g. `job "a": ` (default none). */
  where?: string;
  /** The input directory (default `the input directory`). */
  dirName?: string;
  /** The hint of a missing file. */
  hint?: string;
}

/**
 * The real path of a request's input file: relative, inside `inputDir` (a real path) once
 * symbolic links are resolved, and an existing file, as the job service requires. Anything else
 * is BadInput naming the field.
 */
export async function inputPath(
  inputDir: string,
  field: string,
  path: string,
  wording: InputPathWording = {},
): Promise<string> {
  const what = `${wording.where ?? ""}${field} ${JSON.stringify(path)}`;
  const refused = (): BadInputError =>
    new BadInputError(`${what} cannot be read: the system refused access`, {
      hint: "Check the permissions of the file and of the directories above it",
    });
  const dirName = wording.dirName ?? "the input directory";
  // A lone surrogate is written as U+FFFD, which the job's command line refuses (it cannot tell
  // it from bytes that were not UTF-8): found here, before a job is made.
  if (!path.isWellFormed() || path.includes("\uFFFD")) {
    throw new BadInputError(`${what} holds a lone surrogate or U+FFFD: no file can be named so`);
  }
  if (isAbsolute(path) || path.split(/[\\/]/).includes("..")) {
    throw new BadInputError(`${what} must be a relative path inside ${dirName}`);
  }
  let real: string;
  try {
    real = await Deno.realPath(joinPath(inputDir, path));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new BadInputError(`${what} does not exist in ${dirName}`, {
        hint: wording.hint ?? "Paths are relative to the job service's input directory",
      });
    }
    // The system's EACCES: the file is named right but this process's user may not reach it.
    if (err instanceof Deno.errors.PermissionDenied) throw refused();
    if (err instanceof Deno.errors.NotCapable) throw err;
    throw new BadInputError(`${what} is not a usable path`); // e.g. a NUL byte
  }
  if (!isInside(inputDir, real) || !(await Deno.stat(real)).isFile) {
    throw new BadInputError(`${what} is not a file inside ${dirName}`);
  }
  try {
    (await Deno.open(real, { read: true })).close(); // readable now, not only reachable
  } catch (err) {
    if (err instanceof Deno.errors.PermissionDenied) throw refused();
    throw err;
  }
  return real;
}
