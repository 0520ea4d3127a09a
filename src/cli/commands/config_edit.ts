/**
 * `config-edit`: edits a configuration TOML without hand-editing it: `--set`/`--unset` keys,
 * apply presets, save the result as a preset, list presets (docs/config.md). The work is in
 * src/config/, loaded when the command runs (it needs zod and the TOML parser).
 *
 * @module
 */

import { type Command, Option } from "../command.ts";
import { BadInputError } from "../../errors.ts";
import { visible } from "../../format.ts";
import { checkDistinctPaths } from "../paths.ts";
import { emitSuccess, globalOptions, writeStdout } from "../program.ts";
import { log } from "../../log/setup.ts";
import { writeTogether } from "../../io/atomic_write.ts";
import type { Preset } from "../../config/presets.ts";
import type { ConfigPresets, ConfigResult } from "../../contracts/config_edit.ts";
import { registerConfigWizardCommand } from "./config_wizard.ts";

/** Flags of `config-edit`. */
export interface ConfigEditFlags {
  infile?: string;
  outfile?: string;
  set?: string[];
  unset?: string[];
  applyPreset?: string[];
  savePreset?: string;
  presetsDir?: string;
  force?: boolean;
  listPresets?: boolean;
}

function collect(value: string, previous: unknown): string[] {
  return [...(previous as string[] | undefined ?? []), value];
}

/** Edits per `f`; returns the result (what was written) and the TOML for `--outfile -`. */
async function configEdit(
  f: ConfigEditFlags,
  json: boolean,
): Promise<{ result: ConfigResult; toml: string }> {
  const [edit, presets, output, { renderToml }, { emptySections }] = await Promise.all([
    import("../../config/edit.ts"),
    import("../../config/presets.ts"),
    import("../../config/output.ts"),
    import("../../config/toml_write.ts"),
    import("../../config/keys.ts"),
  ]);
  if (f.outfile === undefined && f.savePreset === undefined) {
    throw new BadInputError("config-edit writes nothing without --outfile or --save-preset", {
      hint: "Give --outfile PATH (- for stdout), --save-preset NAME, or --list-presets",
    });
  }
  // The command line is checked whole, then the outputs, before any file is read.
  const sets = (f.set ?? []).map(edit.parseAssignment);
  const unsets = (f.unset ?? []).map((id) => edit.requireKey(id.trim(), `--unset "${id}"`));
  for (const u of unsets) {
    if (sets.some((s) => s.key === u)) {
      throw new BadInputError(`'${u.id}' is given to both --set and --unset`, {
        hint: "Keep one of them",
      });
    }
  }
  for (const name of f.applyPreset ?? []) presets.checkPresetName(name, "--apply-preset");
  const force = f.force === true;
  output.checkOutfile("--outfile", f.outfile, force, json);
  let presetFile: string | undefined;
  if (f.savePreset !== undefined) {
    presets.checkWritablePreset(f.savePreset);
    if (f.presetsDir === undefined) {
      throw new BadInputError(`--save-preset ${f.savePreset} needs a presets directory`, {
        hint: "Give --presets-dir DIR or set ADHASH_PRESETS_DIR",
      });
    }
    presetFile = presets.presetPath(f.presetsDir, f.savePreset);
    output.checkOutfile("--save-preset", presetFile, force, false);
  }
  checkDistinctPaths([["--outfile", f.outfile], ["--save-preset", presetFile]]);

  const base = f.infile === undefined ? emptySections() : await edit.readConfigFile(f.infile);
  let edited = edit.mergeSections(base, emptySections());
  for (const name of f.applyPreset ?? []) {
    const preset: Preset = await presets.presetConfig(name, f.presetsDir);
    edited = edit.mergeSections(edited, preset.config!);
  }
  for (const u of unsets) delete edited[u.section][u.name];
  for (const s of sets) edited[s.key.section][s.key.name] = s.value;
  edited = edit.orderedSections(edited);
  await edit.checkSections(edited);

  const sources = [
    ...(f.infile === undefined ? [] : [f.infile]),
    ...(f.applyPreset ?? []).map((p) => `preset ${p}`),
  ];
  const toml = renderToml(edited, output.fileHeader("config-edit", sources));
  const files: Array<[string, string]> = [];
  if (f.outfile !== undefined && f.outfile !== "-") files.push([f.outfile, toml]);
  if (presetFile !== undefined) {
    const header = [
      `adhash configuration preset '${f.savePreset}', saved by hashmap-cli config-edit.`,
      ...output.fileHeader("config-edit", sources).slice(1),
    ];
    files.push([presetFile, renderToml(edited, header)]);
  }
  await writeTogether(files);
  const result: ConfigResult = {
    schema: "config_result.v1",
    infile: f.infile ?? null,
    outfile: f.outfile ?? null,
    presets_applied: f.applyPreset ?? [],
    preset_saved: presetFile ?? null,
    config: edited,
    changes: edit.diffSections(base, edited),
  };
  return { result, toml };
}

