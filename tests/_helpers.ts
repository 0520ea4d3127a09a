/** Helpers shared by tests of every part. */

import type { MapState } from "../src/core/adaptive_map.ts";
import type { BackendState } from "../src/core/types.ts";

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

const removeAtUnload: string[] = [];

/**
 * `path`, removed (recursively, errors ignored) when the test module unloads: for helpers that
 * hand their callers a temporary path the callers do not remove, and for tests that would leave
 * theirs when their set-up fails before their own clean-up is in place. `unload` fires once per
 * test module, failed or not.
 */
export function removedAtUnload(path: string): string {
  if (removeAtUnload.length === 0) {
    globalThis.addEventListener("unload", () => {
      for (const p of removeAtUnload.splice(0)) {
        try {
          Deno.removeSync(p, { recursive: true });
        } catch {
          // Already removed by its test.
        }
      }
    });
  }
  removeAtUnload.push(path);
  return path;
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

/** Reads `reader` until what it gave holds a line end, or it ends; returns all it gave. */
export async function readLine(reader: ReadableStreamDefaultReader<string>): Promise<string> {
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  return text;
}

/**
 * The state of `map` as a snapshot keeps it: without the tables' initial sizes, which the format
 * has no place for (a loaded table takes its class's default: docs/snapshot_format.md).
 */
export function snapshotState(map: { exportState(): MapState }): unknown {
  const table = (s: BackendState): unknown => ({
    ...s,
    initialBuckets: undefined,
    initialCapacity: undefined,
  });
  const state = map.exportState();
  if (state.kind !== "adaptive") return table(state);
  return {
    ...state,
    active: table(state.active),
    target: state.target === null ? null : table(state.target),
  };
}
