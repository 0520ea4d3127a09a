import assert from "node:assert/strict";
import { healthy, idleConnections, refused, replayTicks, UNDER_64_FDS } from "./_fixtures.ts";
import { linuxTest, readLine, removedAtUnload, waitFor } from "../_helpers.ts";
import { filePath } from "../../src/cli/self_command.ts";

const { ticks } = await replayTicks();
const CLI = filePath(new URL("../../cli.ts", import.meta.url));
const line = (i: number): string => JSON.stringify(ticks[i]) + "\n";

interface Running {
  child: Deno.ChildProcess;
  port: number;
  firstLine: string;
  stdout: Promise<string>;
  stderr: Promise<string>;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

/** `deno run <the serve task's permissions> cli.ts serve`. */
const SERVE = ["run", "--allow-read", "--allow-env", "--allow-net", "--allow-sys", CLI, "serve"];

/** Starts `hashmap-cli serve ...` and waits for its first stdout line. */
async function startServe(
  args: string[],
  env: Record<string, string> = {},
  extraPerms: string[] = [],
  command = "serve",
  launcher: string[] = [],
): Promise<Running> {
  const deno = ["run", ...extraPerms, ...SERVE.slice(1, -1), command, ...args];
  const child = new Deno.Command(launcher[0] ?? Deno.execPath(), {
    args: launcher.length === 0 ? deno : [...launcher.slice(1), Deno.execPath(), ...deno],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const [head, rest] = child.stdout.tee();
  const reader = head.pipeThrough(new TextDecoderStream()).getReader();
  const buf = await readLine(reader);
  await reader.cancel();
  const firstLine = buf.split("\n")[0]!;
  const m = /^Dashboard: http:\/\/localhost:(\d+)\/$/.exec(firstLine);
  return {
    child,
    port: m ? Number(m[1]) : -1,
    firstLine,
    stdout: collect(rest),
    stderr: collect(child.stderr),
  };
}

async function stop(r: Running): Promise<{ code: number; stdout: string; stderr: string }> {
  r.child.kill("SIGTERM");
  const { code } = await r.child.status;
  return { code, stdout: await r.stdout, stderr: await r.stderr };
}

async function runToEnd(
  args: string[],
  env: Record<string, string> = {},
  extraPerms: string[] = [],
) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...extraPerms, ...SERVE.slice(1), ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Submits a run-csv job of `csv` to the server at `base`; returns its id. */
async function submitRunCsv(base: string, csv: string): Promise<string> {
  const res = await fetch(`${base}/api/jobs/run-csv`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ csv }),
  });
  assert.equal(res.status, 202);
  return (await res.json()).id;
}

/** Writes a generated workload of `ops` rows to `path`. */
async function generate(path: string, ops: number): Promise<void> {
  const args = ["run", "--allow-read", "--allow-write", "--allow-env", CLI, "generate-csv"];
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args, "--outfile", path, "--ops", String(ops)],
  }).output();
  assert.equal(out.code, 0);
}

