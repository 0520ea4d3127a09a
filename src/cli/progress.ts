/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal and at most every
 * 100 ms, so redirected output never contains control characters, and never under `--log-json`,
 * whose stderr is JSON lines even on a terminal.
 *
 * @module
 */

import { writeStderr } from "./program.ts";

/**
 * A progress reporter: `update(done)`, then `finish()` when the work is done or `finish(false)`
 * when it failed (the line then ends where it stands, so the error starts a line of its own).
 */
export interface Progress {
  update(done: number): void;
  finish(done?: boolean): void;
}

/**
 * A progress bar for `total` units labelled `label`; a no-op when stderr is not a terminal or
 * `logJson` (the global `--log-json`) is set.
 */
export function progressBar(label: string, total: number, logJson: boolean): Progress {
  if (logJson || !Deno.stderr.isTerminal() || total <= 0) return { update() {}, finish() {} };
  let last = 0;
  let drawn = false;
  const draw = (done: number): void => {
    const frac = Math.min(1, done / total);
    const width = 30;
    const filled = Math.round(frac * width);
    writeStderr(
      `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${
        (frac * 100).toFixed(0).padStart(3)
      }% ${done}/${total}`,
    );
    drawn = true;
  };
  return {
    update(done: number): void {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      draw(done);
    },
    finish(done = true): void {
      if (!drawn) return;
      if (done) draw(total);
      writeStderr("\n");
    },
  };
}
