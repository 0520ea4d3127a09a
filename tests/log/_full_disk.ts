// Logs three records to /dev/full, whose every write fails as on a full disk (run by
// log_file_test.ts, on Linux).
import { log, loggingPending, setupLogging, shutdownLogging } from "../../src/log/setup.ts";

await setupLogging({ json: true, file: "/dev/full" });
for (const n of [1, 2, 3]) log("test").info("record {n}", { n });
await loggingPending();
await shutdownLogging();
console.log("done");
