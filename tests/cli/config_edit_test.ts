import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { type CliRun, runCli, successData } from "./_run.ts";
import { ConfigPresets, ConfigResult } from "../../src/contracts/config_edit.ts";
import { BUILTIN_PRESETS } from "../../src/config/presets.ts";
import { CONFIG_KEYS } from "../../src/config/keys.ts";
import type { RunSummary } from "../../src/contracts/run_summary.ts";
import { GENERATE_DEFAULTS, generateCsvChunks } from "../../src/workload/generate.ts";
import { withTempDir } from "../_helpers.ts";

/** A TOML text as plain objects (the parser's have no prototype). */
function toml(text: string): unknown {
  return JSON.parse(JSON.stringify(parseToml(text)));
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/**
 * A workload of 5,000 rows on 350 uniform keys, all of them put: 350 live keys fill the
 * default 512 chains to 0.68, below the 0.82 trigger and above latency-first's 0.5.
 */
function smallWorkload(dir: string): string {
  const path = `${dir}/w.csv`;
  const f = Deno.openSync(path, { write: true, create: true, truncate: true });
  try {
    const o = { ...GENERATE_DEFAULTS, ops: 5000, keySpace: 350, readRatio: 0.5, delRatio: 0 };
    for (const chunk of generateCsvChunks({ ...o, seed: 7 })) f.writeSync(chunk);
  } finally {
    f.close();
  }
  return path;
}

/** The `run-csv --json` summary of `csv` under `config` (none: the defaults). */
async function replay(csv: string, config?: string): Promise<RunSummary> {
  const r = await runCli([
    "run-csv",
    "--csv",
    csv,
    ...(config === undefined ? [] : ["--config", config]),
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return successData(r.stdout, "run-csv") as unknown as RunSummary;
}

function resultOf(r: CliRun, command = "config-edit"): ConfigResult {
  assert.equal(r.code, 0, r.stderr);
  return ConfigResult.parse(successData(r.stdout, command));
}

function assertFails(r: CliRun, code: number, error: string, detail: string, hint?: string): void {
  assert.equal(r.code, code, r.stderr);
  assert.equal(r.stdout, "");
  assert.deepEqual(r.envelope, { error, detail, ...(hint === undefined ? {} : { hint }) });
}

Deno.test("config-edit --set writes sections in schema order with defaults beside the values", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/c.toml`;
    const r = await runCli([
      "config-edit",
      "--outfile",
      out,
      "--set",
      "watchdog.enabled=false",
      "--set",
      "adaptive.max_avg_probe_robinhood=5",
      "--set",
      "adaptive.start_backend=robinhood",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `config-edit: wrote ${out} (from the defaults)\n` +
        `  adaptive.start_backend: default "chaining" -> "robinhood"\n` +
        `  adaptive.max_avg_probe_robinhood: default 6.0 -> 5.0\n` +
        `  watchdog.enabled: default true -> false\n`,
    );
    const text = Deno.readTextFileSync(out);
    const lines = text.split("\n");
    assert.equal(lines[0], "# adhash configuration, written by hashmap-cli config-edit.");
    const body = lines.filter((l) => l !== "" && !l.startsWith("#"));
    assert.deepEqual(body, [
      "[adaptive]",
      'start_backend = "robinhood"    # default "chaining"',
      "max_avg_probe_robinhood = 5.0  # default 6.0",
      "[watchdog]",
      "enabled = false  # default true",
    ]);
    assert.deepEqual(toml(text), {
      adaptive: { start_backend: "robinhood", max_avg_probe_robinhood: 5 },
      watchdog: { enabled: false },
    });
    assert.deepEqual(names(dir), ["c.toml"], "no temporary file left");
  });
});

Deno.test("config-edit output loads with --config and changes how run-csv replays", async () => {
  await withTempDir(async (dir) => {
    const csv = smallWorkload(dir);
    const out = `${dir}/c.toml`;
    const r = await runCli([
      "config-edit",
      "--outfile",
      out,
      "--set",
      "adaptive.max_lf_chaining=0.6",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const before = await replay(csv);
    const after = await replay(csv, out);
    assert.deepEqual([before.final_backend, before.migrations_triggered], ["chaining", 0]);
    assert.deepEqual([after.final_backend, after.migrations_triggered], ["robinhood", 1]);
  });
});

Deno.test("config-edit --unset and --set edit --infile in place with --force; --json lists the changes", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/c.toml`;
    Deno.writeTextFileSync(
      file,
      '[adaptive]\nmax_group_len = 12\nrh_deletion = "tombstone"\n[watchdog]\navg_probe_warn = 7.5\n',
    );
    const args = [
      "config-edit",
      "--infile",
      file,
      "--outfile",
      file,
      "--unset",
      "adaptive.rh_deletion",
      "--set",
      "adaptive.max_group_len=10",
      "--set",
      "watchdog.tombstone_ratio_warn=0.5",
      "--json",
    ];
    const refused = await runCli(args);
    assertFails(
      refused,
      4,
      "Policy",
      `--outfile '${file}' exists; nothing was written`,
      "Add --force to replace it",
    );
    const result = resultOf(await runCli([...args, "--force"]));
    assert.deepEqual(result.config, {
      adaptive: { max_group_len: 10 },
      watchdog: { avg_probe_warn: 7.5, tombstone_ratio_warn: 0.5 },
    });
    assert.deepEqual(result.changes, [
      { key: "adaptive.max_group_len", before: 12, after: 10 },
      { key: "adaptive.rh_deletion", before: "tombstone", after: null },
      { key: "watchdog.tombstone_ratio_warn", before: null, after: 0.5 },
    ]);
    assert.deepEqual([result.infile, result.outfile, result.preset_saved], [file, file, null]);
    assert.deepEqual(toml(Deno.readTextFileSync(file)), result.config);
  });
});

