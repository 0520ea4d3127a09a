import assert from "node:assert/strict";
import { removedAtUnload } from "../_helpers.ts";

const root = new URL("../../", import.meta.url);

Deno.test("smoke.ts --binary refuses a binary that is not deno.json's version", async () => {
  // The release runs it on each binary before uploading: a binary built from another version
  // (a stale dist/, say) must not ship.
  const dir = removedAtUnload(await Deno.makeTempDir());
  try {
    const binary = `${dir}/hashmap-cli`;
    await Deno.writeTextFile(binary, "#!/bin/sh\necho 0.0.9\n");
    await Deno.chmod(binary, 0o755);
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write=runs",
        "--allow-run",
        "scripts/smoke.ts",
        "--binary",
        binary,
      ],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const { version } = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
    assert.equal(r.code, 1);
    assert.equal(
      new TextDecoder().decode(r.stderr),
      `smoke: FAIL --version printed 0.0.9, deno.json has ${version}\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
