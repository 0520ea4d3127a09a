import assert from "node:assert/strict";
import { Hono } from "hono";
import { API_SCHEMAS } from "../../src/contracts/api.ts";
import { MetricsTick } from "../../src/contracts/metrics.ts";
import { createApp, type CreateAppOptions } from "../../src/server/app.ts";
import { HISTORY_CSV_COLUMNS, historyCsv } from "../../src/server/history_csv.ts";
import { historyJson } from "../../src/server/history_json.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { noLiveMap } from "../../src/server/probe_routes.ts";
import { replayTicks } from "./_fixtures.ts";

const { ticks, map } = await replayTicks();

function appWith(ticksToPublish = ticks, options: Partial<CreateAppOptions> = {}) {
  const hub = new MetricsHub({ historyLimit: 5, ...("compare" in options ? {} : {}) });
  for (const t of ticksToPublish) hub.publish(t);
  return { hub, app: createApp({ hub, rateLimit: false, ...options }) };
}

/** Parses a JSON body and checks it against the zod schema its `schema` field names. */
async function body(res: Response): Promise<Record<string, unknown>> {
  const json = await res.json() as Record<string, unknown>;
  const name = json.schema as string;
  if (name === "metrics.v1") MetricsTick.parse(json);
  else {
    const schema = API_SCHEMAS[name];
    assert.ok(schema, `unknown body schema ${name}`);
    schema.parse(json);
  }
  return json;
}

Deno.test("createApp() serves health and readiness", async () => {
  const { app: empty } = appWith([]);
  assert.equal((await body(await empty.request("/healthz"))).status, "ok");
  const notReady = await empty.request("/readyz");
  assert.equal(notReady.status, 503);
  assert.equal((await body(notReady)).ready, false);
  const { app } = appWith();
  const ready = await app.request("/readyz");
  assert.equal(ready.status, 200);
  assert.deepEqual(await body(ready), { schema: "api.ready.v1", ready: true, ticks: ticks.length });
});

Deno.test("createApp() serves the latest tick at /api/metrics, 503 before any", async () => {
  const { app: empty } = appWith([]);
  const res = await empty.request("/api/metrics");
  assert.equal(res.status, 503);
  assert.equal((await body(res)).error, "NotReady");
  const { app } = appWith();
  const latest = await body(await app.request("/api/metrics"));
  assert.deepEqual(latest, ticks.at(-1));
});

Deno.test("createApp() bounds and clamps /api/metrics/history", async () => {
  const { app } = appWith();
  const all = await body(await app.request("/api/metrics/history"));
  assert.equal(all.count, 5);
  assert.deepEqual(all.ticks, ticks.slice(-5));
  const two = await body(await app.request("/api/metrics/history?limit=2"));
  assert.deepEqual(two.ticks, ticks.slice(-2));
  const big = await body(await app.request("/api/metrics/history?limit=999999"));
  assert.equal(big.limit, 5);
  const huge = await body(await app.request("/api/events?limit=99999999999999999999"));
  assert.equal(huge.limit, 512); // clamped, not refused
  const zero = await body(await app.request("/api/metrics/history?limit=0"));
  assert.equal(zero.count, 1);
});

Deno.test("createApp() answers bad query values with a 400 JSON error", async () => {
  const { app } = appWith();
  for (
    const path of [
      "/api/metrics/history?limit=abc",
      "/api/events?limit=-1",
      "/api/events?limit=1.5",
    ]
  ) {
    const res = await app.request(path);
    assert.equal(res.status, 400, path);
    const b = await body(res);
    assert.equal(b.error, "BadInput");
    assert.match(String(b.detail), /limit=/);
  }
});

Deno.test("createApp() serves the timeline CSV with one row per kept tick", async () => {
  const { app } = appWith();
  const res = await app.request("/api/metrics/history.csv");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
  const lines = (await res.text()).trimEnd().split("\n");
  assert.equal(lines[0], HISTORY_CSV_COLUMNS.join(","));
  assert.equal(lines.length, 6);
  const last = ticks.at(-1)!;
  const row = lines[5]!.split(",");
  assert.equal(Number(row[0]), last.t);
  assert.equal(row[1], last.backend);
  assert.equal(Number(row[2]), last.ops);
});

