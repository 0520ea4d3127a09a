import assert from "node:assert/strict";
import { filePath } from "../../src/cli/self_command.ts";
import { readLine } from "../_helpers.ts";

const FIXTURE = filePath(new URL("./_blocked_replay.ts", import.meta.url));

/** Runs the fixture and times /healthz and /metrics requests while its main thread is blocked. */
async function latenciesWhileBlocked(mode: "worker" | "same-thread"): Promise<number[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-net=127.0.0.1", FIXTURE, mode],
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = await readLine(reader);
  const m = out.match(/^PORT (\d+) (threaded|shared)/);
  assert.ok(m, `fixture said ${JSON.stringify(out)}`);
  assert.equal(m[2], mode === "worker" ? "threaded" : "shared");
  const base = `http://127.0.0.1:${m[1]}`;
  await new Promise((r) => setTimeout(r, 600)); // inside the 1.5 s block
  const times: number[] = [];
  for (const path of ["/healthz", "/metrics", "/healthz", "/api/version"]) {
    const t0 = performance.now();
    const res = await fetch(base + path);
    await res.body?.cancel();
    times.push(performance.now() - t0);
  }
  while (!(out.includes("DONE"))) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  assert.equal((await child.status).code, 0);
  return times;
}

Deno.test("startLiveMetrics() keeps answering while the replay's thread is blocked", async () => {
  const times = await latenciesWhileBlocked("worker");
  assert.ok(
    Math.max(...times) < 500, // the block has ~0.9 s left when these are sent
    `request times while blocked: ${times.map((t) => t.toFixed(1))}`,
  );
});

Deno.test("startLiveMetrics({ worker: false }) shares the replay's thread and waits for it", async () => {
  // The control for the test above: same fixture, no worker, so the first request waits out the block.
  const times = await latenciesWhileBlocked("same-thread");
  // Sent ~0.3 s into the 1.5 s block: it waits ~1.2 s.
  assert.ok(times[0]! > 700, `first request took ${times[0]!.toFixed(1)} ms`);
});

async function niceProbe(sys: boolean): Promise<Record<string, number | boolean | null>> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-net=127.0.0.1",
      ...(sys ? ["--allow-sys"] : []),
      filePath(new URL("./_nice_probe.ts", import.meta.url)),
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const err = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, err);
  return JSON.parse(new TextDecoder().decode(r.stdout));
}

Deno.test("startLiveMetrics() lowers the replay thread's priority while its worker serves", async () => {
  const p = await niceProbe(true);
  assert.equal(p.threaded, true);
  assert.equal(p.status, 200);
  const before = p.before as number;
  assert.equal(p.during, Math.min(19, before + 10));
  assert.equal(p.reported, p.during);
  // Restored where the process may raise priority again (RLIMIT_NICE); kept lower otherwise.
  assert.ok(p.after === before || p.after === p.during, JSON.stringify(p));
});

Deno.test("startLiveMetrics() leaves the priority alone without --allow-sys", async () => {
  const p = await niceProbe(false);
  assert.equal(p.threaded, true);
  assert.equal(p.status, 200);
  assert.equal(p.reported, null);
});
