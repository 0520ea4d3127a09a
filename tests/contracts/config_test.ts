import assert from "node:assert/strict";
import { loadConfig, toPolicy } from "../../src/config/load.ts";
import { BadInputError } from "../../src/errors.ts";
import { DEFAULT_POLICY } from "../../src/core/adaptive_map.ts";
import { removedAtUnload } from "../_helpers.ts";

async function toml(text: string): Promise<string> {
  const path = removedAtUnload(await Deno.makeTempFile({ suffix: ".toml" }));
  await Deno.writeTextFile(path, text);
  return path;
}

async function badInput(p: Promise<unknown>, detail: RegExp): Promise<void> {
  await assert.rejects(() => p, (err: unknown) => {
    assert.ok(err instanceof BadInputError, String(err));
    assert.match(err.message, detail);
    return true;
  });
}

Deno.test("loadConfig() without a file gives the watchdog defaults and no policy overrides", async () => {
  const c = await loadConfig(undefined, {});
  assert.deepEqual(c.policy, {});
  assert.deepEqual(c.watchdog, {
    enabled: true,
    load_factor_warn: 0.9,
    avg_probe_warn: 8,
    tombstone_ratio_warn: 0.35,
  });
  assert.equal(c.source, null);
});

Deno.test("loadConfig() without a file or overrides equals what the schema makes of an empty file", async () => {
  // The no-configuration path skips zod; it must agree with the validated path exactly.
  const quick = await loadConfig(undefined, { HOME: "/home/x", ADAPTIVE: "not an override" });
  const parsed = await loadConfig(await toml(""), {});
  assert.deepEqual({ ...quick, source: "x" }, { ...parsed, source: "x" });
  assert.deepEqual(quick.adaptive, {});
});

Deno.test("loadConfig() maps snake_case keys to the core's camelCase policy", async () => {
  const path = await toml(`[adaptive]
start_backend = "robinhood"
initial_buckets = 32
groups_per_bucket = 4
initial_capacity_rh = 128
incremental_batch = 100
max_lf_chaining = 0.7
max_group_len = 6
max_avg_probe_robinhood = 3.5
max_tombstone_ratio = 0.2
large_map_warn_threshold = 5000
rh_deletion = "tombstone"

[watchdog]
enabled = false
avg_probe_warn = 4.0
`);
  const c = await loadConfig(path, {});
  assert.deepEqual(c.policy, {
    startBackend: "robinhood",
    initialBuckets: 32,
    groupsPerBucket: 4,
    initialCapacityRh: 128,
    incrementalBatch: 100,
    maxLfChaining: 0.7,
    maxGroupLen: 6,
    maxAvgProbeRobinhood: 3.5,
    maxTombstoneRatio: 0.2,
    largeMapWarnThreshold: 5000,
    rhDeletion: "tombstone",
  });
  // Every policy field of the core is configurable.
  assert.deepEqual(Object.keys(c.policy).sort(), Object.keys(DEFAULT_POLICY).sort());
  assert.equal(c.watchdog.enabled, false);
  assert.equal(c.watchdog.avg_probe_warn, 4);
  assert.equal(c.watchdog.load_factor_warn, 0.9);
  assert.equal(c.source, path);
});

Deno.test("loadConfig() env overrides win over the file", async () => {
  const path = await toml("[adaptive]\nmax_group_len = 6\n[watchdog]\nenabled = true\n");
  const c = await loadConfig(path, {
    ADAPTIVE_MAX_GROUP_LEN: "12",
    ADAPTIVE_RH_DELETION: "tombstone",
    WATCHDOG_ENABLED: "false",
    WATCHDOG_LOAD_FACTOR_WARN: "0.75",
    UNRELATED: "x",
  });
  assert.equal(c.policy.maxGroupLen, 12);
  assert.equal(c.policy.rhDeletion, "tombstone");
  assert.equal(c.watchdog.enabled, false);
  assert.equal(c.watchdog.load_factor_warn, 0.75);
});

Deno.test("loadConfig() names the bad key in every BadInput", async () => {
  await badInput(loadConfig(await toml("[adaptive]\nmax_lf = 1\n"), {}), /'adaptive\.max_lf'/);
  await badInput(
    loadConfig(await toml("[adaptive]\nmax_lf_chaining = 9\n"), {}),
    /'adaptive\.max_lf_chaining'/,
  );
  await badInput(
    loadConfig(await toml('[adaptive]\nstart_backend = "btree"\n'), {}),
    /'adaptive\.start_backend'/,
  );
  await badInput(
    loadConfig(await toml("[watchdog]\nenabled = 1\n"), {}),
    /'watchdog\.enabled'/,
  );
  await badInput(loadConfig(await toml("mode = 1\n"), {}), /'mode'/);
  await badInput(loadConfig(await toml("adaptive = 3\n"), {}), /'adaptive' must be a table/);
  await badInput(
    loadConfig(undefined, { ADAPTIVE_MAX_GROUP_LEN: "1.5" }),
    /ADAPTIVE_MAX_GROUP_LEN/,
  );
  await badInput(loadConfig(undefined, { ADAPTIVE_TURBO: "1" }), /ADAPTIVE_TURBO/);
  await badInput(loadConfig("/nonexistent/adhash.toml", {}), /not found/);
});

Deno.test("toPolicy() drops unset keys", () => {
  assert.deepEqual(toPolicy({ max_group_len: 3 }), { maxGroupLen: 3 });
});
