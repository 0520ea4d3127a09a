import assert from "node:assert/strict";
import { ROOT, runScript } from "./_run.ts";

/** Docs whose examples show one command, `$ hashmap-cli ...`, then exactly what it prints. */
const DOCS = ["docs/probe_trace.md"];

Deno.test("the commands in the docs' output examples print exactly the output shown", async () => {
  let checked = 0;
  for (const doc of DOCS) {
    const text = await Deno.readTextFile(`${ROOT}${doc}`);
    for (
      const [, command, output] of text.matchAll(
        /```\n\$ hashmap-cli ([^\n]*)\n([^$`][\s\S]*?)```/g,
      )
    ) {
      const r = await runScript(`${ROOT}cli.ts`, command!.split(" "));
      assert.equal(r.code, 0, `${doc}: ${command}\n${r.stderr}`);
      assert.equal(r.stdout, output, `${doc}: ${command}`);
      checked++;
    }
  }
  assert.equal(checked, 3, "examples found");
});
