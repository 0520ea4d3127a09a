import assert from "node:assert/strict";
import { healthy, idleConnections, sseEvents, UNDER_64_FDS } from "./_fixtures.ts";
import { MetricsTick } from "../../src/contracts/metrics.ts";
import { linuxTest, removedAtUnload, waitFor } from "../_helpers.ts";
import { filePath } from "../../src/cli/self_command.ts";

const CLI = filePath(new URL("../../cli.ts", import.meta.url));
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-sys"];

/** Writes a workload of `ops` rows with `generate-csv` and returns its path. */
async function generate(dir: string, ops: number, keySpace: number): Promise<string> {
  const csv = `${dir}/w.csv`;
  const args = ["--outfile", csv, "--ops", String(ops), "--key-space", String(keySpace)];
  const gen = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, CLI, "generate-csv", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(gen.code, 0, new TextDecoder().decode(gen.stderr));
  return csv;
}

/**
 * Starts `run-csv --json --csv <csv> --metrics-port auto ...extra` (after `launcher`, if any) and
 * waits for the dashboard line; `finish()` waits for the exit and returns the exit code, stderr
 * and the JSON summary.
 */
async function startRunCsv(csv: string, extra: string[] = [], launcher: string[] = []): Promise<{
  port: number;
  stderr: () => string;
  kill: (signal: Deno.Signal) => void;
  finish: () => Promise<{ code: number; stderr: string; summary: Record<string, number> }>;
}> {
  const deno = ["run", ...PERMS, CLI, "--json", "run-csv", "--csv", csv, "--metrics-port", "auto"]
    .concat(extra);
  const child = new Deno.Command(launcher[0] ?? Deno.execPath(), {
    args: launcher.length === 0 ? deno : [...launcher.slice(1), Deno.execPath(), ...deno],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const errReader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let err = "";
  let port = -1;
  while (port < 0) {
    const { value, done } = await errReader.read();
    if (done) break;
    err += value;
    const m = /Dashboard: http:\/\/localhost:(\d+)\//.exec(err);
    if (m) port = Number(m[1]);
  }
  const stderrRest = (async () => {
    for (;;) {
      const { value, done } = await errReader.read();
      if (done) return;
      err += value;
    }
  })();
  const finish = async () => {
    const { code } = await child.status;
    await stderrRest;
    const out = (await stdout).trim();
    return { code, stderr: err, summary: out === "" ? {} : JSON.parse(out.split("\n").at(-1)!) };
  };
  if (port < 0) assert.fail(`no dashboard line: ${(await finish()).stderr}`);
  return { port, stderr: () => err, kill: (signal) => child.kill(signal), finish };
}

Deno.test("hashmap-cli run-csv --metrics-port auto streams live ticks to /api/stream", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  const OPS = 600_000;
  const run = await startRunCsv(await generate(dir, OPS, 100_000), ["--log-json"]);
  try {
    const res = await fetch(`http://127.0.0.1:${run.port}/api/stream`);
    assert.equal(res.status, 200);
    const ops: number[] = [];
    // Read until the completion tick or until the server closes the stream at exit.
    for await (const { event, data } of sseEvents(res.body!)) {
      if (event !== "tick") continue;
      ops.push(MetricsTick.parse(JSON.parse(data)).ops);
      if (ops.at(-1) === OPS) break;
    }
    assert.ok(ops.length >= 10, `only ${ops.length} live ticks`);
    assert.equal(ops.at(-1), OPS);
    for (let i = 1; i < ops.length; i++) assert.ok(ops[i]! > ops[i - 1]!, "ticks in order");
  } finally {
    const { code, stderr, summary } = await run.finish();
    assert.equal(code, 0, stderr);
    assert.equal(summary.total_ops, OPS);
    // --log-json: the Dashboard line is a log record like the others.
    const logs = stderr.trimEnd().split("\n").map((line) => JSON.parse(line));
    assert.match(logs[0].message, /^Dashboard: http:\/\/localhost:\d+\/$/);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashmap-cli run-csv --metrics-port answers /api/probe between chunks when ticks are rare", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  // 12M puts of a few keys, then the one put of LAST: a probe for LAST finds it only after the
  // replay, so `found` tells whether the probe was answered during it.
  const csv = `${dir}/w.csv`;
  const block = Array.from({ length: 1000 }, (_, i) => `put,k${i},${i}\n`).join("");
  await Deno.writeTextFile(csv, `op,key,value\n${block.repeat(12_000)}put,LAST,1\n`);
  const run = await startRunCsv(csv, ["--tick-every", "100000000", "--csv-max-rows", "0"]);
  try {
    const res = await fetch(`http://127.0.0.1:${run.port}/api/probe?op=get&key=LAST`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.trace.key_repr, '"LAST"');
    // No tick but the first and the last: only the reads between chunks let it answer.
    assert.equal(body.trace.found, false, "probe answered after the replay");
    const { code, stderr, summary } = await run.finish();
    assert.equal(code, 0, stderr);
    assert.equal(summary.total_ops, 12_000_001);
  } finally {
    await run.finish();
    await Deno.remove(dir, { recursive: true });
  }
});

linuxTest(
  "hashmap-cli run-csv --metrics-port out of file descriptors listens again and finishes the replay",
  async (dir) => {
    // The replay is what was asked for: a live server Deno stops on EMFILE must not end it (it
    // printed an uncaught stack trace), nor stay down. A FIFO holds the replay open meanwhile.
    const csv = `${dir}/w.csv`;
    assert.equal((await new Deno.Command("mkfifo", { args: [csv] }).output()).code, 0);
    const feed = Deno.open(csv, { write: true }); // opens once run-csv opens the other end
    const run = await startRunCsv(csv, [], UNDER_64_FDS);
    const conns = await idleConnections(run.port, 120);
    try {
      await waitFor(() => /stopped listening/.test(run.stderr()));
    } finally {
      conns.forEach((c) => c.close());
    }
    await waitFor(() => healthy(run.port), 20_000);
    const writer = await feed;
    await writer.write(new TextEncoder().encode("op,key,value\nput,a,1\nget,a,\n"));
    writer.close();
    const { code, stderr, summary } = await run.finish();
    assert.equal(code, 0, stderr);
    assert.equal(summary.total_ops, 2);
    // Logged through logtape, or, when it cannot load for want of descriptors, as plain text.
    assert.match(
      stderr,
      /The server stopped listening: .*Too many open files.*; listening again in 0\.25 s \(Raise the open-file limit/,
    );
    assert.match(stderr, new RegExp(`live metrics server listens again on port ${run.port}\\b`));
    assert.doesNotMatch(stderr, /Uncaught|goes on without/);
  },
);

Deno.test("hashmap-cli run-csv --metrics-linger keeps the run on the dashboard after the replay, --metrics-history as many ticks as asked", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  const csv = await generate(dir, 50_000, 5_000);
  const run = await startRunCsv(csv, ["--metrics-linger", "60"]);
  await waitFor(() => /stays up for 60 s \(Ctrl-C to stop\)/.test(run.stderr()));
  // The replay is over and its summary printed; the server still answers, with every tick.
  const history = await (await fetch(`http://127.0.0.1:${run.port}/api/metrics/history`)).json();
  const ticks = (history.ticks as unknown[]).map((t) => MetricsTick.parse(t));
  assert.equal(ticks.at(-1)!.ops, 50_000);
  assert.ok(ticks.at(-1)!.events.some((e) => e.type === "complete"));
  const started = performance.now();
  run.kill("SIGINT");
  const { code, stderr, summary } = await run.finish();
  assert.equal(code, 0, stderr);
  assert.ok(performance.now() - started < 10_000);
  assert.equal(summary.total_ops, 50_000);
  assert.equal(ticks.length, summary.ticks);
  assert.match(stderr, /"SIGINT" received; stopping the live server/);

  // --metrics-history keeps fewer (or more) of the run's ticks: here the last 5.
  const short = await startRunCsv(csv, ["--metrics-linger", "60", "--metrics-history", "5"]);
  await waitFor(() => /stays up for 60 s/.test(short.stderr()));
  const kept = await (await fetch(`http://127.0.0.1:${short.port}/api/metrics/history`)).json();
  assert.equal(kept.ticks.at(-1).ops, 50_000);
  assert.equal(kept.ticks.length, 5);
  short.kill("SIGINT");
  const shortEnd = await short.finish();
  assert.equal(shortEnd.code, 0, shortEnd.stderr);
  assert.ok(shortEnd.summary.ticks! > 5, `${shortEnd.summary.ticks} ticks`);

  // On its own, once the time is up.
  const brief = await startRunCsv(csv, ["--metrics-linger", "1"]);
  const t0 = performance.now();
  const ended = await brief.finish();
  assert.equal(ended.code, 0, ended.stderr);
  assert.ok(performance.now() - t0 >= 900, `${performance.now() - t0} ms`);
  assert.doesNotMatch(ended.stderr, /received/);
});
