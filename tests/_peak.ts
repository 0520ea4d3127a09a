import { filePath } from "../src/cli/self_command.ts";
/**
 * Peak memory of test scripts run as subprocesses, each of which prints one JSON line with the
 * rise of its peak over the step it measures.
 *
 * @module
 */

/** This process's peak resident memory (Linux `VmHWM`), in bytes. */
export function peakBytes(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (kb === null) throw new Error("no VmHWM in /proc/self/status");
  return Number(kb[1]) * 1024;
}

/** Runs the test script `path` (relative to `tests/`) with `args` and returns what it printed. */
export async function runPeakScript<T>(path: string, ...args: string[]): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    // /proc/self needs every permission.
    args: ["run", "-A", filePath(new URL(path, import.meta.url)), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`${path} exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}
