import assert from "node:assert/strict";
import { SCHEMA_FILES } from "../../src/contracts/schemas.ts";

const DOCS = new URL("../../docs/", import.meta.url);

/** The contract a documented JSON object is an example of, by its `schema` field or shape. */
function contractOf(doc: Record<string, unknown>): string | null {
  if (typeof doc.schema === "string") return doc.schema;
  if ("error" in doc && "detail" in doc) return "error_envelope";
  if (doc.ok === true && "command" in doc) return "success_envelope";
  return null;
}

Deno.test("every JSON example in docs/ that shows a contract's document parses with that contract", async () => {
  const checked: string[] = [];
  for (const entry of Deno.readDirSync(DOCS)) {
    if (!entry.name.endsWith(".md")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, DOCS));
    for (const [, block] of text.matchAll(/```json\n([\s\S]*?)```/g)) {
      // A block is one document, or one per line (NDJSON, stdout and stderr lines); one that
      // elides fields (`...}`) is an illustration, not a document.
      if (/\.\.\.\s*[}\]]/.test(block!)) continue;
      let docs: unknown[];
      try {
        docs = [JSON.parse(block!)];
      } catch {
        docs = block!.trim().split("\n").map((line) => JSON.parse(line));
      }
      for (const doc of docs) {
        if (typeof doc !== "object" || doc === null || Array.isArray(doc)) continue;
        const name = contractOf(doc as Record<string, unknown>);
        if (name === null) continue;
        const contract = SCHEMA_FILES[`${name}.schema.json`];
        assert.ok(contract !== undefined, `${entry.name}: no contract ${name}`);
        const r = contract.schema.safeParse(doc);
        assert.ok(r.success, `${entry.name}: a ${name} example: ${r.error?.message}`);
        checked.push(`${entry.name}:${name}`);
      }
    }
  }
  // The examples known today: more may come, none may go unchecked.
  for (
    const expected of [
      "error_envelope.md:error_envelope",
      "snapshot_format.md:snapshot_inspect.v1",
      "workload_dna.md:workload_dna.v1",
    ]
  ) {
    assert.ok(checked.includes(expected), `${expected} not checked: ${checked.join(", ")}`);
  }
});
