import assert from "node:assert/strict";
import { createApp } from "../../src/server/app.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { renderPrometheus } from "../../src/server/prometheus.ts";
import { replayTicks } from "./_fixtures.ts";

const { ticks } = await replayTicks();
const last = ticks.at(-1)!;

// The original's metric names trip three promtool lint rules (abbreviated unit "ms", a gauge
// named *_count); the names are a frozen contract, so those lint findings, and only those, are
// accepted. Any parse error (exit 1) or other finding fails the test.
const ACCEPTED_LINT = new Set([
  "hashmap_latency_ms metric names should not contain abbreviated units",
  "hashmap_latency_ms_hist metric names should not contain abbreviated units",
  'hashmap_probe_length_count non-histogram and non-summary metrics should not have "_count" suffix',
]);

async function promtool(text: string): Promise<{ code: number; out: string }> {
  const child = new Deno.Command("promtool", {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const r = await child.output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
      const i = line.lastIndexOf(" ");
      out.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
  }
  return out;
}

Deno.test("renderPrometheus() passes promtool check metrics", async () => {
  for (const text of [renderPrometheus(last, Date.now()), renderPrometheus(null)]) {
    const { code, out } = await promtool(text);
    assert.ok(code === 0 || code === 3, `promtool exit ${code}: ${out}`);
    const findings = out.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    for (const f of findings) assert.ok(ACCEPTED_LINT.has(f), `unexpected promtool finding: ${f}`);
  }
});

Deno.test("renderPrometheus() gives one series per probe distance, in order, for any probe_hist", async () => {
  const text = renderPrometheus({ ...last, probe_hist: [[2, 1], [0, 5], [2, 3], [1, 0]] });
  const lines = text.split("\n").filter((l) => l.startsWith("hashmap_probe_length_count{"));
  assert.deepEqual(lines, [
    'hashmap_probe_length_count{distance="0"} 5',
    'hashmap_probe_length_count{distance="1"} 0',
    'hashmap_probe_length_count{distance="2"} 4',
  ]);
  const { code, out } = await promtool(text);
  assert.ok(code === 0 || code === 3, `promtool exit ${code}: ${out}`);
});

Deno.test("renderPrometheus() fails promtool when the text is broken (the check can fail)", async () => {
  const broken = renderPrometheus(last).replace("hashmap_ops_total ", "hashmap_ops_total{ ");
  const { code } = await promtool(broken);
  assert.equal(code, 1);
});

Deno.test("renderPrometheus() uses the original's names with HELP and TYPE", () => {
  const text = renderPrometheus(last);
  const types: Record<string, string> = {
    hashmap_ops_total: "counter",
    hashmap_puts_total: "counter",
    hashmap_gets_total: "counter",
    hashmap_dels_total: "counter",
    hashmap_migrations_total: "counter",
    hashmap_compactions_total: "counter",
    hashmap_load_factor: "gauge",
    hashmap_max_group_len: "gauge",
    hashmap_avg_probe_estimate: "gauge",
    hashmap_tombstone_ratio: "gauge",
    hashmap_size: "gauge",
    hashmap_capacity: "gauge",
    hashmap_run_complete: "gauge",
    hashmap_backend_info: "gauge",
    hashmap_latency_ms: "summary",
    hashmap_probe_length_count: "gauge",
    hashmap_watchdog_alert_active: "gauge",
    hashmap_latency_ms_hist: "histogram",
  };
  for (const [name, type] of Object.entries(types)) {
    assert.match(text, new RegExp(`^# HELP ${name} \\S`, "m"), name);
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, "m"), name);
  }
  assert.equal(samples(text, "hashmap_ops_total").get("hashmap_ops_total"), last.ops);
  assert.equal(samples(text, "hashmap_dels_total").get("hashmap_dels_total"), last.ops_by_type.del);
  assert.equal(samples(text, "hashmap_load_factor").get("hashmap_load_factor"), last.load_factor);
  assert.equal(samples(text, "hashmap_size").get("hashmap_size"), last.size);
  assert.equal(samples(text, "hashmap_capacity").get("hashmap_capacity"), last.capacity);
  // The run's last tick says it is over; the ones before it do not.
  assert.ok(last.events.some((e) => e.type === "complete"));
  assert.equal(samples(text, "hashmap_run_complete").get("hashmap_run_complete"), 1);
  const before = renderPrometheus(ticks.at(-2)!);
  assert.equal(samples(before, "hashmap_run_complete").get("hashmap_run_complete"), 0);
  assert.equal(
    samples(text, "hashmap_backend_info").get(`hashmap_backend_info{name="${last.backend}"}`),
    1,
  );
  assert.equal(
    samples(text, "hashmap_latency_ms").get('hashmap_latency_ms{op="get",quantile="0.99"}'),
    last.latency_ms.get.p99,
  );
  for (const [d, c] of last.probe_hist) {
    assert.equal(
      samples(text, "hashmap_probe_length_count").get(
        `hashmap_probe_length_count{distance="${d}"}`,
      ),
      c,
    );
  }
});

