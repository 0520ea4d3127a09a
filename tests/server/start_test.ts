import assert from "node:assert/strict";
import { filePath } from "../../src/cli/self_command.ts";
import { linuxTest } from "../_helpers.ts";
import { idleConnections, UNDER_64_FDS } from "./_fixtures.ts";

const PORT_TAKEN = filePath(new URL("./_port_taken.ts", import.meta.url));

linuxTest(
  "startMetricsServer() fails for good when its port is taken while it is stopped",
  async () => {
    const [sh, ...shArgs] = UNDER_64_FDS;
    const child = new Deno.Command(sh!, {
      args: [
        ...shArgs,
        Deno.execPath(),
        "run",
        "--allow-read",
        "--allow-net=127.0.0.1",
        PORT_TAKEN,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const port = Number(out.split("\n")[0]);
    assert.ok(port > 0, `fixture said ${JSON.stringify(out)}`);
    const conns = await idleConnections(port, 120);
    try {
      const [{ code }, stderr] = await Promise.all([
        child.status,
        new Response(child.stderr).text(),
        (async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            out += value;
          }
        })(),
      ]);
      assert.equal(code, 0, stderr);
      const lines = out.trimEnd().split("\n");
      assert.equal(lines.length, 2, out); // no "resumed"
      assert.deepEqual(JSON.parse(lines[1]!), {
        name: "IOError",
        code: "IO",
        message:
          `The server stopped listening and cannot listen again: Address 127.0.0.1:${port} is already in use`,
        hint: "Start the server again",
      });
    } finally {
      conns.forEach((c) => c.close());
    }
  },
);
