import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { createApp } from "../../src/server/app.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { renderPrometheus } from "../../src/server/prometheus.ts";
import { acceptsGzip } from "../../src/server/tick_cache.ts";
import { replayTicks } from "./_fixtures.ts";

const { ticks } = await replayTicks();

Deno.test("acceptsGzip() honours q values and wildcards", () => {
  assert.equal(acceptsGzip(undefined), false);
  assert.equal(acceptsGzip("gzip"), true);
  assert.equal(acceptsGzip("br, gzip;q=0.5"), true);
  assert.equal(acceptsGzip("gzip;q=0"), false);
  assert.equal(acceptsGzip("*"), true);
  assert.equal(acceptsGzip("identity"), false);
});

Deno.test("createApp() gzips /metrics and /api/metrics and follows each new tick", async () => {
  const hub = new MetricsHub();
  const app = createApp({ hub, rateLimit: false });
  for (const tick of ticks.slice(-3)) {
    hub.publish(tick);
    for (let i = 0; i < 2; i++) {
      const prom = await app.request("/metrics", { headers: { "Accept-Encoding": "gzip" } });
      assert.equal(prom.headers.get("content-encoding"), "gzip");
      const text = new TextDecoder().decode(gunzipSync(new Uint8Array(await prom.arrayBuffer())));
      assert.equal(text, renderPrometheus(tick, hub.latestAt));
      const api = await app.request("/api/metrics", { headers: { "Accept-Encoding": "gzip" } });
      assert.equal(api.headers.get("content-encoding"), "gzip");
      const json = JSON.parse(
        new TextDecoder().decode(gunzipSync(new Uint8Array(await api.arrayBuffer()))),
      );
      assert.deepEqual(json, tick);
    }
    const plain = await app.request("/metrics");
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.equal(await plain.text(), renderPrometheus(tick, hub.latestAt));
  }
});
