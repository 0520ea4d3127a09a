// The workflows run where this machine cannot (GitHub runners, `deno compile`), so what can be
// checked here is that they agree with the project: the same Deno, the same compile flags.
import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };

const ROOT = new URL("../../", import.meta.url);
const read = (path: string): Promise<string> => Deno.readTextFile(new URL(path, ROOT));

Deno.test("the workflows and .ci/run install the same Deno version", async () => {
  const ci = /^DENO_VERSION=(\S+)$/m.exec(await read(".ci/run"))?.[1];
  assert.ok(ci !== undefined);
  for (const file of [".github/workflows/ci.yml", ".github/workflows/release.yml"]) {
    const versions = [...(await read(file)).matchAll(/deno-version: (\S+)/g)].map((m) => m[1]);
    assert.ok(versions.length > 0, file);
    for (const v of versions) assert.equal(v, ci, file);
  }
});

Deno.test("the release compiles with the flags of `deno task compile`", async () => {
  const release = await read(".github/workflows/release.yml");
  const step =
    /deno compile --target \$\{\{ matrix\.target \}\}\s+([\s\S]*?)--output [^\n]* cli\.ts/.exec(
      release,
    );
  assert.ok(step !== null, "no deno compile step");
  const flags = (s: string): string[] =>
    s.split(/\s+/).filter((w) => w.startsWith("--") || /^[\w/.]+\.ts$/.test(w));
  const task = /^deno compile (.*) --output \S+ cli\.ts$/.exec(denoJson.tasks.compile);
  assert.ok(task !== null, denoJson.tasks.compile);
  assert.deepEqual(flags(step[1]!), flags(task[1]!));
});

Deno.test("only the release job may write to the repository, and binaries are smoke-run", async () => {
  const release = await read(".github/workflows/release.yml");
  assert.match(release, /^permissions:\n {2}contents: read$/m);
  assert.equal([...release.matchAll(/contents: write/g)].length, 1);
  assert.match(release, /\n {2}release:\n(?: {4}.*\n)*? {4}permissions:\n {6}contents: write/);
  assert.match(release, /scripts\/smoke\.ts --binary/);
  assert.match(await read(".github/workflows/ci.yml"), /^permissions:\n {2}contents: read$/m);
});
