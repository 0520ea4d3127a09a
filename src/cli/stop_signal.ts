/**
 * Waiting for the signal that asks a long-running command (`serve`, `run-csv --metrics-linger`)
 * to stop.
 *
 * @module
 */

/**
 * The first stop signal, or null once `abort` is aborted (its listeners are then removed, so the
 * process may end). SIGHUP too: a server started from a terminal or an SSH session that closes
 * must stop in order (its jobs cancelled and recorded), not die where it stands.
 */
export function waitForSignal(abort?: AbortSignal): Promise<Deno.Signal | null> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = Deno.build.os === "windows"
      ? ["SIGINT"]
      : ["SIGINT", "SIGTERM", "SIGHUP"];
    const done = (sig: Deno.Signal | null): void => {
      signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
      abort?.removeEventListener("abort", aborted);
      resolve(sig);
    };
    const aborted = (): void => done(null);
    const handlers = signals.map((sig) => (): void => done(sig));
    signals.forEach((s, i) => Deno.addSignalListener(s, handlers[i]!));
    if (abort?.aborted) done(null);
    else abort?.addEventListener("abort", aborted, { once: true });
  });
}
