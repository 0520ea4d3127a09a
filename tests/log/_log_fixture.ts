/**
 * Fixture: logs through src/log/setup.ts as the CLI does and prints, on stdout, when logtape was
 * loaded. `quiet` logs nothing but a filtered-out debug record.
 *
 * @module
 */

import { log, loggingActive, setupLogging, shutdownLogging } from "../../src/log/setup.ts";

const out: Record<string, unknown> = {};
await setupLogging({ json: true });
out.afterSetup = loggingActive();
log("t").debug("below the level {n}", { n: 0 });
out.afterDebug = loggingActive();
if (Deno.args[0] !== "quiet") {
  out.before = Date.now();
  log("t").info("first {n}", { n: 1 });
  out.afterFirst = loggingActive();
  // A timestamp taken when the record is written, not when it was logged, would be this late.
  const until = Date.now() + 50;
  while (Date.now() < until) { /* busy */ }
  log("t").warn("second {n}", { n: 2 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  out.afterWait = loggingActive();
  log("t").error("third {n}", { n: 3 });
}
await shutdownLogging();
out.afterShutdown = loggingActive();
console.log(JSON.stringify(out));
