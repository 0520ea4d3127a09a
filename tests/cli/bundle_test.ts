// `deno bundle` is the local stand-in for `deno compile` (which needs a runtime binary this
// machine cannot download): the CLI must work as one file, away from the source tree.
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { ROOT, runScript } from "./_run.ts";
import { readLine, removedAtUnload } from "../_helpers.ts";
import { shellWord } from "../../src/cli/self_command.ts";

/** `deno <args>` as a shell reads it (`args` are shell words), with this test's deno. */
function denoInShell(args: string, options: Deno.CommandOptions): Deno.Command {
  return new Deno.Command("sh", { ...options, args: ["-c", `exec "$0" ${args}`, Deno.execPath()] });
}

async function bundle(dir: string): Promise<string> {
  const out = `${dir}/hashmap-cli.js`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--output", out, "cli.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  return out;
}

Deno.test("the bundled hashmap-cli generates, replays and validates outside the source tree", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  try {
    const cli = await bundle(dir);
    const opts = { cwd: dir };
    const version = await runScript(cli, ["--version"], opts);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), denoJson.version);

    const gen = await runScript(
      cli,
      ["generate-csv", "--outfile", "w/w.csv", "--ops", "5000"],
      opts,
    );
    assert.equal(gen.code, 0, gen.stderr);
    const run = await runScript(cli, [
      "--json",
      "run-csv",
      "--csv",
      "w/w.csv",
      "--metrics-out-dir",
      "m",
    ], opts);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim());
    assert.equal(summary.ok, true);
    assert.equal(summary.total_ops, 5000);
    const valid = await runScript(cli, ["validate-metrics", "m/metrics.ndjson"], opts);
    assert.equal(valid.code, 0, valid.stderr);
    assert.match(valid.stdout, /6 metrics\.v1 ticks valid/);

    // The live server's worker module is not in the bundle: run-csv falls back to serving
    // from the replay's thread, and says so.
    const live = await runScript(cli, ["run-csv", "--csv", "w/w.csv", "--metrics-port", "auto"], {
      ...opts,
      perms: [
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        "--allow-net=127.0.0.1",
      ],
    });
    assert.equal(live.code, 0, live.stderr);
    assert.match(live.stderr, /Dashboard: http:\/\/localhost:\d+\//);
    assert.doesNotMatch(live.stderr, /Uncaught|Module not found/);
    assert.match(live.stderr, /\[WRN\].*\(src\/server\/live_worker\.ts\) could not start/);

    const bad = await runScript(cli, ["run-csv", "--csv", "missing.csv"], opts);
    assert.equal(bad.code, 5);
    assert.equal(bad.envelope?.error, "IO");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the bundled hashmap-cli's demo ends with commands that work outside the source tree", async () => {
  // They read `deno task ...`, which needs the project's deno.json.
  const dir = removedAtUnload(await Deno.makeTempDir());
  try {
    const cli = await bundle(dir);
    const demo = await runScript(cli, ["demo", "--ops", "20000", "--out-dir", "d"], { cwd: dir });
    assert.equal(demo.code, 0, demo.stderr);
    const line = (name: string) => new RegExp(`^${name}: +deno (.*)$`, "m").exec(demo.stdout)?.[1];
    const validate = line("validate");
    assert.equal(
      validate,
      `run --allow-read ${shellWord(cli)} validate-metrics d/adaptive/metrics.ndjson`,
    );
    const v = await denoInShell(validate, {
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(v.code, 0, new TextDecoder().decode(v.stderr));
    assert.match(new TextDecoder().decode(v.stdout), /^OK: \d+ metrics\.v1 ticks valid/);

    const probe = line("probe");
    assert.match(
      probe ?? "",
      new RegExp(
        `^run --allow-read --allow-env ${RegExp.escape(shellWord(cli))} probe-visualize ` +
          "--key K\\d+ --snapshot d/adaptive/map\\.snap$",
      ),
    );
    const p = await denoInShell(probe!, { cwd: dir, stdout: "piped", stderr: "piped" }).output();
    assert.equal(p.code, 0, new TextDecoder().decode(p.stderr));
    assert.match(new TextDecoder().decode(p.stdout), /^Result: match \(found: true\)$/m);

    const dashboard = line("dashboard");
    const perms = "--allow-read --allow-env --allow-net --allow-sys";
    assert.equal(
      dashboard,
      `run ${perms} ${shellWord(cli)} serve --source d/adaptive/metrics.ndjson`,
    );
    const server = denoInShell(`${dashboard} --port auto`, {
      cwd: dir,
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const first = await reader.read();
    server.kill("SIGTERM");
    await reader.cancel();
    assert.equal((await server.status).code, 0);
    assert.match(String(first.value), /^Dashboard: http:\/\/localhost:\d+\//);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the bundled hashmap-cli serves the embedded dashboard with no files beside it", async () => {
  const dir = removedAtUnload(await Deno.makeTempDir());
  const cli = await bundle(dir);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-net=127.0.0.1",
      "--allow-sys",
      cli,
      "serve",
      "--port",
      "auto",
    ],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const text = await readLine(reader);
    reader.releaseLock();
    const m = text.match(/^Dashboard: http:\/\/localhost:(\d+)\//);
    assert.ok(m, `first line: ${JSON.stringify(text)}`);
    const page = await fetch(`http://127.0.0.1:${m[1]}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Mission Control/);
    const health = await fetch(`http://127.0.0.1:${m[1]}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    child.kill("SIGTERM");
    await child.status;
    // Nor is the snapshot worker's module: inspections run on the server's thread, logged.
    const stderr = await new Response(child.stderr).text();
    assert.match(stderr, /inspections "on this thread"/);
    assert.match(stderr, /\[WRN\].*snapshot_worker\.ts is not in this build/);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* already ended */ }
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
