/**
 * Fixture: `runCsv()` as the CLI runs it (logging set up, a regular file read synchronously)
 * with a watchdog threshold crossed early. Prints, per tick, whether logtape had loaded by then.
 *
 * @module
 */

import { RUN_CSV_DEFAULTS, runCsv } from "../../src/cli/commands/run_csv.ts";
import { logtapeLoaded, setupLogging, shutdownLogging } from "../../src/log/setup.ts";

const [csv] = Deno.args;
await setupLogging({ json: true });
const ticks: Array<{ ops: number; alerts: number; loaded: boolean }> = [];
await runCsv({ ...RUN_CSV_DEFAULTS, csv: csv!, tickEvery: 500 }, {
  mode: "fast-lookup",
  config: {
    policy: {},
    adaptive: {},
    watchdog: {
      enabled: true,
      load_factor_warn: 0.2,
      avg_probe_warn: 8,
      tombstone_ratio_warn: 0.35,
    },
    source: null,
    overrides: [],
  },
  onTick: (t) => void ticks.push({ ops: t.ops, alerts: t.alerts.length, loaded: logtapeLoaded() }),
});
await shutdownLogging();
console.log(JSON.stringify(ticks));
