/**
 * Worker running one fuzz case set of fuzz_cases.ts on request and posting the outcome.
 *
 * @module
 */

import * as cases from "./fuzz_cases.ts";

type CaseName = "byteFlips" | "truncations" | "checksummedCorruptions" | "randomPayloads";

self.onmessage = (e: MessageEvent<CaseName>) => {
  try {
    cases[e.data]();
    self.postMessage({ ok: true });
  } catch (err) {
    self.postMessage({
      ok: false,
      message: err instanceof Error ? err.stack ?? err.message : String(err),
    });
  }
};
