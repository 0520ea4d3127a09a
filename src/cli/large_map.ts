/**
 * The `adaptive.large_map_warn_threshold` warning.
 *
 * @module
 */

import { DEFAULT_POLICY } from "../core/adaptive_map.ts";
import type { AdhashConfig } from "../config/load.ts";
import { log } from "../log/setup.ts";

/**
 * Logs a warning (category `category`) when a map of `size` entries is larger than the
 * configured `adaptive.large_map_warn_threshold` (default 1,000,000): its snapshot, inspection
 * and listing take time and memory in proportion. `path`: the snapshot the map was read from.
 */
export function warnIfLargeMap(
  config: AdhashConfig,
  category: string,
  size: number,
  path?: string,
): void {
  const limit = config.policy.largeMapWarnThreshold ?? DEFAULT_POLICY.largeMapWarnThreshold;
  if (size <= limit) return;
  const props = { size, limit, path };
  const tail = "holds {size} entries, above adaptive.large_map_warn_threshold ({limit})";
  if (path === undefined) log(category).warn(`The map ${tail}`, props);
  else log(category).warn(`Snapshot {path} ${tail}`, props);
}
