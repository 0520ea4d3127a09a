import assert from "node:assert/strict";
import { API_SCHEMAS, ApiProbe, ApiSnapshot } from "../../src/contracts/api.ts";
import { ProbeTraceSchema } from "../../src/contracts/probe_trace.ts";
import { SnapshotInspectionSchema } from "../../src/contracts/snapshot.ts";
import { AdaptiveMap } from "../../src/core/adaptive_map.ts";
import { createMap, MODES } from "../../src/core/factory.ts";
import { createApp } from "../../src/server/app.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { inspectSnapshot, loadSnapshot, saveSnapshot } from "../../src/snapshot/mod.ts";
import { SnapshotPool } from "../../src/server/snapshot_pool.ts";
import { encodeState } from "../../src/snapshot/codec.ts";
import { MAGIC, packSnapshot } from "../../src/snapshot/format.ts";
import { removedAtUnload } from "../_helpers.ts";
import { filePath } from "../../src/cli/self_command.ts";

async function withSnapshotDir<T>(fn: (dir: string, outside: string) => Promise<T>): Promise<T> {
  const base = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_srv_" }));
  const dir = `${base}/snaps`;
  await Deno.mkdir(dir);
  const map = createMap<unknown>("fast-lookup");
  for (let i = 0; i < 50; i++) map.set(`K${i}`, i);
  await saveSnapshot(`${dir}/rh.adhsnap`, map);
  await saveSnapshot(`${base}/secret.adhsnap`, map);
  await Deno.writeTextFile(`${dir}/broken.adhsnap`, "ADHSNAP1, then not a snapshot");
  // Not a snapshot at all: the directory is shared with other files.
  await Deno.writeTextFile(`${dir}/workload.csv`, "op,key,value\nput,K1,1\n");
  await Deno.writeTextFile(`${dir}/short`, "ADHS");
  await Deno.symlink(`${base}/secret.adhsnap`, `${dir}/escape.adhsnap`);
  try {
    return await fn(dir, base);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const b = await res.json() as Record<string, unknown>;
  API_SCHEMAS[b.schema as string]!.parse(b);
  return b;
}

Deno.test("createApp() inspects a snapshot from ADHASH_SNAPSHOT_DIR", async () => {
  await withSnapshotDir(async (dir) => {
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    const list = await json(await app.request("/api/snapshots"));
    // The symlink is not listed: only plain files inside the directory are offered, and of them
    // only snapshots (a damaged one too), the files that start with the snapshot magic.
    assert.deepEqual(list.names, ["broken.adhsnap", "rh.adhsnap"]);
    assert.equal(list.total, 2);
    const res = await app.request("/api/snapshot?name=rh.adhsnap&key=K7&contains=K1&limit=3");
    assert.equal(res.status, 200);
    const b = await json(res);
    const ins = b.inspection as {
      header: { magic: string };
      checksum: { verified: boolean };
      stats: { size: number };
      entries: { matched: number; shown: unknown[] };
      lookup: { found: boolean; value: unknown };
    };
    assert.equal(ins.header.magic, "ADHSNAP1");
    assert.equal((ins as { path?: string }).path, "rh.adhsnap", "no server path in the body");
    assert.ok(!JSON.stringify(b).includes(dir));
    assert.equal(ins.checksum.verified, true);
    assert.equal(ins.stats.size, 50);
    assert.equal(ins.entries.matched, 11); // K1, K10..K19
    assert.equal(ins.entries.shown.length, 3);
    assert.deepEqual(ins.lookup.found, true);
    assert.equal(ins.lookup.value, 7);
  });
});

Deno.test("createApp() describes a snapshot whose table cannot be built as stored", async () => {
  await withSnapshotDir(async (dir) => {
    const state = {
      kind: "chaining" as const,
      bucketCount: 8,
      maxLoadFactor: 1,
      keys: ["a", "a"],
      values: [1, 2],
    };
    await Deno.writeFile(`${dir}/twice.adhsnap`, packSnapshot(encodeState(state), { key: null }));
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    const res = await app.request("/api/snapshot?name=twice.adhsnap");
    assert.equal(res.status, 200);
    const ins = (await json(res)).inspection as { invariants: { ok: boolean; problems: string[] } };
    assert.equal(ins.invariants.ok, false);
    assert.match(ins.invariants.problems[0]!, /"a" appears twice/);
  });
});

Deno.test("createApp() refuses snapshot paths outside ADHASH_SNAPSHOT_DIR", async () => {
  await withSnapshotDir(async (dir) => {
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    for (
      const name of [
        "../secret.adhsnap",
        "..%2Fsecret.adhsnap",
        "%2Fetc%2Fpasswd",
        ".hidden",
        "escape.adhsnap",
        "a%5Cb.adhsnap",
        "bell%07.adhsnap",
        "x%EF%BF%BD.adhsnap",
        "%E2%80%AE".repeat(86),
      ]
    ) {
      const res = await app.request(`/api/snapshot?name=${name}`);
      assert.equal(res.status, 403, name);
      const b = await json(res);
      assert.equal(b.error, "Policy");
    }
    const probe = await app.request("/api/probe?key=K1&snapshot=..%2Fsecret.adhsnap");
    assert.equal(probe.status, 403);
    await probe.body?.cancel();
    for (const path of ["/api/snapshot", "/api/snapshot?name="]) {
      const noName = await app.request(path);
      assert.equal(noName.status, 400, path);
      assert.deepEqual([(await json(noName)).detail], ["query name is required"]);
    }
    const missing = await app.request("/api/snapshot?name=none.adhsnap");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const broken = await app.request("/api/snapshot?name=broken.adhsnap");
    assert.equal(broken.status, 400);
    assert.match(String((await json(broken)).detail), /broken\.adhsnap/);
    const badLimit = await app.request("/api/snapshot?name=rh.adhsnap&limit=x");
    assert.equal(badLimit.status, 400);
    await badLimit.body?.cancel();
    // Clamped to 1..1000, however large, as the other routes' limits are.
    for (const [limit, shown] of [["0", 1], ["10000000", 50]] as const) {
      const res = await app.request(`/api/snapshot?name=rh.adhsnap&limit=${limit}`);
      assert.equal(res.status, 200, limit);
      const b = await json(res);
      assert.equal((b.inspection as { entries: { shown: unknown[] } }).entries.shown.length, shown);
    }
  });
});

Deno.test("createApp() refuses a query that is not percent-encoded UTF-8", async () => {
  await withSnapshotDir(async (dir) => {
    const m = createMap<unknown>("fast-lookup");
    m.set("%FF", "the text, not the byte");
    await saveSnapshot(`${dir}/pct.adhsnap`, m);
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    for (
      const q of [
        "/api/probe?snapshot=pct.adhsnap&key=%FF",
        "/api/snapshot?name=pct.adhsnap&key=%C3%A9%E9",
        "/api/snapshot?name=pct.adhsnap&contains=100%",
      ]
    ) {
      const res = await app.request(q);
      assert.equal(res.status, 400, q);
      assert.match(String((await json(res)).detail), /is not percent-encoded UTF-8$/);
    }
    // The key's own text, encoded, still finds it.
    const res = await app.request(
      `/api/probe?snapshot=pct.adhsnap&key=${encodeURIComponent("%FF")}`,
    );
    assert.equal(((await json(res)).trace as { found: boolean }).found, true);
  });
});

Deno.test("createApp() lists and inspects snapshots named in any script", async () => {
  await withSnapshotDir(async (dir) => {
    for (const name of ["Ärger.adhsnap", "日本 語.adhsnap", "tab\there.adhsnap"]) {
      await Deno.copyFile(`${dir}/rh.adhsnap`, `${dir}/${name}`);
    }
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    const list = await json(await app.request("/api/snapshots"));
    // A name with a control character is not plain: neither listed nor opened.
    assert.deepEqual(list.names, [
      "broken.adhsnap",
      "rh.adhsnap",
      "Ärger.adhsnap",
      "日本 語.adhsnap",
    ]);
    for (const name of ["Ärger.adhsnap", "日本 語.adhsnap"]) {
      const res = await app.request(`/api/snapshot?name=${encodeURIComponent(name)}`);
      assert.equal(res.status, 200, name);
      assert.equal((await json(res)).name, name);
    }
    const tab = await app.request(`/api/snapshot?name=${encodeURIComponent("tab\there.adhsnap")}`);
    assert.equal(tab.status, 403);
    await tab.body?.cancel();
  });
});

Deno.test("createApp() traces a probe on a snapshot's map", async () => {
  await withSnapshotDir(async (dir) => {
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    const res = await app.request("/api/probe?op=get&key=K3&snapshot=rh.adhsnap");
    assert.equal(res.status, 200);
    const b = await json(res);
    assert.equal(b.source, "snapshot:rh.adhsnap");
    const trace = b.trace as { backend: string; found: boolean; path: unknown[] };
    assert.equal(trace.backend, "robinhood");
    assert.equal(trace.found, true);
    assert.ok(trace.path.length >= 1);
    // A corrupt file is the user's problem, reported as such, as /api/snapshot does.
    const bad = await app.request("/api/probe?op=get&key=K3&snapshot=broken.adhsnap");
    assert.equal(bad.status, 400);
    const e = await json(bad);
    assert.equal(e.error, "BadInput");
    assert.match(String(e.detail), /^snapshot "broken\.adhsnap": /);
  });
});

Deno.test("createApp() answers 404 for a snapshot removed while its request waited, naming no server path", async () => {
  await withSnapshotDir(async (dir) => {
    // The file goes between the name's check and the task (queued behind another decode): in
    // the worker pool, whose stat finds it gone, and on the server's thread (a bundle).
    const pool = new SnapshotPool({ idleMs: 0 });
    const removedFirst =
      <A extends unknown[], R>(f: (path: string, ...rest: A) => Promise<R>) =>
      async (path: string, ...rest: A): Promise<R> => {
        await Deno.remove(path);
        return await f(path, ...rest);
      };
    const apps = {
      pool: createApp({
        hub: new MetricsHub(),
        snapshotDir: dir,
        inspectSnapshot: removedFirst((path, o) => pool.inspect(path, o)),
        loadSnapshotMap: removedFirst((path) => pool.loadMap(path)),
      }),
      thread: createApp({
        hub: new MetricsHub(),
        snapshotDir: dir,
        inspectSnapshot: removedFirst(inspectSnapshot),
        loadSnapshotMap: removedFirst(loadSnapshot),
      }),
    };
    const real = await Deno.realPath(dir);
    for (const [how, app] of Object.entries(apps)) {
      for (
        const url of ["/api/snapshot?name=gone.adhsnap", "/api/probe?key=K1&snapshot=gone.adhsnap"]
      ) {
        await Deno.copyFile(`${dir}/rh.adhsnap`, `${dir}/gone.adhsnap`);
        const res = await app.request(url);
        const b = await json(res);
        assert.equal(res.status, 404, `${how} ${url}: ${JSON.stringify(b)}`);
        assert.equal(b.detail, 'no snapshot "gone.adhsnap"');
        assert.ok(!JSON.stringify(b).includes(real), `${how} ${url}: ${JSON.stringify(b)}`);
      }
    }
    pool.close();
  });
});

Deno.test("createApp() answers snapshot routes with 404 when no directory is configured", async () => {
  const app = createApp({ hub: new MetricsHub() });
  const res = await app.request("/api/snapshots");
  assert.equal(res.status, 404);
  assert.match(String((await json(res)).detail), /ADHASH_SNAPSHOT_DIR/);
});

Deno.test("createApp() answers snapshot routes with 503 IO when the directory goes while it runs", async () => {
  await withSnapshotDir(async (dir, base) => {
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    assert.equal((await app.request("/api/snapshots")).status, 200);
    await Deno.rename(dir, `${base}/moved`);
    for (
      const path of [
        "/api/snapshots",
        "/api/snapshot?name=rh.adhsnap",
        "/api/probe?op=get&key=K3&snapshot=rh.adhsnap",
      ]
    ) {
      const res = await app.request(path);
      assert.equal(res.status, 503, path);
      assert.deepEqual(await json(res), {
        schema: "api.error.v1",
        error: "IO",
        detail: "the snapshot directory is gone (moved or removed while the server ran)",
        hint: "Restore ADHASH_SNAPSHOT_DIR, or restart the server with another",
      });
    }
    await Deno.rename(`${base}/moved`, dir);
    assert.equal((await app.request("/api/snapshots")).status, 200);
  });
});

Deno.test("createApp() inspects snapshots off the thread that answers /healthz", async () => {
  await withSnapshotDir(async (dir) => {
    const big = createMap<unknown>("fast-lookup");
    for (let i = 0; i < 300_000; i++) big.set(`key-${i}`, i);
    await saveSnapshot(`${dir}/big.adhsnap`, big);
    const stop = new AbortController();
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir, shutdownSignal: stop.signal });
    try {
      const started = performance.now();
      let done = false;
      const inspection = Promise.resolve(
        app.request("/api/snapshot?name=big.adhsnap&key=key-7"),
      ).then((res) => {
        done = true;
        return res;
      });
      // Decoding 300,000 entries on this thread would hold health checks (and the timers
      // between them) for its whole time: the longest gap between two answers tells.
      let slowest = 0;
      let last = performance.now();
      while (!done) {
        await new Promise((r) => setTimeout(r, 5));
        const res = await app.request("/healthz");
        await res.body?.cancel();
        const now = performance.now();
        slowest = Math.max(slowest, now - last);
        last = now;
      }
      const took = performance.now() - started;
      const res = await inspection;
      assert.equal(res.status, 200);
      const ins = (await json(res)).inspection as { stats: { size: number }; lookup: unknown };
      assert.equal(ins.stats.size, 300_000);
      assert.deepEqual(ins.lookup, {
        key: "key-7",
        found: true,
        matched_key: "key-7",
        matched_key_repr: '"key-7"',
        value: 7,
      });
      assert.ok(slowest < took / 4, `/healthz waited up to ${slowest} ms of ${took} ms`);
      // Probes on a snapshot's map run there too, and report a corrupt file the same way.
      const probe = await app.request("/api/probe?op=get&key=key-9&snapshot=big.adhsnap");
      assert.equal(((await json(probe)).trace as { found: boolean }).found, true);
      const bad = await app.request("/api/probe?op=get&key=K3&snapshot=broken.adhsnap");
      assert.equal(bad.status, 400);
      assert.equal((await json(bad)).error, "BadInput");
    } finally {
      stop.abort(); // ends the worker
    }
  });
});

