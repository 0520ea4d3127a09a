import assert from "node:assert/strict";
import { BadInputError } from "../../src/errors.ts";
import { parseCorsOrigins, parseRateLimit, serverEnv } from "../../src/server/env.ts";

Deno.test("parseRateLimit() reads PER_SECOND[:BURST] and 0 to disable", () => {
  assert.equal(parseRateLimit(undefined), undefined);
  assert.deepEqual(parseRateLimit("50"), { perSecond: 50, burst: 100 });
  assert.deepEqual(parseRateLimit("50:7"), { perSecond: 50, burst: 7 });
  assert.equal(parseRateLimit("0"), false);
  assert.throws(() => parseRateLimit("fast"), BadInputError);
  assert.throws(() => parseRateLimit("-1"), /"-1"/);
});

Deno.test("parseCorsOrigins() reads a list of origins, * or none", () => {
  assert.equal(parseCorsOrigins(undefined), undefined);
  assert.equal(parseCorsOrigins("none"), false);
  assert.deepEqual(parseCorsOrigins("https://a.example, http://b.example:3000"), [
    "https://a.example",
    "http://b.example:3000",
  ]);
  assert.deepEqual(parseCorsOrigins("*"), ["*"]);
  assert.throws(() => parseCorsOrigins("https://a.example/path"), /a\.example\/path/);
});

Deno.test("serverEnv() reads the ADHASH_* settings", () => {
  const keys = ["ADHASH_TOKEN", "ADHASH_SNAPSHOT_DIR", "ADHASH_RATE_LIMIT", "ADHASH_CORS_ORIGINS"];
  const saved = keys.map((k) => Deno.env.get(k));
  const dir = Deno.makeTempDirSync();
  try {
    Deno.env.set("ADHASH_TOKEN", "t");
    Deno.env.set("ADHASH_SNAPSHOT_DIR", dir);
    Deno.env.set("ADHASH_RATE_LIMIT", "10:20");
    Deno.env.set("ADHASH_CORS_ORIGINS", "none");
    assert.deepEqual(serverEnv(), {
      token: "t",
      snapshotDir: dir,
      rateLimit: { perSecond: 10, burst: 20 },
      corsOrigins: false,
    });
    for (const k of keys) Deno.env.delete(k);
    assert.deepEqual(serverEnv(), {});
    Deno.env.set("ADHASH_TOKEN", "two words");
    assert.throws(() => serverEnv(), { name: "BadInputError", message: /ADHASH_TOKEN/ });
    // A header is read as Latin-1: no client could ever send this one.
    Deno.env.set("ADHASH_TOKEN", "tökén");
    assert.throws(() => serverEnv(), {
      name: "BadInputError",
      message: "ADHASH_TOKEN has characters other than printable ASCII",
    });
    // `ADHASH_TOKEN=$(cat /missing/token)`: set but empty must not mean "no auth".
    Deno.env.set("ADHASH_TOKEN", "");
    assert.throws(() => serverEnv(), {
      name: "BadInputError",
      message: "ADHASH_TOKEN is set but empty, which would turn auth off",
    });
    Deno.env.delete("ADHASH_TOKEN");
    Deno.env.set("ADHASH_SNAPSHOT_DIR", `${dir}/absent`);
    assert.throws(() => serverEnv(), /ADHASH_SNAPSHOT_DIR ".*absent" is not a readable directory/);
  } finally {
    keys.forEach((
      k,
      i,
    ) => (saved[i] === undefined ? Deno.env.delete(k) : Deno.env.set(k, saved[i]!)));
    Deno.removeSync(dir, { recursive: true });
  }
});
