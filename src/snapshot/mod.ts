/**
 * Safe, checksummed, portable snapshots of adhash maps (format version 2).
 *
 * ```ts ignore
 * import { loadSnapshot, saveSnapshot } from "./mod.ts";
 * await saveSnapshot("state.adhsnap.gz", map, { compress: true });
 * const again = await loadSnapshot("state.adhsnap.gz");
 * ```
 *
 * The format is specified in docs/snapshot_format.md.
 *
 * @module
 */

export {
  CHECKSUM_LEN,
  type ChecksumKey,
  DEFAULT_MAX_PAYLOAD_BYTES,
  FLAG_GZIP,
  FLAG_KEYED,
  FORMAT_VERSION,
  HEADER_SIZE,
  KEY_ENV,
  MAGIC,
  type SnapshotHeader,
} from "./format.ts";
export { resolveCompression } from "./compression.ts";
export {
  type BackendConfiguration,
  checkSnapshotFile,
  checkTableBudget,
  type DecodedSnapshot,
  type DecodedState,
  type DecodeOptions,
  decodeSnapshot,
  decodeSnapshotState,
  DEFAULT_MAX_CAPACITY,
  DEFAULT_MAX_DECODED_BYTES,
  type EncodeOptions,
  encodeSnapshot,
  loadSnapshot,
  readSnapshotFile,
  restoreDecoded,
  saveSnapshot,
  type SnapshotConfiguration,
  type SnapshotInfo,
  type SnapshotSource,
} from "./snapshot.ts";
export {
  compactMap,
  type CompactOptions,
  type CompactResult,
  rebuildFromState,
  type RebuildResult,
  type SoundState,
  soundState,
} from "./repair.ts";
export {
  type InspectedEntry,
  type InspectOptions,
  inspectSnapshot,
  type SnapshotInspection,
  type StatsJson,
} from "./inspect.ts";
