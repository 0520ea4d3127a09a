import assert from "node:assert/strict";
import { ROOT, runCli, runScript, tempDir } from "./_run.ts";

function assertEnvelope(
  r: { code: number; envelope: Record<string, unknown> | null; stderr: string },
  code: string,
  exit: number,
  detail?: RegExp,
): void {
  assert.equal(r.code, exit, `exit code; stderr:\n${r.stderr}`);
  assert.ok(r.envelope, `last stderr line is not JSON:\n${r.stderr}`);
  assert.equal(r.envelope.error, code);
  assert.equal(typeof r.envelope.detail, "string");
  if (detail) assert.match(r.envelope.detail as string, detail);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

Deno.test("cli --help lists the commands and exits 0", async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0);
  for (const c of ["generate-csv", "run-csv", "validate-metrics", "demo"]) {
    assert.match(r.stdout, new RegExp(c));
  }
  assert.match(r.stdout, /--mode <mode>/);
});

Deno.test("cli --version prints the package version", async () => {
  const r = await runCli(["--version"]);
  assert.equal(r.code, 0);
  const { version } = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.equal(r.stdout.trim(), version);
});

Deno.test("cli subcommand --help works for every command of this issue", async () => {
  for (const c of ["generate-csv", "run-csv", "validate-metrics", "demo"]) {
    const r = await runCli([c, "--help"]);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, new RegExp(`Usage: hashmap-cli ${c}`));
  }
});

Deno.test("cli unknown command is a BadInput envelope with exit 2", async () => {
  const r = await runCli(["frobnicate"]);
  assertEnvelope(r, "BadInput", 2, /unknown command 'frobnicate'/);
  assert.equal(r.envelope!.hint, "Run 'hashmap-cli --help' for usage");
  assert.equal(r.stdout, "");
});

Deno.test("cli a mistake in a command's own line points to that command's help", async () => {
  for (
    const args of [
      ["run-csv", "--bogus"],
      ["probe-visualize", "--operation", "look"],
      ["validate-metrics"],
      ["get", "a", "b"],
    ]
  ) {
    const r = await runCli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.envelope!.hint, `Run 'hashmap-cli ${args[0]} --help' for usage`);
  }
  const help = await runCli(["probe-visualize", "--help"]);
  assert.match(help.stdout, /^Usage: hashmap-cli probe-visualize/);
  // --operation is get unless given, as /api/probe's op.
  const get = await runCli(["probe-visualize", "--key", "K42", "--seed", "K42=v"]);
  assert.equal(get.code, 0, get.stderr);
  assert.match(get.stdout, /\] GET key='K42'/);
  assert.match(get.stdout, /^Result: match \(found: true\)$/m);
});

Deno.test("cli without a command prints help on stderr and exits 2", async () => {
  const r = await runCli([]);
  assertEnvelope(r, "BadInput", 2, /no command/);
  assert.match(r.stderr, /Usage: hashmap-cli/);
});

Deno.test("cli bad flag values are BadInput envelopes", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--mode", "turbo", "demo"], /--mode.*'turbo'/],
    [["generate-csv", "--outfile", "x.csv", "--ops", "-1"], /'-1' is not an integer/],
    [["generate-csv", "--outfile", "x.csv", "--read-ratio", "1.5"], /'1.5' is not a number/],
    [["generate-csv", "--outfile", "x.csv", "--adversarial-lowbits", "0"], /'0'/],
    [["generate-csv", "--outfile", "x.csv", "--bogus"], /unknown option '--bogus'/],
    [["generate-csv"], /--outfile/],
    [["run-csv", "--csv", "x.csv", "--latency-buckets", "nano"], /nano/],
    [["run-csv", "--csv", "x.csv", "--tick-every", "0"], /'0'/],
    // An empty reservoir would report latencies of 0 for ops it timed.
    [["run-csv", "--csv", "x.csv", "--latency-sample-k", "0"], /'0' is not an integer in \[1,/],
    [["validate-metrics"], /missing required argument/],
  ];
  for (const [args, detail] of cases) {
    const r = await runCli(args);
    assertEnvelope(r, "BadInput", 2, detail);
  }
});

Deno.test("cli global flags work before and after the subcommand", async () => {
  const dir = tempDir();
  const before = await runCli([
    "--json",
    "generate-csv",
    "--outfile",
    `${dir}/a.csv`,
    "--ops",
    "5",
  ]);
  const after = await runCli(["generate-csv", "--outfile", `${dir}/b.csv`, "--ops", "5", "--json"]);
  for (const r of [before, after]) {
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const env = JSON.parse(lines[0]!);
    assert.equal(env.ok, true);
    assert.equal(env.command, "generate-csv");
    assert.equal(env.rows, 5);
  }
  const mode = await runCli([
    "run-csv",
    "--csv",
    `${dir}/a.csv`,
    "--mode",
    "fast-lookup",
    "--json",
  ]);
  assert.equal(mode.code, 0, mode.stderr);
  assert.equal(JSON.parse(mode.stdout).final_backend, "robinhood");
  assert.equal(JSON.parse(mode.stdout).mode, "fast-lookup");
});

