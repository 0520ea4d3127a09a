import assert from "node:assert/strict";
import { removedAtUnload } from "../_helpers.ts";
import { deno, root } from "./_deno.ts";
import { filePath, shellWord } from "../../src/cli/self_command.ts";

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

// A binary compiled without `--include` for a worker module still works, its servers on one
// thread: the release's smoke must refuse it. A copy of the source tree without that module
// stands in for such a binary.
for (
  const [module, failure] of [
    [
      "live_worker.ts",
      /smoke: FAIL run-csv --metrics-port: the live server shares the replay's thread\n[^]*live_worker\.ts\) could not start/,
    ],
    ["snapshot_worker.ts", /smoke: FAIL serve inspects snapshots on its own thread\n/],
  ] as const
) {
  Deno.test(`smoke.ts --binary refuses a build without src/server/${module}`, async () => {
    const dir = removedAtUnload(await Deno.makeTempDir());
    try {
      const tree = `${dir}/tree`;
      await Deno.mkdir(tree);
      const paths = ["cli.ts", "deno.json", "deno.lock", "src"].map((p) =>
        filePath(new URL(p, root))
      );
      const copy = await new Deno.Command("cp", { args: ["-R", ...paths, tree] }).output();
      assert.equal(copy.code, 0);
      await Deno.remove(`${tree}/src/server/${module}`);
      const binary = `${dir}/hashmap-cli`;
      // The permissions `deno task compile` gives the binary.
      const perms = "--allow-read --allow-write --allow-env --allow-net --allow-sys --allow-run";
      const run = `${shellWord(Deno.execPath())} run ${perms} ${shellWord(`${tree}/cli.ts`)}`;
      await Deno.writeTextFile(binary, `#!/bin/sh\nexec ${run} "$@"\n`);
      await Deno.chmod(binary, 0o755);
      const smoke = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-run",
          "--allow-net=127.0.0.1",
          filePath(new URL("scripts/smoke.ts", root)),
          "--binary",
          binary,
        ],
        cwd: dir, // runs/smoke/ goes here
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(smoke.stdout) + new TextDecoder().decode(smoke.stderr);
      assert.equal(smoke.code, 1, out);
      assert.match(out, /smoke: ok {3}validate-metrics/);
      assert.match(out, failure);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
