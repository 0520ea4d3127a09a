/**
 * `probe-visualize`: the probe path of one get or put on the chosen backend, as text and as
 * the `probe_trace.v1` JSON (docs/probe_trace.md).
 *
 * @module
 */

import { checkDistinctPaths, checkOutputFiles } from "../paths.ts";
import { type Command, Option } from "../command.ts";
import { BadInputError } from "../../errors.ts";
import { visible } from "../../format.ts";
import type { ProbeTrace } from "../../core/types.ts";
import { commitAll, type StagedFile, stageFile } from "../../io/atomic_write.ts";
import { emitSuccess, refuseUnused } from "../program.ts";
import { cliKey, noteTwin, NUMERIC_KEY_HELP, openStore, stageStore } from "./snapshot.ts";

interface ProbeFlags {
  operation: "get" | "put";
  key: string;
  value?: string;
  snapshot?: string;
  seed?: string[];
  exportJson?: string;
  apply?: boolean;
  numeric?: boolean;
}

/** Parses a `--seed KEY=VALUE` item. */
export function parseSeed(item: string): [string, string] {
  const i = item.indexOf("=");
  if (i <= 0) {
    throw new BadInputError(`--seed '${item}' is not KEY=VALUE`, {
      hint: "Example: --seed K1=1 --seed K2=2",
    });
  }
  return [item.slice(0, i), item.slice(i + 1)];
}

/** How to read a Robin Hood trace's steps, printed under them. */
const ROBIN_HOOD_LEGEND = "(dist: how far the entry there sits from its ideal slot; carried: how " +
  "far the key would sit there. An empty slot, or an entry nearer home than the key " +
  "(dist < carried), ends the search: Robin Hood would have put the key before it.)";

/** The text rendering of a trace. */
export function traceText(t: ProbeTrace, rawKey: string): string {
  const lines = [
    `Probe visualization [${t.backend}] ${t.operation.toUpperCase()} key='${visible(rawKey)}'`,
  ];
  const hash = `0x${t.hash.toString(16).padStart(8, "0")}`;
  const r = t.rebuild;
  if (r !== undefined) {
    const unit = t.backend === "robinhood" ? "slots" : "chains";
    lines.push(
      r.type === "resize"
        ? `The table is full: this put first grows it from ${r.from_capacity} to ${r.to_capacity} ${unit}, then probes the new table.`
        : `Tombstones fill the table: this put first rebuilds it without them (${r.to_capacity} ${unit}), then probes the new table.`,
    );
  }
  if (t.backend === "robinhood") {
    lines.push(`Hash: ${hash}, capacity ${t.capacity}, ideal slot ${t.ideal_slot}`);
    lines.push("Steps:");
    for (const s of t.path) {
      const who = s.state === "occupied"
        ? `key=${s.key_repr} ideal=${s.ideal_slot} dist=${s.probe_distance}`
        : s.state === "tombstone"
        ? `dist=${s.probe_distance}`
        : "";
      lines.push(
        `  [${s.step}] slot ${s.slot} ${s.state}${
          who === "" ? "" : ` ${who}`
        } carried=${s.carried_distance}${s.matches ? " match" : ""} -> ${s.action}`,
      );
    }
    if (t.path.some((s) => s.state === "occupied")) lines.push(ROBIN_HOOD_LEGEND);
  } else {
    lines.push(`Hash: ${hash}, capacity ${t.capacity}, bucket ${t.bucket}`);
    lines.push("Steps:");
    if (t.path.length === 0) lines.push("  (empty chain)");
    for (const s of t.path) {
      lines.push(`  [${s.position}] key=${s.key_repr}${s.matches ? " match" : ""}`);
    }
  }
  lines.push(`Result: ${t.terminal} (found: ${t.found})`);
  return lines.join("\n");
}

/** Registers `probe-visualize`. */
export function registerProbeVisualizeCommand(program: Command): void {
  program.command("probe-visualize")
    .description("Show the probe path of one get or put (text, or probe_trace.v1 JSON)")
    .addOption(
      new Option("--operation <op>", "operation to trace").choices(["get", "put"]).default("get"),
    )
    .requiredOption("--key <key>", "key (a string)")
    .option("--numeric", NUMERIC_KEY_HELP.replace("KEY", "--key"))
    .option("--value <value>", "value for put")
    .option("--snapshot <path>", "trace against this snapshot's map (default: an empty map)")
    .option(
      "--seed <KEY=VALUE...>",
      "entries to set before tracing",
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option("--export-json <path>", "also write the trace JSON to this file (atomically)")
    .option("--apply", "perform the put after tracing (saved to --snapshot when given)")
    .action(async (f: ProbeFlags, cmd: Command) => {
      if (f.operation === "put" && f.value === undefined) {
        throw new BadInputError("--operation put needs --value", { hint: "Add --value V" });
      }
      refuseUnused(cmd, "value", "--value", "--operation put", f.operation === "put");
      if (f.apply === true && f.operation !== "put") {
        throw new BadInputError("--apply only applies to --operation put");
      }
      checkDistinctPaths([["--snapshot", f.snapshot], ["--export-json", f.exportJson]]);
      checkOutputFiles([["--export-json", f.exportJson]]);
      const seeds = (f.seed ?? []).map(parseSeed);
      const key = cliKey(f.key, f.numeric);
      const store = await openStore(cmd, f.snapshot, f.apply === true);
      const { map } = store;
      let trace: ProbeTrace;
      let applied = false;
      // The trace and the changed snapshot are committed together, or neither.
      const staged: StagedFile[] = [];
      const renamed = { count: 0 };
      try {
        for (const [k, v] of seeds) map.set(k, v);
        trace = f.operation === "get" ? map.traceGet(key) : map.tracePut(key, f.value as string);
        if (!trace.found) noteTwin(cmd, map, key);
        if (f.exportJson !== undefined) {
          staged.push(await stageFile(f.exportJson, `${JSON.stringify(trace, null, 2)}\n`));
        }
        if (f.apply === true) {
          map.set(key, f.value as string);
          applied = true;
          if (f.snapshot !== undefined) staged.push(await stageStore(f.snapshot, store));
        }
        commitAll(staged, renamed);
      } catch (err) {
        for (const file of staged.slice(renamed.count)) file.discard();
        throw err;
      } finally {
        store.release?.();
      }
      emitSuccess(
        cmd,
        {
          trace,
          applied,
          exported: f.exportJson ?? null,
          snapshot: f.snapshot ?? null,
        },
        () =>
          `${traceText(trace, f.key)}${
            applied
              ? `\nApplied: ${visible(f.key)}=${visible(f.value!)}${
                f.snapshot ? ` (saved to ${f.snapshot})` : ""
              }`
              : ""
          }${f.exportJson !== undefined ? `\nTrace JSON: ${f.exportJson}` : ""}`,
      );
    });
}