Deno.test("cli config errors are BadInput envelopes naming the key", async () => {
  const dir = tempDir();
  const csv = `${dir}/w.csv`;
  await Deno.writeTextFile(csv, "op,key,value\nput,a,1\n");
  await Deno.writeTextFile(`${dir}/unknown.toml`, "[adaptive]\nmax_lf = 0.5\n");
  await Deno.writeTextFile(`${dir}/badvalue.toml`, "[watchdog]\nload_factor_warn = -1\n");
  await Deno.writeTextFile(`${dir}/section.toml`, "[turbo]\nx = 1\n");
  await Deno.writeTextFile(`${dir}/syntax.toml`, "[adaptive\n");
  await Deno.writeTextFile(`${dir}/ok.toml`, "[adaptive]\nmax_lf_chaining = 0.5\n");
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [["--config", `${dir}/unknown.toml`], {}, /adaptive\.max_lf/],
    [["--config", `${dir}/badvalue.toml`], {}, /watchdog\.load_factor_warn/],
    [["--config", `${dir}/section.toml`], {}, /'turbo'/],
    [["--config", `${dir}/syntax.toml`], {}, /Invalid TOML/],
    [["--config", `${dir}/missing.toml`], {}, /not found/],
    [["--config", dir], {}, /is a directory, not a TOML file$/],
    [[], { ADHASH_CONFIG: `${dir}/unknown.toml` }, /adaptive\.max_lf/],
    [[], { ADAPTIVE_MAX_LF_CHAINING: "lots" }, /ADAPTIVE_MAX_LF_CHAINING/],
    [[], { WATCHDOG_NOPE: "1" }, /WATCHDOG_NOPE/],
    [[], { ADAPTIVE_: "lots" }, /Unknown environment override ADAPTIVE_ /],
  ];
  for (const [flags, env, detail] of cases) {
    const r = await runCli(["run-csv", "--csv", csv, ...flags], { env });
    assertEnvelope(r, "BadInput", 2, detail);
    assert.match(
      String(r.envelope?.hint),
      /^(From the environment: ADHASH_CONFIG\. )?See docs\/config\.md/,
    );
  }
  // A value from the environment says so: nothing on the command line names it.
  const fromEnv = await runCli(["run-csv", "--csv", csv], {
    env: { ADHASH_CONFIG: `${dir}/missing.toml` },
  });
  assertEnvelope(fromEnv, "BadInput", 2, /^Config file not found: /);
  assert.match(String(fromEnv.envelope?.hint), /^From the environment: ADHASH_CONFIG\. /);
  // ...but not on an error the file did not cause.
  const other = await runCli(["run-csv", "--csv", csv], {
    env: { ADHASH_CONFIG: `${dir}/ok.toml`, ADAPTIVE_TURBO: "1" },
  });
  assertEnvelope(other, "BadInput", 2, /^Unknown environment override ADAPTIVE_TURBO/);
  assert.equal(other.envelope?.hint, "See docs/config.md");
  // Set but empty, as `ADHASH_CONFIG=$(cat missing)` leaves it: an error, not the defaults.
  assertEnvelope(
    await runCli(["run-csv", "--csv", csv], { env: { ADHASH_CONFIG: "" } }),
    "BadInput",
    2,
    /value '' from env 'ADHASH_CONFIG' is invalid\. A path cannot be empty\./,
  );
  // systemd sets these for a unit with WatchdogSec=: they are not adhash's overrides.
  const systemd = await runCli(["run-csv", "--csv", csv], {
    env: { WATCHDOG_USEC: "30000000", WATCHDOG_PID: "1" },
  });
  assert.equal(systemd.code, 0, systemd.stderr);
});

