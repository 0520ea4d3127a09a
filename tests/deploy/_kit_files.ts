import { filePath } from "../../src/cli/self_command.ts";
/**
 * Test helper: the operator kit's files (deploy/) and what the tests read from them. The YAML
 * readers understand the layout these files use (one `expr:` per rule, inline or as a `|` / `>`
 * block) and throw on anything else, so a reformatted file fails loudly instead of being skipped.
 *
 * @module
 */

/** Project root (tests/deploy/ -> ../../). */
export const ROOT = filePath(new URL("../../", import.meta.url));
/** deploy/prometheus/, where the rules, their tests and the example config live. */
export const PROMETHEUS_DIR = `${ROOT}deploy/prometheus/`;
export const RULES = `${PROMETHEUS_DIR}adhash_rules.yml`;
export const RULES_TEST = `${PROMETHEUS_DIR}adhash_rules_test.yml`;
export const CONFIG = `${PROMETHEUS_DIR}prometheus.yml`;
export const DASHBOARD = `${ROOT}deploy/grafana/adhash_dashboard.json`;

/** A recording or alerting rule. */
export interface Rule {
  kind: "record" | "alert";
  name: string;
  expr: string;
}

function scalar(raw: string): string {
  const v = raw.trim();
  if (v.startsWith('"')) return JSON.parse(v) as string;
  if (v.startsWith("'")) return v.slice(1, -1).replaceAll("''", "'");
  return v;
}

/** Reads the rules of a Prometheus rule file. */
export function readRules(text: string): Rule[] {
  const lines = text.split("\n");
  const rules: Rule[] = [];
  let current: { kind: Rule["kind"]; name: string; expr: string | null } | null = null;
  const finish = (): void => {
    if (current === null) return;
    if (current.expr === null) throw new Error(`rule ${current.name} has no expr`);
    rules.push({ kind: current.kind, name: current.name, expr: current.expr });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const start = /^\s*- (record|alert):\s*(\S+)\s*$/.exec(line);
    if (start !== null) {
      finish();
      current = { kind: start[1] as Rule["kind"], name: start[2]!, expr: null };
      continue;
    }
    const expr = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (expr === null) continue;
    if (current === null || current.expr !== null) {
      throw new Error(`line ${i + 1}: expr outside a rule, or a second expr in one`);
    }
    const indent = expr[1]!.length;
    const value = expr[2]!.trim();
    if (!/^[|>]-?$/.test(value)) {
      current.expr = scalar(value);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length) {
      const next = lines[i + 1]!;
      if (next.trim() !== "" && next.length - next.trimStart().length <= indent) break;
      block.push(next.trim());
      i++;
    }
    current.expr = block.join(value.startsWith("|") ? "\n" : " ").trim();
  }
  finish();
  return rules;
}

/** Alerts a promtool test file expects firing (non-empty `exp_alerts`) and quiet (`[]`). */
export function alertCoverage(text: string): { firing: Set<string>; quiet: Set<string> } {
  const firing = new Set<string>();
  const quiet = new Set<string>();
  let alert: string | null = null;
  for (const line of text.split("\n")) {
    const name = /^\s*alertname:\s*(\S+)\s*$/.exec(line);
    if (name !== null) alert = name[1]!;
    const exp = /^\s*exp_alerts:\s*(.*)$/.exec(line);
    if (exp === null) continue;
    if (alert === null) throw new Error("exp_alerts before any alertname");
    (exp[1]!.trim() === "[]" ? quiet : firing).add(alert);
    alert = null;
  }
  return { firing, quiet };
}

/** The `job_name`s of a Prometheus configuration. */
export function jobNames(text: string): Set<string> {
  return new Set([...text.matchAll(/^\s*- job_name:\s*(\S+)\s*$/gm)].map((m) => scalar(m[1]!)));
}
