import assert from "node:assert/strict";
import { filePath } from "../../src/cli/self_command.ts";
import { linuxTest, readLine } from "../_helpers.ts";
import { idleConnections, UNDER_64_FDS } from "./_fixtures.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { startMetricsServer } from "../../src/server/start.ts";

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
    let out = await readLine(reader);
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

/** Sends `request` (raw HTTP/1.1) to `port`; returns the response's status line and body. */
async function rawRequest(port: number, request: string): Promise<[string, string]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(request));
    const text = await new Response(conn.readable).text();
    return [text.split("\r\n", 1)[0]!, text.slice(text.indexOf("\r\n\r\n") + 4)];
  } catch (err) {
    conn.close();
    throw err;
  }
}

Deno.test("startMetricsServer() answers TRACE and TRACK as methods it does not allow", async () => {
  // A Request of these methods cannot be made: rebuilding one to bound its body threw, and any
  // client got a 500 and a server error in the log, before the rate limit and the token.
  for (const token of [undefined, "s3cret"]) {
    const server = await startMetricsServer({ hub: new MetricsHub(), port: "auto", token });
    try {
      for (const method of ["TRACE", "TRACK"]) {
        for (const framing of ["", "Transfer-Encoding: chunked\r\n"]) {
          const [status, body] = await rawRequest(
            server.port,
            `${method} /api/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n${framing}Connection: close\r\n\r\n` +
              (framing === "" ? "" : "0\r\n\r\n"),
          );
          const want = token === undefined ? "405" : "401";
          assert.match(status, new RegExp(`^HTTP/1.1 ${want} `), `${method} ${framing}: ${body}`);
          assert.equal(
            JSON.parse(body).error,
            token === undefined ? "MethodNotAllowed" : "Unauthorized",
          );
        }
      }
      const [health] = await rawRequest(
        server.port,
        "TRACE /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
      );
      assert.match(health, /^HTTP\/1.1 405 /);
    } finally {
      await server.close();
    }
  }
});
