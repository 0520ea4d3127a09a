import assert from "node:assert/strict";
import { MetricsHub } from "../../src/server/hub.ts";
import { followSource } from "../../src/server/source.ts";
import { replayTicks } from "./_fixtures.ts";

const { ticks } = await replayTicks();
const line = (i: number): string => JSON.stringify(ticks[i]) + "\n";

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("followSource() reads a file once, skipping bad lines with a warning", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/m.ndjson`;
  await Deno.writeTextFile(
    path,
    line(0) + "{not json\n" + '{"schema":"metrics.v1","t":1}\n' + "\n" + line(1) +
      JSON.stringify(ticks[2]),
  );
  const hub = new MetricsHub();
  const warnings: string[] = [];
  const src = await followSource(path, hub, { onWarning: (m) => warnings.push(m) });
  await src.done;
  assert.deepEqual(hub.history().map((t) => t.ops), [ticks[0]!.ops, ticks[1]!.ops, ticks[2]!.ops]);
  assert.equal(src.published, 3);
  assert.equal(src.skipped, 2);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /line 2 .*not valid JSON/);
  assert.match(warnings[1]!, /line 3 .*not a metrics\.v1 tick/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("followSource() with follow picks up appended lines and waits for a line's end", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/m.ndjson`;
  await Deno.writeTextFile(path, line(0));
  const hub = new MetricsHub();
  const warnings: string[] = [];
  const src = await followSource(path, hub, {
    follow: true,
    pollMs: 20,
    onWarning: (m) => warnings.push(m),
  });
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
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("followSource() with follow handles rotation and truncation", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/m.ndjson`;
  await Deno.writeTextFile(path, line(0) + line(1) + line(2));
  const hub = new MetricsHub();
  const warnings: string[] = [];
  const src = await followSource(path, hub, {
    follow: true,
    pollMs: 20,
    onWarning: (m) => warnings.push(m),
  });
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
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("followSource() throws NotFound for a missing file", async () => {
  await assert.rejects(
    followSource("/nonexistent/m.ndjson", new MetricsHub()),
    Deno.errors.NotFound,
  );
});
