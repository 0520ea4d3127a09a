// Fixture: a "replay" whose thread is busy for 1.5 s (standing in for a long GC pause or table
// rebuild) while the live metrics server runs. Argument: "worker" or "same-thread".
import { startLiveMetrics } from "../../src/server/live.ts";

const live = await startLiveMetrics({ port: "auto", worker: Deno.args[0] === "worker" });
console.log(`PORT ${live.server.port} ${live.threaded ? "threaded" : "shared"}`);
await new Promise((r) => setTimeout(r, 300)); // let the client connect
const end = performance.now() + 1500;
let spin = 0;
while (performance.now() < end) spin++;
console.log(`DONE ${spin > 0}`);
await new Promise((r) => setTimeout(r, 1000)); // serve what queued up during the block
await live.close();