Deno.test("createApp() refuses snapshot work beyond its limit with 503 Busy and Retry-After", async () => {
  await withSnapshotDir(async (dir) => {
    let release = (): void => {};
    const gate = new Promise<void>((r) => release = r);
    let started = 0;
    const app = createApp({
      hub: new MetricsHub(),
      snapshotDir: dir,
      snapshotTasks: { running: 1, waiting: 1 },
      inspectSnapshot: async () => {
        started++;
        await gate;
        return { stats: { size: 0 } };
      },
      loadSnapshotMap: async () => {
        started++;
        await gate;
        return { traceGet: () => Promise.reject(new Error("unused")), tracePut: () => null! };
      },
    });
    const first = app.request("/api/snapshot?name=rh.adhsnap");
    const second = app.request("/api/snapshot?name=rh.adhsnap");
    await new Promise((r) => setTimeout(r, 50));
    // One runs, one waits: a third inspection, or a snapshot probe, is turned away at once.
    for (const path of ["/api/snapshot?name=rh.adhsnap", "/api/probe?key=K1&snapshot=rh.adhsnap"]) {
      const res = await app.request(path);
      assert.equal(res.status, 503, path);
      assert.equal(res.headers.get("retry-after"), "5");
      const b = await json(res);
      assert.equal(b.error, "Busy");
      assert.match(String(b.detail), /1 snapshot task\(s\) are running and 1 waiting/);
    }
    assert.equal(started, 1, "the waiting one starts only when the first ends");
    release();
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    assert.equal(started, 2);
  });
});

