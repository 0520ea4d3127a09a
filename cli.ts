/**
 * `hashmap-cli`: the adhash command line. See docs/cli.md.
 *
 * @module
 */

import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
