import assert from "node:assert/strict";
import { baseOf, dirOf, joinPath } from "../../src/io/path.ts";

Deno.test("joinPath() joins without doubling slashes, the root and an empty directory included", () => {
  assert.equal(joinPath("runs", "m.ndjson"), "runs/m.ndjson");
  assert.equal(joinPath("runs//", "m.ndjson"), "runs/m.ndjson");
  assert.equal(joinPath("/", "m.ndjson"), "/m.ndjson");
  assert.equal(joinPath("//", "m.ndjson"), "/m.ndjson");
  assert.equal(joinPath("", "m.ndjson"), "./m.ndjson");
  assert.equal(joinPath("/a/b", "c/d"), "/a/b/c/d");
});

Deno.test("baseOf() and dirOf() split a path at its last slash", () => {
  assert.deepEqual([dirOf("a/b/c.csv"), baseOf("a/b/c.csv")], ["a/b", "c.csv"]);
  assert.deepEqual([dirOf("c.csv"), baseOf("c.csv")], [".", "c.csv"]);
  assert.deepEqual([dirOf("/c.csv"), baseOf("/c.csv")], ["/", "c.csv"]);
});
