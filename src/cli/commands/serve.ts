// Placeholder owned by the server work (issue 5): registers `serve`.
import type { Command } from "commander";

/** Adds the `serve` command to `program`. */
export function registerServeCommands(_program: Command): void {}
