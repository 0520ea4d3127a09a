/**
 * Test helper: the series selectors of a PromQL expression (metric names and label matchers), so
 * the operator kit can be checked against what adhash's /metrics really emits.
 *
 * A small lexer, not a full parser: it only has to tell metric names from function names,
 * keywords, label names in `by (...)`/`on (...)`, strings, durations and Grafana variables.
 *
 * @module
 */

/** One label matcher: `label op "value"`. */
export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/** A series selector; `name` is null for a bare `{...}`. */
export interface Selector {
  name: string | null;
  matchers: Matcher[];
}

type Token =
  | { kind: "ident"; text: string }
  | { kind: "string"; text: string }
  | { kind: "number" }
  | { kind: "var" }
  | { kind: "punct"; text: string };

// Case-insensitive in PromQL. A following "(" makes any of them a clause, never a metric.
const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const KEYWORDS = new Set(["and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"]);
const MATCH_OPS = new Set(["=", "!=", "=~", "!~"]);
const AGGREGATIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
]);

function unquote(raw: string): string {
  if (raw.startsWith("`")) return raw.slice(1, -1);
  const body = raw.slice(1, -1);
  return body.replace(
    /\\(.)/g,
    (_, c: string) => ({ n: "\n", t: "\t" } as Record<string, string>)[c] ?? c,
  );
}

function lex(expr: string): Token[] {
  const out: Token[] = [];
  const patterns: Array<[RegExp, (m: string) => Token | null]> = [
    [/^\s+/, () => null],
    [/^#[^\n]*/, () => null],
    [
      /^"(?:[^"\\]|\\.)*"|^'(?:[^'\\]|\\.)*'|^`[^`]*`/,
      (m) => ({ kind: "string", text: unquote(m) }),
    ],
    // Grafana variables: $name, ${name}, ${name:format}, [[name]].
    [/^\$\{[^}]*\}|^\$\w+|^\[\[\w+\]\]/, () => ({ kind: "var" })],
    [/^(?:\d+(?:ms|[smhdwy]))+(?![\w.])/, () => ({ kind: "number" })],
    [/^(?:0x[0-9a-fA-F]+|\d*\.?\d+(?:[eE][+-]?\d+)?)/, () => ({ kind: "number" })],
    [/^[a-zA-Z_:][a-zA-Z0-9_:]*/, (m) => ({ kind: "ident", text: m })],
    [/^(?:==|!=|=~|!~|>=|<=|[(){}[\],+\-*/%^<>=@])/, (m) => ({ kind: "punct", text: m })],
  ];
  let rest = expr;
  outer: while (rest.length > 0) {
    for (const [re, make] of patterns) {
      const m = re.exec(rest);
      if (m === null) continue;
      const t = make(m[0]);
      if (t !== null) out.push(t);
      rest = rest.slice(m[0].length);
      continue outer;
    }
    throw new SyntaxError(`cannot read PromQL at ${JSON.stringify(rest.slice(0, 20))} in ${expr}`);
  }
  return out;
}

const isPunct = (t: Token | undefined, text: string): boolean =>
  t !== undefined && t.kind === "punct" && t.text === text;

/** Index after the bracket closing the one at `open`. */
function skipBalanced(tokens: Token[], open: number, left: string, right: string): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isPunct(tokens[i], left)) depth++;
    if (isPunct(tokens[i], right) && --depth === 0) return i + 1;
  }
  throw new SyntaxError(`unbalanced ${left}${right}`);
}

/** Reads `{a="x", b=~"y"}` starting at the `{`; returns the matchers and the index after `}`. */
function readMatchers(tokens: Token[], open: number, expr: string): [Matcher[], number] {
  const matchers: Matcher[] = [];
  let i = open + 1;
  while (!isPunct(tokens[i], "}")) {
    const label = tokens[i];
    const op = tokens[i + 1];
    const value = tokens[i + 2];
    if (
      label?.kind !== "ident" || op?.kind !== "punct" || !MATCH_OPS.has(op.text) ||
      value?.kind !== "string"
    ) {
      throw new SyntaxError(`bad label matcher in ${expr}`);
    }
    matchers.push({ label: label.text, op: op.text as Matcher["op"], value: value.text });
    i += 3;
    if (isPunct(tokens[i], ",")) i++;
  }
  return [matchers, i + 1];
}

/** Every series selector in `expr`, in order. Throws SyntaxError on text it cannot read. */
export function selectors(expr: string): Selector[] {
  const tokens = lex(expr);
  const out: Selector[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.kind === "punct" && t.text === "[") {
      i = skipBalanced(tokens, i, "[", "]");
    } else if (t.kind === "punct" && t.text === "{") {
      const [matchers, after] = readMatchers(tokens, i, expr);
      out.push({ name: null, matchers });
      i = after;
    } else if (t.kind !== "ident") {
      i++;
    } else if (GROUPING.has(t.text.toLowerCase()) && isPunct(next, "(")) {
      i = skipBalanced(tokens, i + 1, "(", ")");
    } else if (
      isPunct(next, "(") || KEYWORDS.has(t.text.toLowerCase()) ||
      (AGGREGATIONS.has(t.text.toLowerCase()) && next?.kind === "ident" &&
        GROUPING.has(next.text.toLowerCase()))
    ) {
      i++; // a function, an aggregation (`sum by (x) (...)`) or an operator keyword
    } else if (GROUPING.has(t.text.toLowerCase())) {
      i++; // group_left without a label list
    } else if (isPunct(next, "{")) {
      const [matchers, after] = readMatchers(tokens, i + 1, expr);
      out.push({ name: t.text, matchers });
      i = after;
    } else {
      out.push({ name: t.text, matchers: [] });
      i++;
    }
  }
  return out;
}
