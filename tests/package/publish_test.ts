import assert from "node:assert/strict";
import { deno, root } from "./_deno.ts";

Deno.test("deno publish --dry-run accepts the package and ships only the library's files", async () => {
  // JSR's own checks (slow types, module graph, file list), offline.
  const { code, out } = await deno("publish", "--dry-run", "--allow-dirty");
  assert.equal(code, 0, out);
  assert.match(out, /Success Dry run complete/);
  const files = [...out.matchAll(/^\s*(file:\S+) \(/gm)].map((m) => m[1]!.slice(root.href.length));
  const needed = [
    "mod.ts",
    "src/core/mod.ts",
    "server.ts",
    "src/core/adaptive_map.ts",
    "src/server/live_worker.ts",
    "src/server/snapshot_worker.ts",
  ];
  for (const f of needed) {
    assert.ok(files.includes(f), `${f} missing from the package: ${files.join(", ")}`);
  }
  const stray = files.filter((f) => /^(tests|bench|scripts|web|\.github|\.ci)\//.test(f));
  assert.deepEqual(stray, [], "test, bench and build files stay out of the package");
  // Of the screenshots, those the published pages show (users download only the modules they
  // import): a page's image missing from the package was broken on JSR.
  const images = files.filter((f) => f.endsWith(".png")).sort();
  const shown = new Set<string>();
  for (const page of files.filter((f) => f.endsWith(".md"))) {
    const text = await Deno.readTextFile(new URL(page, root));
    for (const [, src] of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)) {
      shown.add(new URL(src!, new URL(page, root)).href.slice(root.href.length));
    }
  }
  assert.deepEqual(images, [...shown].sort());
});

Deno.test("deno doc --lint finds every public symbol documented", async () => {
  const { code, out } = await deno("doc", "--lint", "mod.ts", "src/core/mod.ts", "server.ts");
  const problems = [...out.matchAll(/^error\[([\w-]+)\]: (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
  // Every problem parsed, and a crash of `deno doc` does not pass for a clean run.
  const found = /Found (\d+) documentation lint errors?\./.exec(out);
  assert.equal(code === 0 ? 0 : Number(found?.[1]), problems.length, out);
  // Left: the zod-inferred metrics.v1 types, exported so that callers can name them, refer to
  // their schemas' types and zod's (documented in docs/metrics_schema.md and its JSON Schema);
  // and Hono's own class.
  const known = /^private-type-ref: .* references private type '(\w+Schema|output|Hono)'$/;
  assert.deepEqual(problems.filter((p) => !known.test(p)), [], out);
});
