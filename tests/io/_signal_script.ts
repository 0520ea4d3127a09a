// A process with a staged (uncommitted) write when SIGTERM arrives. With "leave" it handles the
// signal itself, as `serve` does, and commits; otherwise the temp-file listener exits with 143.
import {
  leaveSignalsToProgram,
  removeTempFilesOnSignal,
  stageFile,
} from "../../src/io/atomic_write.ts";

removeTempFilesOnSignal();
if (Deno.args[1] === "leave") leaveSignalsToProgram();
const staged = await stageFile(Deno.args[0]!, "data\n");
Deno.addSignalListener("SIGTERM", () => {
  staged.commit();
  console.log("handled by the program");
  Deno.exit(0);
});
Deno.kill(Deno.pid, "SIGTERM");
await new Promise((r) => setTimeout(r, 5000));
