import assert from "node:assert/strict";
import { MetricsHub } from "../../src/server/hub.ts";
import { followSource } from "../../src/server/source.ts";
import { replayTicks } from "./_fixtures.ts";
import { removedAtUnload, waitFor, withTempDir } from "../_helpers.ts";

const { ticks } = await replayTicks();
const line = (i: number): string => JSON.stringify(ticks[i]) + "\n";

/** A file of `text` followed every `pollMs`: its path, the hub it feeds, its warnings. */
async function followed(text: string, pollMs: number) {
  const path = `${removedAtUnload(await Deno.makeTempDir())}/m.ndjson`;
  await Deno.writeTextFile(path, text);
  const hub = new MetricsHub();
  const warnings: string[] = [];
  const src = await followSource(path, hub, {
    follow: true,
    pollMs,
    onWarning: (m) => warnings.push(m),
  });
  return { path, hub, warnings, src };
}

Deno.test("followSource() reads a file once, skipping bad lines with a warning", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/m.ndjson`;
    await Deno.writeTextFile(
      path,
      line(0) + `{not json ${"x".repeat(29)}\u{1F600} and on\n` +
        '{"schema":"metrics.v1","t":1}\n' +
        "\n" + line(1) +
        JSON.stringify(ticks[2]),
    );
    const hub = new MetricsHub();
    const warnings: string[] = [];
    const src = await followSource(path, hub, { onWarning: (m) => warnings.push(m) });
    await src.done;
    assert.deepEqual(hub.history().map((t) => t.ops), [
      ticks[0]!.ops,
      ticks[1]!.ops,
      ticks[2]!.ops,
    ]);
    assert.equal(src.published, 3);
    assert.equal(src.skipped, 2);
    assert.equal(warnings.length, 2);
    // Cut before the emoji that straddles 40 units, not through it (no lone surrogate).
    assert.match(warnings[0]!, /line 2 .*not valid JSON \(\{not json x{29}\)$/);
    assert.match(warnings[1]!, /line 3 .*not a metrics\.v1 tick/);
  });
});

Deno.test("followSource() with follow picks up appended lines and waits for a line's end", async () => {
  const { path, hub, warnings, src } = await followed(line(0), 20);
  try {
    await waitFor(() => hub.received === 1);
    const half = line(1).slice(0, 50);
    await Deno.writeTextFile(path, half, { append: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(hub.received, 1, "a line without its newline is still being written");
    await Deno.writeTextFile(path, line(1).slice(50) + "garbage\n" + line(2), { append: true });
    await waitFor(() => hub.received === 3);
    assert.deepEqual(hub.history().map((t) => t.ops), [0, 1, 2].map((i) => ticks[i]!.ops));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /line 3/);
  } finally {
    await src.stop();
  }
});

Deno.test("followSource() with follow handles rotation and truncation", async () => {
  const { path, hub, warnings, src } = await followed(line(0) + line(1) + line(2), 20);
  try {
    await waitFor(() => hub.received === 3);
    // Rotation: the file is renamed away and a new one is created (new inode).
    await Deno.rename(path, `${path}.1`);
    await Deno.writeTextFile(path, line(3));
    await waitFor(() => hub.received === 4);
    assert.equal(hub.latest()?.ops, ticks[3]!.ops);
    // Truncation in place (copytruncate): smaller than what was read.
    await Deno.writeTextFile(path, "");
    await new Promise((r) => setTimeout(r, 80));
    await Deno.writeTextFile(path, line(4));
    await waitFor(() => hub.received === 5);
    assert.equal(hub.latest()?.ops, ticks[4]!.ops);
    assert.ok(warnings.some((w) => /rotated or truncated/.test(w)));
  } finally {
    await src.stop();
  }
});

Deno.test("followSource() with follow reads a file rewritten in place past its offset from the start", async () => {
  // Cut and written again between two polls (`cat run2.ndjson > m.ndjson`), longer than what was
  // read: the same inode and a larger size, so it was read from the old offset, mid-line.
  const { path, hub, warnings, src } = await followed(line(0) + line(1), 20);
  try {
    await waitFor(() => hub.received === 2);
    const ino = (await Deno.stat(path)).ino;
    await Deno.writeTextFile(path, line(4) + line(5) + line(6) + line(3));
    assert.equal((await Deno.stat(path)).ino, ino);
    await waitFor(() => hub.received === 6);
    assert.deepEqual(hub.history(4).map((t) => t.ops), [4, 5, 6, 3].map((i) => ticks[i]!.ops));
    assert.deepEqual(warnings, [`${path} was rotated or truncated; reading it from the start`]);
  } finally {
    await src.stop();
  }
});

Deno.test("followSource() with follow says once that its file cannot be read, and when it can again", async () => {
  // A file replaced by a directory was warned about at every poll (100 lines a second at the
  // shortest interval).
  const { path, hub, warnings, src } = await followed(line(0), 10);
  try {
    await waitFor(() => hub.received === 1);
    await Deno.remove(path);
    await Deno.mkdir(path);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(warnings, [`reading ${path} failed: not a regular file`]);
    await Deno.remove(path);
    await Deno.writeTextFile(path, line(1));
    await waitFor(() => hub.received === 2);
    assert.deepEqual(warnings.slice(1), [
      `${path} was rotated or truncated; reading it from the start`,
      `reading ${path} again`,
    ]);
  } finally {
    await src.stop();
  }
});

Deno.test("followSource() throws NotFound for a missing file", async () => {
  await assert.rejects(
    followSource("/nonexistent/m.ndjson", new MetricsHub()),
    Deno.errors.NotFound,
  );
});

const MIB = 1024 * 1024;

Deno.test("followSource() skips an overlong line once, to its newline, keeping later line numbers", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/m.ndjson`;
    // 10 MiB read in 1 MiB chunks: the limit (4 MiB) is crossed twice within the one line.
    await Deno.writeTextFile(path, line(0) + "x".repeat(10 * MIB) + "\n{bad\n" + line(1));
    const hub = new MetricsHub();
    const warnings: string[] = [];
    const src = await followSource(path, hub, { onWarning: (m) => warnings.push(m) });
    await src.done;
    assert.deepEqual(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0]!, /^skipping line 2 of .*: longer than 4194304 bytes$/);
    assert.match(warnings[1]!, /^skipping line 3 of .*: not valid JSON/);
    assert.deepEqual(hub.history().map((t) => t.ops), [ticks[0]!.ops, ticks[1]!.ops]);
    assert.equal(src.skipped, 2);
  });
});

