// Where the browser tests find a system Chromium (Debian's, or Chrome on a macOS runner).

/** Where Chromium is looked for when `ADHASH_CHROMIUM` does not name it. */
const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
];

/** The browser the tests drive: `ADHASH_CHROMIUM`, else the first of CANDIDATES found. */
export const CHROMIUM: string = Deno.env.get("ADHASH_CHROMIUM") ??
  CANDIDATES.find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  }) ??
  // The launch then fails naming this path: a missing browser fails the tests, never skips.
  CANDIDATES[0]!;