Deno.test("createApp() serves histograms and the heatmap of the latest tick", async () => {
  const { app } = appWith();
  const last = ticks.at(-1)!;
  const lat = await body(await app.request("/api/metrics/histogram/latency"));
  assert.deepEqual(lat.operations, last.latency_hist_ms);
  const probe = await body(await app.request("/api/metrics/histogram/probe"));
  assert.deepEqual(probe.buckets, last.probe_hist);
  assert.equal(probe.backend, last.backend);
  const heat = await body(await app.request("/api/metrics/heatmap"));
  assert.deepEqual(heat.heatmap, last.key_heatmap ?? null);
  const { app: empty } = appWith([]);
  assert.equal((await body(await empty.request("/api/metrics/heatmap"))).heatmap, null);
});

Deno.test("createApp() lists each event once at /api/events, limit clamped to 1-512", async () => {
  const { app } = appWith();
  const expected = ticks.flatMap((t) => t.events.map((e) => e.type));
  const res = await body(await app.request("/api/events?limit=512"));
  const events = res.events as Array<{ type: string; seq: number }>;
  assert.deepEqual(events.map((e) => e.type), expected);
  assert.deepEqual(events.map((e) => e.seq), expected.map((_, i) => i + 1));
  assert.equal((await body(await app.request("/api/events?limit=100000"))).limit, 512);
  const one = await body(await app.request("/api/events?limit=0"));
  assert.equal((one.events as unknown[]).length, 1);
});

Deno.test("createApp() serves /api/compare when given, 404 otherwise", async () => {
  const { app } = appWith();
  const none = await app.request("/api/compare");
  assert.equal(none.status, 404);
  assert.equal((await body(none)).error, "NotFound");
  const hub = new MetricsHub({ compare: { baseline: { label: "a", ops_per_second: 1 } } });
  const withCompare = createApp({ hub });
  const b = await body(await withCompare.request("/api/compare"));
  assert.deepEqual(b.compare, { baseline: { label: "a", ops_per_second: 1 } });
});

Deno.test("createApp() serves /api/version", async () => {
  const { app } = appWith();
  const v = await body(await app.request("/api/version"));
  assert.equal(v.name, "@adhash/adhash");
  assert.match(String(v.version), /^\d+\.\d+\.\d+/);
  assert.equal(v.deno, Deno.version.deno);
});

Deno.test("createApp() sets no-store, CSP and nosniff on every response", async () => {
  const { app } = appWith();
  for (const path of ["/", "/healthz", "/metrics", "/api/metrics", "/nope", "/assets/app.js"]) {
    const res = await app.request(path);
    await res.body?.cancel();
    assert.equal(res.headers.get("cache-control"), "no-store", path);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  }
});

Deno.test("createApp() answers unknown routes with a 404 JSON error", async () => {
  const { app } = appWith();
  const res = await app.request("/api/nope");
  assert.equal(res.status, 404);
  assert.match(String((await body(res)).detail), /\/api\/nope/);
});

