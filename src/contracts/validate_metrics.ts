/**
 * Validation of metrics.v1 NDJSON beyond the zod schema: percentile order, cumulative
 * histograms, and ticks whose `ops` and `t` never go backwards.
 *
 * @module
 */

import { MetricsTick } from "./metrics.ts";

/** One problem found on one line. */
export interface LineProblem {
  /** 1-based line number. */
  line: number;
  /** Dotted path of the offending field (`""` for the whole line). */
  path: string;
  message: string;
}

/** State carried from one line to the next. */
export interface ValidationState {
  lastOps: number;
  lastT: number;
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  // A key that is no plain name (any text can be a key in latency_hist_ms) is quoted.
  const part = (p: PropertyKey): string =>
    typeof p === "number"
      ? `[${p}]`
      : /^[A-Za-z_$][\w$]*$/.test(String(p))
      ? String(p)
      : `[${JSON.stringify(String(p))}]`;
  return path.map(part).join(".").replace(/\.\[/g, "[");
}

/** Problems of one NDJSON line (empty when valid). Updates `state` when the line is valid. */
export function validateTickLine(
  text: string,
  line: number,
  state: ValidationState,
): LineProblem[] {
  return checkTickLine(text, line, state).problems;
}

/**
 * The tick on one NDJSON line and its problems, as {@linkcode validateTickLine} finds them;
 * `tick` is null unless the line is valid.
 */
export function checkTickLine(
  text: string,
  line: number,
  state: ValidationState,
): { tick: MetricsTick | null; problems: LineProblem[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      tick: null,
      problems: [{ line, path: "", message: `not JSON: ${(err as Error).message}` }],
    };
  }
  const parsed = MetricsTick.safeParse(value);
  if (!parsed.success) {
    return {
      tick: null,
      problems: parsed.error.issues.map((i) => ({
        line,
        path: pathOf(i.path),
        message: i.message,
      })),
    };
  }
  const tick = parsed.data;
  const problems: LineProblem[] = [];
  const order = (path: string, p: { p50: number; p90: number; p99: number }): void => {
    if (!(p.p50 <= p.p90 && p.p90 <= p.p99)) {
      problems.push({
        line,
        path,
        message: `percentiles out of order: p50 ${p.p50} <= p90 ${p.p90} <= p99 ${p.p99} fails`,
      });
    }
  };
  for (const op of ["overall", "put", "get", "del"] as const) {
    order(`latency_ms.${op}`, tick.latency_ms[op]);
  }
  order("latency_ns", tick.latency_ns);
  for (const [name, buckets] of Object.entries(tick.latency_hist_ms)) {
    let prevLe = -Infinity;
    let prevCount = 0;
    buckets.forEach((b, i) => {
      const le = b.le === "+Inf" ? Infinity : b.le;
      if (le <= prevLe) {
        problems.push({
          line,
          path: `latency_hist_ms.${name}[${i}].le`,
          message: "bucket bounds must increase",
        });
      }
      if (b.count < prevCount) {
        problems.push({
          line,
          path: `latency_hist_ms.${name}[${i}].count`,
          message: `cumulative count decreases (${prevCount} -> ${b.count})`,
        });
      }
      prevLe = le;
      prevCount = b.count;
    });
    if (buckets.length > 0 && buckets[buckets.length - 1]!.le !== "+Inf") {
      problems.push({
        line,
        path: `latency_hist_ms.${name}`,
        message: 'the last bucket must be le "+Inf"',
      });
    }
  }
  const byType = tick.ops_by_type.put + tick.ops_by_type.get + tick.ops_by_type.del;
  if (byType !== tick.ops) {
    problems.push({
      line,
      path: "ops_by_type",
      message: `put + get + del = ${byType}, expected ops ${tick.ops}`,
    });
  }
  if (tick.ops < state.lastOps) {
    problems.push({
      line,
      path: "ops",
      message: `ops went backwards (${state.lastOps} -> ${tick.ops})`,
    });
  }
  if (tick.t < state.lastT) {
    problems.push({ line, path: "t", message: `t went backwards (${state.lastT} -> ${tick.t})` });
  }
  if (problems.length === 0) {
    state.lastOps = tick.ops;
    state.lastT = tick.t;
  }
  return { tick: problems.length === 0 ? tick : null, problems };
}
