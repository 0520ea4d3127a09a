import assert from "node:assert/strict";

/** Runs a case set of fuzz_cases.ts in a worker; a hang past `timeoutMs` fails the test. */
async function runCases(name: string, timeoutMs = 60_000): Promise<void> {
  const worker = new Worker(new URL("./fuzz_worker.ts", import.meta.url), { type: "module" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const result = await new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name} did not finish in ${timeoutMs} ms`)),
        timeoutMs,
      );
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
      worker.postMessage(name);
    });
    assert.ok(result.ok, result.message);
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}

Deno.test("decodeSnapshot() turns thousands of byte flips into clear errors", async () => {
  await runCases("byteFlips");
});

Deno.test("decodeSnapshot() refuses every truncation and extension", async () => {
  await runCases("truncations");
});

Deno.test("decodeSnapshot() survives corrupted payloads that carry a valid checksum", async () => {
  await runCases("checksummedCorruptions");
});

Deno.test("decodeSnapshot() survives random bytes behind a valid header", async () => {
  await runCases("randomPayloads");
});
