/**
 * A job's command stops when the job service that started it is gone. The service passes its
 * pid in `ADHASH_JOB_PARENT_PID`; should it die without cancelling its jobs (SIGKILL, the OOM
 * killer), the job is re-parented, and it stops as a cancelled one does (temporary files
 * removed, exit 143) instead of running on unseen, writing into a job directory the next
 * service has already marked `Interrupted`.
 *
 * @module
 */

import { readEnv } from "./command.ts";
import { exitRemovingTempFiles } from "../io/atomic_write.ts";

/** How often the parent is looked for, in ms (a replay gives the event loop turns every 50). */
const CHECK_MS = 250;

/** The variable the job service sets to its own pid. */
export const JOB_PARENT_ENV = "ADHASH_JOB_PARENT_PID";

/** Starts the watch when this process runs as a job of a service still alive; else nothing. */
export function stopWhenOrphaned(): void {
  const expected = readEnv(JOB_PARENT_ENV);
  if (expected === undefined || String(Deno.ppid) !== expected) return;
  const timer = setInterval(() => {
    if (String(Deno.ppid) !== expected) exitRemovingTempFiles(143);
  }, CHECK_MS);
  Deno.unrefTimer(timer); // never what keeps the process alive
}
