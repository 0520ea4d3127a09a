import assert from "node:assert/strict";
import http2 from "node:http2";
import { IOError } from "../../src/errors.ts";
import { MetricsTick } from "../../src/contracts/metrics.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { parsePort, startMetricsServer } from "../../src/server/start.ts";
import { replayTicks, sseEvents } from "./_fixtures.ts";
import { waitFor } from "../_helpers.ts";

const { ticks } = await replayTicks();

Deno.test("startMetricsServer() streams each published tick over SSE", async () => {
  const hub = new MetricsHub();
  const server = await startMetricsServer({ hub, port: "auto" });
  try {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://localhost:${server.port}/`);
    const res = await fetch(`http://127.0.0.1:${server.port}/api/stream`, {
      headers: { "Accept-Encoding": "gzip" },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(res.headers.get("content-encoding"), null, "SSE must not be compressed");
    const events = sseEvents(res.body!);
    const hello = (await events.next()).value!;
    assert.equal(hello.event, "hello");
    assert.equal(JSON.parse(hello.data).schema, "api.stream_hello.v1");
    await waitFor(() => hub.subscriberCount === 1);
    for (const t of ticks.slice(0, 3)) hub.publish(t);
    const got: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ev = (await events.next()).value!;
      assert.equal(ev.event, "tick");
      got.push(MetricsTick.parse(JSON.parse(ev.data)).ops);
    }
    assert.deepEqual(got, ticks.slice(0, 3).map((t) => t.ops));
    await events.return(undefined);
    // A client that goes away leaves no subscriber (and no timer) behind.
    await waitFor(() => hub.subscriberCount === 0);
  } finally {
    await server.close();
  }
});

Deno.test("startMetricsServer() sends the latest tick first to a late subscriber", async () => {
  const hub = new MetricsHub();
  hub.publish(ticks[0]!);
  hub.publish(ticks[1]!);
  const server = await startMetricsServer({ hub, port: "auto" });
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/api/stream`);
    const events = sseEvents(res.body!);
    assert.equal((await events.next()).value!.event, "hello");
    const first = (await events.next()).value!;
    assert.equal(JSON.parse(first.data).ops, ticks[1]!.ops);
    await events.return(undefined);
  } finally {
    await server.close();
  }
});

Deno.test("startMetricsServer() leaks no subscribers after many clients disconnect", async () => {
  const hub = new MetricsHub();
  const server = await startMetricsServer({ hub, port: "auto", keepAliveMs: 20 });
  try {
    for (let round = 0; round < 3; round++) {
      const ctrls = Array.from({ length: 10 }, () => new AbortController());
      const responses = await Promise.all(
        ctrls.map((c) => fetch(`http://127.0.0.1:${server.port}/api/stream`, { signal: c.signal })),
      );
      await waitFor(() => hub.subscriberCount === 10);
      hub.publish(ticks[round]!);
      // Half cancel the body, half abort the request.
      responses.forEach((r, i) => (i % 2 === 0 ? r.body!.cancel() : ctrls[i]!.abort()));
      await waitFor(() => hub.subscriberCount === 0);
    }
  } finally {
    await server.close();
  }
});

Deno.test("startMetricsServer() close() ends open streams", async () => {
  const hub = new MetricsHub();
  const server = await startMetricsServer({ hub, port: "auto" });
  const res = await fetch(`http://127.0.0.1:${server.port}/api/stream`);
  const events = sseEvents(res.body!);
  assert.equal((await events.next()).value!.event, "hello");
  await server.close();
  assert.equal((await events.next()).done, true);
  assert.equal(hub.subscriberCount, 0);
});