Deno.test("createApp() answers a known route's other methods with 405 and Allow", async () => {
  const { app } = appWith();
  const post = await app.request("/api/metrics", { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("Allow"), "GET, HEAD, OPTIONS");
  assert.deepEqual(await body(post), {
    schema: "api.error.v1",
    error: "MethodNotAllowed",
    detail: "POST is not allowed on /api/metrics",
    hint: "Allowed: GET, HEAD, OPTIONS",
  });
  // Routes with parameters match too; unknown paths stay 404.
  const put = await app.request("/api/metrics/histogram/latency", { method: "PUT" });
  assert.equal(put.status, 405);
  assert.equal((await app.request("/api/nothing", { method: "POST" })).status, 404);
  assert.equal((await app.request("/api/metrics")).status, 200);
});

Deno.test("createApp() answers OPTIONS with Allow on known paths and 404 on others", async () => {
  const { app } = appWith([], { token: "s3cret" });
  // A CORS preflight: no token, and the methods are the path's own.
  const preflight = await app.request("/api/metrics", {
    method: "OPTIONS",
    headers: { Origin: "http://example.test", "Access-Control-Request-Method": "GET" },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("Allow"), "GET, HEAD, OPTIONS");
  assert.equal(preflight.headers.get("Access-Control-Allow-Methods"), "GET,HEAD,OPTIONS");
  // A path outside the CORS middleware.
  const health = await app.request("/healthz", { method: "OPTIONS" });
  assert.equal(health.status, 204);
  assert.equal(health.headers.get("Allow"), "GET, HEAD, OPTIONS");
  // No route: 404, not a preflight's 204.
  const none = await app.request("/api/nope", { method: "OPTIONS" });
  assert.equal(none.status, 404);
  assert.equal((await body(none)).detail, "no route OPTIONS /api/nope");
  const { app: off } = appWith([], { corsOrigins: false });
  const plain = await off.request("/api/metrics/heatmap", { method: "OPTIONS" });
  assert.equal(plain.status, 204);
  assert.equal(plain.headers.get("Allow"), "GET, HEAD, OPTIONS");
  assert.equal(plain.headers.get("Access-Control-Allow-Methods"), null);
});

Deno.test("createApp() gzips large bodies when accepted and not otherwise", async () => {
  const { app } = appWith();
  const gz = await app.request("/api/metrics/history", { headers: { "Accept-Encoding": "gzip" } });
  assert.equal(gz.headers.get("content-encoding"), "gzip");
  const text = await new Response(gz.body!.pipeThrough(new DecompressionStream("gzip"))).text();
  assert.equal(JSON.parse(text).count, 5);
  const plain = await app.request("/api/metrics/history");
  assert.equal(plain.headers.get("content-encoding"), null);
  await plain.body?.cancel();
});

Deno.test("createApp() refuses request bodies over the size limit", async () => {
  const { app } = appWith([], { maxBodyBytes: 1024 });
  const res = await app.request("/api/metrics", {
    method: "POST",
    body: "x".repeat(4096),
    headers: { "Content-Length": "4096" },
  });
  assert.equal(res.status, 413);
  assert.equal((await body(res)).error, "TooLarge");
  // A chunked body has no length to check beforehand: it is counted as it arrives.
  const chunked = await app.request("/api/metrics", {
    method: "POST",
    body: ReadableStream.from([new TextEncoder().encode("x".repeat(4096))]),
    headers: { "Transfer-Encoding": "chunked" },
    duplex: "half",
  } as RequestInit);
  assert.equal(chunked.status, 413);
  assert.equal((await body(chunked)).error, "TooLarge");
});

Deno.test("createApp() sends CORS headers for the configured origins", async () => {
  // By default, any origin once a token guards the API (a page must send it), and none without:
  // another site's page could otherwise read everything a server without a token holds.
  const { app: open } = appWith(ticks, { token: "s3cret" });
  const res = await open.request("/api/metrics", {
    headers: { Origin: "http://example.com", Authorization: "Bearer s3cret" },
  });
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  await res.body?.cancel();
  const { app: tokenless } = appWith();
  const bare = await tokenless.request("/api/metrics", {
    headers: { Origin: "http://example.com" },
  });
  assert.equal(bare.status, 200);
  assert.equal(bare.headers.get("access-control-allow-origin"), null);
  await bare.body?.cancel();
  const { app: strict } = appWith(ticks, { corsOrigins: ["https://ok.example"] });
  const ok = await strict.request("/api/metrics", { headers: { Origin: "https://ok.example" } });
  assert.equal(ok.headers.get("access-control-allow-origin"), "https://ok.example");
  await ok.body?.cancel();
  const bad = await strict.request("/api/metrics", { headers: { Origin: "https://evil.example" } });
  assert.equal(bad.headers.get("access-control-allow-origin"), null);
  await bad.body?.cancel();
  const { app: off } = appWith(ticks, { corsOrigins: false });
  const none = await off.request("/api/metrics", { headers: { Origin: "https://ok.example" } });
  assert.equal(none.headers.get("access-control-allow-origin"), null);
  await none.body?.cancel();
});

Deno.test("createApp() rate-limits /api/* with 429 and Retry-After", async () => {
  const hub = new MetricsHub();
  hub.publish(ticks[0]!);
  const app = createApp({ hub, rateLimit: { perSecond: 1, burst: 3 } });
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 5; i++) {
    const res = await app.request("/api/metrics");
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter = res.headers.get("retry-after");
      assert.equal((await body(res)).error, "RateLimited");
    } else await res.body?.cancel();
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  assert.ok(Number(retryAfter) >= 1);
  // Health routes are not rate-limited.
  const health = await app.request("/healthz");
  assert.equal(health.status, 200);
  await health.body?.cancel();
  // /metrics is: a token would otherwise be guessed there at full speed.
  const guarded = createApp({ hub, token: "s3cret", rateLimit: { perSecond: 1, burst: 3 } });
  const guesses: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await guarded.request("/metrics", { headers: { Authorization: `Bearer g${i}` } });
    guesses.push(res.status);
    await res.body?.cancel();
  }
  assert.deepEqual(guesses, [401, 401, 401, 429, 429]);
});

