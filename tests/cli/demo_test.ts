import assert from "node:assert/strict";
import { firstRows } from "../../src/replay/warm_up.ts";
import type { OpBatch } from "../../src/workload/csv_reader.ts";
import { ROOT, runCli } from "./_run.ts";
import { linuxTest, readLine, removedAtUnload, waitFor } from "../_helpers.ts";
import { shellWord } from "../../src/cli/self_command.ts";

/** Ten batches of three rows; `state` records how many were made and whether it was closed. */
function source(state: { made: number; closed: boolean }): AsyncGenerator<OpBatch> {
  return (async function* () {
    try {
      for (let i = 0; i < 10; i++) {
        state.made++;
        yield { length: 3, ops: new Uint8Array(3), keys: ["a", "b", "c"], values: ["", "", ""] };
      }
    } finally {
      state.closed = true;
    }
  })();
}

async function count(batches: AsyncIterable<OpBatch>): Promise<number[]> {
  const lengths: number[] = [];
  for await (const batch of batches) lengths.push(batch.length);
  return lengths;
}

Deno.test("firstRows() yields exactly the first rows and closes the source there", async () => {
  const state = { made: 0, closed: false };
  assert.deepEqual(await count(firstRows(source(state), 7)), [3, 3, 1]);
  assert.deepEqual(state, { made: 3, closed: true });

  const whole = { made: 0, closed: false };
  assert.equal((await count(firstRows(source(whole), 100))).length, 10);
  assert.deepEqual(whole, { made: 10, closed: true });

  const none = { made: 0, closed: false };
  assert.deepEqual(await count(firstRows(source(none), 0)), []);
  assert.equal(none.made, 0);
});

/** Every file under `dir` (hidden temporary files included), relative, with its bytes. */
function tree(dir: string, under = ""): Map<string, string> {
  const files = new Map<string, string>();
  for (const e of Deno.readDirSync(`${dir}/${under}`)) {
    const rel = `${under}${e.name}`;
    if (e.isDirectory) { for (const [k, v] of tree(dir, `${rel}/`)) files.set(k, v); }
    else files.set(rel, Deno.readTextFileSync(`${dir}/${rel}`));
  }
  return files;
}

linuxTest(
  "demo that cannot write one of its outputs commits none and removes the dirs it made",
  async (dir) => {
    // An earlier demo (also run once without the limit: deno's own cache writes are done).
    const out = `${dir}/out`;
    const earlier = await runCli(["demo", "--out-dir", out, "--ops", "30"]);
    assert.equal(earlier.code, 0, earlier.stderr);
    const before = tree(out);
    assert.ok(before.has("workload.csv") && before.has("adaptive/metrics.ndjson"));
    // Under 1 KiB a 10-op workload fits (~150 bytes) and the first metrics file (~3.5 KB)
    // does not; a 200-op workload (~2.3 KB) does not fit either.
    const cases: Array<[string, string]> = [["10", "adaptive/(metrics.ndjson|summary.json)"], [
      "200",
      "workload.csv",
    ]];
    for (const [ops, failing] of cases) {
      for (const target of [out, `${dir}/demo2/x`]) {
        const r = await runCli(["demo", "--out-dir", target, "--ops", ops], {
          shell: { fileKiB: 1 },
        });
        assert.equal(r.code, 5, r.stderr);
        assert.equal(r.envelope?.error, "IO");
        assert.match(
          String(r.envelope?.detail),
          new RegExp(`^Cannot write '${target}/${failing}': File too large \\(os error 27\\)$`),
        );
        assert.deepEqual(tree(out), before, `--ops ${ops} --out-dir ${target}`);
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["out"]);
      }
    }
  },
);

Deno.test("demo's dashboard command keeps the whole run, its switch included", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  const r = await runCli(["demo", "--out-dir", dir, "--ops", "400000"]);
  assert.equal(r.code, 0, r.stderr);
  const metrics = `${dir}/adaptive/metrics.ndjson`;
  const ticks = (await Deno.readTextFile(metrics)).trimEnd().split("\n").length;
  assert.ok(ticks > 360, `${ticks} ticks`); // more than serve keeps by default
  const line = /^dashboard: +deno task serve (.*)$/m.exec(r.stdout)?.[1];
  assert.equal(line, `--source ${shellWord(metrics)} --history-limit ${ticks}`);
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}cli.ts`,
      "serve",
      "--source",
      metrics,
      "--history-limit",
      String(ticks),
      "--port",
      "auto",
    ],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const port = /localhost:(\d+)/.exec(await readLine(reader))?.[1];
    reader.releaseLock();
    assert.ok(port !== undefined);
    let history: { ticks: Array<{ events?: Array<{ type: string }> }> } = { ticks: [] };
    await waitFor(async () => {
      history = await (await fetch(`http://127.0.0.1:${port}/api/metrics/history`)).json();
      return history.ticks.length === ticks;
    });
    assert.ok(history.ticks.some((t) => t.events?.some((e) => e.type === "switch")));
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await server.stdout.cancel().catch(() => {});
  }
});
