/**
 * `workload-dna`: analyses a workload CSV before it is replayed: op mix, key popularity and
 * skew, live keys, bucket pressure under adhash's hash, and the `--mode` that fits
 * (docs/workload_dna.md).
 *
 * @module
 */

import type { Command } from "../command.ts";
import { BadInputError } from "../../errors.ts";
import { checkDistinctPaths, checkOutputFiles } from "../paths.ts";
import { atomicWrite } from "../../io/atomic_write.ts";
import { readWorkload } from "../../workload/csv_reader.ts";
import { analyseWorkload, DNA_DEFAULTS } from "../../workload/dna.ts";
import type { WorkloadDna } from "../../contracts/workload_dna.ts";
import { percent, thousands } from "../../format.ts";
import { keyRepr } from "../../core/hash.ts";
import { addCsvLimitOptions } from "./run_csv.ts";
import { emitSuccess, intArg, refuseUnused } from "../program.ts";

/** Flags of `workload-dna`. */
export interface WorkloadDnaFlags {
  csv: string;
  topKeys: number;
  maxTrackedKeys: number;
  jsonOut?: string;
  pretty?: boolean;
  csvMaxRows: number;
  csvMaxBytes: number;
}

/**
 * Analyses `flags.csv` and, with `jsonOut`, writes the report there atomically. A bad output
 * path fails before the input is read.
 */
async function workloadDna(flags: WorkloadDnaFlags): Promise<WorkloadDna> {
  if (flags.jsonOut === "-") {
    throw new BadInputError(`--json-out "-" is not a file`, {
      hint: "Use the global --json flag to print the report on stdout",
    });
  }
  checkDistinctPaths([["--csv", flags.csv], ["--json-out", flags.jsonOut]]);
  checkOutputFiles([["--json-out", flags.jsonOut]]);
  const batches = readWorkload(flags.csv, {
    maxBytes: flags.csvMaxBytes,
    maxRows: flags.csvMaxRows,
  });
  const report = await analyseWorkload(batches, flags.csv, {
    topKeys: flags.topKeys,
    maxTrackedKeys: flags.maxTrackedKeys,
  });
  if (flags.jsonOut !== undefined) {
    await atomicWrite(
      flags.jsonOut,
      `${JSON.stringify(report, null, flags.pretty ? 2 : undefined)}\n`,
    );
  }
  return report;
}

/** The text report printed without `--json`. */
function formatDna(r: WorkloadDna, jsonOut?: string): string {
  const k = r.keys;
  const capped = !k.distinct_exact;
  const atLeast = capped ? ">= " : "";
  const lines = [
    `workload-dna: ${r.csv}, ${thousands(r.rows)} rows`,
    `ops: put ${r.ops_by_type.put} (${percent(r.op_ratios.put)}), get ${r.ops_by_type.get} ` +
    `(${percent(r.op_ratios.get)}), del ${r.ops_by_type.del} (${percent(r.op_ratios.del)})`,
    `keys: ${atLeast}${thousands(k.distinct)} distinct, length min ${k.length.min} / mean ` +
    `${k.length.mean.toFixed(1)} / max ${k.length.max}, numeric suffix (like K123) on ` +
    `${percent(k.numeric_suffix_share)} of rows`,
    `live keys if replayed: peak ${atLeast}${thousands(r.live_keys.peak)}, final ` +
    `${atLeast}${thousands(r.live_keys.final)}`,
  ];
  const s = r.skew;
  lines.push(
    `skew: the hottest 1% of keys (${s.top_1pct_keys}) take ${
      percent(s.top_1pct_share)
    } of the ops, ` +
      `Zipf exponent ${s.zipf_exponent === null ? "n/a" : s.zipf_exponent.toFixed(3)} ` +
      `(${s.zipf_fit_points} ranks): ${s.skewed ? "skewed" : "not skewed"}`,
  );
  if (r.top_keys.length > 0) {
    lines.push(`top ${r.top_keys.length} keys:`);
    // The key comes last, as in `uniq -c`: padding it would misalign a row with wide characters.
    r.top_keys.forEach((t, i) => {
      lines.push(
        `  ${String(i + 1).padStart(3)}  ${`${t.exact ? "" : ">="}${t.count}`.padStart(10)}  ${
          `${(100 * t.share).toFixed(2)}%`.padStart(7)
        }  ${keyRepr(t.key)}`,
      );
    });
  }
  const h = r.hash_pressure;
  lines.push(
    `hash: ${thousands(h.keys_hashed)} keys in ${thousands(h.buckets)} buckets (load ` +
      `${h.expected_load.toFixed(3)}): fullest bucket ${h.max_bucket_load}, keys sharing a ` +
      `bucket ${percent(h.colliding_key_share)} (uniform hash: ${
        percent(h.uniform_colliding_key_share)
      })`,
  );
  const w = h.worst_prefix;
  lines.push(
    w === null ? "adversarial: no (no keys)" : `adversarial: ${h.adversarial ? "YES" : "no"} ` +
      `(worst top-bits width ${w.bits}: ${w.max_load} keys in one of ${w.buckets} buckets, ` +
      `expected ${w.expected_load}, uniform limit ${w.uniform_limit})`,
  );
  if (capped) {
    lines.push(
      `note: --max-tracked-keys ${k.max_tracked} reached; ${thousands(k.untracked_rows)} rows ` +
        `on later keys are not tracked: distinct and live keys are lower bounds, skew and hash ` +
        `cover the tracked keys, ">=" counts are estimates low by at most ` +
        `${r.top_keys_error_bound}`,
    );
  }
  lines.push(`recommendation: --mode ${r.recommendation.mode} (${r.recommendation.reason})`);
  if (jsonOut !== undefined) lines.push(`report: ${jsonOut}`);
  return `${lines.join("\n")}\n`;
}

/** Registers `workload-dna`. */
export function registerWorkloadDnaCommand(program: Command): void {
  addCsvLimitOptions(
    program.command("workload-dna")
      .description(
        "Analyse a workload CSV: op mix, key skew, live keys, hash pressure, best --mode",
      )
      .requiredOption("--csv <path>", "workload CSV (op,key,value), or - for stdin"),
  )
    .option("--top-keys <n>", "hottest keys listed", intArg(0, 10_000), DNA_DEFAULTS.topKeys)
    .option(
      "--max-tracked-keys <n>",
      "distinct keys tracked exactly (bounds memory)",
      intArg(1, 10_000_000),
      DNA_DEFAULTS.maxTrackedKeys,
    )
    .option("--json-out <path>", "also write the report JSON to this file")
    .option("--pretty", "indent the --json-out file")
    .action(async (flags: WorkloadDnaFlags, cmd: Command) => {
      refuseUnused(cmd, "pretty", "--pretty", "--json-out", flags.jsonOut !== undefined);
      const report = await workloadDna(flags);
      emitSuccess(cmd, { ...report }, () => formatDna(report, flags.jsonOut));
    });
}
