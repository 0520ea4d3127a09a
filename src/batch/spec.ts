/**
 * The batch spec (docs/batch.md): a TOML file naming jobs, each a `name`, a `kind` and the
 * request body the job service takes for that kind. {@linkcode loadBatchSpec} reads and
 * validates all of it, input files included, before anything runs: a spec that fails halfway
 * through a batch would waste every job before the bad one.
 *
 * @module
 */

import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { BadInputError, IOError } from "../errors.ts";
import { checkDistinctPaths, checkOutputDirs, checkOutputFiles } from "../cli/paths.ts";
import { dirOf, isAbsolute, isInside, joinPath } from "../io/path.ts";
import { readSmallText } from "../io/read_text.ts";
import { inputPath, JOB_KINDS } from "../server/job_kinds.ts";

/** The hint of every spec error. */
export const SPEC_HINT = "See docs/batch.md";

/** Job names: safe in file names, logs and reports without quoting. */
export const JOB_NAME_PATTERN: RegExp = /^[A-Za-z0-9._-]{1,64}$/;

/** The files a batch writes in its output directory. */
export const REPORT_FILES = {
  json: "batch.json",
  markdown: "report.md",
  html: "report.html",
} as const;

/** Most jobs running at once (as `serve --max-jobs`). */
export const MAX_PARALLEL = 64;

const SpecFile = z.strictObject({
  title: z.string().min(1).max(200).optional(),
  out_dir: z.string().min(1).optional(),
  parallel: z.number().int().min(1).max(MAX_PARALLEL).optional(),
  timeout_seconds: z.number().positive().max(604_800).optional(),
  jobs: z.array(z.record(z.string(), z.unknown())).min(1, "the spec has no [[jobs]]"),
});

/** One job of a validated spec. */
export interface PlannedJob {
  /** Unique within the spec. */
  name: string;
  /** A job service kind (`run-csv`, ...). */
  kind: string;
  /** The request body, validated by the kind's schema; the spec's timeout applied. */
  request: Record<string, unknown>;
  /** The real paths of the request's input files, by field. */
  inputs: Record<string, string>;
}

/** A validated spec and where its batch runs. */
export interface BatchPlan {
  /** The spec path as given. */
  spec: string;
  /** The spec's directory (real path): request paths are relative to it. */
  specDir: string;
  /** Where the reports and `jobs/` go. */
  outDir: string;
  /** Jobs running at once. */
  parallel: number;
  /** The report's title, if the spec has one. */
  title: string | null;
  /** In spec order. */
  jobs: PlannedJob[];
}

/** What the command line overrides. */
export interface SpecOverrides {
  /** `--out-dir`, relative to the working directory. */
  outDir?: string | undefined;
  /** `--parallel`. */
  parallel?: number | undefined;
  /** The global `--config` the jobs run with: no report may replace it either. */
  config?: string | undefined;
}

/** A value as the user wrote it, for a message. */
function shown(value: unknown): string {
  if (value === undefined) return "missing";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One line per zod issue, naming the field and quoting the value found there. */
function describeIssues(where: string, error: z.ZodError, data: unknown): string[] {
  return error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `${where}unknown field ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    }
    let value: unknown = data;
    for (const key of issue.path) {
      value = value !== null && typeof value === "object"
        ? (value as Record<PropertyKey, unknown>)[key as PropertyKey]
        : undefined;
    }
    const field = issue.path.map((k, i) =>
      typeof k === "number" ? `[${k}]` : `${i === 0 ? "" : "."}${String(k)}`
    ).join("");
    if (value === undefined && field !== "") return `${where}${field} is missing`;
    return `${where}${field === "" ? "" : `${field} = `}${shown(value)}: ${issue.message}`;
  });
}

async function readSpec(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readSmallText(path, "Batch spec", { hint: SPEC_HINT });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new IOError(`Batch spec not found: ${JSON.stringify(path)}`, { hint: SPEC_HINT });
    }
    if (err instanceof Deno.errors.IsADirectory) {
      throw new BadInputError(`Batch spec ${JSON.stringify(path)} is a directory`, {
        hint: SPEC_HINT,
      });
    }
    throw err;
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const first = String((err as Error).message).split("\n")[0];
    const line = (err as { line?: unknown }).line;
    throw new BadInputError(
      `Invalid TOML in batch spec ${JSON.stringify(path)}${
        typeof line === "number" ? ` at line ${line}` : ""
      }: ${first}`,
      { hint: SPEC_HINT },
    );
  }
}

/**
 * Throws BadInputError when the reports cannot be written in `outDir` (`flag` names where it came
 * from), or one would replace an input (`[path, role]`: a spec named report.md in out_dir).
 */
function checkReportPaths(
  outDir: string,
  flag: string,
  inputs: ReadonlyArray<readonly [string, string]>,
): void {
  checkOutputDirs([[flag, outDir]]);
  const reports = Object.values(REPORT_FILES).map((name): [string, string] => [
    "report file",
    joinPath(outDir, name),
  ]);
  checkOutputFiles(reports);
  // An input named twice (two jobs on one workload) is one input.
  const roles = new Map<string, string>();
  for (const [p, role] of inputs) if (!roles.has(p)) roles.set(p, role);
  checkDistinctPaths([...[...roles].map(([p, role]): [string, string] => [role, p]), ...reports]);
}

/** Validates one `[[jobs]]` entry; returns its problems, or the job. */
async function planJob(
  entry: Record<string, unknown>,
  index: number,
  specDir: string,
  defaultTimeout: number | undefined,
): Promise<PlannedJob | string[]> {
  const { name, kind, ...body } = entry;
  const named = typeof name === "string" && JOB_NAME_PATTERN.test(name);
  const where = named ? `job ${JSON.stringify(name)}: ` : `jobs[${index}]: `;
  const problems: string[] = [];
  if (!named) {
    problems.push(
      name === undefined
        ? `${where}name is missing`
        : `${where}name = ${shown(name)} is not 1-64 of A-Z a-z 0-9 . _ -`,
    );
  }
  const spec = typeof kind === "string" && Object.hasOwn(JOB_KINDS, kind)
    ? JOB_KINDS[kind]
    : undefined;
  if (spec === undefined) {
    problems.push(
      `${where}kind = ${shown(kind)} is not one of ${Object.keys(JOB_KINDS).join(", ")}`,
    );
    return problems;
  }
  if (body.timeout_seconds === undefined && defaultTimeout !== undefined) {
    body.timeout_seconds = defaultTimeout;
  }
  const parsed = spec.schema.safeParse(body);
  if (!parsed.success) return problems.concat(describeIssues(where, parsed.error, body));
  const request = parsed.data;
  const inputs: Record<string, string> = {};
  for (const field of spec.inputs) {
    const value = request[field];
    if (typeof value !== "string") continue;
    try {
      inputs[field] = await inputPath(specDir, field, value, {
        where,
        dirName: `the spec's directory (${specDir})`,
      });
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0) return problems;
  return { name: name as string, kind: kind as string, request, inputs };
}

