// The notices ship with the release binaries, so a dependency added, bumped or dropped without
// regenerating them would ship a binary whose notices are wrong: the committed file is checked.
import assert from "node:assert/strict";
import { deno, root } from "./_deno.ts";

const NOTICES = "docs/third_party_notices.md";

/** `scripts/notices.ts` with the permissions its regeneration command grants, and `args`. */
function notices(...args: string[]): Promise<{ code: number; out: string }> {
  const perms = ["--allow-read", "--allow-run=deno", `--allow-write=${NOTICES}`];
  return deno("run", ...perms, "scripts/notices.ts", ...args);
}

Deno.test("notices.ts --check finds the committed notices current", async () => {
  const { code, out } = await notices("--check");
  assert.equal(code, 0, out);
  assert.match(out, /docs\/third_party_notices\.md is current/);
});

Deno.test("notices.ts lists the npm packages cli.ts reaches and the vendored uPlot", async () => {
  const text = await Deno.readTextFile(new URL(NOTICES, root));
  const listed = [...text.matchAll(/^## (\S+) /gm)].map((m) => m[1]);
  for (const name of ["hono", "zod", "smol-toml", "@logtape/logtape", "uPlot"]) {
    assert.ok(listed.includes(name), `${name} not in ${listed.join(", ")}`);
  }
  // Test tools are in deno.json but not in the binary.
  for (const name of ["fast-check", "playwright-core", "csv-parse"]) {
    assert.ok(!listed.includes(name), `${name} is not shipped`);
  }
});

Deno.test("notices.ts --check fails on a stale copy, naming the package that differs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "adhash_notices_" });
  try {
    const copy = `${dir}/notices.md`;
    const text = await Deno.readTextFile(new URL(NOTICES, root));
    const altered = text.replace("Yusuke Wada", "Someone Else");
    assert.notEqual(altered, text, "hono's copyright line is where the test expects it");
    await Deno.writeTextFile(copy, altered);
    const { code, out } = await notices("--check", "--out", copy);
    assert.equal(code, 1, out);
    assert.match(out, /is stale/);
    assert.match(out, /hono \S+: differs/);
    assert.doesNotMatch(out, /zod \S+: differs/, "only the altered package is named");
    assert.equal(await Deno.readTextFile(copy), altered, "--check writes nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notices.ts writes the file that the release uploads beside the binaries", async () => {
  const release = await Deno.readTextFile(new URL(".github/workflows/release.yml", root));
  const upload =
    /softprops\/action-gh-release@\S+\n\s+with:\n\s+(?:#.*\n\s+)*files: \|\n((?: {12}.*\n)+)/
      .exec(release);
  assert.ok(upload !== null, "no release upload step with a list of files");
  assert.deepEqual(upload[1]!.trim().split(/\s+/), ["dist/*", NOTICES]);
  assert.match(release, /fail_on_unmatched_files: true/);
});
