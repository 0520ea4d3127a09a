/**
 * `generate-csv`: writes a synthetic workload CSV (deterministic for given flags).
 *
 * @module
 */

import type { Command } from "../command.ts";
import { BadInputError } from "../../errors.ts";
import { atomicWrite } from "../../io/atomic_write.ts";
import {
  GENERATE_DEFAULTS,
  generateCsvChunks,
  type GenerateOptions,
} from "../../workload/generate.ts";
import {
  emitSuccess,
  floatArg,
  globalOptions,
  intArg,
  refuseUnused,
  writeStdoutBytes,
} from "../program.ts";
import { progressBar } from "../progress.ts";
import { log } from "../../log/setup.ts";
import { checkOutputFiles } from "../paths.ts";

type GenerateFlags = GenerateOptions & { outfile: string };

/** Largest `--key-space` with `--key-skew > 0` (the Zipf table holds 8 bytes per key). */
export const MAX_ZIPF_KEY_SPACE = 10_000_000;

/** Registers `generate-csv`. */
export function registerGenerateCsvCommand(program: Command): void {
  const d = GENERATE_DEFAULTS;
  program.command("generate-csv")
    .description("Generate a synthetic workload CSV (op,key,value); same flags, same bytes")
    .requiredOption("--outfile <path>", "output file, or - for stdout")
    .option("--ops <n>", "rows to generate", intArg(0, 1_000_000_000), d.ops)
    .option("--read-ratio <r>", "share of get rows", floatArg(0, 1), d.readRatio)
    .option(
      "--key-skew <s>",
      "Zipf exponent of key choice (0 = uniform)",
      floatArg(0, 10),
      d.keySkew,
    )
    .option("--key-space <n>", "distinct keys K0..K<n-1>", intArg(1, 1_000_000_000), d.keySpace)
    .option("--seed <n>", "PRNG seed (uint32)", intArg(0, 4294967295), d.seed)
    .option("--del-ratio <r>", "share of writes that are deletes", floatArg(0, 1), d.delRatio)
    .option(
      "--adversarial-ratio <r>",
      "share of rows using colliding keys",
      floatArg(0, 1),
      d.adversarialRatio,
    )
    .option(
      "--adversarial-lowbits <b>",
      "adversarial keys share one slot of a 2^b table",
      intArg(1, 20),
      d.adversarialLowbits,
    )
    .action(async (f: GenerateFlags, cmd: Command) => {
      refuseUnused(
        cmd,
        "adversarialLowbits",
        "--adversarial-lowbits",
        "--adversarial-ratio above 0",
        f.adversarialRatio > 0,
      );
      if (f.keySkew > 0 && f.keySpace > MAX_ZIPF_KEY_SPACE) {
        throw new BadInputError(
          `--key-space ${f.keySpace} is too large with --key-skew ${f.keySkew} (max ${MAX_ZIPF_KEY_SPACE})`,
          { hint: "Lower --key-space or use --key-skew 0" },
        );
      }
      const options = {
        ops: f.ops,
        readRatio: f.readRatio,
        keySkew: f.keySkew,
        keySpace: f.keySpace,
        seed: f.seed,
        delRatio: f.delRatio,
        adversarialRatio: f.adversarialRatio,
        adversarialLowbits: f.adversarialLowbits,
      };
      checkOutputFiles([["--outfile", f.outfile, true]]);
      const started = performance.now();
      let bytes = 0;
      if (f.outfile === "-") {
        try {
          for (const chunk of generateCsvChunks(options)) {
            writeStdoutBytes(chunk);
            bytes += chunk.length;
          }
        } catch (err) {
          // The reader went away (`| head`): like other Unix tools, stop quietly.
          if (err instanceof Deno.errors.BrokenPipe) return;
          throw err;
        }
        return;
      }
      const bar = f.ops >= 1_000_000
        ? progressBar("generate-csv", f.ops, globalOptions(cmd).logJson)
        : null;
      const counting = function* (): Generator<Uint8Array> {
        for (const chunk of generateCsvChunks(options, 1 << 20, (r) => bar?.update(r))) {
          bytes += chunk.length;
          yield chunk;
        }
      };
      try {
        await atomicWrite(f.outfile, counting());
      } catch (err) {
        bar?.finish(false);
        throw err;
      }
      bar?.finish();
      const seconds = (performance.now() - started) / 1000;
      log("generate").info("Wrote {rows} rows ({bytes} bytes) to {path} in {seconds}s", {
        rows: f.ops,
        bytes,
        path: f.outfile,
        seconds: Number(seconds.toFixed(3)),
      });
      emitSuccess(
        cmd,
        {
          outfile: f.outfile,
          rows: f.ops,
          bytes,
          read_ratio: f.readRatio,
          key_skew: f.keySkew,
          key_space: f.keySpace,
          seed: f.seed,
          del_ratio: f.delRatio,
          adversarial_ratio: f.adversarialRatio,
          adversarial_lowbits: f.adversarialLowbits,
        },
        `Wrote ${f.ops} rows (${bytes} bytes) to ${f.outfile}`,
      );
    });
}
