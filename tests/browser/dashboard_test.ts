import assert from "node:assert/strict";
import { filePath } from "../../src/cli/self_command.ts";

// playwright-core probes paths under /proc that Deno only opens with --allow-all, which the
// project's test task does not grant; the browser scenarios therefore run in a child
// `deno test -A` and this test checks that they all passed and wrote their screenshots.
const SCENARIOS = ["dashboard_scenarios.ts", "accessibility_scenarios.ts"].map((name) =>
  filePath(new URL(`./scenarios/${name}`, import.meta.url))
);
const DOCS_SHOTS = filePath(new URL("../../docs/screenshots/", import.meta.url));
const EXPECTED_SHOTS = [
  "telemetry_light.png",
  "telemetry_dark.png",
  "telemetry_phone.png",
  "probe.png",
  "snapshot.png",
  "compare.png",
  "jobs.png",
  "login.png",
];

// ADHASH_UPDATE_SCREENSHOTS=1 refreshes the committed screenshots in docs/screenshots/ (used by
// the README); otherwise they go to a temporary directory so test runs leave the tree unchanged.
Deno.test("Mission Control passes its browser scenarios in chromium", async () => {
  const update = Deno.env.get("ADHASH_UPDATE_SCREENSHOTS") === "1";
  const SHOTS = update ? DOCS_SHOTS : `${await Deno.makeTempDir({ prefix: "adhash_shots_" })}/`;
  try {
    const started = Date.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...SCENARIOS],
      env: { NO_COLOR: "1", ADHASH_SCREENSHOT_DIR: SHOTS },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    const text = dec.decode(out.stdout) + dec.decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /ok \| 8 passed \(\d+ steps?\) \| 0 failed/, text);
    for (const name of EXPECTED_SHOTS) {
      const info = await Deno.stat(`${SHOTS}${name}`);
      assert.ok(info.size > 5000, `${name} is too small`);
      assert.ok((info.mtime?.getTime() ?? 0) >= started - 1000, `${name} was not refreshed`);
    }
  } finally {
    if (!update) await Deno.remove(SHOTS, { recursive: true });
  }
});
