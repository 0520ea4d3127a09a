// Fixture: starts the live metrics server as run-csv does and reports the calling (replay)
// thread's nice value before, while serving and after close, as one JSON line.
import { getPriority } from "node:os";
import { startLiveMetrics } from "../../src/server/live.ts";

const nice = (): number | null => {
  try {
    return getPriority(0);
  } catch {
    return null; // no --allow-sys
  }
};
const before = nice();
const live = await startLiveMetrics({ port: "auto" });
const during = nice();
const res = await fetch(`http://127.0.0.1:${live.server.port}/healthz`);
await res.body?.cancel();
await live.close();
console.log(JSON.stringify({
  before,
  during,
  after: nice(),
  reported: live.replayNice,
  threaded: live.threaded,
  status: res.status,
}));
