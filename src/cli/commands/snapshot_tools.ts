/**
 * `verify-snapshot`, `compact-snapshot` and `inspect-snapshot`.
 *
 * @module
 */

import { visible } from "../../format.ts";
import { lockFile } from "../../io/file_lock.ts";
import { checkDistinctPaths, checkOutputFiles } from "../paths.ts";
import type { Command } from "../command.ts";
import { BadInputError, InvariantError, withFileHint } from "../../errors.ts";
import type { MapStats } from "../../core/types.ts";
import { commandConfig, emitSuccess, globalOptions, intArg } from "../program.ts";
import { warnIfLargeMap } from "../large_map.ts";
import type { SnapshotInspection } from "../../snapshot/inspect.ts";
import { snapshotCodec, valueText } from "./snapshot.ts";

function statsLines(s: MapStats): string {
  return [
    `backend: ${s.backend}`,
    `size: ${s.size}`,
    `capacity: ${s.capacity}`,
    `load_factor: ${s.loadFactor.toFixed(4)}`,
    `max_group_len: ${s.maxGroupLen}`,
    `avg_probe_distance: ${s.avgProbeDistance.toFixed(4)}`,
    `tombstones: ${s.tombstones}`,
    `tombstone_ratio: ${s.tombstoneRatio.toFixed(4)}`,
    `bytes_estimate: ${s.bytesEstimate}`,
  ].join("\n");
}

interface VerifyFlags {
  in: string;
  verbose?: boolean;
  repair?: boolean;
  out?: string;
}

