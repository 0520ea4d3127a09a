import assert from "node:assert/strict";
import { csvField, prefix, visible } from "../src/format.ts";
import { keyRepr } from "../src/core/hash.ts";

Deno.test("visible() shows what a terminal would act on as \\u escapes, and leaves the rest", () => {
  assert.equal(visible("plain tab\there, ü, 東京, 😀"), "plain tab\there, ü, 東京, 😀");
  assert.equal(visible("a\nb\r\x1b]0;T\x07\x7f"), "a\\u000ab\\u000d\\u001b]0;T\\u0007\\u007f");
  assert.equal(visible("\u009b2J \u202eRTL\u2066"), "\\u009b2J \\u202eRTL\\u2066");
});

Deno.test("keyRepr() quotes strings so that they act on no terminal, and parses back", () => {
  for (const key of ["K1", 'q"k', "a\nb", "\x1b[31m", "\u009b", "K_\u202eRTL", "\x7f"]) {
    const repr = keyRepr(key);
    assert.equal(visible(repr), repr, repr);
    assert.equal(JSON.parse(repr), key);
  }
  assert.equal(keyRepr(42), "42");
});

Deno.test("csvField() quotes only fields RFC 4180 says must be", () => {
  assert.deepEqual(
    ["plain", "a,b", 'q"k', "l\nl", "", 7, undefined].map(csvField),
    ["plain", '"a,b"', '"q""k"', '"l\nl"', "", "7", ""],
  );
});

Deno.test("prefix() cuts a preview without splitting a surrogate pair", () => {
  assert.equal(prefix("abc", 2), "ab");
  assert.equal(prefix("ab", 5), "ab");
  assert.equal(prefix("a\u{1F600}b", 2), "a");
  assert.equal(prefix("a\u{1F600}b", 3), "a\u{1F600}");
  assert.ok(prefix("x".repeat(39) + "\u{1F600}", 40).isWellFormed());
});
