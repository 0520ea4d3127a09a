/**
 * The full `hashmap-cli` command set and its entry point.
 *
 * @module
 */

import { type Registrar, runCli } from "./program.ts";
import { registerGenerateCsvCommand } from "./commands/generate_csv.ts";
import { registerRunCsvCommand } from "./commands/run_csv.ts";
import { registerValidateMetricsCommand } from "./commands/validate_metrics.ts";
import { registerWorkloadDnaCommand } from "./commands/workload_dna.ts";
import { registerProfileCommand } from "./commands/profile.ts";
import { registerAbCompareCommand } from "./commands/ab_compare.ts";
import { registerDemoCommand } from "./commands/demo.ts";
import { registerBatchCommand } from "./commands/batch.ts";
import { registerConfigCommands } from "./commands/config_edit.ts";
import { registerSnapshotCommands } from "./commands/snapshot.ts";
import { registerServeCommands } from "./commands/serve.ts";

/** Every command registrar, in help order. */
export const REGISTRARS: readonly Registrar[] = [
  registerGenerateCsvCommand,
  registerRunCsvCommand,
  registerValidateMetricsCommand,
  registerWorkloadDnaCommand,
  registerProfileCommand,
  registerAbCompareCommand,
  registerDemoCommand,
  registerBatchCommand,
  registerConfigCommands,
  registerSnapshotCommands,
  registerServeCommands,
];

/** Runs `hashmap-cli` with `args`; resolves to the exit code. */
export function main(args: string[]): Promise<number> {
  return runCli(args, REGISTRARS);
}