async function verify(f: VerifyFlags, cmd: Command): Promise<void> {
  if (f.repair === true && f.out === undefined) {
    throw new BadInputError("--repair needs --out P", {
      hint: "The repaired snapshot is written to a new file; the input is never modified",
    });
  }
  if (f.out !== undefined && f.repair !== true) {
    throw new BadInputError("--out is only used with --repair", { hint: "Add --repair" });
  }
  checkDistinctPaths([["--in", f.in], ["--out", f.out]]);
  checkOutputFiles([["--out", f.out]]);
  const codec = await snapshotCodec();
  const { decodeSnapshotState, readSnapshotFile, rebuildFromState, restoreDecoded } = codec;
  // Loaded with the codec already; imported from its module, as it is not part of the library.
  const { statsJson } = await import("../../snapshot/inspect.ts");
  const { raw, problems, stats } = await withFileHint(f.in, async () => {
    const raw = decodeSnapshotState(await readSnapshotFile(f.in));
    try {
      const decoded = restoreDecoded(raw, { checkInvariants: false });
      return { raw, problems: decoded.problems, stats: decoded.map.stats() as MapStats | null };
    } catch (err) {
      if (!(err instanceof InvariantError)) throw err;
      const problem = err.message.replace(/^Snapshot map breaks its invariants: /, "");
      return { raw, problems: [problem], stats: null };
    }
  });
  if (stats !== null) warnIfLargeMap(commandConfig(), "snapshot", stats.size, f.in);
  if (f.repair !== true) {
    if (problems.length > 0) {
      throw new InvariantError(
        `Snapshot map breaks its invariants (${problems.length} problem${
          problems.length === 1 ? "" : "s"
        }): ${problems.slice(0, 10).join("; ")}`,
        { hint: "verify-snapshot --repair --out P rebuilds the map from its readable entries" },
      );
    }
    emitSuccess(
      cmd,
      {
        verified: true,
        path: f.in,
        kind: raw.state.kind,
        checksum: raw.checksum,
        ...(f.verbose === true && stats !== null
          ? { stats: { backend: stats.backend, ...statsJson(stats) } }
          : {}),
      },
      () =>
        `OK: snapshot verified\n${
          f.verbose === true && stats !== null ? `${statsLines(stats)}\n` : ""
        }`,
    );
    return;
  }
  const out = f.out as string;
  const compress = codec.resolveCompression(out, raw.header.compressed || undefined);
  const repaired = rebuildFromState(raw.state);
  const remaining = repaired.map.checkInvariants();
  if (remaining.length > 0) {
    throw new InvariantError(`Repair failed: ${remaining.slice(0, 5).join("; ")}`);
  }
  const info = await codec.saveSnapshot(out, repaired.map, { compress });
  const after = repaired.map.stats();
  emitSuccess(cmd, {
    verified: problems.length === 0,
    repaired: true,
    path: f.in,
    out,
    problems,
    kept: repaired.kept,
    dropped: repaired.dropped,
    adjusted: repaired.adjusted,
    bytes: info.bytes,
    ...(f.verbose === true ? { stats: { backend: after.backend, ...statsJson(after) } } : {}),
  }, () =>
    [
      problems.length === 0
        ? "OK: snapshot verified"
        : `Found ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      `Repaired: wrote ${repaired.kept} entries to ${out} (dropped ${repaired.dropped})`,
      ...(f.verbose === true ? [statsLines(after)] : []),
    ].join("\n"));
}

interface CompactFlags {
  in: string;
  out: string;
  compress?: boolean;
  noCompress?: boolean;
}

async function compact(f: CompactFlags, cmd: Command): Promise<void> {
  checkOutputFiles([["--out", f.out]]);
  if (f.compress === true && f.noCompress === true) {
    throw new BadInputError("--compress and --no-compress contradict each other");
  }
  const { compactMap, decodeSnapshot, readSnapshotFile, resolveCompression, saveSnapshot } =
    await snapshotCodec();
  // Compacting in place (`--out` the file `--in` names) is a read-modify-write: a `put` between
  // the read and the write was lost. The output's lock makes them take turns.
  const release = await lockFile(f.out);
  try {
    const [bytes, { map, header }] = await withFileHint(f.in, async () => {
      const bytes = await readSnapshotFile(f.in);
      return [bytes, decodeSnapshot(bytes)] as const;
    });
    // Unless told otherwise, the output is compressed as the input was (or as its name says).
    const compress = resolveCompression(
      f.out,
      f.compress === true ? true : f.noCompress === true ? false : header.compressed || undefined,
    );
    warnIfLargeMap(commandConfig(), "snapshot", map.size, f.in);
    const before = map.stats();
    const compacted = compactMap(map, { finishMigration: true });
    const after = compacted.map.stats();
    const info = await saveSnapshot(f.out, compacted.map, { compress });
    const side = (size: number, s: MapStats) => ({
      bytes: size,
      size: s.size,
      capacity: s.capacity,
      tombstones: s.tombstones,
      tombstone_ratio: s.tombstoneRatio,
    });
    const data = {
      in: f.in,
      out: f.out,
      compressed: compress,
      compacted: compacted.compacted,
      before: side(bytes.length, before),
      after: side(info.bytes, after),
    };
    emitSuccess(cmd, data, () =>
      [
        `Compacted snapshot ${f.in} -> ${f.out}${compress ? " (gzip)" : ""}${
          compacted.compacted ? "" : ` (${compacted.note})`
        }`,
        `size_bytes: ${bytes.length} -> ${info.bytes}`,
        `capacity: ${before.capacity} -> ${after.capacity}`,
        `tombstone_ratio: ${before.tombstoneRatio.toFixed(4)} -> ${
          after.tombstoneRatio.toFixed(4)
        }`,
      ].join("\n"));
  } finally {
    release();
  }
}

function inspectionText(r: SnapshotInspection): string {
  const lines: string[] = [];
  const h = r.header;
  const flags = [h.compressed ? "gzip" : null, h.keyed ? "keyed" : null].filter((x) => x !== null);
  lines.push(`Snapshot: ${r.path} (${r.file_bytes} bytes)`);
  lines.push(
    `Header: magic ${h.magic}, version ${h.version}, flags 0x${
      h.flags.toString(16).padStart(2, "0")
    }${
      flags.length > 0 ? ` (${flags.join(", ")})` : ""
    }, payload ${h.payload_len} bytes stored, ${r.payload_bytes} decoded`,
  );
  lines.push(`Checksum: ${r.checksum.algorithm} verified ${r.checksum.hex.slice(0, 32)}...`);
  const c = r.configuration;
  const backendText = (b: typeof c.active) =>
    `${b.backend} capacity ${b.capacity}, max load factor ${b.max_load_factor}${
      b.deletion === null ? "" : `, deletion ${b.deletion}`
    }`;
  lines.push(`Kind: ${r.kind}; backend ${backendText(c.active)}`);
  if (c.kind === "adaptive") {
    lines.push(
      `Adaptive: migrations ${c.migrations}, compactions ${c.compactions}, ${
        c.target === null ? "not migrating" : `migrating to ${backendText(c.target)}`
      }`,
    );
  }
  const s = r.stats;
  lines.push(
    `Stats: size ${s.size}, capacity ${s.capacity}, load factor ${
      s.load_factor.toFixed(4)
    }, max group ${s.max_group_len}, avg probe ${
      s.avg_probe_distance.toFixed(4)
    }, tombstones ${s.tombstones} (ratio ${s.tombstone_ratio.toFixed(4)})`,
  );
  lines.push(
    r.invariants.ok ? "Invariants: OK" : `Invariants: BROKEN (${r.invariants.problems.join("; ")})`,
  );
  const e = r.entries;
  lines.push(
    `Entries${
      e.contains === null ? "" : ` containing '${e.contains}'`
    } (showing ${e.shown.length} of ${e.matched}):`,
  );
  // Values too long to show are omitted from the inspection; `get` prints them whole.
  const shown = (x: { value: unknown; value_omitted?: true }): string =>
    x.value_omitted ? `(omitted: too long to show; get prints it)` : valueText(x.value);
  for (const x of e.shown) lines.push(`  ${x.key_repr} = ${shown(x)}`);
  if (e.truncated && e.shown.length < Math.min(e.limit, e.matched)) {
    lines.push("  (the preview ends here: 1 MiB shown)");
  }
  if (r.lookup !== null) {
    lines.push(
      r.lookup.found
        ? `Lookup '${r.lookup.key}': found ${r.lookup.matched_key_repr} = ${shown(r.lookup)}`
        : `Lookup '${r.lookup.key}': not found`,
    );
  }
  // Keys, values and flags are data: none may act on the terminal or forge a line.
  return lines.map(visible).join("\n");
}

interface InspectFlags {
  in: string;
  key?: string;
  contains?: string;
  limit: number;
}

/** Registers `verify-snapshot`, `compact-snapshot` and `inspect-snapshot`. */
export function registerSnapshotToolCommands(program: Command): void {
  program.command("verify-snapshot")
    .description("Verify a snapshot: checksum, payload and the map's full invariant check")
    .requiredOption("--in <path>", "snapshot to verify")
    .option("--verbose", "also print the map's statistics")
    .option("--repair", "rebuild the map from its readable entries (needs --out)")
    .option("--out <path>", "where --repair writes the rebuilt snapshot")
    .action((f: VerifyFlags, cmd: Command) => verify(f, cmd));

  program.command("compact-snapshot")
    .description(
      "Rewrite a snapshot with its table compacted: Robin Hood without tombstones, chaining packed, both shrunk to fit",
    )
    .requiredOption("--in <path>", "snapshot to read")
    .requiredOption("--out <path>", "snapshot to write (.gz implies --compress)")
    .option("--compress", "gzip the payload (default: as the input is)")
    .option("--no-compress", "write the payload uncompressed")
    .action((f: CompactFlags, cmd: Command) => compact(f, cmd));

  program.command("inspect-snapshot")
    .description("Describe a snapshot: header, checksum, backend, statistics, entries, lookup")
    .requiredOption("--in <path>", "snapshot to inspect")
    .option("--key <key>", "look this key up")
    .option("--contains <text>", "preview only keys containing this text")
    .option("--limit <n>", "entries to preview", intArg(0, 1_000_000), 20)
    .action(async (f: InspectFlags, cmd: Command) => {
      const opts: { key?: string; contains?: string; limit: number } = { limit: f.limit };
      if (f.key !== undefined) opts.key = f.key;
      if (f.contains !== undefined) opts.contains = f.contains;
      const codec = await snapshotCodec();
      const r = await withFileHint(f.in, () => codec.inspectSnapshot(f.in, opts));
      warnIfLargeMap(commandConfig(), "snapshot", r.stats.size, f.in);
      if (globalOptions(cmd).json) emitSuccess(cmd, { ...r });
      else emitSuccess(cmd, {}, inspectionText(r));
    });
}
