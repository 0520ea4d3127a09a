import assert from "node:assert/strict";
import { generateAssetsModule } from "../../scripts/embed_assets.ts";
import { ASSETS } from "../../src/server/assets_generated.ts";
import { createApp } from "../../src/server/app.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { filePath } from "../../src/cli/self_command.ts";

const root = filePath(new URL("../..", import.meta.url)).replace(/\/$/, "");

Deno.test("generateAssetsModule() matches the committed src/server/assets_generated.ts", async () => {
  const expected = await generateAssetsModule(`${root}/web`);
  const actual = await Deno.readTextFile(`${root}/src/server/assets_generated.ts`);
  assert.ok(actual === expected, "src/server/assets_generated.ts is stale: run `deno task assets`");
});

Deno.test("ASSETS holds the dashboard, uPlot and uPlot's licence", () => {
  for (
    const name of [
      "index.html",
      "app.js",
      "style.css",
      "vendor/uPlot.iife.min.js",
      "vendor/uPlot.min.css",
      "vendor/LICENSE",
    ]
  ) {
    assert.ok(ASSETS[name], name);
  }
  assert.match(ASSETS["vendor/LICENSE"]!.body, /MIT License[\s\S]*Leon Sorokin/);
});

Deno.test("createApp() serves a dashboard with no inline script or style and no CDN", async () => {
  const app = createApp({ hub: new MetricsHub() });
  const res = await app.request("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
  const html = await res.text();
  assert.match(html, /<title>adhash Mission Control<\/title>/);
  // Every script has a same-origin src; no inline handlers, style attributes or <style>.
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1]!, /src="\/assets\//);
    assert.equal(m[2]!.trim(), "");
  }
  assert.doesNotMatch(html, /\son[a-z]+=|\sstyle=|<style|https?:\/\//i);
  for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    const url = m[1]!;
    if (url.startsWith("#")) continue;
    const asset = await app.request(url);
    assert.equal(asset.status, 200, url);
    await asset.body?.cancel();
  }
  const js = await app.request("/assets/app.js");
  assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
  const missing = await app.request("/assets/nope.js");
  assert.equal(missing.status, 404);
  await js.body?.cancel();
  await missing.body?.cancel();
});
