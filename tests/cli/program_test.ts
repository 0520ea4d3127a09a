import assert from "node:assert/strict";
import { UsageError } from "../../src/cli/command.ts";
import { floatArg, intArg, toEnvelope } from "../../src/cli/program.ts";
import { BadInputError, InvariantError, IOError, PolicyError } from "../../src/errors.ts";

Deno.test("toEnvelope() maps every error class to its code and exit code", () => {
  const cases: Array<[unknown, string, number]> = [
    [new BadInputError("b", { hint: "h" }), "BadInput", 2],
    [new InvariantError("i"), "Invariant", 3],
    [new PolicyError("p"), "Policy", 4],
    [new IOError("o"), "IO", 5],
    [new Deno.errors.NotFound("nf"), "IO", 5],
    [new Deno.errors.NotCapable("nc"), "Policy", 4],
    // The system's EACCES (a read-only directory), not Deno's permissions: no flag would help.
    [new Deno.errors.PermissionDenied("Permission denied (os error 13): mkdir 'ro/m'"), "IO", 5],
    [new UsageError("unknown option '--x'"), "BadInput", 2],
    [new TypeError("t"), "Internal", 1],
    ["a string", "Internal", 1],
  ];
  for (const [err, code, exit] of cases) {
    const { envelope, exitCode } = toEnvelope(err);
    assert.equal(envelope.error, code, String(err));
    assert.equal(exitCode, exit, String(err));
  }
  assert.deepEqual(toEnvelope(new BadInputError("b", { hint: "h" })).envelope, {
    error: "BadInput",
    detail: "b",
    hint: "h",
  });
  assert.deepEqual(toEnvelope(new UsageError("unknown option '--x'")).envelope, {
    error: "BadInput",
    detail: "unknown option '--x'",
    hint: "Run 'hashmap-cli --help' for usage",
  });
  assert.ok(!("hint" in toEnvelope(new IOError("o")).envelope));
});

Deno.test("intArg() and floatArg() accept in-range values and quote bad ones", () => {
  assert.equal(intArg(0, 10)("7"), 7);
  assert.equal(floatArg(0, 1)("0.25"), 0.25);
  assert.throws(() => intArg(0, 10)("11"), /'11' is not an integer in \[0, 10\]/);
  assert.throws(() => intArg(0, 10)("1.5"), /'1.5'/);
  assert.throws(() => intArg(0, 10)(""), /''/);
  assert.throws(() => floatArg(0, 1)("NaN"), /'NaN'/);
  assert.throws(() => floatArg(0, 1)("-0.1"), /'-0.1'/);
});
