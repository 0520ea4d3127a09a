/**
 * Fixture: the real CLI error handler with one extra command that throws an unexpected
 * TypeError, to test the Internal envelope.
 *
 * @module
 */

import type { Command } from "../../src/cli/command.ts";
import { runCli } from "../../src/cli/program.ts";
import { REGISTRARS } from "../../src/cli/main.ts";

const crash = (p: Command): void => {
  p.command("crash").action(() => {
    throw new TypeError("boom");
  });
};

Deno.exit(await runCli(Deno.args, [...REGISTRARS, crash]));