Deno.test("hashmap-cli serve follows a source file behind a token and stops on SIGTERM", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  const src = `${dir}/metrics.ndjson`;
  const cmp = `${dir}/ab.json`;
  await Deno.writeTextFile(src, line(0) + line(1));
  await Deno.writeTextFile(
    cmp,
    JSON.stringify({ baseline: { label: "A" }, candidate: { label: "B" } }),
  );
  const token = "tok-do-not-log-7f3a";
  const r = await startServe(
    ["--port", "auto", "--source", src, "--follow", "--poll-interval", "0.05", "--compare", cmp],
    { ADHASH_TOKEN: token },
  );
  try {
    assert.ok(r.port > 0, `first stdout line: ${r.firstLine}`);
    const base = `http://127.0.0.1:${r.port}`;
    const auth = { Authorization: `Bearer ${token}` };
    const history = async (): Promise<number[]> => {
      const res = await fetch(`${base}/api/metrics/history`, { headers: auth });
      return ((await res.json()).ticks as Array<{ ops: number }>).map((t) => t.ops);
    };
    await waitFor(async () => (await history()).length === 2);
    await Deno.writeTextFile(src, "{truncated\n" + line(2), { append: true });
    await waitFor(async () => (await history()).length === 3);
    assert.deepEqual(await history(), [0, 1, 2].map((i) => ticks[i]!.ops));
    const denied = await fetch(`${base}/api/metrics`);
    assert.equal(denied.status, 401);
    await denied.body?.cancel();
    const cmpRes = await fetch(`${base}/api/compare`, { headers: auth });
    assert.equal((await cmpRes.json()).compare.candidate.label, "B");
  } finally {
    const { code, stdout, stderr } = await stop(r);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /skipping line 3 of .*metrics\.ndjson: not valid JSON/);
    assert.ok(
      !stdout.includes(token) && !stderr.includes(token),
      "the token must never be printed",
    );
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashmap-cli serve takes its port from ADHASH_METRICS_PORT", async () => {
  const r = await startServe([], { ADHASH_METRICS_PORT: "auto" });
  try {
    assert.ok(r.port > 0, r.firstLine);
    const res = await fetch(`http://127.0.0.1:${r.port}/healthz`);
    assert.equal((await res.json()).status, "ok");
  } finally {
    assert.equal((await stop(r)).code, 0);
  }
});

Deno.test("hashmap-cli mission-control is serve under the original's name", async () => {
  // The original's runbook starts Mission Control with `mission-control`; here it is the
  // dashboard that serve already hosts.
  const r = await startServe(["--port", "auto"], {}, [], "mission-control");
  try {
    assert.ok(r.port > 0, r.firstLine);
    const page = await fetch(`http://127.0.0.1:${r.port}/`);
    assert.match(await page.text(), /Mission Control/);
  } finally {
    assert.equal((await stop(r)).code, 0);
  }
});

Deno.test("hashmap-cli serve reports bad arguments with the error envelope", async () => {
  const dir = removedAtUnload(Deno.makeTempDirSync({ prefix: "adhash_serve_args_" }));
  const nullJson = `${dir}/null.json`;
  Deno.writeTextFileSync(nullJson, "null\n");
  const listJson = `${dir}/list.json`;
  Deno.writeTextFileSync(listJson, "[1, 2]\n");
  const cases: Array<[string[], Record<string, string>, number, RegExp]> = [
    [["--follow"], {}, 2, /--follow needs --source/],
    [["--port", "70000"], {}, 2, /70000/],
    [["--source", "/nonexistent/m.ndjson"], {}, 5, /not found/],
    [["--compare", "/nonexistent/ab.json"], {}, 5, /not found/],
    [["--source", "/tmp"], {}, 2, /^--source "\/tmp" is a directory$/],
    [["--compare", "/tmp"], {}, 2, /^--compare "\/tmp" is a directory$/],
    [["--compare", nullJson], {}, 2, /^--compare ".*null\.json" holds null, not a JSON object$/],
    [["--compare", listJson], {}, 2, /^--compare ".*list\.json" holds an array, not a JSON/],
    [["--port", "auto"], { ADHASH_RATE_LIMIT: "lots" }, 2, /ADHASH_RATE_LIMIT/],
    [["--port", "auto"], { ADHASH_TOKEN: "" }, 2, /^ADHASH_TOKEN is set but empty/],
    [["--port", "auto"], { ADHASH_TOKEN: " " }, 2, /^ADHASH_TOKEN contains whitespace/],
    [["--port", "auto"], { ADHASH_CORS_ORIGINS: "not an origin" }, 2, /ADHASH_CORS_ORIGINS/],
    [["--port", "auto", "--host", "999.1.1.1"], {}, 2, /^Cannot listen on host "999\.1\.1\.1"/],
    [["--port", "auto", "--host", "nope.invalid"], {}, 2, /^Cannot listen on host "nope/],
  ];
  for (const [args, env, exit, detail] of cases) {
    const out = await runToEnd(args, env);
    assert.equal(out.code, exit, `${args.join(" ")}: ${out.stderr}`);
    const last = JSON.parse(out.stderr.trimEnd().split("\n").at(-1)!);
    assert.match(last.detail, detail);
    assert.doesNotMatch(out.stderr, /\n\s+at /, "no stack trace");
    assert.equal(out.stdout, "");
  }
});

Deno.test("hashmap-cli serve on a port in use is IO naming the address", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String((busy.addr as Deno.NetAddr).port);
    const out = await runToEnd(["--port", port]);
    assert.equal(out.code, 5, out.stderr);
    const last = JSON.parse(out.stderr.trimEnd().split("\n").at(-1)!);
    assert.equal(last.error, "IO");
    assert.equal(last.detail, `Address 127.0.0.1:${port} is already in use`);
  } finally {
    busy.close();
  }
});

