/**
 * `deno task smoke`: generate a small workload, replay it with --metrics-out-dir, validate the
 * NDJSON against metrics.v1 (validate-metrics), replay it again with the live dashboard
 * (`--metrics-port`), then start `serve` with the job service, run a replay job over HTTP and stop
 * the server with SIGTERM. Both servers must run their workers (the live server, snapshot
 * inspections). Exits non-zero on any failure. Everything goes under runs/smoke/ in the working
 * directory.
 *
 * `--binary PATH` runs the same steps against a compiled `hashmap-cli` instead of `cli.ts`: the
 * release workflow runs it on every binary its runner can execute, before uploading any, since
 * some code (the job service starting itself) takes another path in a compiled binary, and a
 * binary compiled without `--include` for a worker module falls back to one thread.
 *
 * @module
 */

const DIR = "runs/smoke";
const PERMS = ["--allow-read", "--allow-write=runs", "--allow-env"];
const SERVE_PERMS = [...PERMS, "--allow-net=127.0.0.1", "--allow-sys"];

/** The command line that runs the CLI: `deno run <perms> cli.ts`, or the binary. */
function cli(binary: string | undefined, perms: string[] = PERMS): [string, string[]] {
  // Relative: the task runs from the project root.
  return binary === undefined ? ["deno", ["run", ...perms, "cli.ts"]] : [binary, []];
}

class SmokeFailure extends Error {}

function fail(message: string): never {
  throw new SmokeFailure(message);
}

async function step(
  binary: string | undefined,
  name: string,
  args: string[],
  perms = PERMS,
  check: (stderr: string) => void = () => {},
): Promise<{ stdout: string; stderr: string }> {
  const started = performance.now();
  const [command, prefix] = cli(binary, perms);
  const out = await new Deno.Command(command, {
    args: [...prefix, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const ms = (performance.now() - started).toFixed(0);
  if (out.code !== 0) fail(`${name} (exit ${out.code}, ${ms} ms)\n${stdout}${stderr}`);
  check(stderr);
  console.log(`smoke: ok   ${name} (${ms} ms)`);
  return { stdout, stderr };
}

/** `serve` with the job service: one run-csv job over HTTP, then SIGTERM and exit 0. */
async function serveJob(binary: string | undefined, csv: string): Promise<void> {
  const started = performance.now();
  const jobs = `${DIR}/jobs`;
  await Deno.remove(jobs, { recursive: true }).catch(() => {});
  const [command, prefix] = cli(binary, [...SERVE_PERMS, "--allow-run=deno"]);
  const child = new Deno.Command(command, {
    args: [...prefix, "serve", "--port", "auto", "--job-root", jobs, "--job-input-dir", DIR],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    first += value;
  }
  const port = /^Dashboard: http:\/\/localhost:(\d+)\//.exec(first)?.[1];
  try {
    if (port === undefined) fail(`serve did not start: ${first}${await stderr}`);
    const base = `http://127.0.0.1:${port}`;
    const res = await fetch(`${base}/api/jobs/run-csv`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ csv }),
    });
    const { id } = await res.json();
    if (res.status !== 202) fail(`job submission answered ${res.status}`);
    let job: { status?: string; result?: { total_ops?: number }; error?: unknown } = {};
    for (let i = 0; i < 600 && (job.status ?? "pending").match(/^(pending|running)$/); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await (await fetch(`${base}/api/jobs/${id}`)).json();
    }
    if (job.status !== "completed" || job.result?.total_ops !== 20000) {
      fail(`job ended ${job.status}: ${JSON.stringify(job.error)}`);
    }
  } finally {
    await reader.cancel();
    child.kill("SIGTERM");
  }
  const { code } = await child.status;
  // Windows has no SIGTERM: the process is ended, not asked to stop.
  if (code !== 0 && Deno.build.os !== "windows") fail(`serve exited ${code}\n${await stderr}`);
  // A binary compiled without `--include src/server/snapshot_worker.ts` still serves, slower.
  if (!(await stderr).includes('inspections "in a worker"')) {
    fail(`serve inspects snapshots on its own thread\n${await stderr}`);
  }
  console.log(`smoke: ok   serve + run-csv job (${(performance.now() - started).toFixed(0)} ms)`);
}

async function main(): Promise<void> {
  const i = Deno.args.indexOf("--binary");
  const binary = i < 0 ? undefined : Deno.args[i + 1] ?? fail("--binary needs a path");
  await Deno.mkdir(DIR, { recursive: true });
  if (binary !== undefined) {
    // The release's binary must be the tagged version (deno.json's, which the tag matches).
    const { version } = JSON.parse(
      await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
    );
    const printed = (await step(binary, "--version", ["--version"])).stdout.trim();
    if (printed !== version) fail(`--version printed ${printed}, deno.json has ${version}`);
  }
  await step(binary, "generate-csv", [
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
  const { stdout: summary } = await step(binary, "run-csv", [
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
    fail(`unexpected run-csv summary: ${summary}`);
  }
  await step(binary, "validate-metrics", ["validate-metrics", `${DIR}/metrics.ndjson`]);
  await step(
    binary,
    "run-csv --metrics-port",
    ["run-csv", "--csv", `${DIR}/workload.csv`, "--metrics-port", "auto"],
    SERVE_PERMS,
    (stderr) => {
      // Built without `--include src/server/live_worker.ts`, the server shares the replay's thread.
      if (stderr.includes("could not start")) {
        fail(`run-csv --metrics-port: the live server shares the replay's thread\n${stderr}`);
      }
    },
  );
  await serveJob(binary, "workload.csv");
  console.log(`smoke: passed (${DIR}/metrics.ndjson, ${parsed.ticks} ticks)`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof SmokeFailure)) throw err;
    console.error(`smoke: FAIL ${err.message}`);
    Deno.exit(1);
  }
}
