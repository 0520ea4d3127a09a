/** Helpers shared by tests of every part. */

/** Runs `fn` with a fresh temporary directory, removed afterwards whatever `fn` did. */
export async function withTempDir(
  fn: (dir: string) => Promise<void>,
  prefix = "adhash_test_",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A test that runs on Linux only (it needs `/dev/full`, bash's `ulimit` or `/proc/self`), given a
 * fresh temporary directory ({@linkcode withTempDir}).
 */
export function linuxTest(name: string, fn: (dir: string) => Promise<void>): void {
  Deno.test({ name, ignore: Deno.build.os !== "linux", fn: () => withTempDir(fn) });
}

/** Polls `cond` every 20 ms until it holds; throws after `ms`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