Deno.test("config-edit refuses bad keys and values with the key and the value quoted, writing nothing", async () => {
  await withTempDir(async (dir) => {
    const hint = "See docs/config.md";
    const adaptiveKeys = CONFIG_KEYS.filter((k) => k.section === "adaptive").map((k) => k.name);
    const cases: Array<[string[], string, string]> = [
      [
        ["--set", "adaptive.max_lf_chaining=9"],
        `Invalid value "9" for 'adaptive.max_lf_chaining' in --set ` +
        `"adaptive.max_lf_chaining=9": Too big: expected number to be <=8`,
        hint,
      ],
      [
        ["--set", "watchdog.enabled=yes"],
        `Invalid value "yes" for 'watchdog.enabled' in --set "watchdog.enabled=yes": ` +
        "Invalid input: expected boolean, received string",
        hint,
      ],
      [
        ["--set", "adaptive.max_lf=0.9"],
        `Unknown config key 'adaptive.max_lf' in --set "adaptive.max_lf=0.9": [adaptive] has ` +
        adaptiveKeys.join(", "),
        hint,
      ],
      [
        ["--unset", "turbo"],
        `Unknown config key 'turbo' in --unset "turbo": keys are section.key, the sections ` +
        "[adaptive] and [watchdog]",
        hint,
      ],
      [
        ["--set", "adaptive.max_group_len"],
        `--set "adaptive.max_group_len" is not key=value`,
        "See docs/config.md: e.g. --set adaptive.max_lf_chaining=0.7",
      ],
      [
        ["--set", "adaptive.max_group_len=3", "--unset", "adaptive.max_group_len"],
        "'adaptive.max_group_len' is given to both --set and --unset",
        "Keep one of them",
      ],
      // Each value fits alone; together they break initial_buckets * groups_per_bucket <= 2^30.
      [
        ["--set", "adaptive.initial_buckets=1048576", "--set", "adaptive.groups_per_bucket=2048"],
        "The edited configuration is invalid: Invalid config key 'adaptive.initial_buckets': " +
        "policy.initialBuckets must be at most 2^30 / groupsPerBucket: received 1048576",
        hint,
      ],
    ];
    for (const [args, detail, caseHint] of cases) {
      const r = await runCli(["config-edit", "--outfile", `${dir}/c.toml`, ...args]);
      assertFails(r, 2, "BadInput", detail, caseHint);
    }
    assertFails(
      await runCli(["config-edit", "--set", "adaptive.max_group_len=3"]),
      2,
      "BadInput",
      "config-edit writes nothing without --outfile or --save-preset",
      "Give --outfile PATH (- for stdout), --save-preset NAME, or --list-presets",
    );
    assert.deepEqual(names(dir), []);
  });
});