Deno.test("startMetricsServer() serves the token-protected API on a socket", async () => {
  const hub = new MetricsHub();
  hub.publish(ticks[0]!);
  const server = await startMetricsServer({ hub, port: "auto", token: "tok" });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const denied = await fetch(`${base}/api/stream`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const ok = await fetch(`${base}/api/metrics`, { headers: { Authorization: "Bearer tok" } });
    assert.equal((await ok.json()).ops, ticks[0]!.ops);
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("startMetricsServer() rate-limits per client address", async () => {
  const hub = new MetricsHub();
  hub.publish(ticks[0]!);
  const server = await startMetricsServer({
    hub,
    port: "auto",
    rateLimit: { perSecond: 1, burst: 2 },
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${server.port}/api/metrics`);
      statuses.push(r.status);
      if (r.status === 429) assert.ok(Number(r.headers.get("retry-after")) >= 1);
      await r.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 429]);
  } finally {
    await server.close();
  }
});

Deno.test("parsePort() accepts 0-65535 and auto, quoting anything else", () => {
  assert.equal(parsePort("auto"), "auto");
  assert.equal(parsePort("9090"), 9090);
  assert.equal(parsePort("0"), 0);
  assert.throws(() => parsePort("65536"), /"65536"/);
  assert.throws(() => parsePort("-1"), RangeError);
  assert.throws(() => parsePort("80x"), RangeError);
});

Deno.test("startMetricsServer() rejects a port that is taken", async () => {
  const hub = new MetricsHub();
  const a = await startMetricsServer({ hub, port: "auto" });
  try {
    await assert.rejects(startMetricsServer({ hub, port: a.port }), (e: unknown) => {
      assert.ok(e instanceof IOError);
      assert.equal(e.message, `Address 127.0.0.1:${a.port} is already in use`);
      assert.ok(e.cause instanceof Deno.errors.AddrInUse);
      return true;
    });
  } finally {
    await a.close();
  }
});

Deno.test("HEAD /api/stream answers with the headers and subscribes nothing", async () => {
  const hub = new MetricsHub();
  const server = await startMetricsServer({ hub, port: "auto" });
  try {
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/stream`, { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      await res.body?.cancel();
    }
    assert.equal(hub.subscriberCount, 0);
  } finally {
    await server.close();
  }
});

Deno.test("createApp() serves at most maxStreams SSE streams and frees a slot when one closes", async () => {
  const hub = new MetricsHub();
  const server = await startMetricsServer({ hub, port: "auto", maxStreams: 2 });
  const url = `http://127.0.0.1:${server.port}/api/stream`;
  try {
    const [a, b] = [await fetch(url), await fetch(url)];
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const refused = await fetch(url);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("Retry-After"), "5");
    const body = await refused.json();
    assert.deepEqual([body.error, body.detail], ["Busy", "2 streams are open, the most served"]);
    await a.body!.cancel();
    await waitFor(() => hub.subscriberCount === 1);
    const again = await fetch(url);
    assert.equal(again.status, 200);
    await again.body!.cancel();
    await b.body!.cancel();
  } finally {
    await server.close();
  }
});

/** Opens `/api/stream` on a raw connection and reads nothing: a client that stopped reading. */
async function stalledStream(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(`GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
  return conn;
}

Deno.test("createApp() stops feeding a client that stopped reading, and it keeps its slot until it goes", async () => {
  const hub = new MetricsHub();
  // Keep-alives too rare to be what ends a stream that caught up.
  const server = await startMetricsServer({
    hub,
    port: "auto",
    maxStreams: 2,
    keepAliveMs: 10_000,
  });
  const url = `http://127.0.0.1:${server.port}/api/stream`;
  const [a, b] = [await stalledStream(server.port), await stalledStream(server.port)];
  try {
    await waitFor(() => hub.subscriberCount === 2);
    // Past the sockets' buffers and the 256 KiB backlog, each stalled stream drops its subscription.
    for (let i = 0; hub.subscriberCount > 0; i++) {
      assert.ok(i < 200_000, "the stalled streams still take ticks");
      hub.publish(ticks[i % ticks.length]!);
      // A turn per tick: the server writes what the sockets take, so only a full socket backs up.
      await new Promise((r) => setTimeout(r, 0));
    }
    // Both still hold their slots: stalled clients cannot pile up past the cap.
    const refused = await fetch(url);
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
    // A client that reads again catches up, then its stream ends (EventSource reconnects) soon.
    const reading = performance.now();
    const buf = new Uint8Array(1 << 16);
    let tail = "";
    while (!tail.endsWith("\r\n0\r\n\r\n")) {
      const n = await b.read(buf);
      assert.ok(n !== null, "the connection closed before the stream ended");
      tail = (tail + new TextDecoder().decode(buf.subarray(0, n))).slice(-64);
    }
    assert.ok(performance.now() - reading < 5000, "the stream ended only at a keep-alive");
    const again = await fetch(url);
    assert.equal(again.status, 200);
    await again.body!.cancel();
    // A client that goes gives its slot back.
    a.close();
    await waitFor(async () => {
      const res = await fetch(url);
      await res.body?.cancel();
      return res.status === 200;
    });
  } finally {
    try {
      a.close();
    } catch { /* closed above */ }
    b.close();
    await server.close();
  }
});

/** POSTs `body` over cleartext HTTP/2 (no content-length: the body is a stream of frames). */
function postHttp2(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = http2.connect(`http://127.0.0.1:${port}`);
    client.on("error", reject);
    const req = client.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/json",
    });
    req.on("response", (headers) => {
      resolve(Number(headers[":status"]));
      req.close();
      client.close();
    });
    req.on("error", reject);
    req.end(body);
  });
}

Deno.test("startMetricsServer() refuses an HTTP/2 body over the limit, which declares no length", async () => {
  const server = await startMetricsServer({
    hub: new MetricsHub(),
    port: "auto",
    maxBodyBytes: 1024,
  });
  try {
    assert.equal(
      await postHttp2(server.port, "/api/jobs/run-csv", `"${"x".repeat(200_000)}"`),
      413,
    );
    // A small one passes the limit (and meets the job service, off here).
    assert.equal(await postHttp2(server.port, "/api/jobs/run-csv", '{"csv":"w.csv"}'), 404);
  } finally {
    await server.close();
  }
});

Deno.test("startMetricsServer() serialises a tick once for all its streams", async () => {
  // At thousands of ticks a second, a JSON.stringify per stream left 20 dashboards 7% into a
  // replay: the server could not keep up.
  const hub = new MetricsHub();
  const server = await startMetricsServer({ hub, port: "auto" });
  const url = `http://127.0.0.1:${server.port}/api/stream`;
  try {
    const streams = await Promise.all(
      [1, 2, 3, 4].map(async () => sseEvents((await fetch(url)).body!)),
    );
    for (const events of streams) assert.equal((await events.next()).value!.event, "hello");
    await waitFor(() => hub.subscriberCount === 4);
    let serialised = 0;
    const tick = { ...ticks[0]!, toJSON: () => (serialised++, ticks[0]!) };
    hub.publish(tick);
    for (const events of streams) {
      const ev = (await events.next()).value!;
      assert.equal(JSON.parse(ev.data).ops, ticks[0]!.ops);
      await events.return(undefined);
    }
    assert.equal(serialised, 1);
  } finally {
    await server.close();
  }
});
