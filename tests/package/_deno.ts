/** The project root, and `deno` run there: the package tests check the project as a whole. */
export const root: URL = new URL("../../", import.meta.url);

/** Runs `deno ...args` in the project root; `out` is its stdout then its stderr. */
export async function deno(...args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}