/**
 * `rel` resolved in `dir` (a real path) when it is relative, has no `..` and stays inside `dir`
 * through symbolic links: the part of it that exists is resolved (its nearest existing
 * ancestor, for a directory the batch will create); null otherwise.
 */
async function insideDir(dir: string, rel: string): Promise<string | null> {
  if (isAbsolute(rel) || rel.split(/[\\/]/).includes("..")) return null;
  const full = joinPath(dir, rel);
  for (let existing = full;; existing = dirOf(existing)) {
    try {
      const real = await Deno.realPath(existing);
      return isInside(dir, real) ? full : null;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      if (existing === dir) return full;
    }
  }
}

/**
 * Reads and validates the spec at `path`: every problem (TOML, unknown key or kind, bad request
 * field, duplicate name, missing input file, output directory) is reported at once as one
 * BadInputError, and nothing is written.
 */
export async function loadBatchSpec(
  path: string,
  overrides: SpecOverrides = {},
): Promise<BatchPlan> {
  const raw = await readSpec(path);
  const specDir = await Deno.realPath(dirOf(path));
  const top = SpecFile.safeParse(raw);
  const fail = (problems: string[]): never => {
    const list = problems.length === 1
      ? problems[0]
      : `${problems.length} problems: ${problems.join("; ")}`;
    throw new BadInputError(`Invalid batch spec ${JSON.stringify(path)}: ${list}`, {
      hint: SPEC_HINT,
    });
  };
  // The jobs are checked even when a top-level key is wrong: every problem is reported at once.
  const problems = top.success ? [] : describeIssues("", top.error, raw);
  const file: Partial<z.infer<typeof SpecFile>> = top.success ? top.data : Object.fromEntries(
    Object.entries(SpecFile.shape).flatMap(([key, schema]) => {
      const r = schema.safeParse(raw[key]);
      return r.success && r.data !== undefined ? [[key, r.data]] : [];
    }),
  );
  const entries = Array.isArray(raw.jobs) ? raw.jobs as unknown[] : [];
  const jobs: PlannedJob[] = [];
  const firstIndex = new Map<string, number>();
  for (const [i, entry] of entries.entries()) {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) continue;
    const name = (entry as Record<string, unknown>).name;
    if (typeof name !== "string" || !JOB_NAME_PATTERN.test(name)) continue;
    const before = firstIndex.get(name);
    if (before === undefined) firstIndex.set(name, i);
    else problems.push(`job ${JSON.stringify(name)}: name used by jobs[${before}] and jobs[${i}]`);
  }
  for (const [i, entry] of entries.entries()) {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) continue;
    const planned = await planJob(
      entry as Record<string, unknown>,
      i,
      specDir,
      file.timeout_seconds,
    );
    if (Array.isArray(planned)) problems.push(...planned);
    else jobs.push(planned);
  }
  let outDir: string | undefined = overrides.outDir;
  if (outDir === undefined && file.out_dir !== undefined) {
    // Like its inputs, a spec's outputs stay beside it; --out-dir is the way elsewhere.
    const where = await insideDir(specDir, file.out_dir);
    if (where === null) {
      problems.push(
        `out_dir ${JSON.stringify(file.out_dir)} must be a relative path inside the spec's ` +
          "directory (pass --out-dir to write elsewhere)",
      );
    } else outDir = where;
  }
  if (outDir === undefined) {
    if (file.out_dir === undefined) {
      problems.push("no output directory: set out_dir in the spec or pass --out-dir");
    }
  } else {
    // With the others: the paths' problems too are reported at once.
    try {
      checkReportPaths(outDir, overrides.outDir !== undefined ? "--out-dir" : "out_dir", [
        [path, "--spec"],
        ...(overrides.config === undefined ? [] : [[overrides.config, "--config"] as const]),
        ...jobs.flatMap((job) =>
          Object.entries(job.inputs).map(([field, real]) =>
            [real, `job ${JSON.stringify(job.name)} ${field}`] as const
          )
        ),
      ]);
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length > 0) fail(problems);
  return {
    spec: path,
    specDir,
    outDir: outDir!,
    parallel: overrides.parallel ?? file.parallel ?? 1,
    title: file.title ?? null,
    jobs,
  };
}