Deno.test("createApp() without a shutdown signal leaves no snapshot worker keeping its host alive", async () => {
  const started = Date.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", filePath(new URL("./_snapshot_host.ts", import.meta.url))],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const took = Date.now() - started;
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "200");
  // The worker's idle timeout is 30 s: a host it kept alive would take that long.
  assert.ok(took < 15_000, `the host took ${took} ms to exit`);
});

Deno.test("createApp() lists the first 1000 snapshot names in sorted order, whatever order the directory has, and counts them all", async () => {
  await withSnapshotDir(async (dir) => {
    // Made in an order of their own; the directory lists them in another.
    const made = Array.from(
      { length: 2_500 },
      (_, i) => `s${String((i * 7_919) % 2_500).padStart(4, "0")}`,
    );
    for (const name of made) await Deno.writeFile(`${dir}/${name}`, MAGIC);
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    const list = await json(await app.request("/api/snapshots"));
    const all = [...made, "broken.adhsnap", "rh.adhsnap"].sort();
    assert.deepEqual(list.names, all.slice(0, 1000));
    assert.equal(list.total, all.length); // tells a client the list is cut
  });
});

Deno.test("createApp() serves whole snapshot_inspect.v1 and probe_trace.v1 documents, as api.snapshot.v1 and api.probe.v1 promise", async () => {
  await withSnapshotDir(async (dir) => {
    // A snapshot of each mode: chaining, Robin Hood and adaptive maps, grown past a resize.
    for (const mode of MODES) {
      const map = createMap<unknown>(mode);
      for (let i = 0; i < 300; i++) map.set(i % 3 === 0 ? i : `K${i}`, { i });
      for (let i = 0; i < 300; i += 7) map.delete(`K${i}`);
      await saveSnapshot(`${dir}/${mode}.adhsnap`, map);
    }
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    const paths = MODES.flatMap((mode) => [
      `/api/snapshot?name=${mode}.adhsnap`,
      `/api/snapshot?name=${mode}.adhsnap&key=K1&contains=K2&limit=5`,
      `/api/snapshot?name=${mode}.adhsnap&key=absent`,
      ...["get", "put"].flatMap((op) =>
        ["K1", "absent", "3&numeric=1"].map((key) =>
          `/api/probe?op=${op}&key=${key}&value=v&snapshot=${mode}.adhsnap`
        )
      ),
    ]);
    for (const path of paths) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      const b = await res.json();
      if (path.startsWith("/api/snapshot?")) {
        assert.ok(ApiSnapshot.safeParse(b).success, path);
        SnapshotInspectionSchema.parse(b.inspection);
      } else {
        assert.ok(ApiProbe.safeParse(b).success, path);
        ProbeTraceSchema.parse(b.trace);
      }
    }
  });
});

