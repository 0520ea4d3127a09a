/**
 * `config-wizard`: writes a configuration TOML from answers read on stdin, one question per
 * key on stderr (so stdout keeps only the result, and piped answers work as typed ones).
 * The dialogue is src/config/wizard.ts; docs/config.md describes both.
 *
 * @module
 */

import type { Command } from "../command.ts";
import { emitSuccess, globalOptions, refuseUnused, writeStderr, writeStdout } from "../program.ts";
import type { ConfigResult } from "../../contracts/config_edit.ts";
import { writeTogether } from "../../io/atomic_write.ts";

/** Flags of `config-wizard`. */
export interface ConfigWizardFlags {
  outfile: string;
  infile?: string;
  force?: boolean;
}

/** Registers `config-wizard`. */
export function registerConfigWizardCommand(program: Command): void {
  program.command("config-wizard")
    .description("Write a config TOML by answering one question per key (docs/config.md)")
    .requiredOption("--outfile <path>", "file to write, or - for stdout")
    .option("--infile <path>", "configuration whose values the questions offer")
    .option("--force", "replace --outfile if it exists")
    .action(async (f: ConfigWizardFlags, cmd: Command) => {
      const { json } = globalOptions(cmd);
      refuseUnused(cmd, "force", "--force", "--outfile FILE", f.outfile !== "-");
      const [edit, output, wizard, { renderToml }, { emptySections }] = await Promise.all([
        import("../../config/edit.ts"),
        import("../../config/output.ts"),
        import("../../config/wizard.ts"),
        import("../../config/toml_write.ts"),
        import("../../config/keys.ts"),
      ]);
      output.checkOutfile("--outfile", f.outfile, f.force === true, json);
      const base = f.infile === undefined ? emptySections() : await edit.readConfigFile(f.infile);
      const lines = wizard.readLines(Deno.stdin.readable);
      // A terminal shows what was typed; piped answers are echoed so the dialogue reads alike.
      const echo = !Deno.stdin.isTerminal();
      const answers = await wizard.runWizard({
        say: writeStderr,
        answer: async () => {
          let next: IteratorResult<string>;
          try {
            next = await lines.next();
          } catch (err) {
            writeStderr("\n"); // ends the prompt's line: the envelope is a line of its own
            throw err;
          }
          if (next.done) return null;
          if (echo) writeStderr(`${next.value}\n`);
          return next.value;
        },
      }, base);
      await lines.return(undefined);
      const sources = f.infile === undefined ? [] : [f.infile];
      const toml = renderToml(answers, output.fileHeader("config-wizard", sources));
      if (f.outfile === "-") {
        writeStdout(toml);
        return;
      }
      await writeTogether([[f.outfile, toml]]);
      const result: ConfigResult = {
        schema: "config_result.v1",
        infile: f.infile ?? null,
        outfile: f.outfile,
        presets_applied: [],
        preset_saved: null,
        config: answers,
        changes: edit.diffSections(base, answers),
      };
      const text = json ? "" : [
        `config-wizard: wrote ${f.outfile} (keys that differ from the defaults)`,
        ...output.formatChanges(result.changes),
        "",
      ].join("\n");
      emitSuccess(cmd, { ...result }, text);
    });
}
