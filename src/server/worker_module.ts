/**
 * Whether a worker module is on disk to start. A `deno bundle` file carries none, and
 * `deno compile` only those given with `--include`: checking first spares the runtime's report
 * of a worker that failed to load, and lets the caller fall back to its own thread.
 *
 * @module
 */

/** False when `url` is a `file:` URL naming nothing; true otherwise (the worker reports it). */
export function workerModuleOnDisk(url: URL): boolean {
  if (url.protocol !== "file:") return true;
  try {
    Deno.statSync(url);
    return true;
  } catch (err) {
    return !(err instanceof Deno.errors.NotFound);
  }
}
