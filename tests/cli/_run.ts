/**
 * Test helper: runs `cli.ts` as a subprocess and splits its output.
 *
 * @module
 */

import { removedAtUnload } from "../_helpers.ts";
import { filePath, shellWord } from "../../src/cli/self_command.ts";

/** What a CLI run produced. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The parsed last stderr line when it is JSON, else null. */
  envelope: Record<string, unknown> | null;
}

/** Project root (tests/cli/ -> ../../). */
export const ROOT = filePath(new URL("../../", import.meta.url));

/** Permissions the CLI is run with (the `cli` task's, minus net). */
export const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-sys"];

/** How {@linkcode runScript} runs its script. */
export interface RunOptions {
  stdin?: Uint8Array | string;
  env?: Record<string, string>;
  cwd?: string;
  perms?: string[];
  /** Start from an empty environment but for what deno itself needs (PATH, HOME, caches). */
  clearEnv?: boolean;
  /**
   * Run under bash: `fileKiB` limits every file the process writes (`ulimit -f`, with SIGXFSZ
   * ignored, so a write past it fails with EFBIG as on a full disk, Deno's own cache writes
   * included); `sigxfszKills` leaves the signal's default action, which the CLI must catch
   * itself (Deno may still meet the limit, and be killed, writing its caches before the CLI
   * starts: run the same command once without it first); `stdout` and `stderr` send that stream
   * to a file (`/dev/full`: every write fails with ENOSPC), uncaptured.
   */
  shell?: { fileKiB?: number; sigxfszKills?: boolean; stdout?: string; stderr?: string };
}

/** Runs `deno run <PERMS> <script> ...args`. */
export async function runScript(
  script: string,
  args: string[],
  options: RunOptions = {},
): Promise<CliRun> {
  const base: Record<string, string> = {};
  for (
    const k of options.clearEnv ? ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"] : []
  ) {
    const v = Deno.env.get(k);
    if (v !== undefined) base[k] = v;
  }
  const run = [Deno.execPath(), "run", ...(options.perms ?? PERMS), script, ...args];
  const sh = options.shell;
  const child = new Deno.Command(sh === undefined ? run[0]! : "bash", {
    args: sh === undefined ? run.slice(1) : [
      "-c",
      [
        sh.fileKiB === undefined || sh.sigxfszKills === true ? "" : "trap '' XFSZ; ",
        sh.fileKiB === undefined ? "" : `ulimit -f ${sh.fileKiB}; `,
        `exec "$@"`,
        sh.stdout === undefined ? "" : ` >${shellWord(sh.stdout)}`,
        sh.stderr === undefined ? "" : ` 2>${shellWord(sh.stderr)}`,
      ].join(""),
      "bash",
      ...run,
    ],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    cwd: options.cwd ?? ROOT,
    env: { ...base, NO_COLOR: "1", ...(options.env ?? {}) },
    clearEnv: options.clearEnv ?? false,
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
    );
    await w.close();
  }
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const lines = stderr.trimEnd().split("\n");
  let envelope: Record<string, unknown> | null = null;
  try {
    const last = JSON.parse(lines[lines.length - 1] ?? "");
    if (last !== null && typeof last === "object" && !Array.isArray(last)) envelope = last;
  } catch {
    envelope = null;
  }
  return { code: out.code, stdout, stderr, envelope };
}

/** Runs `cli.ts` with `args`. */
export function runCli(
  args: string[],
  options: Pick<RunOptions, "stdin" | "env" | "perms" | "shell"> = {},
): Promise<CliRun> {
  return runScript(`${ROOT}cli.ts`, args, options);
}

/** A fresh temporary directory, removed when the test module unloads. */
export function tempDir(): string {
  return removedAtUnload(Deno.makeTempDirSync({ prefix: "adhash_cli_test_" }));
}

/**
 * The data of the one `--json` success line `{"ok":true,"command":...}` on `stdout`, checked to
 * come from `command`.
 */
export function successData(stdout: string, command: string): Record<string, unknown> {
  const lines = stdout.trimEnd().split("\n");
  if (lines.length !== 1) throw new Error(`expected one stdout line, got: ${stdout}`);
  const { ok, command: name, ...data } = JSON.parse(lines[0]!);
  if (ok !== true || name !== command) throw new Error(`not a ${command} success line: ${stdout}`);
  return data;
}
