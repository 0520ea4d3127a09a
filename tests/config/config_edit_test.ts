// The pieces of config-edit and config-wizard below the CLI: the key catalogue, the TOML writer
// (against the loader, on random configurations), the built-in presets and the line reader.
import assert from "node:assert/strict";
import fc from "fast-check";
import { AdaptiveConfig, WatchdogConfig } from "../../src/contracts/config.ts";
import { DEFAULT_POLICY } from "../../src/core/adaptive_map.ts";
import { loadConfig, toPolicy } from "../../src/config/load.ts";
import { WATCHDOG_DEFAULTS } from "../../src/config/defaults.ts";
import {
  CONFIG_KEYS,
  type ConfigKey,
  type ConfigSections,
  type ConfigValue,
  emptySections,
} from "../../src/config/keys.ts";
import { renderToml } from "../../src/config/toml_write.ts";
import { checkSections, readConfigFile } from "../../src/config/edit.ts";
import { BUILTIN_PRESETS, PRESET_NAME } from "../../src/config/presets.ts";
import { runWizard } from "../../src/config/wizard.ts";
import { BadInputError } from "../../src/errors.ts";

Deno.test("CONFIG_KEYS lists every schema key in order with the defaults in force", () => {
  assert.deepEqual(CONFIG_KEYS.map((k) => k.id), [
    ...Object.keys(AdaptiveConfig.shape).map((k) => `adaptive.${k}`),
    ...Object.keys(WatchdogConfig.shape).map((k) => `watchdog.${k}`),
  ]);
  const adaptive = Object.fromEntries(
    CONFIG_KEYS.filter((k) => k.section === "adaptive").map((k) => [k.name, k.defaultValue]),
  );
  assert.deepEqual(toPolicy(adaptive as AdaptiveConfig), DEFAULT_POLICY);
  const watchdog = Object.fromEntries(
    CONFIG_KEYS.filter((k) => k.section === "watchdog").map((k) => [k.name, k.defaultValue]),
  );
  assert.deepEqual(watchdog, WATCHDOG_DEFAULTS);
  const kinds = Object.fromEntries(CONFIG_KEYS.map((k) => [k.id, k.kind]));
  assert.equal(kinds["adaptive.initial_buckets"], "integer");
  assert.equal(kinds["adaptive.max_lf_chaining"], "number");
  assert.equal(kinds["adaptive.rh_deletion"], "choice");
  assert.equal(kinds["watchdog.enabled"], "boolean");
  for (const k of CONFIG_KEYS) assert.ok(k.help.length > 10, k.id);
});

/** A valid value for `key`, whole numbers included for float keys. */
function value(key: ConfigKey): fc.Arbitrary<ConfigValue> {
  switch (key.kind) {
    case "boolean":
      return fc.boolean();
    case "choice":
      return fc.constantFrom(...key.choices);
    case "integer":
      // initial_buckets * groups_per_bucket must stay <= 2^30.
      return fc.integer({
        min: 1,
        max: key.name === "initial_buckets"
          ? 2 ** 20
          : key.name === "groups_per_bucket"
          ? 2 ** 10
          : 2 ** 30,
      });
    case "number": {
      const max = key.name === "max_lf_chaining" ? 8 : key.name.includes("ratio") ? 1 : 1e6;
      return fc.oneof(
        fc.double({ min: 1e-9, max, noNaN: true }),
        fc.integer({ min: 1, max: Math.floor(max) }),
      );
    }
  }
}

const sections: fc.Arbitrary<ConfigSections> = fc
  .array(fc.tuple(fc.constantFrom(...CONFIG_KEYS), fc.nat()), { maxLength: 20 })
  .chain((picked) =>
    fc.tuple(...picked.map(([k]) => value(k).map((v) => [k, v] as const))).map((pairs) => {
      const out = emptySections();
      for (const [k, v] of pairs) out[k.section][k.name] = v;
      return out;
    })
  );

Deno.test("renderToml() writes what the loader reads back exactly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_config_test_" });
  try {
    await fc.assert(
      fc.asyncProperty(sections, async (s) => {
        const path = `${dir}/c.toml`;
        await Deno.writeTextFile(path, renderToml(s, ["a header"]));
        await checkSections(s);
        assert.deepEqual(await readConfigFile(path), s);
        const loaded = await loadConfig(path, {});
        for (const k of CONFIG_KEYS) {
          const set = s[k.section][k.name];
          if (set !== undefined) assert.equal(loaded[k.section][k.name as never], set, k.id);
        }
      }),
      { numRuns: 150 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderToml() spells whole numbers of float keys as floats, and says when nothing is set", () => {
  const s = emptySections();
  s.adaptive.max_avg_probe_robinhood = 6;
  s.adaptive.max_group_len = 6;
  const text = renderToml(s, ["h"]);
  assert.match(text, /\nmax_group_len = 6 {14}# default 8\n/);
  assert.match(text, /\nmax_avg_probe_robinhood = 6\.0 {2}# default 6\.0\n/);
  assert.equal(
    renderToml(emptySections(), ["h"]),
    "# h\n\n# No key is set: every key takes its default (docs/config.md).\n",
  );
});

Deno.test("every built-in preset is valid, named like a directory preset and sets keys", async () => {
  assert.ok(BUILTIN_PRESETS.length >= 3);
  for (const p of BUILTIN_PRESETS) {
    assert.match(p.name, PRESET_NAME);
    assert.ok(p.description !== null && p.description.length > 40, p.name);
    const keys = Object.keys(p.config!.adaptive).length + Object.keys(p.config!.watchdog).length;
    assert.ok(keys > 0, p.name);
    await checkSections(p.config!);
  }
});

Deno.test("checkSections() refuses what the loader refuses across keys", async () => {
  const s = emptySections();
  s.adaptive.initial_buckets = 2 ** 28;
  s.adaptive.groups_per_bucket = 8;
  await assert.rejects(() => checkSections(s), (err: unknown) => {
    assert.ok(err instanceof BadInputError);
    assert.match(err.message, /'adaptive\.initial_buckets'/);
    return true;
  });
});

Deno.test("runWizard() keeps values on empty answers and returns only keys off their default", async () => {
  const said: string[] = [];
  const queue = CONFIG_KEYS.map((k) => k.id === "watchdog.avg_probe_warn" ? " 3 " : "");
  const start = emptySections();
  start.adaptive.max_group_len = 8; // set, but at its default
  start.adaptive.max_lf_chaining = 0.6;
  const result = await runWizard({
    say: (t) => said.push(t),
    answer: () => Promise.resolve(queue.shift() ?? null),
  }, start);
  assert.deepEqual(result, { adaptive: { max_lf_chaining: 0.6 }, watchdog: { avg_probe_warn: 3 } });
  assert.equal(queue.length, 0);
  assert.ok(
    said.some((t) => t.includes("max_lf_chaining: ") && t.endsWith(", default 0.82 [0.6]: ")),
  );
});