Deno.test("createApp() serves whole probe_trace.v1 documents from the live map, rebuilds included", async () => {
  let rebuilds = 0;
  for (const mode of MODES) {
    const map = createMap<unknown>(mode);
    const app = createApp({ hub: new MetricsHub(), liveMap: () => map });
    // Each put probed before it is made: some of them set off a resize.
    for (let i = 0; i < 200; i++) {
      for (const op of ["get", "put"]) {
        const res = await app.request(`/api/probe?op=${op}&key=K${i}&value=${i}`);
        assert.equal(res.status, 200);
        const b = ApiProbe.parse(await res.json());
        if (b.trace.rebuild !== undefined) rebuilds++;
      }
      map.set(`K${i}`, i);
    }
  }
  assert.ok(rebuilds > 0, "no put trace with a rebuild");
});

Deno.test("api.snapshot.v1 and api.probe.v1 refuse bodies the first schemas took but the docs never allowed", async () => {
  const { real, trace } = await withSnapshotDir(async (dir) => {
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir });
    const b = await (await app.request("/api/snapshot?name=rh.adhsnap")).json();
    const t = await (await app.request("/api/probe?key=K1&snapshot=rh.adhsnap")).json();
    return { real: b.inspection, trace: t.trace };
  });
  const snap = (inspection: unknown) => ({ schema: "api.snapshot.v1", name: "a", inspection });
  const probe = (trace: unknown) => ({ schema: "api.probe.v1", source: "live", trace });
  assert.ok(ApiSnapshot.safeParse(snap(real)).success);
  assert.ok(ApiProbe.safeParse(probe(trace)).success);
  const { header: _, ...headless } = real;
  for (const inspection of [42, "x", null, {}, { schema: "snapshot_inspect.v1" }, headless]) {
    assert.ok(!ApiSnapshot.safeParse(snap(inspection)).success, JSON.stringify(inspection));
  }
  const { operation: _o, key_repr: _k, hash: _h, ...partial } = trace;
  for (
    const bad of [
      { schema: "probe_trace.v1", backend: "robinhood" },
      { schema: "probe_trace.v1", backend: "linear" },
      partial,
      { ...trace, backend: "chaining" },
    ]
  ) {
    assert.ok(!ApiProbe.safeParse(probe(bad)).success, JSON.stringify(bad));
  }
  // What a later version may add stays accepted (the contracts are open).
  assert.ok(ApiSnapshot.safeParse(snap({ ...real, later: 1 })).success);
  assert.ok(ApiProbe.safeParse(probe({ ...trace, later: 1 })).success);
});

