import assert from "node:assert/strict";
import { runCli, tempDir } from "./_run.ts";
import { MAX_SMALL_TEXT_BYTES } from "../../src/io/read_text.ts";

// A config, a batch spec or a comparison past MAX_SMALL_TEXT_BYTES was read whole: a device
// that never ends (/dev/zero) grew the process until the system killed it, and a file past V8's
// longest string (~512 MiB) made `batch --spec` and `serve --compare` fail as Internal. A sparse
// file just past the limit stands for both here; before the bound it was parsed as TOML/JSON.
Deno.test("--config, config-edit --infile, batch --spec and serve --compare refuse a file past the size bound as BadInput", async () => {
  const dir = tempDir();
  try {
    const big = `${dir}/big.toml`;
    using f = Deno.openSync(big, { write: true, create: true });
    f.truncateSync(MAX_SMALL_TEXT_BYTES + 1);
    const cases: [string[], string][] = [
      [
        ["--config", big, "get", "k"],
        `Config file "${big}" is larger than ${MAX_SMALL_TEXT_BYTES} bytes`,
      ],
      [
        ["config-edit", "--infile", big, "--outfile", "-"],
        `Config file "${big}" is larger than ${MAX_SMALL_TEXT_BYTES} bytes`,
      ],
      [
        ["batch", "--spec", big, "--dry-run"],
        `Batch spec "${big}" is larger than ${MAX_SMALL_TEXT_BYTES} bytes`,
      ],
      [
        ["serve", "--port", "25950", "--compare", big],
        `--compare "${big}" is larger than ${MAX_SMALL_TEXT_BYTES} bytes`,
      ],
    ];
    for (const [args, detail] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr.slice(-300)}`);
      assert.equal(r.envelope?.error, "BadInput");
      assert.equal(r.envelope?.detail, detail);
      assert.equal(r.stdout, "");
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
