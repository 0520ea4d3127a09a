/**
 * Watchdog: compares each tick's statistics with the `[watchdog]` thresholds. An alert is
 * raised once, at the tick where a metric goes above its threshold; the metric then stays
 * "active" (listed in `alerts_active`) without new alerts until it falls back to or below the
 * threshold, after which a new crossing raises a new alert. This keeps ticks and logs free of
 * the same warning repeated every tick.
 *
 * @module
 */

import type { MapStats } from "../core/types.ts";
import type { Alert } from "../contracts/metrics.ts";
import type { WatchdogConfig } from "../contracts/config.ts";
import { round } from "../format.ts";

interface Rule {
  metric: "load_factor" | "avg_probe_estimate" | "tombstone_ratio";
  threshold: number;
  read: (s: MapStats) => number;
}

/** Tracks threshold crossings between ticks. */
export class Watchdog {
  readonly #rules: Rule[];
  readonly #active = new Set<string>();

  constructor(config?: WatchdogConfig) {
    this.#rules = config === undefined || !config.enabled ? [] : [
      { metric: "load_factor", threshold: config.load_factor_warn, read: (s) => s.loadFactor },
      {
        metric: "avg_probe_estimate",
        threshold: config.avg_probe_warn,
        read: (s) => s.avgProbeDistance,
      },
      {
        metric: "tombstone_ratio",
        threshold: config.tombstone_ratio_warn,
        read: (s) => s.tombstoneRatio,
      },
    ];
  }

  /** New alerts for `stats` (crossings since the last call). */
  check(stats: MapStats): Alert[] {
    const out: Alert[] = [];
    for (const r of this.#rules) {
      const value = r.read(stats);
      if (value > r.threshold) {
        if (this.#active.has(r.metric)) continue;
        this.#active.add(r.metric);
        out.push({
          metric: r.metric,
          value: round(value, 6),
          threshold: r.threshold,
          severity: value > r.threshold * 1.5 ? "critical" : "warning",
          backend: stats.backend,
          message: `${r.metric} ${value.toFixed(4)} exceeds ${r.threshold} on ${stats.backend}`,
        });
      } else {
        this.#active.delete(r.metric);
      }
    }
    return out;
  }

  /** Metrics currently above their threshold, sorted. */
  active(): string[] {
    return [...this.#active].sort();
  }
}
