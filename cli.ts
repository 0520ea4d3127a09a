/**
 * `hashmap-cli`: the adhash command line. See docs/cli.md.
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  // A file-size limit (`ulimit -f`) kills a process with SIGXFSZ at the write that passes it,
  // leaving its temporary files. Caught, the write fails with EFBIG instead: an IO error (exit
  // 5) after the usual clean-up, as on a full disk. Windows has no such signal.
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGXFSZ", () => {});
  Deno.exit(await main(Deno.args));
}
