/**
 * Test helper: what adhash's /metrics really emits, read from the server app in-process after a
 * real replay's ticks were published to it.
 *
 * @module
 */

import { createApp } from "../../src/server/app.ts";
import { MetricsHub } from "../../src/server/hub.ts";
import { replayTicks } from "../server/_fixtures.ts";

/** Sample names, each with its labels and every value seen for them, and the families' types. */
export interface Exposition {
  samples: Map<string, Map<string, Set<string>>>;
  families: Map<string, string>;
}

/** Parses Prometheus text format 0.0.4. */
export function parseExposition(text: string): Exposition {
  const samples = new Map<string, Map<string, Set<string>>>();
  const families = new Map<string, string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) families.set(type[1]!, type[2]!);
    if (line === "" || line.startsWith("#")) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (name === undefined) throw new Error(`unreadable sample line: ${line}`);
    const labels = samples.get(name) ?? new Map<string, Set<string>>();
    samples.set(name, labels);
    const body = /^[^{\s]*\{(.*)\}\s/.exec(line)?.[1] ?? "";
    for (const m of body.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      const values = labels.get(m[1]!) ?? new Set<string>();
      values.add(m[2]!);
      labels.set(m[1]!, values);
    }
  }
  return { samples, families };
}

/** GET /metrics of an app holding the ticks of a real replay (latency sampled, histograms on). */
export async function servedExposition(): Promise<{ text: string; exposition: Exposition }> {
  const { ticks } = await replayTicks();
  const hub = new MetricsHub();
  for (const t of ticks) hub.publish(t);
  const res = await createApp({ hub, rateLimit: false }).request("/metrics");
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  return { text, exposition: parseExposition(text) };
}
