// Launches Debian's chromium through playwright-core with a fresh profile.
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** A headless browser context with a throwaway profile; close() removes the profile. */
export async function launchBrowser(): Promise<{ ctx: BrowserContext; close(): Promise<void> }> {
  const profile = await Deno.makeTempDir({ prefix: "adhash_chromium_" });
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
  });
  return {
    ctx,
    async close(): Promise<void> {
      await ctx.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
