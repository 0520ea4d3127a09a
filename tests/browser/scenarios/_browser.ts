// Launches a system Chromium (Debian's, or Chrome on a macOS runner) through playwright-core
// with a fresh profile.
import { Buffer } from "node:buffer";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { removedAtUnload } from "../../_helpers.ts";
import { CHROMIUM } from "../_chromium.ts";

/** A headless browser context with a throwaway profile; close() removes the profile. */
export async function launchBrowser(): Promise<{ ctx: BrowserContext; close(): Promise<void> }> {
  const profile = removedAtUnload(await Deno.makeTempDir({ prefix: "adhash_chromium_" }));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  }).catch(async (err) => {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw err;
  });
  return {
    ctx,
    async close(): Promise<void> {
      await ctx.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}

/** The test hooks app.js exposes as `globalThis.adhashDashboard`. */
export type G = {
  adhashDashboard: {
    points(): number;
    chartPoints(name: string): number;
    mode(): string;
    streamTicks(): number;
    probeStep(): number;
    tickTimes(): number[];
  };
};

/** Collects the page's console errors and uncaught exceptions (CSP violations included). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** Loads `trace` into the Probe view through its file input and waits for its first step. */
export async function loadTraceFile(page: Page, trace: { path: unknown[] }): Promise<void> {
  await page.setInputFiles("#probe-file", {
    name: "trace.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify(trace)),
  });
  await page.waitForFunction(
    (n) => document.getElementById("p-step")?.textContent === `Step 0 / ${n}`,
    trace.path.length,
  );
}
