/**
 * Whether a snapshot file is gzipped, from its name and the caller's choice: a module of its
 * own, without the codec, so that the CLI checks its outputs before loading the codec.
 *
 * @module
 */

import { BadInputError } from "../errors.ts";

/**
 * Whether a file should be compressed: `.gz` names imply compression, and an explicit
 * `compress: false` with a `.gz` name is refused, so the name never lies.
 */
export function resolveCompression(path: string, compress: boolean | undefined): boolean {
  const gzName = path.toLowerCase().endsWith(".gz");
  if (gzName && compress === false) {
    throw new BadInputError(`Snapshot name '${path}' ends in .gz but compression is off`, {
      hint: "Use --compress or a name without .gz",
    });
  }
  return compress ?? gzName;
}
