// Placeholder owned by the snapshot work (issue 4): registers put/get/del/items,
// verify-snapshot, compact-snapshot, inspect-snapshot and probe-visualize.
import type { Command } from "commander";

/** Adds the snapshot commands to `program`. */
export function registerSnapshotCommands(_program: Command): void {}