Deno.test("createApp() on loopback without a token answers only loopback names", async () => {
  // A page whose name is made to point at 127.0.0.1 (DNS rebinding) reads the server as its own
  // origin, past any CORS rule: the name it asks for gives it away.
  const hub = new MetricsHub();
  hub.publish(ticks[0]!);
  const app = createApp({ hub, loopback: true, rateLimit: false });
  for (const path of ["/api/metrics", "/metrics"]) {
    const rebound = await app.request(`http://attacker.example:9400${path}`);
    assert.equal(rebound.status, 403, path);
    assert.deepEqual(await body(rebound), {
      schema: "api.error.v1",
      error: "Policy",
      detail:
        'without ADHASH_TOKEN a server on loopback answers only loopback names, not "attacker.example"',
      hint: "Use http://127.0.0.1:<port>/, or set ADHASH_TOKEN",
    });
    for (const host of ["127.0.0.1", "localhost", "[::1]"]) {
      const ok = await app.request(`http://${host}:9400${path}`);
      assert.equal(ok.status, 200, `${host}${path}`);
      await ok.body?.cancel();
    }
  }
  // The dashboard's files hold no data.
  const shell = await app.request("http://attacker.example:9400/");
  assert.equal(shell.status, 200);
  await shell.body?.cancel();
  // With a token, or on another interface, the name is the operator's business.
  const token = createApp({ hub, loopback: true, rateLimit: false, token: "s3cret" });
  const named = await token.request("http://adhash.example/api/metrics", {
    headers: { Authorization: "Bearer s3cret" },
  });
  assert.equal(named.status, 200);
  await named.body?.cancel();
  const open = await createApp({ hub, rateLimit: false }).request("http://host.lan/api/metrics");
  assert.equal(open.status, 200);
  await open.body?.cancel();
});

