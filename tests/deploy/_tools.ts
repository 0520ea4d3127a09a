/**
 * Test helper: runs promtool or prometheus (Debian package `prometheus`, installed by .ci/run).
 * A missing tool fails the test with a message saying how to install it: the kit's checks are
 * never skipped, as in tests/server/prometheus_test.ts.
 *
 * @module
 */

/** Exit code and combined output of a finished tool run. */
export interface ToolRun {
  code: number;
  out: string;
}

function missing(name: string): Error {
  return new Error(
    `${name} is not installed: install Debian's prometheus package ` +
      "(apt-get install prometheus; .ci/run does this on a clean machine)",
  );
}

/** Runs `name args...` in `cwd` to completion. */
export async function runTool(name: string, args: string[], cwd?: string): Promise<ToolRun> {
  try {
    const r = await new Deno.Command(name, {
      args,
      stdout: "piped",
      stderr: "piped",
      ...(cwd === undefined ? {} : { cwd }),
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw missing(name);
    throw err;
  }
}

/** Starts `name args...`; its output is collected into `output()`. */
export function spawnTool(
  name: string,
  args: string[],
): { child: Deno.ChildProcess; output: () => Promise<string> } {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw missing(name);
    throw err;
  }
  const text = Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]).then(([a, b]) => a + b);
  return { child, output: () => text };
}