Deno.test("followSource() with follow skips an overlong line arriving over several polls once", async () => {
  const { path, hub, warnings, src } = await followed(line(0), 10);
  try {
    await waitFor(() => hub.received === 1);
    const piece = "y".repeat(3 * MIB);
    for (let i = 0; i < 4; i++) {
      await Deno.writeTextFile(path, piece, { append: true });
      await new Promise((r) => setTimeout(r, 50)); // read before the next piece arrives
    }
    assert.equal(warnings.length, 1, warnings.join("\n"));
    await Deno.writeTextFile(path, "tail\n{bad\n" + line(1), { append: true });
    await waitFor(() => hub.received === 2);
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0]!, /^skipping line 2 of .*: longer than 4194304 bytes$/);
    assert.match(warnings[1]!, /^skipping line 3 of .*: not valid JSON \(\{bad\)$/);
  } finally {
    await src.stop();
  }
});

Deno.test("followSource() skips ticks validate-metrics rejects, so /metrics has no duplicate samples", async () => {
  const { createApp } = await import("../../src/server/app.ts");
  const dupLe = structuredClone(ticks[1]!);
  const hist = dupLe.latency_hist_ms.overall!;
  hist.splice(1, 0, { ...hist[1]! }); // one le twice
  const decreasing = structuredClone(ticks[2]!);
  const get = decreasing.latency_hist_ms.get!;
  get[get.length - 1] = { le: "+Inf", count: 0 };
  const percentiles = structuredClone(ticks[3]!);
  percentiles.latency_ms.put.p50 = percentiles.latency_ms.put.p99 + 1;
  const byType = structuredClone(ticks[4]!);
  byType.ops_by_type.put += 1;
  // A new run written to the same file: ops and t start again. Each tick is valid on its own.
  const restart = structuredClone(ticks[0]!);
  const dir = removedAtUnload(await Deno.makeTempDir());
  try {
    const path = `${dir}/m.ndjson`;
    await Deno.writeTextFile(
      path,
      [ticks[5]!, decreasing, percentiles, byType, restart, dupLe].map((t) => JSON.stringify(t))
        .join("\n") + "\n",
    );
    const hub = new MetricsHub();
    const warnings: string[] = [];
    const src = await followSource(path, hub, { onWarning: (m) => warnings.push(m) });
    await src.done;
    assert.deepEqual(hub.history().map((t) => t.ops), [ticks[5]!.ops, ticks[0]!.ops]);
    assert.equal(src.skipped, 4);
    assert.equal(warnings.length, 4, warnings.join("\n"));
    assert.match(
      warnings[0]!,
      /line 2 .*latency_hist_ms\.get\[\d+\]\.count: cumulative count decreases/,
    );
    assert.match(warnings[1]!, /line 3 .*latency_ms\.put: percentiles out of order/);
    assert.match(warnings[2]!, /line 4 .*ops_by_type: put \+ get \+ del/);
    assert.match(
      warnings[3]!,
      /^skipping line 6 of .*: not a metrics\.v1 tick \(latency_hist_ms\.overall\[2\]\.le: bucket bounds must increase\)$/,
    );
    // The last line was the one with a repeated bucket: served, it would repeat a sample.
    const app = createApp({ hub, rateLimit: false });
    const text = await (await app.request("/metrics")).text();
    const samples = text.split("\n").filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => l.slice(0, l.lastIndexOf(" ")));
    assert.equal(new Set(samples).size, samples.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