Deno.test("createApp() requires the bearer token on /api/* and /metrics when set", async () => {
  const token = "s3cret-token";
  const { app } = appWith(ticks, { token });
  for (
    const path of ["/api/metrics", "/api/stream", "/metrics", "/api/events", "/api/probe?key=a"]
  ) {
    const res = await app.request(path);
    assert.equal(res.status, 401, path);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
    const b = await body(res);
    assert.equal(b.error, "Unauthorized");
    assert.ok(!JSON.stringify(b).includes(token));
  }
  const wrong = await app.request("/api/metrics", { headers: { Authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  assert.equal((await body(wrong)).detail, "invalid bearer token");
  // A header that is there, but not "Bearer <token>", is not said to be missing.
  for (const header of [`Basic ${token}`, `Bearer ${token} extra`]) {
    const res = await app.request("/api/metrics", { headers: { Authorization: header } });
    assert.equal(res.status, 401);
    assert.equal(
      (await body(res)).detail,
      "malformed Authorization header: expected 'Bearer <token>'",
    );
  }
  // The token comes before the body limit: a refused client's body is not read.
  const big = await app.request("/api/jobs/run-csv", {
    method: "POST",
    body: "x".repeat(100_000),
    headers: { "Content-Type": "application/json", "Content-Length": "100000" },
  });
  assert.equal(big.status, 401);
  await big.body?.cancel();
  const ok = await app.request("/api/metrics", { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  assert.equal((await body(ok)).ops, ticks.at(-1)!.ops);
  const prom = await app.request("/metrics", { headers: { Authorization: `bearer ${token}` } });
  assert.equal(prom.status, 200);
  await prom.body?.cancel();
  // Health routes stay open for probes; the dashboard shell has no data and asks for the token.
  for (const path of ["/healthz", "/readyz", "/", "/assets/app.js"]) {
    const res = await app.request(path);
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
});

Deno.test("createApp() refuses an empty token instead of serving without auth", () => {
  // An embedder passing a secret that went missing must not get an open API.
  assert.throws(() => appWith(ticks, { token: "" }), {
    name: "BadInputError",
    message: "token is empty, which would turn auth off",
  });
});

Deno.test("createApp() traces probes on the live map", async () => {
  const { app: none } = appWith();
  const missing = await none.request("/api/probe?op=get&key=K1");
  assert.equal(missing.status, 404);
  const hint = "Pass snapshot=NAME, or probe during run-csv";
  assert.deepEqual({ ...await body(missing), schema: undefined }, {
    schema: undefined,
    error: "NotFound",
    detail: "no live map to probe",
    hint,
  });
  // A replay thread's map (run-csv --serve) that is not there yet says the same.
  const { app: early } = appWith(ticks, {
    liveMap: () => ({ traceGet: () => Promise.reject(noLiveMap()), tracePut: () => null! }),
  });
  const notYet = await body(await early.request("/api/probe?op=get&key=K1"));
  assert.equal(notYet.hint, hint);

  const { app } = appWith(ticks, { liveMap: () => map });
  const key = [...map.keys()][0]!;
  const res = await app.request(`/api/probe?op=get&key=${encodeURIComponent(String(key))}`);
  assert.equal(res.status, 200);
  const b = await body(res);
  assert.equal(b.source, "live");
  const trace = b.trace as { schema: string; backend: string; found: boolean; key_repr: string };
  assert.deepEqual(trace, JSON.parse(JSON.stringify(map.traceGet(key))));
  assert.equal(trace.found, true);
  const put = await body(await app.request("/api/probe?op=put&key=new-key&value=9"));
  assert.equal((put.trace as { operation: string }).operation, "put");
  assert.equal(map.has("new-key"), false, "a probe must not change the map");
  for (
    const bad of [
      "/api/probe?op=del&key=a",
      "/api/probe?op=get",
      "/api/probe?key=x&numeric=1",
      // Blank, or a number in another notation: not read as 0 or 16.
      "/api/probe?key=%20&numeric=1",
      "/api/probe?key=%EF%BB%BF&numeric=1",
      "/api/probe?key=0x10&numeric=1",
    ]
  ) {
    const r = await app.request(bad);
    assert.equal(r.status, 400, bad);
    assert.equal((await body(r)).error, "BadInput");
  }
});

Deno.test("createApp() takes an undefined option as its default", async () => {
  // Options passed through from a caller's own (typed `T | undefined`, which
  // exactOptionalPropertyTypes refused before these fields said so).
  const none = <T>(_: T): T | undefined => undefined;
  const app = createApp({
    hub: new MetricsHub({ historyLimit: 5 }),
    corsOrigins: none(["*"]),
    loopback: none(true),
    rateLimit: none(false),
    maxBodyBytes: none(1),
    keepAliveMs: none(1),
    maxStreams: none(1),
    shutdownSignal: none(new AbortController().signal),
    snapshotTasks: { running: none(1), waiting: none(1) },
  });
  const r = await app.request("/healthz");
  assert.equal(r.status, 200);
  const big = await app.request("/api/jobs", { method: "POST", body: "x".repeat(2000) });
  assert.notEqual(big.status, 413, "maxBodyBytes undefined is the 64 KiB default");
  await big.body?.cancel();
});

Deno.test("createApp()'s fetch mounts under a prefix of another Hono app (docs/server.md)", async () => {
  const outer = new Hono();
  outer.mount("/adhash", createApp({ hub: new MetricsHub({ historyLimit: 5 }) }).fetch);
  const r = await outer.request("/adhash/healthz");
  assert.equal(r.status, 200);
  assert.equal((await r.json()).status, "ok");
});

Deno.test("historyJson() and historyCsv() make the history as it is read: a reader that stops gets no more made", async () => {
  let made = 0;
  const ticks = Array.from({ length: 400 }, (_, i) => ({
    t: i,
    pad: "p".repeat(1000),
    toJSON() {
      made++;
      return { t: this.t, pad: this.pad };
    },
  })) as unknown as MetricsTick[];
  const whole = await new Response(historyJson(400, ticks)).json();
  assert.deepEqual(whole, {
    schema: "api.history.v1",
    limit: 400,
    count: 400,
    ticks: ticks.map((t) => JSON.parse(JSON.stringify(t))),
  });
  made = 0;
  const reader = historyJson(400, ticks).getReader();
  await reader.read(); // the head and the first 64 KB of ticks
  await reader.cancel(); // the client went
  assert.ok(made > 0 && made <= 70, `${made} ticks made`);
  assert.deepEqual(
    await new Response(historyJson(5, [])).json(),
    { schema: "api.history.v1", limit: 5, count: 0, ticks: [] },
  );
  assert.equal(await new Response(historyCsv([])).text(), `${HISTORY_CSV_COLUMNS.join(",")}\n`);
});

Deno.test("createApp() sends at most maxHistoryBodies histories at once, and ends one its client stopped reading", async () => {
  // 400 ticks of 1 KB: more than one 64 KB chunk, so a body is sent in several reads.
  const many = Array.from({ length: 400 }, (_, i) => ({ ...ticks.at(-1)!, t: i, ops: i }));
  const hub = new MetricsHub({ historyLimit: 400 });
  for (const t of many) hub.publish(t);
  for (const bad of [{ maxHistoryBodies: 0 }, { maxHistoryBodies: NaN }, { historyIdleMs: NaN }]) {
    assert.throws(() => createApp({ hub, ...bad }), RangeError, JSON.stringify(bad));
  }
  const app = createApp({ hub, rateLimit: false, maxHistoryBodies: 2, historyIdleMs: 100 });
  const first = await app.request("/api/metrics/history.csv");
  const second = await app.request("/api/metrics/history");
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  const third = await app.request("/api/metrics/history");
  assert.equal(third.status, 503);
  assert.equal(third.headers.get("Retry-After"), "5");
  assert.deepEqual(await third.json(), {
    schema: "api.error.v1",
    error: "Busy",
    detail: "2 histories are being sent, the most served",
  });
  // A HEAD sends no body: it takes no place.
  assert.equal((await app.request("/api/metrics/history", { method: "HEAD" })).status, 200);
  // A body read whole gives its place back.
  assert.equal((await first.text()).trimEnd().split("\n").length, 401);
  const fourth = await app.request("/api/metrics/history");
  assert.equal(fourth.status, 200);
  // A client that read a chunk and stopped: its body ends, with an error, and its place is free.
  const reader = second.body!.getReader();
  await reader.read();
  await new Promise((r) => setTimeout(r, 250));
  await assert.rejects(reader.read(), /the client read nothing for 100 ms/);
  // One never read at all ends too.
  await assert.rejects(fourth.text(), /the client read nothing for 100 ms/);
  for (const path of ["/api/metrics/history", "/api/metrics/history.csv"]) {
    const res = await app.request(path);
    assert.equal(res.status, 200, path);
    await res.body!.cancel();
  }
});
