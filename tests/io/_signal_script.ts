// A process with a staged (uncommitted) write when SIGTERM arrives. With "leave" it handles the
// signal itself, as `serve` does, and commits; otherwise the temp-file listener exits with 143.
// With "nested" the write goes into a directory made inside one made before it (as `demo`'s
// outputs go into its --out-dir); with "locked", into a new directory where a lock is held (as
// `put` to a new snapshot); with "lock-named", an output takes the lock's name.
import { lockFile } from "../../src/io/file_lock.ts";
import {
  leaveSignalsToProgram,
  makeDirs,
  removeTempFilesOnSignal,
  stageFile,
} from "../../src/io/atomic_write.ts";

removeTempFilesOnSignal();
if (Deno.args[1] === "leave") leaveSignalsToProgram();
let path = Deno.args[0]!;
if (Deno.args[1] === "nested") {
  makeDirs(`${path}.d`);
  path = `${path}.d/inner/out.txt`;
}
if (Deno.args[1] === "locked") {
  path = `${path}.d/inner/out.txt`;
  await lockFile(path);
}
if (Deno.args[1] === "lock-named") {
  // An output written under the lock's name while the lock is held is the user's file.
  await lockFile(path);
  const lock = `${path.slice(0, path.lastIndexOf("/"))}/.${
    path.slice(path.lastIndexOf("/") + 1)
  }.lock`;
  (await stageFile(lock, '{"kept":true}\n')).commit();
}
const staged = await stageFile(path, "data\n");
Deno.addSignalListener("SIGTERM", () => {
  staged.commit();
  console.log("handled by the program");
  Deno.exit(0);
});
Deno.kill(Deno.pid, "SIGTERM");
await new Promise((r) => setTimeout(r, 5000));