Deno.test("hashmap-cli serve logs the cause of a 500 that the client sees only as Internal", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  // A snapshot directory that is not there is refused at start-up ...
  const bad = await runToEnd(["--port", "auto"], { ADHASH_SNAPSHOT_DIR: `${dir}/snaps` });
  assert.equal(bad.code, 2, bad.stderr);
  const detail = JSON.parse(bad.stderr.trimEnd().split("\n").at(-1)!).detail;
  assert.match(detail, /ADHASH_SNAPSHOT_DIR ".*snaps" is not a readable directory/);
  Deno.mkdirSync(`${dir}/snaps`);
  const s = await startServe(["--port", "auto"], { ADHASH_SNAPSHOT_DIR: `${dir}/snaps` });
  try {
    // ... one removed while serving is the operator's to restore (503 IO) ...
    Deno.removeSync(`${dir}/snaps`);
    const gone = await fetch(`http://127.0.0.1:${s.port}/api/snapshots`);
    assert.equal(gone.status, 503);
    assert.equal((await gone.json()).error, "IO");
    // ... and one the system cannot even look at is a server fault, logged for the operator.
    Deno.symlinkSync("snaps", `${dir}/snaps`); // a link to itself: ELOOP
    const res = await fetch(`http://127.0.0.1:${s.port}/api/snapshots`);
    assert.equal(res.status, 500);
    assert.deepEqual((await res.json()).detail, "internal server error");
  } finally {
    const { stderr } = await stop(s);
    assert.match(stderr, /GET"? "?\/api\/snapshots"? failed: "?FilesystemLoop: /);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashmap-cli serve --job-root runs run-csv jobs over HTTP and stops on SIGTERM", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_serve_jobs_" }));
  try {
    await generate(`${dir}/w.csv`, 2_000);
    // The serve task's permissions plus what the job service needs; finished jobs may take no
    // room at all (ADHASH_JOB_MAX_BYTES, --job-max-bytes): only the newest is kept.
    const r = await startServe(
      ["--json", "--log-json", "--port", "auto", "--job-root", `${dir}/jobs`].concat(
        ["--job-input-dir", dir, "--max-jobs", "2"],
      ),
      { ADHASH_JOB_MAX_BYTES: "0" },
      [`--allow-write=${dir}/jobs`, "--allow-run=deno"],
    );
    assert.ok(r.port > 0, r.firstLine);
    const base = `http://127.0.0.1:${r.port}`;
    const id = await submitRunCsv(base, "w.csv");
    let job: Record<string, unknown> = {};
    await waitFor(async () => {
      job = await (await fetch(`${base}/api/jobs/${id}`)).json();
      return job.status !== "pending" && job.status !== "running";
    });
    assert.equal(job.status, "completed", JSON.stringify(job));
    assert.equal((job.result as { total_ops: number }).total_ops, 2000);
    const list = await (await fetch(`${base}/api/jobs`)).json();
    assert.equal(list.max_jobs, 2);
    // Requests without a body (a DELETE, an OPTIONS) keep stderr JSON lines only.
    const gone = await fetch(`${base}/api/jobs/nope`, { method: "DELETE" });
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
    const options = await fetch(`${base}/api/jobs`, { method: "OPTIONS" });
    assert.equal(options.status, 204);
    await options.body?.cancel();
    // Without a token no other site's page may read or call the API: no CORS, and its
    // preflight for a job is refused.
    const preflight = await fetch(`${base}/api/jobs`, {
      method: "OPTIONS",
      headers: { Origin: "http://example.test", "Access-Control-Request-Method": "POST" },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    await preflight.body?.cancel();
    const next = await submitRunCsv(base, "w.csv");
    await waitFor(async () =>
      (await (await fetch(`${base}/api/jobs/${next}`)).json()).status === "completed"
    );
    await waitFor(async () => (await fetch(`${base}/api/jobs/${id}`)).status === 404);
    assert.deepEqual([...Deno.readDirSync(`${dir}/jobs`)].map((e) => e.name).sort(), [
      ".lock",
      next,
    ]);
    const out = await stop(r);
    assert.equal(out.code, 0, out.stderr);
    const logs = out.stderr.trimEnd().split("\n").map((line) => JSON.parse(line)); // --log-json
    assert.equal(logs[0].properties.jobs, `${dir}/jobs`);
    // --json: the Dashboard line first, the success line last (docs/error_envelope.md).
    const last = JSON.parse(out.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual([last.ok, last.command, last.port], [true, "serve", r.port]);
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/jobs/${next}/status.json`));
    assert.equal(saved.status, "completed");
    assert.ok(logs.some((l) => l.message.startsWith(`Removed job "${id}" (`)), out.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "hashmap-cli serve stops in order on SIGHUP and SIGINT, cancelling a running job",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_serve_jobs_" }));
    try {
      await generate(`${dir}/w.csv`, 3_000_000);
      for (const signal of ["SIGHUP", "SIGINT"] as const) {
        const r = await startServe(
          ["--log-json", "--port", "auto", "--job-root", `${dir}/jobs`, "--job-input-dir", dir],
          {},
          [`--allow-write=${dir}/jobs`, "--allow-run=deno"],
        );
        assert.ok(r.port > 0, r.firstLine);
        const base = `http://127.0.0.1:${r.port}`;
        const id = await submitRunCsv(base, "w.csv");
        await waitFor(async () =>
          (await (await fetch(`${base}/api/jobs/${id}`)).json()).status === "running"
        );
        r.child.kill(signal);
        const { code } = await r.child.status;
        const stderr = await r.stderr;
        await r.stdout;
        assert.equal(code, 0, stderr);
        const messages = stderr.trimEnd().split("\n").map((l) => JSON.parse(l).message);
        assert.ok(messages.includes(`"${signal}" received; shutting down`), stderr);
        // Recorded as cancelled by this server, not left running for the next to mark.
        const saved = JSON.parse(await Deno.readTextFile(`${dir}/jobs/${id}/status.json`));
        assert.equal(saved.status, "cancelled");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/**
 * Runs a command subject to the system's file permissions: as root, through `setpriv` without
 * the capabilities that let root read anything (the files stay root's, so mode 000 locks them).
 */
function unprivileged(): string[] {
  if (Deno.uid() !== 0) return [];
  const caps = "-dac_override,-dac_read_search";
  return ["setpriv", `--bounding-set=${caps}`, `--inh-caps=${caps}`];
}

Deno.test("hashmap-cli serve --job-root answers jobs naming files the system or Deno refuses with 400 or 403", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_serve_jobs_" }));
  try {
    await Deno.mkdir(`${dir}/locked`);
    await generate(`${dir}/locked/w.csv`, 100);
    await Deno.mkdir(`${dir}/denied`);
    await generate(`${dir}/denied/w.csv`, 100);
    await generate(`${dir}/secret.csv`, 100);
    await Deno.chmod(`${dir}/secret.csv`, 0o000); // in a directory that can be read
    await Deno.chmod(`${dir}/locked`, 0o000);
    const r = await startServe(
      ["--port", "auto", "--job-root", `${dir}/jobs`, "--job-input-dir", dir],
      {},
      [`--allow-write=${dir}/jobs`, "--allow-run=deno", `--deny-read=${dir}/denied`],
      "serve",
      unprivileged(),
    );
    assert.ok(r.port > 0, r.firstLine);
    const job = async (csv: string) => {
      const res = await fetch(`http://127.0.0.1:${r.port}/api/jobs/run-csv`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ csv }),
      });
      return { status: res.status, body: await res.json() };
    };
    const locked = await job("locked/w.csv");
    const secret = await job("secret.csv");
    // Deno's own refusal is the operator's to fix: Policy, with the path left to the log.
    const denied = await job("denied/w.csv");
    const out = await stop(r);
    assert.equal(locked.status, 400, JSON.stringify(locked.body));
    assert.deepEqual([locked.body.error, locked.body.detail], [
      "BadInput",
      'csv "locked/w.csv" cannot be read: the system refused access',
    ]);
    assert.deepEqual([secret.status, secret.body.detail], [
      400,
      'csv "secret.csv" cannot be read: the system refused access',
    ]);
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    assert.equal(denied.body.error, "Policy");
    assert.ok(!JSON.stringify(denied.body).includes(dir), JSON.stringify(denied.body));
    assert.match(out.stderr, /job refused by Deno's permissions: .*denied/);
    assert.equal(out.code, 0, out.stderr);
  } finally {
    await Deno.chmod(`${dir}/locked`, 0o755);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashmap-cli serve --job-root refuses to start unsafely or without its permissions", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_serve_jobs_" }));
  try {
    const open = await runToEnd(["--host", "0.0.0.0", "--job-root", dir], {}, [
      `--allow-write=${dir}`,
      "--allow-run=deno",
    ]);
    assert.equal(open.code, 2);
    assert.match(
      open.stderr,
      /"error":"BadInput","detail":"The job service on host \\"0.0.0.0\\" needs ADHASH_TOKEN"/,
    );
    const noRun = await runToEnd(["--port", "auto", "--job-root", dir], {}, [
      `--allow-write=${dir}`,
    ]);
    assert.equal(noRun.code, 4);
    assert.match(
      noRun.stderr,
      /"error":"Policy","detail":"The job service needs --allow-run=.*\(or =deno\)"/,
    );
    const noWrite = await runToEnd(["--port", "auto", "--job-root", dir], {}, ["--allow-run=deno"]);
    assert.equal(noWrite.code, 4);
    assert.match(noWrite.stderr, /The job service needs --allow-write=/);
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "");
    const notDir = await runToEnd(
      ["--port", "auto", "--job-root", dir, "--job-input-dir", file],
      {},
      [
        `--allow-write=${dir}`,
        "--allow-run=deno",
      ],
    );
    assert.equal(notDir.code, 2);
    assert.match(notDir.stderr, /Job input directory \\".*\/file\\" is not a directory/);
    // Given by the environment, the error says so.
    const fromEnv = await runToEnd(["--port", "auto"], { ADHASH_JOB_ROOT: file }, [
      `--allow-write=${dir}`,
      "--allow-run=deno",
    ]);
    assert.equal(fromEnv.code, 2);
    assert.match(
      fromEnv.stderr,
      /"detail":"Job root \\".*\/file\\" is not a directory","hint":"From the environment: ADHASH_JOB_ROOT"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashmap-cli serve stopped with running and waiting jobs cancels them and leaves no process", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_serve_jobs_" }));
  try {
    await generate(`${dir}/big.csv`, 1_000_000);
    const r = await startServe(
      ["--port", "auto", "--job-root", `${dir}/jobs`, "--job-input-dir", dir, "--max-jobs", "1"],
      {},
      [`--allow-write=${dir}/jobs`, "--allow-run=deno"],
    );
    const base = `http://127.0.0.1:${r.port}`;
    // A tick per op keeps each job busy for seconds.
    const body = JSON.stringify({ csv: "big.csv", metrics: false, tick_every: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${base}/api/jobs/run-csv`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
      assert.equal(res.status, 202);
      ids.push((await res.json()).id);
    }
    await waitFor(async () =>
      /Started run-csv/.test(await (await fetch(`${base}/api/jobs/${ids[0]}/logs?follow=0`)).text())
    );
    const out = await stop(r);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /shutting down/);
    const statuses = ids.map((id) =>
      JSON.parse(Deno.readTextFileSync(`${dir}/jobs/${id}/status.json`)).status
    );
    assert.deepEqual(statuses, ["cancelled", "cancelled", "cancelled"]);
    const log = Deno.readTextFileSync(`${dir}/jobs/${ids[0]}/logs.ndjson`);
    const pid = Number(/pid (\d+)/.exec(log)![1]);
    const ps = await new Deno.Command("ps", { args: ["-p", String(pid)], stdout: "null" }).output();
    assert.equal(ps.code, 1, `the job's process ${pid} still exists`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hashmap-cli serve stops on SIGTERM within its grace period while clients hold requests open", async () => {
  const r = await startServe(["--port", "auto"]);
  assert.ok(r.port > 0, r.firstLine);
  const encoder = new TextEncoder();
  // Two requests that never end on their own: a chunked body whose end never comes, and one
  // of 100 declared bytes of which 1 is sent.
  const held: Deno.TcpConn[] = [];
  for (
    const head of [
      "POST /api/jobs/run-csv HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      "Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n",
      "POST /api/jobs/run-csv HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
      "Content-Length: 100\r\n\r\n{",
    ]
  ) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
    await conn.write(encoder.encode(head));
    held.push(conn);
  }
  // Both reached the server before it is told to stop.
  await new Promise((res) => setTimeout(res, 300));
  const sent = Date.now();
  r.child.kill("SIGTERM");
  // The clients give up only long after the documented 5 s grace (and a 15 s stop timeout).
  const giveUp = setTimeout(() => held.forEach((c) => c.close()), 20_000);
  try {
    const { code } = await r.child.status;
    const took = Date.now() - sent;
    const stderr = await r.stderr;
    assert.equal(code, 0, stderr);
    assert.ok(took >= 4_500 && took < 10_000, `stopped ${took} ms after SIGTERM`);
    // The chunked one may end first as the server stops reading bodies: a client's doing, not
    // an error of the server's.
    assert.match(stderr, /[12] request\(s\) still unfinished 5 s after "?SIGTERM"?; cutting them/);
    assert.doesNotMatch(stderr, /\[ERR\]|"level":"ERROR"/);
    await r.stdout;
  } finally {
    clearTimeout(giveUp);
    for (const c of held) {
      try {
        c.close();
      } catch { /* closed when the client gave up */ }
    }
  }
});

