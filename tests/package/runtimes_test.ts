// The library outside Deno: `./core` in a browser, `.` in Node. JSR hands both to such users.
import assert from "node:assert/strict";
import { deno } from "./_deno.ts";
import { CHROMIUM } from "../browser/_chromium.ts";
import { withTempDir } from "../_helpers.ts";

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

Deno.test("./core bundles without Node built-ins and runs in Chromium", async () => {
  await withTempDir(async (dir) => {
    const bundled = await deno(
      "bundle",
      "--platform",
      "browser",
      "--output",
      `${dir}/core.mjs`,
      "src/core/mod.ts",
    );
    assert.equal(bundled.code, 0, bundled.out);
    const code = await Deno.readTextFile(`${dir}/core.mjs`);
    // A browser cannot load these, and an app's bundler stops at them.
    assert.doesNotMatch(code, /["']node:|\bDeno\.(?!customInspect|inspect\b)/);
    await Deno.writeTextFile(
      `${dir}/page.html`,
      `<!DOCTYPE html><pre id="out">not run</pre><script type="module">
${code.replaceAll("</script", "<\\/script")}
const map = new AdaptiveMap();
const events = [];
map.onEvent((e) => events.push(e.type));
for (let i = 0; i < 5000; i++) map.set("K" + i, i);
document.getElementById("out").textContent = JSON.stringify({
  size: map.size, backend: map.backend, events: events.length, found: map.traceGet("K7").found,
});
</script>`,
    );
    const page = await run(CHROMIUM, [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      `--user-data-dir=${dir}/profile`,
      "--dump-dom",
      `file://${dir}/page.html`,
    ]);
    assert.equal(page.code, 0, page.stderr);
    const shown = /<pre id="out">([^<]*)<\/pre>/.exec(page.stdout)?.[1];
    assert.deepEqual(JSON.parse(shown?.replaceAll("&quot;", '"') ?? "null"), {
      size: 5000,
      backend: "robinhood",
      events: 5,
      found: true,
    }, page.stdout);
  });
});

Deno.test("mod.ts in Node: maps and snapshot bytes work; file functions refuse with PolicyError", async () => {
  await withTempDir(async (dir) => {
    const bundled = await deno("bundle", "--output", `${dir}/mod.mjs`, "mod.ts");
    assert.equal(bundled.code, 0, bundled.out);
    const script = `
const m = await import(${JSON.stringify(`${dir}/mod.mjs`)});
const map = new m.AdaptiveMap();
for (let i = 0; i < 3000; i++) map.set("K" + i, i);
const size = m.decodeSnapshot(m.encodeSnapshot(map)).map.size;
let saved;
try { await m.saveSnapshot(${JSON.stringify(`${dir}/x.adhsnap`)}, map); } catch (e) { saved = e; }
process.env.ADHASH_SNAPSHOT_KEY = "s3cret";
const keyed = m.encodeSnapshot(map);
console.log(JSON.stringify({
  runtime: typeof Deno === "undefined" ? "node" : "deno",
  size,
  keyed: (keyed[10] & 2) === 2,
  read: m.decodeSnapshot(keyed).map.get("K42"),
  saved: [saved?.name, saved?.code],
}));`;
    const r = await run("node", ["--input-type=module", "-e", script], {
      PATH: Deno.env.get("PATH") ?? "",
    });
    assert.equal(r.code, 0, r.stderr);
    // Without a node on PATH, Deno runs itself for "node": this is then no test of Node.
    assert.deepEqual(JSON.parse(r.stdout), {
      runtime: "node",
      size: 3000,
      keyed: true,
      read: 42,
      saved: ["PolicyError", "Policy"],
    });
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(dir), (e) => e.name).then((n) => n.sort()),
      [
        "mod.mjs",
      ],
    );
  });
});
