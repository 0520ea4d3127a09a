import assert from "node:assert/strict";
import { baseOf, dirOf, isAbsolute, isInside, joinPath, withoutDots } from "../../src/io/path.ts";

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

Deno.test("path functions take Windows paths as Windows has them, and `\\` as a name's elsewhere", () => {
  const W = true;
  // Deno.realPath writes C:\a\b on Windows: every function reads `\` as a separator there.
  assert.deepEqual([dirOf("C:\\runs\\m.csv", W), baseOf("C:\\runs\\m.csv", W)], [
    "C:/runs",
    "m.csv",
  ]);
  assert.equal(dirOf("C:\\m.csv", W), "C:/");
  assert.equal(dirOf("snaps\\a.snap", W), "snaps");
  assert.equal(dirOf("\\\\server\\share\\a.csv", W), "//server/share/");
  assert.equal(joinPath("C:\\", "x", W), "C:/x");
  assert.equal(joinPath("C:\\runs\\", "x", W), "C:/runs/x");
  assert.equal(withoutDots("C:\\a\\..\\..\\b\\.", W), "C:/b");
  assert.equal(withoutDots("..\\a\\..\\b", W), "../b");
  for (const p of ["C:\\x", "c:/x", "\\\\server\\share\\x", "/x", "\\x"]) {
    assert.equal(isAbsolute(p, W), true, p);
  }
  for (const p of ["x", "a\\b", "..\\x", "C:x"]) assert.equal(isAbsolute(p, W), false, p);
  // The checks that keep a job's input inside its directory.
  assert.equal(isInside("C:\\in", "C:\\in\\w.csv", W), true);
  assert.equal(isInside("C:\\in", "c:\\IN\\sub\\w.csv", W), true);
  assert.equal(isInside("C:\\in", "C:\\inside\\w.csv", W), false);
  assert.equal(isInside("C:\\", "C:\\w.csv", W), true);
  assert.equal(isInside("C:\\in", "D:\\in\\w.csv", W), false);
  // Elsewhere `\` is part of a name, and case counts.
  assert.deepEqual([dirOf("a\\b"), baseOf("a\\b"), isAbsolute("\\x")], [".", "a\\b", false]);
  assert.equal(isInside("/in", "/IN/w.csv"), false);
  assert.equal(isInside("/in", "/in/w.csv"), true);
  assert.equal(isInside("/", "/w.csv"), true);
  assert.equal(isInside("/in", "/inside"), false);
});
