import assert from "node:assert/strict";
import { removedAtUnload } from "../_helpers.ts";
import { deno, root } from "./_deno.ts";

Deno.test("smoke.ts --binary refuses a binary that is not deno.json's version", async () => {
  // The release runs it on each binary before uploading: a binary built from another version
  // (a stale dist/, say) must not ship.
  const dir = removedAtUnload(await Deno.makeTempDir());
  try {
    const binary = `${dir}/hashmap-cli`;
    await Deno.writeTextFile(binary, "#!/bin/sh\necho 0.0.9\n");
    await Deno.chmod(binary, 0o755);
    const perms = ["--allow-read", "--allow-write=runs", "--allow-run"];
    const { code, out } = await deno("run", ...perms, "scripts/smoke.ts", "--binary", binary);
    const { version } = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
    assert.equal(code, 1);
    assert.match(
      out,
      new RegExp(`\\nsmoke: FAIL --version printed 0\\.0\\.9, deno\\.json has ${version}\\n$`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