Deno.test({
  name: "hashmap-cli serve records how a job ended when no file can be added beside it (full disk)",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_serve_jobs_" }));
    let jobDir = "";
    try {
      await generate(`${dir}/w.csv`, 2_000_000);
      const r = await startServe(
        ["--log-json", "--port", "auto", "--job-root", `${dir}/jobs`, "--job-input-dir", dir],
        {},
        [`--allow-write=${dir}/jobs`, "--allow-run=deno"],
        "serve",
        unprivileged(),
      );
      assert.ok(r.port > 0, r.firstLine);
      const base = `http://127.0.0.1:${r.port}`;
      const id = await submitRunCsv(base, "w.csv");
      await waitFor(async () =>
        (await (await fetch(`${base}/api/jobs/${id}`)).json()).status === "running"
      );
      // Like a full disk to the atomic writes: no temporary file can be made beside status.json.
      jobDir = `${dir}/jobs/${id}`;
      await Deno.chmod(jobDir, 0o555);
      let job: Record<string, unknown> = {};
      await waitFor(async () => {
        job = await (await fetch(`${base}/api/jobs/${id}`)).json();
        return job.status !== "pending" && job.status !== "running";
      }, 60_000);
      const out = await stop(r);
      assert.equal(out.code, 0, out.stderr);
      const saved = JSON.parse(await Deno.readTextFile(`${jobDir}/status.json`));
      // It said "running", and the next server would have marked the job Interrupted.
      assert.deepEqual(
        [saved.status, saved.finished_at, saved.error],
        [job.status, job.finished_at, job.error],
      );
      assert.match(out.stderr, /Saved the status of job [^ ]+ in place/);
    } finally {
      if (jobDir !== "") await Deno.chmod(jobDir, 0o755);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

linuxTest("hashmap-cli serve out of file descriptors listens again and serves", async () => {
  // Deno's HTTP server stops on EMFILE (denoland/deno#10148), dropping its connections: anyone
  // holding ~60 idle connections ended the process (an uncaught stack trace, later exit 5).
  const r = await startServe(["--port", "auto"], {}, [], "serve", UNDER_64_FDS);
  assert.ok(r.port > 0, r.firstLine);
  const conns = await idleConnections(r.port, 120);
  await waitFor(() => refused(r.port)); // the server stopped (the kernel queues 120 otherwise)
  conns.forEach((c) => c.close());
  // Their descriptors are free again once they are gone.
  await waitFor(() => healthy(r.port), 20_000);
  const { code, stderr } = await stop(r);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /Uncaught/);
  assert.match(
    stderr,
    /WRN.*The server stopped listening: .*Too many open files.*; listening again in 0\.25 s \(Raise the open-file limit \(ulimit -n; LimitNOFILE=/,
  );
  assert.match(stderr, new RegExp(`INF.*Listening again on port ${r.port}\\b`));
});

Deno.test("hashmap-cli serve stopped as soon as it prints its Dashboard line exits 0", async () => {
  // The line says the server is up; its SIGTERM listener came after it, so a supervisor that
  // stopped it right then ended it with 143 (8 of 12 tries).
  for (let i = 0; i < 8; i++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...SERVE, "--port", "auto"],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    await reader.read(); // the first bytes of the line, and not a moment more
    child.kill("SIGTERM");
    await reader.cancel();
    const { code } = await child.status;
    const stderr = await new Response(child.stderr).text();
    assert.equal(code, 0, stderr);
    assert.match(stderr, /"SIGTERM" received; shutting down/);
  }
});

Deno.test("hashmap-cli serve logs a bad --source line on one line, braces and escapes shown", async () => {
  // A tick's key with a newline forged a whole "[ERR]" record in the text log, and a truncated
  // line's braces were read as placeholders ("not valid JSON (undefined)").
  const dir = removedAtUnload(await Deno.makeTempDir());
  const crafted = structuredClone(ticks[0]!) as unknown as Record<string, Record<string, unknown>>;
  crafted.latency_hist_ms![
    "x\n2026-11-24 12:00:00.000 +00:00 [ERR] adhash·server: FORGED\n\x1b[31mred"
  ] = [{ le: "bad" }];
  await Deno.writeTextFile(
    `${dir}/m.ndjson`,
    `${JSON.stringify(crafted)}\n{"schema":"metrics.v1",\n`,
  );
  const r = await startServe(["--port", "auto", "--source", `${dir}/m.ndjson`]);
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${r.port}/healthz`);
    await res.body?.cancel();
    return res.ok;
  });
  const { code, stderr } = await stop(r);
  assert.equal(code, 0, stderr);
  assert.ok(!stderr.includes("\x1b"), JSON.stringify(stderr));
  assert.doesNotMatch(stderr, /^2026-11-24 12:00:00\.000/m);
  assert.match(stderr, /skipping line 1 of .*FORGED\\n\\u001b\[31mred/);
  assert.match(stderr, /skipping line 2 of .*: not valid JSON \(\{"schema":"metrics\.v1",\)/);
});
