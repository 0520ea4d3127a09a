/**
 * Prometheus text exposition (format 0.0.4) of the latest tick, with the original's metric names.
 *
 * @module
 */

import type { MetricsTick } from "../contracts/metrics.ts";

/** Content type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const OPS = ["overall", "put", "get", "del"] as const;
const QUANTILES = [["p50", "0.5"], ["p90", "0.9"], ["p99", "0.99"]] as const;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function num(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

class Writer {
  lines: string[] = [];
  family(name: string, type: string, help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: Record<string, string>, value: number): void {
    const entries = Object.entries(labels);
    const l = entries.length === 0
      ? ""
      : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
    this.lines.push(`${name}${l} ${num(value)}`);
  }
}

/**
 * Renders `tick` (or, before the first tick, zeroed counters) as Prometheus text;
 * `receivedAtMs`, when given, is exposed as `hashmap_last_tick_timestamp_seconds`.
 *
 * `hashmap_latency_ms` is exposed as a summary (its `quantile` label is reserved for summaries);
 * `hashmap_latency_ms_hist` is a real cumulative histogram built from `latency_hist_ms`.
 */
export function renderPrometheus(
  tick: MetricsTick | null,
  receivedAtMs: number | null = null,
): string {
  const w = new Writer();
  const counters: Array<[string, string, number]> = [
    ["hashmap_ops_total", "Operations replayed.", tick?.ops ?? 0],
    ["hashmap_puts_total", "Put operations replayed.", tick?.ops_by_type.put ?? 0],
    ["hashmap_gets_total", "Get operations replayed.", tick?.ops_by_type.get ?? 0],
    ["hashmap_dels_total", "Delete operations replayed.", tick?.ops_by_type.del ?? 0],
    ["hashmap_migrations_total", "Completed backend migrations.", tick?.migrations ?? 0],
    [
      "hashmap_compactions_total",
      "Compactions: Robin Hood rebuilds without tombstones, and compact() calls.",
      tick?.compactions ?? 0,
    ],
  ];
  for (const [name, help, value] of counters) {
    w.family(name, "counter", help);
    w.sample(name, {}, value);
  }
  const gauges: Array<[string, string, number]> = [
    ["hashmap_load_factor", "Live entries divided by capacity.", tick?.load_factor ?? 0],
    [
      "hashmap_max_group_len",
      "Longest chain (chaining) or largest probe distance (Robin Hood).",
      tick?.max_group_len ?? 0,
    ],
    [
      "hashmap_avg_probe_estimate",
      "Mean probe distance of live entries.",
      tick?.avg_probe_estimate ?? 0,
    ],
    ["hashmap_tombstone_ratio", "Tombstones divided by capacity.", tick?.tombstone_ratio ?? 0],
    // Additions (not the original's): an adaptive map gives memory back, which only these show.
    ["hashmap_size", "Live entries.", tick?.size ?? 0],
    [
      "hashmap_capacity",
      "Slots (Robin Hood) or chains (chaining) of the table.",
      tick?.capacity ?? 0,
    ],
    // A finished replay whose server lingers is flat, as a stalled one is: this tells them apart.
    [
      "hashmap_run_complete",
      "1 when the latest tick is the last of its run (the replay is over), else 0.",
      tick?.events.some((e) => e.type === "complete") ? 1 : 0,
    ],
  ];
  for (const [name, help, value] of gauges) {
    w.family(name, "gauge", help);
    w.sample(name, {}, value);
  }
  if (tick === null) return w.lines.join("\n") + "\n";

  if (receivedAtMs !== null) {
    // Counters of a finished run stay flat forever; this tells a stalled run from a served file.
    w.family(
      "hashmap_last_tick_timestamp_seconds",
      "gauge",
      "Unix time at which this server received the latest tick.",
    );
    w.sample("hashmap_last_tick_timestamp_seconds", {}, Math.round(receivedAtMs) / 1000);
  }

  w.family("hashmap_backend_info", "gauge", "Active backend (value is always 1).");
  w.sample("hashmap_backend_info", { name: tick.backend }, 1);

  w.family(
    "hashmap_latency_ms",
    "summary",
    "Sampled operation latency percentiles in milliseconds.",
  );
  for (const op of OPS) {
    const p = tick.latency_ms[op];
    for (const [field, q] of QUANTILES) {
      w.sample("hashmap_latency_ms", { op, quantile: q }, p[field]);
    }
  }

  w.family(
    "hashmap_probe_length_count",
    "gauge",
    "Live entries at each probe distance.",
  );
  // A tick from a file may list a distance twice or out of order; one series per distance.
  const byDistance = new Map<number, number>();
  for (const [distance, count] of tick.probe_hist) {
    byDistance.set(distance, (byDistance.get(distance) ?? 0) + count);
  }
  for (const distance of [...byDistance.keys()].sort((a, b) => a - b)) {
    w.sample(
      "hashmap_probe_length_count",
      { distance: String(distance) },
      byDistance.get(distance)!,
    );
  }

  w.family(
    "hashmap_watchdog_alert_active",
    "gauge",
    "1 when the watchdog alert on this metric is active at the latest tick.",
  );
  // Watched metrics always appear (0 when quiet) so a rate/alert rule has a series to read.
  // `alerts` holds only the crossings at this tick; `alerts_active` every metric still above its
  // threshold (ticks written before it existed fall back to the crossings).
  const alerting = new Set(tick.alerts_active ?? tick.alerts.map((a) => a.metric));
  const watched = new Set(["load_factor", "avg_probe_estimate", "tombstone_ratio", ...alerting]);
  for (const metric of [...watched].sort()) {
    w.sample("hashmap_watchdog_alert_active", { metric }, alerting.has(metric) ? 1 : 0);
  }

  const histOps = Object.keys(tick.latency_hist_ms).sort();
  if (histOps.length > 0) {
    w.family(
      "hashmap_latency_ms_hist",
      "histogram",
      "Sampled operation latency in milliseconds (cumulative buckets).",
    );
    for (const op of histOps) {
      const buckets = tick.latency_hist_ms[op] ?? [];
      let count = 0;
      let sawInf = false;
      for (const b of buckets) {
        const le = b.le === "+Inf" ? "+Inf" : String(b.le);
        if (b.le === "+Inf") sawInf = true;
        count = Math.max(count, b.count);
        w.sample("hashmap_latency_ms_hist_bucket", { op, le }, b.count);
      }
      // A histogram needs a +Inf bucket; the contract promises one but a hand-written source may not.
      if (!sawInf) w.sample("hashmap_latency_ms_hist_bucket", { op, le: "+Inf" }, count);
      w.sample("hashmap_latency_ms_hist_count", { op }, count);
    }
  }
  return w.lines.join("\n") + "\n";
}