Deno.test("createApp() probes a snapshot rewritten in place, same size and mtime, as it is now", async () => {
  // The kept map was keyed by path, size, mtime and inode: a copy over the file that kept all
  // four was probed from the old map, while /api/snapshot read the new one.
  await withSnapshotDir(async (dir) => {
    const stop = new AbortController();
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir, shutdownSignal: stop.signal });
    try {
      const found = async (key: string) => {
        const res = await app.request(`/api/probe?op=get&key=${key}&snapshot=rh.adhsnap`);
        return ((await json(res)).trace as { found: boolean }).found;
      };
      assert.deepEqual([await found("K3"), await found("J3")], [true, false]);
      const path = `${dir}/rh.adhsnap`;
      const before = await Deno.stat(path);
      const other = createMap<unknown>("fast-lookup");
      for (let i = 0; i < 50; i++) other.set(`J${i}`, i);
      await saveSnapshot(`${dir}/../other.adhsnap`, other);
      await Deno.writeFile(path, await Deno.readFile(`${dir}/../other.adhsnap`)); // in place
      await Deno.utime(path, before.atime!, before.mtime!);
      const after = await Deno.stat(path);
      assert.deepEqual(
        [after.size, after.mtime?.getTime(), after.ino],
        [before.size, before.mtime?.getTime(), before.ino],
      );
      assert.deepEqual([await found("K3"), await found("J3")], [false, true]);
    } finally {
      stop.abort();
    }
  });
});

