import assert from "node:assert/strict";
import { runScript } from "../cli/_run.ts";
import { withTempDir } from "../_helpers.ts";
import { plainRecord } from "../../src/log/setup.ts";
import { filePath } from "../../src/cli/self_command.ts";

const FIXTURE = filePath(new URL("./_log_fixture.ts", import.meta.url));

Deno.test("log() loads logtape at the first record and keeps queued records in order with their time", async () => {
  const r = await runScript(FIXTURE, []);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.afterSetup, false, "not loaded by setupLogging() without a log file");
  assert.equal(out.afterDebug, false, "a record below the level loads nothing");
  assert.equal(out.pendingAfterDebug, false);
  assert.equal(out.afterFirst, false, "the first record is queued while logtape loads");
  assert.equal(out.pendingAfterSecond, true, "loggingPending() while records wait");
  assert.equal(out.afterPending, true, "loaded once loggingPending() settles");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines[2], "MARK", "queued records are written when loggingPending() settles");
  const records = lines.filter((l) => l !== "MARK").map((l) => JSON.parse(l));
  assert.deepEqual(records.map((x) => [x.level, x.message, x.logger]), [
    ["INFO", "first 1", "adhash.t"],
    ["WARN", "second 2", "adhash.t"],
    ["ERROR", "third 3", "adhash.t"],
  ]);
  const first = Date.parse(records[0]["@timestamp"]);
  const second = Date.parse(records[1]["@timestamp"]);
  assert.ok(
    first - out.before < 40,
    `first record stamped when logged (+${first - out.before} ms)`,
  );
  assert.ok(second - first >= 50, `second record stamped after the wait (+${second - first} ms)`);
});

Deno.test("log() never loads logtape in a run that logs nothing", async () => {
  const r = await runScript(FIXTURE, ["quiet"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  assert.deepEqual(JSON.parse(r.stdout), {
    afterSetup: false,
    afterDebug: false,
    pendingAfterDebug: false,
  });
});

Deno.test("log() without setupLogging() writes to logtape as the host application configured it", async () => {
  const r = await runScript(FIXTURE, ["host"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    pendingAfterFirst: true,
    seen: [
      "adhash.server.source warning skipping line 7",
      "adhash.server info from a sink",
      "adhash.server.source debug then 8",
    ],
  });
});

Deno.test("setupLogging(), log() and shutdownLogging() apply in call order when not awaited", async () => {
  await withTempDir(async (dir) => {
    const r = await runScript(FIXTURE, ["overlap", `${dir}/log.ndjson`]);
    assert.equal(r.code, 0, r.stderr);
    const stderr = r.stderr.trim().split("\n").map((l) => JSON.parse(l).message);
    assert.deepEqual(stderr, ["during set-up 1"], "nothing on stderr after shut-down");
    assert.deepEqual(JSON.parse(r.stdout).file, ["during set-up 1"]);
  });
});

Deno.test("plainRecord() fills in the placeholders and keeps the other properties", () => {
  // Without logtape (out of file descriptors), a record went out as `{message}; ...` followed
  // by its properties as JSON.
  const text = plainRecord({
    category: ["server"],
    level: "warning",
    message: "{message}; the replay goes on ({count} ticks, {missing}, {count} again)",
    properties: { message: "The server stopped", count: 3, extra: [1] },
    timestamp: Date.UTC(2026, 10, 24, 12, 0, 0),
  });
  assert.equal(
    text,
    '2026-11-24T12:00:00.000Z warning adhash.server: "The server stopped"; the replay goes on ' +
      '(3 ticks, {missing}, 3 again) {"extra":[1]}\n',
  );
});
