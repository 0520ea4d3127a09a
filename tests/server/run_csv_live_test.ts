import assert from "node:assert/strict";
import { MetricsTick } from "../../src/contracts/metrics.ts";
import { loadConfig } from "../../src/config/load.ts";
import { RUN_CSV_DEFAULTS, runCsv } from "../../src/cli/commands/run_csv.ts";
import { startLiveMetrics } from "../../src/server/live.ts";
import { sseEvents } from "./_fixtures.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../../src/workload/generate.ts";
import { removedAtUnload } from "../_helpers.ts";

// run-csv's replay feeding the live server in-process, as `run-csv --metrics-port` does once the
// flag is wired to startLiveMetrics(): ticks reach an SSE client and requests are answered while
// the replay is still running.
for (const worker of [true, false]) {
  Deno.test(`startLiveMetrics() streams run-csv ticks over SSE while the replay runs (${worker ? "worker thread" : "same thread"})`, async () => {
    const dir = removedAtUnload(await Deno.makeTempDir());
    const csv = `${dir}/w.csv`;
    const file = await Deno.open(csv, { write: true, create: true });
    for (
      const chunk of generateCsvChunks({ ...GENERATE_DEFAULTS, ops: 150_000, keySpace: 50_000 })
    ) {
      await file.write(chunk);
    }
    file.close();
    // The SSE client below shares the replay's thread here, so yield often in both modes.
    const live = await startLiveMetrics({ port: "auto", worker, yieldEveryMs: 2 });
    assert.equal(live.threaded, worker);
    try {
      const base = `http://127.0.0.1:${live.server.port}`;
      const res = await fetch(`${base}/api/stream`);
      let replayDone = false;
      const received: Array<{ ops: number; duringReplay: boolean }> = [];
      const readAll = (async () => {
        for await (const { event, data } of sseEvents(res.body!)) {
          if (event !== "tick") continue;
          received.push({
            ops: MetricsTick.parse(JSON.parse(data)).ops,
            duringReplay: !replayDone,
          });
          if (received.at(-1)!.ops === 150_000) return;
        }
      })();
      // Answered while the replay holds the thread most of the time.
      let scrapesDuringReplay = 0;
      const scraping = (async () => {
        while (!replayDone) {
          const r = await fetch(`${base}/metrics`);
          await r.body?.cancel();
          if (r.status === 200 && !replayDone) scrapesDuringReplay++;
        }
      })();
      const outcome = await runCsv(
        { ...RUN_CSV_DEFAULTS, csv },
        { mode: "adaptive", config: await loadConfig(undefined, {}), onTick: live.onTick },
      );
      replayDone = true;
      await readAll;
      await scraping;
      assert.equal(outcome.kind, "summary");
      const ops = received.map((r) => r.ops);
      // Every tick of the run, in order: 0, 1024, ..., 150000.
      const expected = [
        0,
        ...Array.from({ length: Math.floor(150_000 / 1024) }, (_, i) => (i + 1) * 1024),
        150_000,
      ];
      assert.deepEqual(ops, expected);
      assert.ok(
        received.filter((r) => r.duringReplay).length > 10,
        "ticks arrived while the replay ran",
      );
      assert.ok(scrapesDuringReplay > 0, "/metrics answered during the replay");
      const latest = await (await fetch(`${base}/api/metrics`)).json();
      assert.equal(latest.ops, 150_000);
    } finally {
      await live.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