Deno.test("config-edit refuses an --infile that --config would refuse, with the loader's message", async () => {
  await withTempDir(async (dir) => {
    const bad = `${dir}/bad.toml`;
    Deno.writeTextFileSync(bad, "[adaptive]\nmax_lf = 0.9\n");
    const viaEdit = await runCli(["config-edit", "--infile", bad, "--outfile", `${dir}/out.toml`]);
    const viaConfig = await runCli(["--config", bad, "config-edit", "--list-presets"]);
    assertFails(
      viaEdit,
      2,
      "BadInput",
      `Invalid config '${bad}': unknown key 'adaptive.max_lf'`,
      "See docs/config.md",
    );
    assert.deepEqual(viaEdit.envelope, viaConfig.envelope);
    const missing = await runCli(["config-edit", "--infile", `${dir}/no.toml`, "--outfile", "-"]);
    assertFails(
      missing,
      2,
      "BadInput",
      `Config file not found: '${dir}/no.toml'`,
      "See docs/config.md",
    );
    assert.deepEqual(names(dir), ["bad.toml"]);
  });
});

Deno.test("config-edit --outfile - prints the TOML on stdout, and refuses it with --json", async () => {
  const r = await runCli(["config-edit", "--outfile", "-", "--set", "adaptive.max_group_len=6"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.match(r.stdout, /^# adhash configuration, written by hashmap-cli config-edit\.\n/);
  assert.deepEqual(toml(r.stdout), { adaptive: { max_group_len: 6 } });
  assertFails(
    await runCli(["config-edit", "--outfile", "-", "--json"]),
    2,
    "BadInput",
    "--outfile - prints the TOML on stdout, where --json prints the result",
    "Give --outfile a file, or drop --json",
  );
});

Deno.test("config-edit built-in presets do what they say on a replayed workload", async () => {
  await withTempDir(async (dir) => {
    const csv = smallWorkload(dir);
    const summary: Record<string, RunSummary> = { defaults: await replay(csv) };
    for (const name of ["latency-first", "small-maps", "early-warning"]) {
      const out = `${dir}/${name}.toml`;
      const r = resultOf(
        await runCli(["config-edit", "--apply-preset", name, "--outfile", out, "--json"]),
      );
      assert.deepEqual(r.presets_applied, [name]);
      summary[name] = await replay(csv, out);
    }
    const d = summary.defaults!;
    // latency-first leaves chaining above load 0.5: 350 keys in 512 chains migrate.
    assert.deepEqual([d.final_backend, d.migrations_triggered], ["chaining", 0]);
    const latency = summary["latency-first"]!;
    assert.deepEqual([latency.final_backend, latency.migrations_triggered], ["robinhood", 1]);
    // small-maps starts on a small Robin Hood table: fewer bytes per entry, no switch.
    const memory = summary["small-maps"]!;
    assert.equal(memory.migrations_triggered, 0);
    assert.equal(memory.final_stats.size, d.final_stats.size);
    assert.ok(
      memory.bytes_per_entry < d.bytes_per_entry,
      `${memory.bytes_per_entry} < ${d.bytes_per_entry}`,
    );
    // early-warning changes only the watchdog: the same replay, more alerts (below).
    assert.equal(summary["early-warning"]!.migrations_triggered, d.migrations_triggered);

    // 3,000 live keys on Robin Hood pass load 0.75 before each growth at 0.8.
    const churn = `${dir}/churn.csv`;
    const f = Deno.openSync(churn, { write: true, create: true });
    const o = { ...GENERATE_DEFAULTS, ops: 20000, keySpace: 5000, readRatio: 0.3, delRatio: 0.3 };
    for (const chunk of generateCsvChunks({ ...o, seed: 7 })) f.writeSync(chunk);
    f.close();
    const quiet = await replay(churn);
    const warned = await replay(churn, `${dir}/early-warning.toml`);
    assert.ok(warned.alerts > quiet.alerts, `${warned.alerts} > ${quiet.alerts}`);
  });
});

Deno.test("config-edit applies presets in order over --infile, then --set", async () => {
  await withTempDir(async (dir) => {
    const infile = `${dir}/in.toml`;
    Deno.writeTextFileSync(infile, "[adaptive]\nmax_lf_chaining = 0.7\nmax_group_len = 20\n");
    const r = resultOf(
      await runCli([
        "config-edit",
        "--infile",
        infile,
        "--apply-preset",
        "latency-first",
        "--apply-preset",
        "early-warning",
        "--set",
        "adaptive.max_lf_chaining=0.4",
        "--outfile",
        `${dir}/out.toml`,
        "--json",
      ]),
    );
    const latency = BUILTIN_PRESETS.find((p) => p.name === "latency-first")!.config!;
    const early = BUILTIN_PRESETS.find((p) => p.name === "early-warning")!.config!;
    assert.deepEqual(r.config, {
      adaptive: { ...latency.adaptive, max_lf_chaining: 0.4 },
      watchdog: early.watchdog,
    });
    assert.deepEqual(r.presets_applied, ["latency-first", "early-warning"]);
    const header = Deno.readTextFileSync(`${dir}/out.toml`).split("\n")[1];
    assert.equal(header, `# From ${infile}, preset latency-first, preset early-warning.`);
  });
});

Deno.test("config-edit checks a directory preset's limits across keys only once it is merged", async () => {
  await withTempDir(async (dir) => {
    const presets = `${dir}/presets`;
    Deno.mkdirSync(presets);
    // 2^29 buckets: too many for the default 8 groups each, fine for 2.
    Deno.writeTextFileSync(`${presets}/big.toml`, "[adaptive]\ninitial_buckets = 536870912\n");
    Deno.writeTextFileSync(`${dir}/g2.toml`, "[adaptive]\ngroups_per_bucket = 2\n");
    const listed = await runCli(["config-edit", "--list-presets", "--presets-dir", presets]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /cannot|invalid/i);
    const merged = await runCli([
      "config-edit",
      "--infile",
      `${dir}/g2.toml`,
      "--apply-preset",
      "big",
      "--presets-dir",
      presets,
      "--outfile",
      "-",
    ]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.deepEqual(toml(merged.stdout), {
      adaptive: { initial_buckets: 536870912, groups_per_bucket: 2 },
    });
    const alone = await runCli([
      "config-edit",
      "--apply-preset",
      "big",
      "--presets-dir",
      presets,
      "--outfile",
      "-",
    ]);
    assert.equal(alone.code, 2);
    assert.match(
      String(alone.envelope?.detail),
      /^The edited configuration is invalid: .*initialBuckets must be at most 2\^30 \/ groupsPerBucket/,
    );
    // A presets "directory" that is a file: the same BadInput for listing and applying.
    for (const use of [["--list-presets"], ["--apply-preset", "big", "--outfile", "-"]]) {
      assertFails(
        await runCli(["config-edit", ...use, "--presets-dir", `${dir}/g2.toml`]),
        2,
        "BadInput",
        `Presets directory '${dir}/g2.toml' is not a directory`,
        "See docs/config.md#presets",
      );
    }
  });
});

Deno.test("config-edit --save-preset writes a directory preset that --apply-preset and --list-presets read", async () => {
  await withTempDir(async (dir) => {
    const presets = `${dir}/presets`;
    const env = { ADHASH_PRESETS_DIR: presets };
    const saved = resultOf(
      await runCli(
        ["config-edit", "--set", "adaptive.max_group_len=5", "--save-preset", "tight-5", "--json"],
        { env },
      ),
    );
    assert.equal(saved.preset_saved, `${presets}/tight-5.toml`);
    assert.equal(saved.outfile, null);
    const text = Deno.readTextFileSync(`${presets}/tight-5.toml`);
    assert.match(
      text,
      /^# adhash configuration preset 'tight-5', saved by hashmap-cli config-edit\.\n/,
    );
    assert.deepEqual(toml(text), { adaptive: { max_group_len: 5 } });

    const again = await runCli(
      ["config-edit", "--set", "adaptive.max_group_len=6", "--save-preset", "tight-5"],
      { env },
    );
    assertFails(
      again,
      4,
      "Policy",
      `--save-preset '${presets}/tight-5.toml' exists; nothing was written`,
      "Add --force to replace it",
    );

    // With the TOML on stdout, the saved preset is reported on stderr.
    const piped = await runCli(
      ["config-edit", "--outfile", "-", "--set", "adaptive.max_group_len=7", "--save-preset", "p7"],
      { env },
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.deepEqual(toml(piped.stdout), { adaptive: { max_group_len: 7 } });
    assert.match(piped.stderr, new RegExp(`Saved the preset in "?${presets}/p7\\.toml`));
    assert.deepEqual(toml(Deno.readTextFileSync(`${presets}/p7.toml`)), toml(piped.stdout));
    Deno.removeSync(`${presets}/p7.toml`);

    // The flag wins over the environment; the preset applies like a built-in one.
    const applied = resultOf(
      await runCli([
        "config-edit",
        "--apply-preset",
        "tight-5",
        "--presets-dir",
        presets,
        "--outfile",
        `${dir}/c.toml`,
        "--json",
      ], { env: { ADHASH_PRESETS_DIR: `${dir}/elsewhere` } }),
    );
    assert.deepEqual(applied.config, { adaptive: { max_group_len: 5 }, watchdog: {} });

    Deno.writeTextFileSync(`${presets}/broken.toml`, "[adaptive]\nmax_lf_chaining = 99\n");
    Deno.writeTextFileSync(`${presets}/latency-first.toml`, "[adaptive]\nmax_group_len = 2\n");
    const listed = await runCli(["config-edit", "--list-presets", "--json"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const list = ConfigPresets.parse(successData(listed.stdout, "config-edit"));
    assert.deepEqual([list.presets_dir, list.presets_dir_exists], [presets, true]);
    assert.deepEqual(
      list.presets.map((p) => [p.name, p.source, p.problem === null]),
      [
        ...BUILTIN_PRESETS.map((p) => [p.name, "builtin", true]),
        ["broken", "directory", false],
        ["latency-first", "directory", false],
        ["tight-5", "directory", true],
      ],
    );
    const broken = list.presets.find((p) => p.name === "broken")!;
    assert.match(
      broken.problem!,
      /^Invalid config '.*broken\.toml': 'adaptive\.max_lf_chaining': Too big/,
    );
    const own = list.presets.find((p) => p.name === "tight-5")!;
    assert.deepEqual(own.config, { adaptive: { max_group_len: 5 }, watchdog: {} });
    // The built-in preset keeps its name: the file is listed as never used, not applied.
    const shadow = resultOf(
      await runCli([
        "config-edit",
        "--apply-preset",
        "latency-first",
        "--outfile",
        `${dir}/l.toml`,
        "--json",
      ], { env }),
    );
    assert.deepEqual(shadow.config.adaptive, BUILTIN_PRESETS[0]!.config!.adaptive);

    const text2 = await runCli(["config-edit", "--list-presets"], { env });
    assert.equal(text2.code, 0, text2.stderr);
    assert.match(
      text2.stdout,
      /^built-in presets:\n {2}latency-first: adaptive\.incremental_batch = 256, /,
    );
    assert.match(text2.stdout, new RegExp(`\npresets in ${presets}:\n`));
    assert.match(text2.stdout, /\n {2}broken: cannot be applied: Invalid config /);
    assert.match(text2.stdout, /\n {2}tight-5: adaptive\.max_group_len = 5\n$/);
  });
});

Deno.test("config-edit refuses preset names that could leave the directory, and built-in names", async () => {
  await withTempDir(async (dir) => {
    const presets = `${dir}/presets`;
    const hint = "See docs/config.md#presets";
    for (const name of ["../escape", "a/b", ".hidden", "UPPER", "x.toml", ""]) {
      const save = await runCli([
        "config-edit",
        "--save-preset",
        name,
        "--presets-dir",
        presets,
      ]);
      const apply = await runCli([
        "config-edit",
        "--apply-preset",
        name,
        "--presets-dir",
        presets,
        "--outfile",
        `${dir}/c.toml`,
      ]);
      const why = "is not a preset name: use a-z, 0-9 and -, at most 64";
      assertFails(save, 2, "BadInput", `--save-preset ${JSON.stringify(name)} ${why}`, hint);
      assertFails(apply, 2, "BadInput", `--apply-preset ${JSON.stringify(name)} ${why}`, hint);
    }
    assertFails(
      await runCli(["config-edit", "--save-preset", "small-maps", "--presets-dir", presets]),
      4,
      "Policy",
      "Preset 'small-maps' is built in and read-only",
      "Save it under another name",
    );
    assertFails(
      await runCli(["config-edit", "--save-preset", "mine"]),
      2,
      "BadInput",
      "--save-preset mine needs a presets directory",
      "Give --presets-dir DIR or set ADHASH_PRESETS_DIR",
    );
    assertFails(
      await runCli(["config-edit", "--apply-preset", "mine", "--outfile", "-"]),
      2,
      "BadInput",
      "Unknown preset 'mine': the built-in presets are latency-first, small-maps, " +
        "early-warning, and no presets directory is set",
      "Give --presets-dir (or ADHASH_PRESETS_DIR), or run config-edit --list-presets",
    );
    assert.deepEqual(names(dir), [], "nothing written anywhere");
  });
});

/** Answers for every key, in order: "" keeps the value offered. */
function answers(overrides: Record<string, string[]>): string {
  return CONFIG_KEYS.flatMap((k) => overrides[k.id] ?? [""]).map((a) => `${a}\n`).join("");
}

Deno.test("config-wizard asks every key, re-asks after a bad answer and writes the keys that differ", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/w.toml`;
    const stdin = answers({
      "adaptive.start_backend": ["fast", "robinhood"],
      "adaptive.max_lf_chaining": ["0.82"], // the default: not written
      "adaptive.max_group_len": ["lots", "0", "6"],
      "watchdog.enabled": ["false"],
    });
    const r = await runCli(["config-wizard", "--outfile", out, "--json"], { stdin });
    const result = resultOf(r, "config-wizard");
    assert.deepEqual(result.config, {
      adaptive: { start_backend: "robinhood", max_group_len: 6 },
      watchdog: { enabled: false },
    });
    assert.deepEqual(toml(Deno.readTextFileSync(out)), result.config);
    // Prompts go to stderr, one per question asked, each with the value offered.
    const prompts = r.stderr.split("\n").filter((l) => /^\w+: .*\]: /.test(l));
    assert.equal(prompts.length, CONFIG_KEYS.length + 3);
    assert.match(
      r.stderr,
      /\nstart_backend: backend of a new map \(chaining \| robinhood\) \[chaining\]: fast\n/,
    );
    assert.match(
      r.stderr,
      /\n {2}"fast" does not fit adaptive\.start_backend: Invalid option: expected one of "chaining"\|"robinhood"\n/,
    );
    assert.match(
      r.stderr,
      /\n {2}"0" does not fit adaptive\.max_group_len: Too small: expected number to be >=1\n/,
    );
    assert.match(r.stderr, /\n\[watchdog\] /);
  });
});

Deno.test("config-wizard offers --infile's values and checks a section's answers together", async () => {
  await withTempDir(async (dir) => {
    const infile = `${dir}/in.toml`;
    Deno.writeTextFileSync(infile, "[adaptive]\ngroups_per_bucket = 2048\n");
    const adaptive = CONFIG_KEYS.filter((k) => k.section === "adaptive");
    const section = (o: Record<string, string>) => adaptive.map((k) => o[k.id] ?? "");
    // 2^20 buckets x 2048 groups breaks the 2^30 limit: the section is asked again, answers kept.
    const stdin = [
      ...section({ "adaptive.initial_buckets": "1048576" }),
      ...section({ "adaptive.initial_buckets": "512" }),
      ...CONFIG_KEYS.filter((k) => k.section === "watchdog").map(() => ""),
    ].map((a) => `${a}\n`).join("");
    const r = await runCli(["config-wizard", "--infile", infile, "--outfile", "-"], { stdin });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(toml(r.stdout), {
      adaptive: { initial_buckets: 512, groups_per_bucket: 2048 },
    });
    assert.match(
      r.stdout,
      /^# adhash configuration, written by hashmap-cli config-wizard\.\n# From /,
    );
    assert.match(r.stderr, /\ngroups_per_bucket: .*, default 8 \[2048\]: \n/);
    assert.match(
      r.stderr,
      /\n {2}These \[adaptive\] answers do not fit together: .*policy\.initialBuckets must be at most 2\^30 \/ groupsPerBucket/,
    );
    // The second round offers the first round's answer.
    assert.match(r.stderr, /\ninitial_buckets: .*\[1048576\]: 512\n/);
  });
});

Deno.test("config-wizard takes limits that hold once a later key is answered", async () => {
  await withTempDir(async () => {
    // initial_buckets is asked before groups_per_bucket; 2^29 x 8 (the default) breaks 2^30,
    // 2^29 x 2 does not.
    const stdin = answers({
      "adaptive.initial_buckets": ["536870912"],
      "adaptive.groups_per_bucket": ["2"],
    });
    const r = await runCli(["config-wizard", "--outfile", "-"], { stdin });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(toml(r.stdout), {
      adaptive: { initial_buckets: 536870912, groups_per_bucket: 2 },
    });
    assert.doesNotMatch(r.stderr, /do not fit/);
  });
});

Deno.test("config-wizard aborts at the end of its input, writing nothing", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/w.toml`;
    const cut = answers({}).split("\n").slice(0, 5).join("\n") + "\n";
    const r = await runCli(["config-wizard", "--outfile", out], { stdin: cut });
    const next = CONFIG_KEYS[5]!.id;
    assertFails(
      r,
      2,
      "BadInput",
      `config-wizard: the input ended before '${next}' was answered (5 of ${CONFIG_KEYS.length} ` +
        "keys answered); nothing was written",
      "Answer every question; an empty line keeps the value in [brackets]",
    );
    const none = await runCli(["config-wizard", "--outfile", out]);
    assert.equal(none.code, 2);
    assert.match(
      String(none.envelope?.detail),
      /before 'adaptive\.start_backend' was answered \(0 of/,
    );
    assert.deepEqual(names(dir), []);
  });
});

Deno.test("config-wizard refuses an existing --outfile without --force before asking", async () => {
  await withTempDir(async (dir) => {
    const out = `${dir}/w.toml`;
    Deno.writeTextFileSync(out, "# mine\n");
    const r = await runCli(["config-wizard", "--outfile", out], { stdin: answers({}) });
    assertFails(
      r,
      4,
      "Policy",
      `--outfile '${out}' exists; nothing was written`,
      "Add --force to replace it",
    );
    assert.doesNotMatch(r.stderr, /start_backend/);
    assert.equal(Deno.readTextFileSync(out), "# mine\n");
    const forced = await runCli(["config-wizard", "--outfile", out, "--force"], {
      stdin: answers({}),
    });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(
      forced.stdout,
      `config-wizard: wrote ${out} (keys that differ from the defaults)\n  no key changed\n`,
    );
    assert.deepEqual(toml(Deno.readTextFileSync(out)), {});
  });
});

Deno.test("config-edit --list-presets shows the controls in preset names and keys, not obeys them", async () => {
  // A preset file named `\x1b]0;TITLE\x07.toml` set the terminal's title when listed.
  await withTempDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/\x1b]0;TITLE\x07.toml`, "[adaptive]\nmax_group_len = 4\n");
    Deno.writeTextFileSync(`${dir}/badkey.toml`, '[adaptive]\n"\\u001b]0;K\\u0007" = 1\n');
    const listed = await runCli(["config-edit", "--list-presets", "--presets-dir", dir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(
      !listed.stdout.includes("\x1b") && !listed.stdout.includes("\x07"),
      JSON.stringify(listed.stdout),
    );
    assert.match(listed.stdout, /^ {2}\\u001b\]0;TITLE\\u0007: cannot be applied: the name is/m);
    assert.match(listed.stdout, /^ {2}badkey: cannot be applied: .*\\u001b\]0;K\\u0007/m);
  });
});
