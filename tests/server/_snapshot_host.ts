// A library user's process: an app without a shutdown signal answers one snapshot request,
// then has nothing left to do and must exit (run by snapshot_routes_test.ts).
import { createApp } from "../../server.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { RobinHoodMap } from "../../mod.ts";
import { saveSnapshot } from "../../src/snapshot/mod.ts";

const dir = await Deno.makeTempDir();
await saveSnapshot(`${dir}/good.snap`, new RobinHoodMap().set("a", 1), { key: null });
const app = createApp({ hub: new MetricsHub(), snapshotDir: dir, rateLimit: false });
const res = await app.request("/api/snapshot?name=good.snap");
console.log(res.status);
await res.body?.cancel();
await Deno.remove(dir, { recursive: true });
