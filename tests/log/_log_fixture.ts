/**
 * Fixture: logs through src/log/setup.ts as the CLI does and prints, on stdout, when logtape was
 * loaded. `quiet` logs nothing but a filtered-out debug record; `host` configures logtape itself,
 * as an application importing adhash would, and never calls setupLogging(); `overlap` sets up,
 * logs (also to the file named by the second argument) and shuts down without waiting in between.
 *
 * @module
 */

import {
  log,
  loggingPending,
  logtapeLoaded,
  setupLogging,
  shutdownLogging,
} from "../../src/log/setup.ts";

const out: Record<string, unknown> = {};
const mode = Deno.args[0] ?? "cli";
if (mode === "host") {
  const { configure } = await import("@logtape/logtape");
  const seen: string[] = [];
  await configure({
    sinks: {
      collect: (r) => {
        seen.push(`${r.category.join(".")} ${r.level} ${r.message.join("")}`);
        // A sink that logs again while the queue is being written.
        if (seen.length === 1) log("server").info("from a sink");
      },
    },
    loggers: [
      { category: ["adhash"], lowestLevel: "debug", sinks: ["collect"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  log("server", "source").warn("skipping line {n}", { n: 7 });
  out.pendingAfterFirst = loggingPending() !== undefined;
  await loggingPending();
  log("server", "source").debug("then {n}", { n: 8 });
  out.seen = seen;
  console.log(JSON.stringify(out));
  Deno.exit(0);
}
if (mode === "overlap") {
  // Set-up, a record and shut-down, none awaited before the next: they apply in call order.
  const file = Deno.args[1]!;
  const setup = setupLogging({ json: true, file });
  log("t").info("during set-up {n}", { n: 1 });
  const down = shutdownLogging();
  await setup;
  await down;
  log("t").info("after shut-down {n}", { n: 2 });
  await loggingPending();
  // Shut down while a set-up is still under way: nothing of adhash's stays configured.
  const again = setupLogging({ json: true });
  const downAgain = shutdownLogging();
  await again;
  await downAgain;
  log("t").info("after the second shut-down {n}", { n: 3 });
  await loggingPending();
  out.file = Deno.readTextFileSync(file).trim().split("\n").map((l) => JSON.parse(l).message);
  console.log(JSON.stringify(out));
  Deno.exit(0);
}
await setupLogging({ json: true });
out.afterSetup = logtapeLoaded();
log("t").debug("below the level {n}", { n: 0 });
out.afterDebug = logtapeLoaded();
out.pendingAfterDebug = loggingPending() !== undefined;
if (mode !== "quiet") {
  out.before = Date.now();
  log("t").info("first {n}", { n: 1 });
  out.afterFirst = logtapeLoaded();
  // A timestamp taken when the record is written, not when it was logged, would be this late.
  const until = Date.now() + 50;
  while (Date.now() < until) { /* busy */ }
  log("t").warn("second {n}", { n: 2 });
  const pending = loggingPending();
  out.pendingAfterSecond = pending !== undefined;
  await pending;
  // Written straight after the queued records: they must come before this line.
  Deno.stderr.writeSync(new TextEncoder().encode("MARK\n"));
  out.afterPending = logtapeLoaded();
  log("t").error("third {n}", { n: 3 });
}
await shutdownLogging();
console.log(JSON.stringify(out));
