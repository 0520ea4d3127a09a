import assert from "node:assert/strict";
import { runScript } from "./_run.ts";
import { filePath } from "../../src/cli/self_command.ts";

const FIXTURE = filePath(new URL("./_alert_log.ts", import.meta.url));

Deno.test("runCsv() writes a watchdog warning during the replay, not at its end", async () => {
  const dir = await Deno.makeTempDir();
  const rows = ["op,key,value"];
  for (let i = 0; i < 20_000; i++) rows.push(`put,k${i},${i}`);
  await Deno.writeTextFile(`${dir}/w.csv`, `${rows.join("\n")}\n`);
  const r = await runScript(FIXTURE, [`${dir}/w.csv`]).finally(() =>
    Deno.remove(dir, { recursive: true })
  );
  assert.equal(r.code, 0, r.stderr);
  const ticks: Array<{ ops: number; alerts: number; loaded: boolean }> = JSON.parse(r.stdout);
  assert.equal(ticks.length, 41);
  const k = ticks.findIndex((t) => t.alerts > 0);
  assert.ok(k > 0 && k < 10, `alert at tick ${k}`);
  assert.ok(ticks.slice(0, k + 1).every((t) => !t.loaded), "logtape loads at the first record");
  assert.equal(ticks[k + 1]!.loaded, true, "the warning is written before the next tick");
  const warning = JSON.parse(r.stderr.trim().split("\n")[0]!);
  assert.equal(warning.level, "WARN");
  assert.match(warning.message, /^Watchdog: .*load_factor/);
});
