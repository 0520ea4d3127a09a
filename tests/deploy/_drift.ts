/**
 * Test helper: problems with the series a PromQL expression selects, judged against what adhash's
 * /metrics emits. This is what keeps the rules and the dashboard from drifting from the exporter.
 *
 * @module
 */

import type { Exposition } from "./_exposition.ts";
import { selectors } from "./_promql.ts";

/** What an expression may refer to besides adhash's own samples. */
export interface Known {
  exposition: Exposition;
  /** Series the recording rules define. */
  records: Set<string>;
  /** Scrape jobs of the example configuration (values of `job`). */
  jobs: Set<string>;
}

/** Labels Prometheus attaches to every scraped series. */
const TARGET_LABELS = new Set(["job", "instance"]);

/** One problem per unknown metric, unknown label or label value no series has; [] when sound. */
export function driftProblems(where: string, expr: string, known: Known): string[] {
  const problems: string[] = [];
  const allValues = (label: string): Set<string> => {
    const out = new Set<string>();
    for (const labels of known.exposition.samples.values()) {
      for (const v of labels.get(label) ?? []) out.add(v);
    }
    return out;
  };
  for (const { name, matchers } of selectors(expr)) {
    if (name === null) {
      problems.push(`${where}: a selector without a metric name in ${expr}`);
      continue;
    }
    // `up` is Prometheus's own series for every target.
    const emitted = known.exposition.samples.get(name);
    if (emitted === undefined && name !== "up" && !known.records.has(name)) {
      problems.push(`${where}: ${name} is not emitted by adhash's /metrics`);
      continue;
    }
    for (const m of matchers) {
      // A Grafana variable or a regex is checked by its label only.
      const literal = (m.op === "=" || m.op === "!=") && !m.value.includes("$");
      if (m.label === "job") {
        if (literal && !known.jobs.has(m.value)) {
          problems.push(`${where}: job="${m.value}" is not a job of the example config`);
        }
        continue;
      }
      if (TARGET_LABELS.has(m.label)) continue;
      // Recorded series carry the labels their expression keeps: check the values adhash emits.
      const values = emitted?.get(m.label) ?? (emitted === undefined ? allValues(m.label) : null);
      if (values === null || values.size === 0) {
        problems.push(`${where}: ${name} has no label ${m.label}`);
      } else if (literal && !values.has(m.value)) {
        problems.push(`${where}: no ${name} series has ${m.label}="${m.value}"`);
      }
    }
  }
  return problems;
}
