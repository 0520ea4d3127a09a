/**
 * Renders a `batch_report.v1` report as Markdown (`report.md`), as a self-contained HTML page
 * (`report.html`: inline CSS and an inline SVG chart, no scripts, no external assets) and as the
 * terminal table `batch` prints. Pure: a report in, text out. Every text that comes from the
 * user or a job (title, paths, labels, error details) is escaped for its format.
 *
 * @module
 */

import type {
  BatchComparison,
  BatchJob,
  BatchJobSummary,
  BatchReport,
} from "../contracts/batch.ts";
import { micros, thousands, visible } from "../format.ts";
import { shellWord } from "../cli/self_command.ts";

type Replay = Extract<BatchJobSummary, { type: "replay" }>;

function seconds(n: number | null): string {
  return n === null ? "" : n.toFixed(3);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** One line saying what a job produced, or why it did not. */
export function jobOutcome(job: BatchJob): string {
  if (job.status === "cancelled") {
    return job.id === null ? "cancelled before it was submitted" : "cancelled";
  }
  if (job.status === "failed") {
    return job.error === null ? "failed" : `${job.error.error}: ${job.error.detail}`;
  }
  const s = job.summary;
  if (s === null) return "completed (see result.json)";
  switch (s.type) {
    case "replay":
      return `${thousands(s.ops_per_second)} ops/s, p99 ${
        micros(s.p99_ms)
      } µs, ${s.final_backend}, ` +
        plural(s.migrations, "migration");
    case "validation":
      return `validated ${thousands(s.rows)} rows`;
    case "workload_dna":
      return `${thousands(s.rows)} rows, ${s.distinct_exact ? "" : ">= "}${
        thousands(s.distinct_keys)
      } distinct keys, ${s.skewed ? "skewed" : "not skewed"}${
        s.adversarial ? ", adversarial" : ""
      }, recommends ${s.recommended_mode}`;
    case "ab_compare":
      return `${s.candidate.label} / ${s.baseline.label} ops/s ${
        s.ops_per_second_ratio === null ? "n/a" : s.ops_per_second_ratio.toFixed(4)
      }, ${s.faster === null ? "a tie" : `${s.faster} faster`}${
        s.ranges_overlap ? " (within run-to-run spread)" : ""
      }${s.p_value == null ? "" : `, p=${s.p_value}`}`;
    case "profile":
      return `recommends ${s.recommended_mode} (margin ${s.margin.toFixed(4)}${
        s.close ? ", close" : ""
      }${s.p_value == null ? "" : `, p=${s.p_value}`})`;
  }
}

function headline(r: BatchReport): string {
  const c = r.counts;
  const parts = [`${c.completed} completed`];
  if (c.failed > 0) parts.push(`${c.failed} failed`);
  if (c.cancelled > 0) parts.push(`${c.cancelled} cancelled`);
  return `${plural(c.jobs, "job")} in ${r.duration_seconds.toFixed(3)} s: ${parts.join(", ")}`;
}

function replayOf(r: BatchReport, name: string): Replay | undefined {
  const s = r.jobs.find((j) => j.name === name)?.summary;
  return s?.type === "replay" ? s : undefined;
}

/** The cells of a comparison row: mode, job, ops/s, ratio, p50, p99, backend, migrations, B/e. */
function comparisonCells(r: BatchReport, c: BatchComparison): string[][] {
  return c.rows.map((row) => {
    const s = replayOf(r, row.job)!;
    return [
      row.mode,
      row.job,
      thousands(row.ops_per_second),
      row.ratio.toFixed(4),
      micros(s.p50_ms),
      micros(s.p99_ms),
      s.final_backend,
      String(s.migrations),
      s.bytes_per_entry.toFixed(2),
    ];
  });
}

const COMPARISON_HEAD = [
  "mode",
  "job",
  "ops/s",
  "vs fastest",
  "p50 (µs)",
  "p99 (µs)",
  "final backend",
  "migrations",
  "bytes/entry",
];
const COMPARISON_RIGHT = [false, false, true, true, true, true, false, true, true];
const JOBS_HEAD = ["job", "kind", "status", "time (s)", "exit", "result", "directory"];
const JOBS_RIGHT = [false, false, false, true, true, false, false];

function jobCells(j: BatchJob): string[] {
  return [
    j.name,
    j.kind,
    j.status,
    seconds(j.duration_seconds),
    j.exit_code === null ? "" : String(j.exit_code),
    jobOutcome(j),
    j.job_dir ?? "",
  ];
}

// ---------------------------------------------------------------------------------- Markdown

/**
 * `s` on one line (line breaks as spaces) that acts on no terminal (controls shown as `\uXXXX`):
 * a workload's text in the report's tables.
 */
function oneLine(s: string): string {
  return visible(s.replace(/\s*[\r\n]\s*/g, " "));
}

/**
 * Text in Markdown: {@linkcode oneLine}, its markup characters escaped. An underscore inside
 * a word (`zipf_1.csv`) is left alone: it cannot start emphasis, and the raw text stays readable.
 */
function mdText(s: string): string {
  return oneLine(s).replace(
    /[\\`*~[\]<>|&]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g,
    (c) => `\\${c}`,
  );
}

/** A code span holding `s` literally (a table cell's `|` still needs its backslash). */
function mdCode(s: string): string {
  const text = oneLine(s).replace(/\|/g, "\\|");
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function mdTable(head: string[], right: boolean[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [
    line(head),
    line(right.map((r) => (r ? "---:" : "---"))),
    ...rows.map(line),
  ].join("\n");
}

/** The report as Markdown (`report.md`). */
export function renderMarkdown(r: BatchReport): string {
  const out = [
    `# ${mdText(r.title ?? "Batch report")}`,
    "",
    `- spec: ${mdCode(r.spec)}, ${plural(r.parallel, "job")} at a time`,
    `- ${r.started_at} to ${r.finished_at}`,
    `- ${headline(r)}${r.all_completed ? "" : " (**not all jobs completed**)"}`,
  ];
  if (r.interrupted !== null) {
    out.push(`- interrupted by ${r.interrupted}: the jobs still running or waiting were cancelled`);
  }
  out.push(
    "",
    "## Jobs",
    "",
    mdTable(
      JOBS_HEAD,
      JOBS_RIGHT,
      r.jobs.map((j) => {
        const cells = jobCells(j).map(mdText);
        cells[6] = j.job_dir === null ? "" : `[${mdText(j.job_dir)}](${j.job_dir}/)`;
        return cells;
      }),
    ),
  );
  if (r.comparisons.length > 0) {
    out.push("", "## Replays by workload", "");
    out.push("Each workload's completed `run-csv` jobs, fastest first; `vs fastest` is ops/s over");
    out.push("the fastest's. Numbers are the jobs' own `result.json` (`run_summary.v1`).");
    for (const c of r.comparisons) {
      const rows = comparisonCells(r, c).map((cells) => cells.map(mdText));
      out.push("", `### ${mdCode(c.csv)}`, "", mdTable(COMPARISON_HEAD, COMPARISON_RIGHT, rows));
    }
  }
  return `${out.join("\n")}\n`;
}

// -------------------------------------------------------------------------------------- HTML

/**
 * Text safe in HTML content and attribute values, its controls and bidi overrides shown as
 * `\uXXXX` as in report.md (an override in a workload's text would turn the page's text round).
 */
export function escapeHtml(s: string): string {
  return visible(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const MODE_COLOURS: Readonly<Record<string, string>> = {
  adaptive: "#4e79a7",
  "fast-insert": "#f28e2b",
  "fast-lookup": "#59a14f",
  "memory-tight": "#e15759",
};

const CSS = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #5b6475; --line: #d7dbe3;
  --bg: #ffffff; --head: #f3f5f9; --ok: #1a7f37; --bad: #c4302b; --off: #8a6d00; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e4e8f0; --muted: #9aa3b5; --line: #3a4150; --bg: #161a22; --head: #202633;
    --ok: #4ac26b; --bad: #ff7b72; --off: #d29922; }
}
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg);
  margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; font-family: ui-monospace, monospace; }
ul.facts { color: var(--muted); padding-left: 1.1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
th { background: var(--head); }
td:first-child, td:nth-child(2) { white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.completed { color: var(--ok); font-weight: 600; }
.failed { color: var(--bad); font-weight: 600; }
.cancelled { color: var(--off); font-weight: 600; }
svg.chart { width: 100%; height: auto; max-width: 60rem; }
svg.chart text { fill: var(--fg); font: 13px system-ui, sans-serif; }
svg.chart .value { fill: var(--muted); }
.legend span { display: inline-block; margin-right: 1rem; color: var(--muted); }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
  vertical-align: -1px; border-radius: 2px; }
`;

function htmlTable(head: string[], right: boolean[], rows: string[][]): string {
  const cls = (i: number): string => (right[i] ? ' class="num"' : "");
  const th = head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join("");
  const body = rows.map((cells) =>
    `<tr>${cells.map((c, i) => `<td${cls(i)}>${c}</td>`).join("")}</tr>`
  );
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body.join("\n")}\n</tbody>\n</table>`;
}

/** A horizontal bar chart of one workload's replays (ops/s), as inline SVG. */
function barChart(r: BatchReport, c: BatchComparison): string {
  const rowH = 30;
  const labelW = 240;
  const barW = 460;
  const width = labelW + barW + 140;
  const height = c.rows.length * rowH + 10;
  const fastest = c.rows[0]?.ops_per_second ?? 0;
  const bars = c.rows.map((row, i) => {
    const y = 5 + i * rowH;
    const w = fastest > 0 ? Math.max(1, Math.round((row.ops_per_second / fastest) * barW)) : 1;
    const colour = MODE_COLOURS[row.mode] ?? "#9c755f";
    const label = `${row.job} (${row.mode})`;
    const value = `${thousands(row.ops_per_second)} ops/s`;
    const p99 = replayOf(r, row.job)?.p99_ms;
    const tip = `${label}: ${value}${p99 === undefined ? "" : `, p99 ${micros(p99)} µs`}`;
    return `<g><title>${escapeHtml(tip)}</title>` +
      `<text x="${labelW - 8}" y="${y + 19}" text-anchor="end">${escapeHtml(label)}</text>` +
      `<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 10}" rx="3" ` +
      `fill="${colour}"/>` +
      `<text class="value" x="${labelW + w + 6}" y="${y + 19}">${escapeHtml(value)}</text></g>`;
  });
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" ` +
    `role="img" aria-label="${escapeHtml(`ops/s by job on ${c.csv}`)}">\n${
      bars.join("\n")
    }\n</svg>`;
}

/** The report as a self-contained HTML page (`report.html`). */
export function renderHtml(r: BatchReport): string {
  const title = r.title ?? "Batch report";
  const facts = [
    `spec <code>${escapeHtml(r.spec)}</code>, ${plural(r.parallel, "job")} at a time`,
    `${escapeHtml(r.started_at)} to ${escapeHtml(r.finished_at)}`,
    escapeHtml(headline(r)),
  ];
  if (r.interrupted !== null) {
    facts.push(
      `<span class="failed">interrupted by ${r.interrupted}</span>: the jobs still running or ` +
        "waiting were cancelled",
    );
  }
  const jobRows = r.jobs.map((j) => {
    const cells = jobCells(j).map(escapeHtml);
    cells[2] = `<span class="${j.status}">${j.status}</span>`;
    cells[6] = j.job_dir === null
      ? ""
      : `<a href="${escapeHtml(j.job_dir)}/">${escapeHtml(j.job_dir)}</a>`;
    return cells;
  });
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<ul class="facts">\n${facts.map((f) => `<li>${f}</li>`).join("\n")}\n</ul>`,
    "<h2>Jobs</h2>",
    htmlTable(JOBS_HEAD, JOBS_RIGHT, jobRows),
  ];
  if (r.comparisons.length > 0) {
    const modes = [...new Set(r.comparisons.flatMap((c) => c.rows.map((row) => row.mode)))];
    body.push(
      "<h2>Replays by workload</h2>",
      "<p>Each workload's completed <code>run-csv</code> jobs, fastest first; <em>vs fastest</em> " +
        "is ops/s over the fastest's. Numbers are the jobs' own <code>result.json</code>.</p>",
      `<p class="legend">${
        modes.map((m) =>
          `<span><i style="background:${MODE_COLOURS[m] ?? "#9c755f"}"></i>${escapeHtml(m)}</span>`
        ).join("")
      }</p>`,
    );
    for (const c of r.comparisons) {
      body.push(
        `<h3>${escapeHtml(c.csv)}</h3>`,
        barChart(r, c),
        htmlTable(
          COMPARISON_HEAD,
          COMPARISON_RIGHT,
          comparisonCells(r, c).map((cells) => cells.map(escapeHtml)),
        ),
      );
    }
  }
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body>",
    ...body,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------- Terminal

function textTable(head: string[], right: boolean[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) =>
      i === cells.length - 1 ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)
    ).join("  ").trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The table `batch` prints: one line per job, then the reports' paths. */
export function renderText(r: BatchReport, files: readonly string[]): string {
  const head = JOBS_HEAD.slice(0, 6);
  const rows = r.jobs.map((j) =>
    jobCells(j).slice(0, 6).map((c) =>
      // One line per job, and no terminal escape from a workload's text reaches the terminal.
      oneLine(c)
    )
  );
  const lines = [
    `batch${r.title === null ? "" : ` ${visible(JSON.stringify(r.title))}`}: ${
      headline(r)
    } (spec ${r.spec})`,
    ...textTable(head, JOBS_RIGHT, rows),
  ];
  if (r.interrupted !== null) lines.push(`interrupted by ${r.interrupted}`);
  lines.push(`reports: ${files.join(", ")}`);
  return `${lines.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------- Dry run

/** A job's planned command line, as `--dry-run` shows it. */
export interface PlanLine {
  name: string;
  kind: string;
  timeout_seconds: number | null;
  argv: string[];
}

/** `arg` as a POSIX shell word; the placeholder `<id>` is shown as it is. */
function planWord(arg: string): string {
  const plain = arg.replaceAll("<id>", "id");
  return shellWord(plain) === plain ? arg : shellWord(arg);
}

/** The plan `batch --dry-run` prints: each job and the command line it would run. */
export function renderPlan(
  plan: { spec: string; outDir: string; parallel: number },
  lines: readonly PlanLine[],
): string {
  const out = [
    `batch plan (dry run, nothing started): ${plural(lines.length, "job")} from ${plan.spec}, ` +
    `${plan.parallel} at a time, reports in ${plan.outDir}`,
  ];
  for (const l of lines) {
    const limit = l.timeout_seconds === null ? "no timeout" : `timeout ${l.timeout_seconds} s`;
    out.push(`  ${l.name}  ${l.kind}  ${limit}`, `    ${l.argv.map(planWord).join(" ")}`);
  }
  return `${out.join("\n")}\n`;
}