Deno.test("renderPrometheus() exposes latency_hist_ms as a cumulative histogram", () => {
  const text = renderPrometheus(last);
  const buckets = samples(text, "hashmap_latency_ms_hist_bucket");
  for (const [op, hist] of Object.entries(last.latency_hist_ms)) {
    for (const b of hist) {
      assert.equal(buckets.get(`hashmap_latency_ms_hist_bucket{op="${op}",le="${b.le}"}`), b.count);
    }
    const inf = hist.at(-1)!;
    assert.equal(inf.le, "+Inf");
    assert.equal(
      samples(text, "hashmap_latency_ms_hist_count").get(
        `hashmap_latency_ms_hist_count{op="${op}"}`,
      ),
      inf.count,
    );
  }
});

Deno.test("renderPrometheus() marks a watchdog alert active for as long as alerts_active lists it", () => {
  const active = (t: typeof last): Map<string, number> =>
    samples(renderPrometheus(t), "hashmap_watchdog_alert_active");
  const crossing = structuredClone(last);
  crossing.alerts = [{
    metric: "load_factor",
    value: 0.95,
    threshold: 0.9,
    severity: "warning",
    backend: crossing.backend,
    message: "high",
  }];
  crossing.alerts_active = ["load_factor"];
  // The next tick: no new crossing, but the load is still above the threshold.
  const still = structuredClone(last);
  still.alerts = [];
  still.alerts_active = ["load_factor"];
  for (const t of [crossing, still]) {
    assert.equal(active(t).get('hashmap_watchdog_alert_active{metric="load_factor"}'), 1);
    assert.equal(active(t).get('hashmap_watchdog_alert_active{metric="tombstone_ratio"}'), 0);
  }
  still.alerts_active = [];
  assert.equal(active(still).get('hashmap_watchdog_alert_active{metric="load_factor"}'), 0);
  // A tick from before alerts_active existed: the crossings are what it has.
  delete crossing.alerts_active;
  assert.equal(active(crossing).get('hashmap_watchdog_alert_active{metric="load_factor"}'), 1);
});

Deno.test("createApp() serves /metrics in the Prometheus text format", async () => {
  const hub = new MetricsHub();
  const app = createApp({ hub });
  const before = await (await app.request("/metrics")).text();
  assert.doesNotMatch(before, /hashmap_last_tick_timestamp_seconds/);
  const published = Date.now();
  hub.publish(last);
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  assert.equal(text, renderPrometheus(last, hub.latestAt));
  // When the tick arrived, so a flat counter can be told from a stalled run.
  assert.match(text, /^# TYPE hashmap_last_tick_timestamp_seconds gauge$/m);
  const at = samples(text, "hashmap_last_tick_timestamp_seconds")
    .get("hashmap_last_tick_timestamp_seconds")!;
  assert.ok(Math.abs(at * 1000 - published) < 1000, `${at} vs ${published / 1000}`);
});