Deno.test("cli config and env overrides reach the adaptive map", async () => {
  const dir = tempDir();
  const csv = `${dir}/w.csv`;
  const rows = ["op,key,value"];
  for (let i = 0; i < 3000; i++) rows.push(`put,k${i},${i}`);
  await Deno.writeTextFile(csv, rows.join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/rh.toml`, '[adaptive]\nstart_backend = "robinhood"\n');
  const viaFile = await runCli(["--json", "--config", `${dir}/rh.toml`, "run-csv", "--csv", csv]);
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.equal(JSON.parse(viaFile.stdout).final_backend, "robinhood");
  assert.equal(JSON.parse(viaFile.stdout).migrations_triggered, 0);
  // The env override wins over the file.
  const viaEnv = await runCli(["--json", "--config", `${dir}/rh.toml`, "run-csv", "--csv", csv], {
    env: { ADAPTIVE_START_BACKEND: "chaining", ADAPTIVE_MAX_LF_CHAINING: "0.5" },
  });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const s = JSON.parse(viaEnv.stdout);
  assert.equal(s.final_backend, "robinhood");
  assert.ok(s.migrations_triggered >= 1, "chaining at max load 0.5 migrates");
});

Deno.test("cli unexpected errors are an Internal envelope without stack unless ADHASH_DEBUG=1", async () => {
  const script = `${ROOT}tests/cli/_crash_cli.ts`;
  const plain = await runScript(script, ["crash"], { env: { ADHASH_DEBUG: "0" } });
  assertEnvelope(plain, "Internal", 1, /TypeError: boom/);
  const debug = await runScript(script, ["crash"], { env: { ADHASH_DEBUG: "1" } });
  assert.equal(debug.code, 1);
  assert.equal(debug.envelope?.error, "Internal");
  assert.match(debug.stderr, /^\s+at /m, "stack trace with ADHASH_DEBUG=1");
});

Deno.test("cli --log-json writes JSON log lines and --log-file writes a log file", async () => {
  const dir = tempDir();
  const r = await runCli([
    "--log-json",
    "--log-file",
    `${dir}/logs/today/adhash.log`, // directories created as generate-csv creates its own
    "generate-csv",
    "--outfile",
    `${dir}/a.csv`,
    "--ops",
    "10",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const logLine = r.stderr.trim().split("\n").find((l) => l.includes("Wrote"));
  assert.ok(logLine, r.stderr);
  const rec = JSON.parse(logLine);
  assert.equal(rec.level, "INFO");
  assert.match(rec.message, /Wrote 10 rows/);
  const file = await Deno.readTextFile(`${dir}/logs/today/adhash.log`);
  assert.match(file, /Wrote 10 rows/);
});

Deno.test("cli a denied permission is a Policy envelope with exit 4", async () => {
  const dir = tempDir();
  const r = await runCli(["generate-csv", "--outfile", `${dir}/x.csv`, "--ops", "3"], {
    perms: ["--allow-read", "--allow-env"],
  });
  assertEnvelope(r, "Policy", 4, /write access/);
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  const config = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    const denied = await runCli(["--config", config, "get", "--snapshot", `${dir}/s.bin`, "K"], {
      perms: [`--allow-read=${dir}`, "--allow-env"],
    });
    assertEnvelope(denied, "Policy", 4, /read access/);
  } finally {
    await Deno.remove(config);
  }
});

Deno.test("cli --log-file rotates at --log-max-bytes keeping --log-backup-count files", async () => {
  const dir = tempDir();
  for (let i = 0; i < 4; i++) {
    const r = await runCli([
      "--log-file",
      `${dir}/a.log`,
      "--log-max-bytes",
      "150",
      "--log-backup-count",
      "2",
      "generate-csv",
      "--outfile",
      `${dir}/x.csv`,
      "--ops",
      "3",
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("a.log"));
  assert.deepEqual(names.sort(), ["a.log", "a.log.1", "a.log.2"]);
});

Deno.test("run-csv's text summary shows latencies in µs and the map's tombstones, as its JSON has them, and no table without samples", async () => {
  const dir = tempDir();
  try {
    const rows = ["op,key,value"];
    for (let i = 0; i < 3000; i++) rows.push(`put,K${i},${i}`);
    for (let i = 0; i < 1000; i++) rows.push(`del,K${i},`, `get,K${i + 1000},`);
    await Deno.writeTextFile(`${dir}/w.csv`, rows.join("\n") + "\n");
    await Deno.writeTextFile(
      `${dir}/c.toml`,
      '[adaptive]\nstart_backend = "robinhood"\nrh_deletion = "tombstone"\nmax_tombstone_ratio = 1.0\n',
    );
    const r = await runCli([
      "--config",
      `${dir}/c.toml`,
      "run-csv",
      "--csv",
      `${dir}/w.csv`,
      "--json-summary-out",
      `${dir}/s.json`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(await Deno.readTextFile(`${dir}/s.json`));
    assert.ok(s.final_stats.tombstones > 0, "the workload leaves tombstones");
    const [head, ...lat] = r.stdout.split("\n").slice(3, 8);
    assert.match(head!, /^latency \(µs, 1 op in \d+ sampled\) +p50 +p90 +p99$/);
    for (const [i, op] of ["overall", "put", "get", "del"].entries()) {
      const cells = lat[i]!.trim().split(/ +/);
      assert.equal(cells[0], op);
      for (const [j, q] of ["p50", "p90", "p99"].entries()) {
        const us = s.latency_ms[op][q] * 1000;
        const shown = Number(cells[j + 1]!.replaceAll(",", ""));
        assert.ok(Math.abs(shown - us) <= us * 0.005 + 1e-9, `${op} ${q}: ${shown} vs ${us} µs`);
      }
    }
    assert.match(
      r.stdout,
      new RegExp(`\\nmap: 2000 entries, [^\\n]*, ${s.final_stats.tombstones} tombstones, `),
    );
    // Without samples there is no table of zeros to mistake for latencies.
    const unsampled = await runCli([
      "run-csv",
      "--csv",
      `${dir}/w.csv`,
      "--latency-sample-every",
      "0",
    ]);
    assert.equal(unsampled.code, 0, unsampled.stderr);
    const lines = unsampled.stdout.split("\n");
    assert.equal(lines[3], "latency: not sampled (--latency-sample-every 0)");
    assert.match(lines[4]!, /^map: /);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("cli a failure whose stderr reader has gone still exits with the error's code", async () => {
  for (
    const [args, code] of [[["frobnicate"], 2], [
      ["run-csv", "--csv", "/nonexistent.csv"],
      5,
    ]] as const
  ) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        `${ROOT}cli.ts`,
        ...args,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await child.stderr.cancel(); // the reader goes away before the envelope is written
    assert.equal((await child.status).code, code, args.join(" "));
  }
});

Deno.test("a flag given that would do nothing for want of another is refused, from the environment let be", async () => {
  const dir = tempDir();
  const csv = `${dir}/w.csv`;
  await Deno.writeTextFile(csv, "op,key,value\nput,a,1\n");
  const cases: Array<[string[], string, string]> = [
    [
      ["--log-max-bytes", "100", "generate-csv", "--ops", "1", "--outfile", "-"],
      "--log-max-bytes",
      "--log-file",
    ],
    [
      ["generate-csv", "--ops", "1", "--outfile", "-", "--log-backup-count", "2"],
      "--log-backup-count",
      "--log-file",
    ],
    [
      ["run-csv", "--csv", csv, "--metrics-max-ticks", "3"],
      "--metrics-max-ticks",
      "--metrics-out-dir",
    ],
    [["run-csv", "--csv", csv, "--metrics-host", "127.0.0.1"], "--metrics-host", "--metrics-port"],
    [["run-csv", "--csv", csv, "--metrics-linger", "5"], "--metrics-linger", "--metrics-port"],
    [["run-csv", "--csv", csv, "--metrics-history", "5"], "--metrics-history", "--metrics-port"],
    [["workload-dna", "--csv", csv, "--pretty"], "--pretty", "--json-out"],
    [
      ["generate-csv", "--ops", "1", "--outfile", "-", "--adversarial-lowbits", "4"],
      "--adversarial-lowbits",
      "--adversarial-ratio above 0",
    ],
    [
      ["probe-visualize", "--operation", "get", "--key", "a", "--value", "1"],
      "--value",
      "--operation put",
    ],
    [["serve", "--port", "auto", "--max-jobs", "2"], "--max-jobs", "--job-root"],
    [["serve", "--port", "auto", "--job-input-dir", dir], "--job-input-dir", "--job-root"],
    [["serve", "--port", "auto", "--job-max-bytes", "1000"], "--job-max-bytes", "--job-root"],
    [
      ["serve", "--port", "auto", "--source", csv, "--poll-interval", "1"],
      "--poll-interval",
      "--follow",
    ],
    [["config-wizard", "--outfile", "-", "--force"], "--force", "--outfile FILE"],
  ];
  for (const [args, flag, needs] of cases) {
    const r = await runCli(args, { stdin: "" });
    assertEnvelope(r, "BadInput", 2, new RegExp(`^${flag} is only used with ${needs}$`));
    assert.equal(r.envelope!.hint, `Add ${needs}, or drop ${flag}`);
    assert.equal(r.stdout, "", args.join(" "));
  }
  const noFiles = await runCli(["ab-compare", "--csv", csv, "--no-artifacts", "--out-dir", dir]);
  assertEnvelope(noFiles, "BadInput", 2, /^--no-artifacts writes no file, yet --out-dir is given$/);
  // A variable serves every run: ADHASH_METRICS_HOST, set for serve, leaves run-csv alone.
  const env = await runCli(["run-csv", "--csv", csv], {
    env: { ADHASH_METRICS_HOST: "127.0.0.1" },
  });
  assert.equal(env.code, 0, env.stderr);
  // With what they need, the same flags are taken.
  const ok = await runCli([
    "--log-file",
    `${dir}/log`,
    "--log-max-bytes",
    "100000",
    "run-csv",
    "--csv",
    csv,
    "--metrics-out-dir",
    `${dir}/m`,
    "--metrics-max-ticks",
    "3",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
});
