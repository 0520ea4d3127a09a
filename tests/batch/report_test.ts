import assert from "node:assert/strict";
import {
  escapeHtml,
  jobOutcome,
  renderHtml,
  renderMarkdown,
  renderPlan,
  renderText,
} from "../../src/batch/report.ts";
import { summarizeResult } from "../../src/batch/summary.ts";
import { buildAbReport } from "../../src/replay/ab_compare.ts";
import { buildProfileReport } from "../../src/replay/profile.ts";
import { BatchReport } from "../../src/contracts/batch.ts";
import { batchFailure } from "../../src/cli/commands/batch.ts";
import { planned, record, reportOf, runSummary } from "./_reports.ts";

const VOID = new Set(["meta", "link", "br", "hr", "img", "input"]);

/**
 * Problems that make `html` not well formed: unbalanced or misnested tags, a raw `<` or a bare
 * `&` in text, an unquoted attribute.
 */
function htmlProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const body = html.replace(/^<!DOCTYPE html>\n/, "").replace(
    /(<style>)([\s\S]*?)(<\/style>)/g,
    "$1$3", // CSS is not markup
  );
  let last = 0;
  for (
    const m of body.matchAll(
      /<(\/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s=>]+(?:="[^"<]*")?)*)\s*(\/?)>/g,
    )
  ) {
    const text = body.slice(last, m.index);
    if (/[<>]/.test(text)) problems.push(`raw < or > in text: ${JSON.stringify(text)}`);
    if (/&(?!#\d+;|[a-z]+;)/.test(text)) problems.push(`bare & in text: ${JSON.stringify(text)}`);
    last = m.index + m[0].length;
    const [, closing, tag, , selfClosing] = m;
    const name = tag!.toLowerCase();
    if (closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open}>`);
    } else if (!selfClosing && !VOID.has(name)) {
      stack.push(name);
    }
  }
  const rest = body.slice(last);
  if (/[<>]/.test(rest)) problems.push(`unparsed markup: ${JSON.stringify(rest.slice(0, 80))}`);
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(", ")}`);
  return problems;
}

Deno.test("htmlProblems() finds misnested tags, raw markup characters and unclosed tags", () => {
  assert.deepEqual(htmlProblems("<p><b>x</b> &#38; y</p>"), []);
  assert.deepEqual(htmlProblems("<p><b>x</p></b>"), ["</p> closes <b>", "</b> closes <p>"]);
  assert.deepEqual(htmlProblems("<p>a < b</p>"), ['raw < or > in text: "a < b"']);
  assert.deepEqual(htmlProblems("<p>R&D</p>"), ['bare & in text: "R&D"']);
  assert.deepEqual(htmlProblems("<div><p>x</p>"), ["unclosed: div"]);
  assert.deepEqual(htmlProblems('<a href=x">y</a>'), [
    'raw < or > in text: "<a href=x\\">y"',
    "</a> closes <undefined>",
  ]);
});

/** Two workloads x two modes, and a failed job. */
function sampleReport(title: string | null = null): BatchReport {
  return reportOf([
    [
      planned("z-adaptive", "run-csv", { csv: "zipf.csv", mode: "adaptive" }),
      record("run-csv", "completed", runSummary("/in/zipf.csv", "adaptive", 800_000, 0.004, 1)),
    ],
    [
      planned("z-lookup", "run-csv", { csv: "./zipf.csv", mode: "fast-lookup" }),
      record("run-csv", "completed", runSummary("/in/zipf.csv", "fast-lookup", 1_000_000, 0.003)),
    ],
    [
      planned("u-adaptive", "run-csv", { csv: "uni.csv" }),
      record("run-csv", "completed", runSummary("/in/uni.csv", "adaptive", 500_000, 0.006, 1)),
    ],
    [
      planned("u-insert", "run-csv", { csv: "uni.csv", mode: "fast-insert" }),
      record("run-csv", "completed", runSummary("/in/uni.csv", "fast-insert", 250_000, 0.01)),
    ],
    [
      planned("broken", "run-csv", { csv: "bad.csv" }),
      record("run-csv", "failed", null, {
        error: "BadInput",
        detail: "Unknown op '<x>|y' at line 3",
        hint: "See docs/workload_schema.md",
      }),
    ],
  ], title);
}

Deno.test("buildReport() gives a valid batch_report.v1 with counts and ranked comparisons", () => {
  const r = BatchReport.parse(sampleReport());
  assert.deepEqual(r.counts, { jobs: 5, completed: 4, failed: 1, cancelled: 0 });
  assert.equal(r.all_completed, false);
  assert.deepEqual(r.comparisons.map((c) => c.csv), ["zipf.csv", "uni.csv"]);
  assert.deepEqual(r.comparisons[0]!.rows, [
    { job: "z-lookup", mode: "fast-lookup", ops_per_second: 1_000_000, ratio: 1 },
    { job: "z-adaptive", mode: "adaptive", ops_per_second: 800_000, ratio: 0.8 },
  ]);
  assert.deepEqual(r.comparisons[1]!.rows.map((row) => row.ratio), [1, 0.5]);
  assert.equal(r.jobs[4]!.summary, null);
  assert.equal(r.jobs[4]!.job_dir, `jobs/${r.jobs[4]!.id}`);
});

Deno.test("summarizeResult() copies the result's numbers and refuses a result of another shape", () => {
  const s = runSummary("/in/w.csv", "adaptive", 123_456.7, 0.0042, 2);
  assert.deepEqual(summarizeResult("run-csv", { ...s }), {
    type: "replay",
    csv: "/in/w.csv",
    mode: "adaptive",
    total_ops: 1000,
    elapsed_seconds: s.elapsed_seconds,
    ops_per_second: 123_456.7,
    p50_ms: 0.00105,
    p99_ms: 0.0042,
    final_backend: "robinhood",
    migrations: 2,
    compactions: 0,
    bytes_per_entry: 32,
    alerts: 0,
  });
  assert.deepEqual(
    summarizeResult("run-csv", { status: "validated", csv: "/in/w.csv", rows: 9, size_bytes: 99 }),
    { type: "validation", csv: "/in/w.csv", rows: 9, size_bytes: 99 },
  );
  assert.equal(summarizeResult("workload-dna", { ...s }), null);
  assert.equal(summarizeResult("run-csv", null), null);
});

Deno.test("summarizeResult() keeps the p-values of ab-compare and profile, and jobOutcome() shows them", () => {
  const side = (label: string, runs: number[]) => ({
    label,
    mode: "adaptive" as const,
    config: null,
    summaries: runs.map((ops) => runSummary("/in/w.csv", "adaptive", ops, 0.004)),
    metricsFile: null,
  });
  const ab = buildAbReport({
    csv: "/in/w.csv",
    repeat: 4,
    warmupRows: 0,
    baseline: side("a", [1000, 2000, 3000, 4000]),
    candidate: side("b", [5000, 6000, 7000, 8000]),
    json: null,
    markdown: null,
  });
  const summary = summarizeResult("ab-compare", ab);
  assert.equal(summary?.type === "ab_compare" && summary.p_value, 0.02857);
  const r = reportOf([[
    planned("ab", "ab-compare", { csv: "w.csv" }),
    record("ab-compare", "completed", ab),
  ]]);
  BatchReport.parse(r);
  assert.equal(jobOutcome(r.jobs[0]!), "b / a ops/s 3.0000, b faster, p=0.02857");
  // A report from before p_value existed summarises with null.
  const { p_value: _, ...older } = ab.comparison;
  const old = summarizeResult("ab-compare", { ...ab, comparison: older });
  assert.equal(old?.type === "ab_compare" && old.p_value, null);
  const run = (opsPerSecond: number) => ({
    opsPerSecond,
    p99Ms: 0.001,
    finalBackend: "robinhood",
    migrations: 0,
    bytesPerEntry: 30,
  });
  const profile = buildProfileReport({
    csv: "/in/w.csv",
    sampleRows: 1000,
    wholeFile: true,
    repeat: 3,
    runs: new Map([["fast-lookup", [9, 8, 7].map(run)], ["adaptive", [3, 2, 1].map(run)]]),
  });
  const p = reportOf([[
    planned("p", "profile", { csv: "w.csv" }),
    record("profile", "completed", profile),
  ]]);
  BatchReport.parse(p);
  assert.equal(jobOutcome(p.jobs[0]!), "recommends fast-lookup (margin 4.0000, p=0.1)");
});

Deno.test("renderMarkdown() has a row per job and a table per workload, fastest first", () => {
  const md = renderMarkdown(sampleReport("Nightly"));
  assert.ok(md.startsWith("# Nightly\n"));
  assert.match(
    md,
    /\n- 5 jobs in 9\.000 s: 4 completed, 1 failed \(\*\*not all jobs completed\*\*\)\n/,
  );
  const jobRows = md.split("\n").filter((l) => /^\| [\w-]+ \| run-csv \|/.test(l));
  assert.deepEqual(jobRows.map((l) => l.split(" | ")[0]!.slice(2)), [
    "z-adaptive",
    "z-lookup",
    "u-adaptive",
    "u-insert",
    "broken",
  ]);
  assert.match(
    md,
    /\| z-lookup \| run-csv \| completed \| 1\.000 \| 0 \| 1,000,000 ops\/s, p99 3\.00 µs, robinhood, 0 migrations \| \[jobs\/\S+\]\(jobs\/\S+\/\) \|/,
  );
  // The error's `<`, `>` and `|` cannot break the table or become HTML.
  assert.match(
    md,
    /\| broken \| run-csv \| failed \| 1\.000 \| 2 \| BadInput: Unknown op '\\<x\\>\\\|y' at line 3 \|/,
  );
  const zipf = md.slice(md.indexOf("### `zipf.csv`"), md.indexOf("### `uni.csv`"));
  const rows = zipf.split("\n").filter((l) => /^\| (adaptive|fast-)/.test(l));
  assert.deepEqual(rows, [
    "| fast-lookup | z-lookup | 1,000,000 | 1.0000 | 0.750 | 3.00 | robinhood | 0 | 32.00 |",
    "| adaptive | z-adaptive | 800,000 | 0.8000 | 1.00 | 4.00 | robinhood | 1 | 32.00 |",
  ]);
  assert.match(md, /### `uni\.csv`\n\n(.*\n){2}\| adaptive \| u-adaptive \| 500,000 \| 1\.0000 \|/);
});

Deno.test("renderMarkdown() says when no replay completed and keeps the jobs table", () => {
  const md = renderMarkdown(reportOf([
    [planned("only", "run-csv", { csv: "w.csv" }), record("run-csv", "cancelled", null)],
  ]));
  assert.doesNotMatch(md, /Replays by workload/);
  assert.match(md, /\| only \| run-csv \| cancelled \| 1\.000 \| 2 \| cancelled \|/);
});

Deno.test("renderMarkdown() and renderText() keep a detail with line breaks or escapes on its row", () => {
  // A workload line can carry a lone CR into an error's detail; CommonMark ends a line there.
  const detail = "Unknown op 'x\r## INJECTED\r\n<b>hi</b>\x1b[31mRED\x1b(0\x1bc~~gone~~' at line 2";
  const r = reportOf([
    [
      planned("cr", "run-csv", { csv: "w.csv" }),
      record("run-csv", "failed", null, {
        error: "BadInput",
        detail,
      }),
    ],
  ]);
  const md = renderMarkdown(r);
  assert.doesNotMatch(md, /\r/);
  assert.doesNotMatch(md, /^## INJECTED/m);
  assert.match(md, /\| cr \| run-csv \| failed \| .*Unknown op 'x ## INJECTED \\<b\\>hi/);
  // `cat report.md` must not obey them either (ESC c resets the terminal), nor strike text out.
  assert.ok(!md.includes("\x1b"), "report.md shows terminal escapes, not obeys them");
  assert.match(md, /\\\\u001b\\\[31mRED\\\\u001b\(0\\\\u001bc\\~\\~gone\\~\\~/);
  const text = renderText(r, []);
  assert.doesNotMatch(text, /\r/);
  assert.ok(!text.includes("\x1b"), "a terminal escape from a workload is shown, not obeyed");
  assert.match(text, /<b>hi<\/b>\\u001b\[31mRED\\u001b\(0\\u001bc~~gone~~/);
  assert.equal(text.split("\n").filter((l) => l.startsWith("cr ")).length, 1);
});

Deno.test("renderHtml() is a well-formed, self-contained page that escapes every user text", () => {
  const hostile = `<b>Nightly</b> & "co" <script>alert(1)</script> \u202eelif`;
  const report = sampleReport(hostile);
  report.comparisons[1]!.csv = `<img src=x onerror=alert(1)>.csv`;
  const html = renderHtml(report);
  // A bidi override would turn the page's text round, as it would a terminal's.
  assert.doesNotMatch(html, /\u202e/);
  assert.ok(html.includes(" \\u202eelif</h1>"));
  assert.doesNotMatch(renderText(report, []), /\u202e/);
  assert.deepEqual(htmlProblems(html), []);
  assert.ok(html.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  assert.doesNotMatch(html, /<script|<b>|<img|onerror=alert\(1\)>/);
  assert.ok(html.includes(`<h1>${escapeHtml(hostile)}</h1>`));
  assert.ok(html.includes("&#60;b&#62;Nightly&#60;/b&#62; &#38; &#34;co&#34;"));
  assert.ok(html.includes("<h3>&#60;img src=x onerror=alert(1)&#62;.csv</h3>"));
  assert.ok(html.includes("Unknown op &#39;&#60;x&#62;|y&#39; at line 3"));
  // Self-contained: inline style, no script, no reference to anything outside the page
  // but the job directories beside it.
  assert.match(html, /<style>[\s\S]+<\/style>/);
  const refs = [...html.matchAll(/(?:href|src)="([^"]*)"/g)].map((m) => m[1]!);
  assert.ok(refs.every((ref) => /^jobs\/[\w-]+\/$/.test(ref)), refs.join(", "));
  assert.doesNotMatch(html, /url\(|@import|<link/);
});

Deno.test("renderHtml() draws a bar per replay, as long as its ops/s relative to the fastest", () => {
  const html = renderHtml(sampleReport());
  const charts = [...html.matchAll(/<svg class="chart"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  assert.equal(charts.length, 2);
  const widths = charts.map((svg) =>
    [...svg.matchAll(/<rect [^>]*width="(\d+)"/g)].map((m) => Number(m[1]))
  );
  assert.deepEqual(widths, [[460, 368], [460, 230]]); // 1.0, 0.8; 1.0, 0.5 of 460
  assert.match(charts[0]!, /z-lookup \(fast-lookup\)<\/text>/);
  assert.match(charts[0]!, />1,000,000 ops\/s<\/text>/);
  assert.match(
    charts[0]!,
    /<title>z-adaptive \(adaptive\): 800,000 ops\/s, p99 4\.00 µs<\/title>/,
  );
});

Deno.test("renderText() prints an aligned table with each job's outcome", () => {
  const text = renderText(sampleReport("T"), ["/out/batch.json", "/out/report.md"]);
  const lines = text.trimEnd().split("\n");
  assert.equal(
    lines[0],
    'batch "T": 5 jobs in 9.000 s: 4 completed, 1 failed (spec bench/spec.toml)',
  );
  assert.match(lines[1]!, /^job +kind +status +time \(s\) +exit +result$/);
  assert.equal(lines[1]!.indexOf("kind"), lines[2]!.indexOf("run-csv"));
  assert.match(
    lines[6]!,
    /^broken +run-csv +failed +1\.000 +2 +BadInput: Unknown op '<x>\|y' at line 3$/,
  );
  assert.equal(lines[7], "reports: /out/batch.json, /out/report.md");
});

Deno.test("jobOutcome() names a job cancelled before submission", () => {
  const r = reportOf([[planned("late", "workload-dna", { csv: "w.csv" }), null]]);
  assert.equal(r.jobs[0]!.status, "cancelled");
  assert.equal(r.jobs[0]!.job_dir, null);
  assert.equal(jobOutcome(r.jobs[0]!), "cancelled before it was submitted");
  assert.deepEqual(htmlProblems(renderHtml(r)), []);
});

Deno.test("renderPlan() shows each job's command line, quoting what a shell would split", () => {
  const text = renderPlan({ spec: "s.toml", outDir: "out", parallel: 2 }, [
    {
      name: "a",
      kind: "run-csv",
      timeout_seconds: 30,
      argv: ["hashmap-cli", "--csv", "/in/my w.csv"],
    },
    { name: "b", kind: "profile", timeout_seconds: null, argv: ["hashmap-cli", "out/jobs/<id>"] },
  ]);
  assert.equal(
    text,
    "batch plan (dry run, nothing started): 2 jobs from s.toml, 2 at a time, reports in out\n" +
      "  a  run-csv  timeout 30 s\n    hashmap-cli --csv '/in/my w.csv'\n" +
      "  b  profile  no timeout\n    hashmap-cli out/jobs/<id>\n",
  );
});

Deno.test("batchFailure() takes the first failed job's code; a timeout is Policy", () => {
  const failed = (name: string, error: string) =>
    [
      planned(name, "run-csv", { csv: "w.csv" }),
      record("run-csv", "failed", null, { error, detail: `${name} broke` }),
    ] as const;
  const ok = [
    planned("fine", "run-csv", { csv: "w.csv" }),
    record("run-csv", "completed", runSummary("/in/w.csv", "adaptive", 1, 1)),
  ] as const;
  const io = batchFailure(
    reportOf([[...ok], [...failed("a", "IO")], [...failed("b", "Timeout")]]),
    [
      "/out/report.md",
    ],
  );
  assert.equal(io.code, "IO");
  assert.equal(io.exitCode, 5);
  assert.equal(
    io.message,
    "2 of 3 batch jobs did not complete: a (IO: a broke), b (Timeout: b broke)",
  );
  assert.match(io.hint ?? "", /^Report: \/out\/report\.md; .*docs\/batch\.md/);
  const timeout = batchFailure(reportOf([[...failed("t", "Timeout")], [...failed("x", "IO")]]), []);
  assert.equal(timeout.code, "Policy");
  assert.equal(batchFailure(reportOf([[...failed("c", "Crashed")]]), []).code, "Internal");
});