Deno.test("GET /api/snapshot stays near 1 MiB whatever the values, omitting those too long", async () => {
  // 200 values of 60,000 characters: the whole preview at limit=1000 was 12 MB.
  const base = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_srv_" }));
  const map = createMap<unknown>("fast-lookup");
  for (let i = 0; i < 200; i++) map.set(`K${i}`, "v".repeat(60_000));
  map.set("huge", ["x".repeat(70_000)]);
  await saveSnapshot(`${base}/big.adhsnap`, map);
  const app = createApp({ hub: new MetricsHub(), snapshotDir: base });
  const res = await app.request("/api/snapshot?name=big.adhsnap&key=huge&limit=1000");
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(text.length < 1.1 * 2 ** 20, `${text.length} characters`);
  const ins = ApiSnapshot.parse(JSON.parse(text)).inspection;
  // Every key is listed; the values that fit in 1 MiB are shown, the rest (and "huge") omitted.
  assert.equal(ins.entries.matched, 201);
  const shown = ins.entries.shown;
  assert.equal(shown.length, 201);
  const whole = shown.filter((e) => !e.value_omitted);
  assert.ok(whole.length >= 15 && whole.length <= 17, `${whole.length} values shown`);
  for (const e of shown) assert.equal(e.value, e.value_omitted ? null : "v".repeat(60_000));
  assert.deepEqual([ins.lookup?.value, ins.lookup?.value_omitted], [null, true]);
  await Deno.remove(base, { recursive: true });
});

Deno.test("createApp() probes a snapshot caught mid-migration as it was saved, however often", async () => {
  // A trace runs the migration step its operation would first: on the map the server keeps,
  // each probe would have moved the migration on, until it ended.
  await withSnapshotDir(async (dir) => {
    const map = new AdaptiveMap<unknown>({ incrementalBatch: 64 });
    for (let i = 0; !map.migrating; i++) map.set(`K${i}`, i);
    await saveSnapshot(`${dir}/migrating.adhsnap`, map);
    const last = map.exportState().active.keys.at(-1)!; // the last the migration moves
    const expected = (await loadSnapshot(`${dir}/migrating.adhsnap`)).traceGet(last);
    assert.equal(expected.backend, "chaining");
    const stop = new AbortController();
    const app = createApp({ hub: new MetricsHub(), snapshotDir: dir, shutdownSignal: stop.signal });
    try {
      for (let n = 0; n < 12; n++) {
        const res = await app.request(`/api/probe?op=get&key=${last}&snapshot=migrating.adhsnap`);
        assert.deepEqual((await json(res)).trace, expected, `probe ${n}`);
      }
    } finally {
      stop.abort();
    }
  });
});