/** The text report of an edit. */
async function formatEdit(r: ConfigResult): Promise<string> {
  const { formatChanges } = await import("../../config/output.ts");
  const from = [
    r.infile === null ? "the defaults" : r.infile,
    ...(r.presets_applied.length > 0 ? [`presets ${r.presets_applied.join(", ")}`] : []),
  ].join("; ");
  const lines = r.outfile === null ? [] : [`config-edit: wrote ${r.outfile} (from ${from})`];
  if (r.preset_saved !== null) {
    lines.push(`config-edit: saved the preset in ${r.preset_saved} (from ${from})`);
  }
  return `${[lines[0]!, ...formatChanges(r.changes), ...lines.slice(1)].join("\n")}\n`;
}

/** Lists the presets (`--list-presets`). */
async function presetList(dir: string | undefined): Promise<ConfigPresets> {
  const [{ listPresets }, { orderedSections }] = await Promise.all([
    import("../../config/presets.ts"),
    import("../../config/edit.ts"),
  ]);
  const { presets, dirExists } = await listPresets(dir);
  return {
    schema: "config_presets.v1",
    presets_dir: dir ?? null,
    presets_dir_exists: dirExists,
    presets: presets.map((p) => ({
      ...p,
      config: p.config === null ? null : orderedSections(p.config),
    })),
  };
}

/** `text` in lines of at most `width` characters (longer words alone), each after `indent`. */
function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(" ")) {
    if (line !== indent && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
    }
    line = line === indent ? `${indent}${word}` : `${line} ${word}`;
  }
  return [...lines, line];
}

/** The text of `--list-presets`. */
async function formatPresetList(list: ConfigPresets): Promise<string> {
  const { findKey, showValue, SECTIONS } = await import("../../config/keys.ts");
  const lines: string[] = [];
  const settings = (p: ConfigPresets["presets"][number]): string =>
    SECTIONS.flatMap((s) =>
      Object.entries(p.config?.[s] ?? {}).map(([k, v]) =>
        `${s}.${k} = ${showValue(findKey(`${s}.${k}`)!, v!)}`
      )
    ).join(", ") || "no keys";
  lines.push("built-in presets:");
  for (const p of list.presets.filter((p) => p.source === "builtin")) {
    lines.push(`  ${p.name}: ${settings(p)}`, ...wrap(p.description ?? "", 96, "    "));
  }
  if (list.presets_dir === null) {
    lines.push("no presets directory (--presets-dir or ADHASH_PRESETS_DIR)");
  } else if (!list.presets_dir_exists) {
    lines.push(`presets in ${list.presets_dir}: none (the directory does not exist yet)`);
  } else {
    const own = list.presets.filter((p) => p.source === "directory");
    lines.push(`presets in ${list.presets_dir}:${own.length === 0 ? " none" : ""}`);
    for (const p of own) {
      lines.push(
        p.problem === null
          ? `  ${p.name}: ${settings(p)}`
          : `  ${p.name}: cannot be applied: ${p.problem}`,
      );
    }
  }
  // Preset file names and the keys inside them are data: nothing may act on the terminal.
  return `${lines.map(visible).join("\n")}\n`;
}

/** Registers `config-edit` and `config-wizard`. */
export function registerConfigCommands(program: Command): void {
  program.command("config-edit")
    .description("Edit a config TOML: set/unset keys, apply and save presets (docs/config.md)")
    .option("--infile <path>", "configuration to start from (default: no key set)")
    .option("--outfile <path>", "file to write, or - for stdout")
    .option(
      "--set <key=value>",
      "set section.key, e.g. adaptive.max_lf_chaining=0.7 (repeat)",
      collect,
    )
    .option("--unset <key>", "remove section.key, back to its default (repeat)", collect)
    .option("--apply-preset <name>", "merge a preset over --infile, before --set (repeat)", collect)
    .option("--save-preset <name>", "also save the result as preset <name> (a-z, 0-9, -)")
    .addOption(
      new Option("--presets-dir <dir>", "directory of preset files <name>.toml").env(
        "ADHASH_PRESETS_DIR",
      ),
    )
    .option("--force", "replace --outfile or the --save-preset file if it exists")
    .option("--list-presets", "list the built-in and directory presets")
    .action(async (f: ConfigEditFlags, cmd: Command) => {
      const { json } = globalOptions(cmd);
      if (f.listPresets) {
        const extra = (Object.keys(f) as Array<keyof ConfigEditFlags>)
          .filter((k) => k !== "listPresets" && k !== "presetsDir");
        if (extra.length > 0) {
          throw new BadInputError("--list-presets only lists: it takes no other config-edit flag", {
            hint: "Run it alone (with --presets-dir if needed), then edit",
          });
        }
        const list = await presetList(f.presetsDir);
        const text = json ? "" : await formatPresetList(list);
        emitSuccess(cmd, { ...list }, text);
        return;
      }
      const { result, toml } = await configEdit(f, json);
      if (f.outfile === "-") {
        // stdout is the TOML alone: the saved preset is reported on stderr.
        if (result.preset_saved !== null) {
          log("config-edit").info("Saved the preset in {path}", { path: result.preset_saved });
        }
        writeStdout(toml);
        return;
      }
      const text = json ? "" : await formatEdit(result);
      emitSuccess(cmd, { ...result }, text);
    });
  registerConfigWizardCommand(program);
}
