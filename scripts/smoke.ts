/**
 * `deno task smoke`: generate a small workload, replay it with --metrics-out-dir, validate the
 * NDJSON against metrics.v1 (validate-metrics). Exits non-zero on any failure. Everything goes
 * under runs/smoke/.
 *
 * @module
 */

const DIR = "runs/smoke";
const PERMS = ["--allow-read", "--allow-write=runs", "--allow-env"];
// Relative: the task runs from the project root.
const CLI = "cli.ts";

async function step(name: string, args: string[]): Promise<string> {
  const started = performance.now();
  const out = await new Deno.Command("deno", {
    args: ["run", ...PERMS, CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const ms = (performance.now() - started).toFixed(0);
  if (out.code !== 0) {
    console.error(`smoke: FAIL ${name} (exit ${out.code}, ${ms} ms)\n${stdout}${stderr}`);
    Deno.exit(1);
  }
  console.log(`smoke: ok   ${name} (${ms} ms)`);
  return stdout;
}

if (import.meta.main) {
  await Deno.mkdir(DIR, { recursive: true });
  await step("generate-csv", [
    "generate-csv",
    "--outfile",
    `${DIR}/workload.csv`,
    "--ops",
    "20000",
    "--key-space",
    "2000",
    "--key-skew",
    "1.1",
    "--adversarial-ratio",
    "0.05",
  ]);
  const summary = await step("run-csv", [
    "--json",
    "run-csv",
    "--csv",
    `${DIR}/workload.csv`,
    "--metrics-out-dir",
    DIR,
    "--json-summary-out",
    `${DIR}/summary.json`,
  ]);
  const parsed = JSON.parse(summary.trim());
  if (parsed.ok !== true || parsed.total_ops !== 20000) {
    console.error(`smoke: FAIL unexpected run-csv summary: ${summary}`);
    Deno.exit(1);
  }
  await step("validate-metrics", ["validate-metrics", `${DIR}/metrics.ndjson`]);
  console.log(`smoke: passed (${DIR}/metrics.ndjson, ${parsed.ticks} ticks)`);
}
