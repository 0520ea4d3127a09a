// A metrics server whose port another listener takes while it is stopped for want of file
// descriptors (run it with `ulimit -n 64`): prints its port, then its `failure` as JSON.
import { MetricsHub } from "../../src/server/hub.ts";
import { startMetricsServer } from "../../src/server/start.ts";

const spare = Deno.openSync("/dev/null"); // the descriptor the other listener needs then
let taken: Deno.Listener | undefined;
const server = await startMetricsServer({
  hub: new MetricsHub(),
  port: "auto",
  onStopped: () => {
    if (taken !== undefined) return;
    spare.close();
    taken = Deno.listen({ hostname: "127.0.0.1", port: server.port });
  },
  onResumed: () => console.log("resumed"),
});
console.log(server.port);
const err = await server.failure;
console.log(
  JSON.stringify({ name: err.name, code: err.code, message: err.message, hint: err.hint }),
);
taken?.close();
await server.close();
