import assert from "node:assert/strict";
import { readLine, withTempDir } from "../_helpers.ts";
import { filePath } from "../../src/cli/self_command.ts";

const CLI = filePath(new URL("../../cli.ts", import.meta.url));
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-sys"];

/** Starts `cli.ts <args>` and resolves once its first stdout line (the Dashboard URL) is out. */
async function startServe(args: string[]): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, CLI, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const buf = await readLine(reader);
  await reader.cancel();
  assert.match(buf, /^Dashboard: /);
  return child;
}

async function waitForText(path: string, re: RegExp, ms = 5_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch { /* not created yet */ }
    if (re.test(text) || Date.now() > end) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("--log-file has each record as soon as it is logged, so SIGKILL loses none", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/serve.log`;
    const child = await startServe(["--log-json", "--log-file", file, "serve", "--port", "auto"]);
    try {
      // A quiet server: nothing more is logged after the start line, which must not wait in a
      // buffer for a later record or a full one.
      const text = await waitForText(file, /serving on/);
      assert.match(text, /serving on/, "the start line is in the file while the server runs");
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    const lines = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].level, "INFO");
  });
});

Deno.test("--log-file rotates before a record would pass --log-max-bytes and keeps no empty file", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/serve.log`;
    // A log made private: every file rotation makes keeps its mode.
    await Deno.writeTextFile(file, "");
    Deno.chmodSync(file, 0o600);
    // 60 lines that are not metrics.v1: one warning (~150 bytes) each.
    const source = `${dir}/bad.ndjson`;
    await Deno.writeTextFile(source, "{not json\n".repeat(60));
    const child = await startServe([
      "--log-json",
      "--log-file",
      file,
      "--log-max-bytes",
      "2000",
      "--log-backup-count",
      "2",
      "serve",
      "--port",
      "auto",
      "--source",
      source,
    ]);
    await waitForText(file, /skipping line 60 /);
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["bad.ndjson", "serve.log", "serve.log.1", "serve.log.2"]);
    for (const name of ["serve.log", "serve.log.1", "serve.log.2"]) {
      const info = Deno.statSync(`${dir}/${name}`);
      assert.ok(info.size > 0 && info.size <= 2000, `${name} has ${info.size} bytes`);
      if (Deno.build.os !== "windows") assert.equal((info.mode! & 0o777).toString(8), "600", name);
    }
    // Whole records only, and the newest last.
    const kept = ["serve.log.2", "serve.log.1", "serve.log"].flatMap((n) =>
      Deno.readTextFileSync(`${dir}/${n}`).trim().split("\n").map((l) => JSON.parse(l).message)
    );
    assert.match(kept.at(-1)!, /shutting down/);
  });
});

Deno.test("--log-file records why a command failed: serve that cannot start, a run-csv", async () => {
  await withTempDir(async (dir) => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    try {
      const file = `${dir}/serve.log`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...PERMS,
          CLI,
          "--log-json",
          "--log-file",
          file,
          "serve",
          "--port",
          `${port}`,
        ],
        env: { NO_COLOR: "1" },
        stdout: "null",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 5);
      const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
      assert.equal(stderr.length, 1, "stderr has the envelope alone, not the log line as well");
      const [record] = (await Deno.readTextFile(file)).trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(record.level, "ERROR");
      assert.deepEqual(
        [record.properties.exit_code, record.properties.error, record.properties.detail],
        [5, "IO", `Address 127.0.0.1:${port} is already in use`],
      );
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...PERMS,
          CLI,
          "--log-json",
          "--log-file",
          `${dir}/run.log`,
          "run-csv",
          "--csv",
          "none.csv",
        ],
        env: { NO_COLOR: "1" },
        stdout: "null",
        stderr: "null",
      }).output();
      assert.equal(run.code, 5);
      const last = JSON.parse(
        (await Deno.readTextFile(`${dir}/run.log`)).trim().split("\n").at(-1)!,
      );
      assert.deepEqual(
        [last.level, last.properties.command, last.properties.exit_code, last.properties.detail],
        ["ERROR", "run-csv", 5, "CSV file not found: 'none.csv'"],
      );
    } finally {
      busy.close();
    }
  });
});

Deno.test({
  name: "a log file that cannot be written is said once on stderr, and the command goes on",
  ignore: Deno.build.os !== "linux", // /dev/full: every write fails with ENOSPC
  fn: async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", filePath(new URL("./_full_disk.ts", import.meta.url))],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(new TextDecoder().decode(out.stdout), "done\n");
    const said = stderr.split("\n").filter((l) => l.includes("cannot write the log file"));
    assert.equal(said.length, 1, stderr);
    assert.match(
      said[0]!,
      /^adhash: cannot write the log file '\/dev\/full': .*logging to it stops$/,
    );
    assert.doesNotMatch(stderr, /FTL|^ {4}at /m); // no logtape meta error, no stack trace
    // stderr keeps every record.
    assert.equal(stderr.split("\n").filter((l) => l.includes('"record')).length, 3, stderr);
  },
});

Deno.test("a --log-file that cannot be opened is IO naming it, as any output", async () => {
  await withTempDir(async (dir) => {
    // A name of 300 bytes: the system's own message (`File name too long`) names no file.
    const file = `${dir}/${"l".repeat(296)}.log`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMS, CLI, "--log-file", file, "get", "k"],
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 5);
    const envelope = JSON.parse(new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)!);
    assert.equal(envelope.error, "IO");
    assert.ok(envelope.detail.startsWith(`Cannot write '${file}': `), envelope.detail);
    assert.match(envelope.detail, /: File name too long \(os error \d+\)$/); // 63 on macOS
  });
});
