import assert from "node:assert/strict";
import { renderSchemas, SCHEMA_FILES } from "../../src/contracts/schemas.ts";
import { compatibilityProblems, type Side } from "./_compat.ts";

/**
 * Each contract's schema as first published (landed). Only a new contract adds a file here;
 * an existing one never changes, or the check below would check nothing.
 */
const PUBLISHED = new URL("../fixtures/contracts/published/", import.meta.url);

/**
 * Output fields narrowed to the contract they were always documented as (docs/contracts.md), by
 * schema file: JSON path -> the contract's `$defs` name, which must be its schema file's own
 * definition. Listing a field here claims that every document adhash ever wrote there met that
 * contract: only a field filled, since it was published, by the code that writes the contract.
 */
const NARROWED: Readonly<Record<string, { file: string; fields: Record<string, string> }>> = {
  // Filled by inspectSnapshot() (inspect-snapshot --json), `path` replaced by the name, since
  // 4fcb9ba; docs/server.md: "`{name, inspection}` (`snapshot_inspect.v1`)".
  "api.snapshot.v1.schema.json": {
    file: "snapshot_inspect.v1.schema.json",
    fields: { "$.inspection": "snapshot_inspect.v1" },
  },
  // Filled by the maps' traceGet()/tracePut() since 4fcb9ba; docs/server.md: "`{source, trace}`
  // (`probe_trace.v1`)".
  "api.probe.v1.schema.json": {
    file: "probe_trace.schema.json",
    fields: { "$.trace": "probe_trace.v1" },
  },
};

Deno.test("every contract's schema is a compatible successor of the one published", async () => {
  const rendered = renderSchemas();
  const problems: string[] = [];
  for (const [name, { file, fields }] of Object.entries(NARROWED)) {
    const own = JSON.parse(rendered[file]!).$defs;
    for (const id of new Set(Object.values(fields))) {
      assert.deepEqual(JSON.parse(rendered[name]!).$defs[id], own[id], `${name}: $defs.${id}`);
    }
  }
  for (const [name, { io }] of Object.entries(SCHEMA_FILES)) {
    let published: string;
    try {
      published = await Deno.readTextFile(new URL(name, PUBLISHED));
    } catch {
      problems.push(`${name}: no published copy; copy schemas/${name} to ${PUBLISHED.pathname}`);
      continue;
    }
    const current = JSON.parse(rendered[name]!);
    const narrowed = NARROWED[name]?.fields ?? {};
    for (const p of compatibilityProblems(JSON.parse(published), current, io, narrowed)) {
      problems.push(`${name} ${p}`);
    }
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});

/** Documents written by earlier versions, by contract: `<schema name>/<commit>[-what].json(l)`. */
const DOCUMENTS = new URL("../fixtures/contracts/documents/", import.meta.url);

Deno.test("documents written by earlier versions still parse with today's contracts", async () => {
  let count = 0;
  for (const dir of Deno.readDirSync(DOCUMENTS)) {
    const contract = SCHEMA_FILES[`${dir.name}.schema.json`];
    assert.ok(contract !== undefined, `no contract ${dir.name}`);
    for (const file of Deno.readDirSync(new URL(`${dir.name}/`, DOCUMENTS))) {
      const text = await Deno.readTextFile(new URL(`${dir.name}/${file.name}`, DOCUMENTS));
      const docs = file.name.endsWith(".ndjson")
        ? text.trimEnd().split("\n").map((line) => JSON.parse(line))
        : [JSON.parse(text)];
      for (const doc of docs) {
        const r = contract.schema.safeParse(doc);
        assert.ok(r.success, `${dir.name}/${file.name}: ${r.error?.message}`);
        count++;
      }
    }
  }
  assert.ok(count >= 40, `only ${count} documents`);
});

/** An object schema with the given properties (all required unless listed as optional). */
function obj(props: Record<string, unknown>, optional: string[] = [], closed = false): unknown {
  return {
    type: "object",
    properties: props,
    required: Object.keys(props).filter((k) => !optional.includes(k)),
    ...(closed ? { additionalProperties: false } : {}),
  };
}

const check = (a: unknown, b: unknown, side: Side, narrowed: Record<string, string> = {}) =>
  compatibilityProblems(a, b, side, narrowed);

Deno.test("compatibilityProblems() lets an output gain optional fields and nothing else", () => {
  const v1 = obj({ n: { type: "integer", minimum: 0 }, s: { type: "string", enum: ["a", "b"] } });
  assert.deepEqual(check(v1, v1, "output"), []);
  // Added optional field, new wording: compatible.
  const more = obj({
    n: { type: "integer", minimum: 0, description: "now documented" },
    s: { type: "string", enum: ["a", "b"] },
    p: { type: "number" },
  }, ["p"]);
  assert.deepEqual(check(v1, more, "output"), []);
  // Each of these breaks a reader on one side or the other.
  const broken: Array<[unknown, RegExp]> = [
    [
      obj({ n: { type: "integer", minimum: 0 }, s: { type: "string", enum: ["a", "b"] }, p: {} }),
      /"p" became required/,
    ],
    [obj({ n: { type: "integer", minimum: 0 } }), /"s" was removed/],
    [
      obj({ n: { type: "integer", minimum: 0 }, s: { type: "string", enum: ["a", "b"] } }, ["s"]),
      /"s" is no longer always written/,
    ],
    [
      obj({ n: { type: "number", minimum: 0 }, s: { type: "string", enum: ["a", "b"] } }),
      /\$\.n: type/,
    ],
    [
      obj({ n: { type: "integer", minimum: 1 }, s: { type: "string", enum: ["a", "b"] } }),
      /\$\.n: "minimum" 0 became 1/,
    ],
    [
      obj({ n: { type: "integer", minimum: 0 }, s: { type: "string", enum: ["a", "b", "c"] } }),
      /\$\.s: values/,
    ],
    [
      obj(
        { n: { type: "integer", minimum: 0 }, s: { type: "string", enum: ["a", "b"] } },
        [],
        true,
      ),
      /additionalProperties "open" became false/,
    ],
    [
      obj({
        n: { type: "integer", minimum: 0, pattern: "x" },
        s: { type: "string", enum: ["a", "b"] },
      }),
      /"pattern" changed/,
    ],
  ];
  for (const [next, problem] of broken) {
    const found = check(v1, next, "output");
    assert.ok(found.some((p) => problem.test(p)), `${problem}: ${found.join("; ")}`);
  }
  // A closed object cannot gain fields: readers of the published schema refuse them.
  const closed = obj({ n: { type: "integer" } }, [], true);
  assert.deepEqual(check(closed, obj({ n: { type: "integer" } }), "output"), []);
  assert.match(
    check(closed, obj({ n: { type: "integer" }, m: {} }, ["m"]), "output")[0]!,
    /added to an object published closed/,
  );
});

Deno.test("compatibilityProblems() lets an input accept more, never less", () => {
  const v1 = obj(
    {
      csv: { type: "string", minLength: 1 },
      repeat: { type: "integer", minimum: 1, maximum: 100, default: 5 },
      mode: { type: "string", enum: ["a", "b"] },
    },
    ["repeat", "mode"],
    true,
  );
  const wider = obj(
    {
      csv: { type: "string", minLength: 1 },
      repeat: { type: "number", minimum: 0, maximum: 1000, default: 5 },
      mode: { type: "string", enum: ["a", "b", "c"] },
      extra: { type: "boolean" },
    },
    ["repeat", "mode", "extra"],
    true,
  );
  assert.deepEqual(check(v1, wider, "input"), []);
  const narrower: Array<[unknown, RegExp]> = [
    [obj({ csv: { type: "string", minLength: 2 } }, [], true), /"minLength" 1 became 2/],
    [
      obj(
        {
          csv: { type: "string", minLength: 1 },
          repeat: { type: "integer", minimum: 1, maximum: 50, default: 5 },
        },
        ["repeat"],
        true,
      ),
      /"maximum" 100 became 50/,
    ],
    [
      obj(
        {
          csv: { type: "string", minLength: 1 },
          repeat: { type: "integer", minimum: 1, maximum: 100, default: 3 },
        },
        ["repeat"],
        true,
      ),
      /"default" changed from 5 to 3/,
    ],
    [
      obj({ csv: { type: "string", minLength: 1 }, mode: { type: "string", enum: ["a"] } }, [
        "mode",
      ], true),
      /values \["a","b"\] became \["a"\]/,
    ],
    [
      obj({ csv: { type: "string", minLength: 1 }, extra: { type: "boolean" } }, [], true),
      /"extra" became required/,
    ],
  ];
  for (const [next, problem] of narrower) {
    const found = check(v1, next, "input");
    assert.ok(found.some((p) => problem.test(p)), `${problem}: ${found.join("; ")}`);
  }
});

Deno.test("compatibilityProblems() follows $ref into $defs on both sides", () => {
  const doc = (min: number): unknown => ({
    $ref: "#/$defs/tick",
    $defs: {
      tick: obj({ ops: { $ref: "#/$defs/count" } }),
      count: { type: "integer", minimum: min },
    },
  });
  assert.deepEqual(check(doc(0), doc(0), "output"), []);
  assert.match(check(doc(0), doc(1), "output").join(), /\$\.ops: "minimum" 0 became 1/);
});

Deno.test("compatibilityProblems() narrows a listed output field to a contract's $ref, and only that", () => {
  const trace = {
    oneOf: [
      obj({ schema: { type: "string", const: "t.v1" }, backend: { type: "string", const: "a" } }),
      obj({ schema: { type: "string", const: "t.v1" }, backend: { type: "string", const: "b" } }),
    ],
  };
  const doc = (field: unknown, defs: Record<string, unknown> = {}): unknown => ({
    $ref: "#/$defs/body",
    $defs: { body: obj({ name: { type: "string" }, field }), ...defs },
  });
  const narrowed = doc({ $ref: "#/$defs/t.v1" }, { "t.v1": trace });
  const listed = { "$.field": "t.v1" };
  // Any value, or a partial object every branch of the contract meets: allowed where listed.
  const partial = obj({ schema: { type: "string", const: "t.v1" }, backend: { type: "string" } });
  for (const published of [doc({}), doc({ ...partial as object, additionalProperties: {} })]) {
    assert.deepEqual(check(published, narrowed, "output", listed), []);
    // Not listed, it is the narrowing it is.
    assert.ok(check(published, narrowed, "output").length > 0);
  }
  // A published field that refuses some contract documents, or says what it cannot check.
  const refused: Array<[unknown, unknown]> = [
    [doc(obj({ backend: { type: "string", const: "a" } })), narrowed],
    [doc(obj({ extra: { type: "string" } })), narrowed],
    [doc({ type: "object", minProperties: 1 }), narrowed],
    [doc(obj({ backend: { type: "string" } }, [], true)), narrowed],
    // The field must become the bare $ref, not a schema of its own.
    [doc({}), doc({ $ref: "#/$defs/t.v1", type: "object" }, { "t.v1": trace })],
    [doc({}), doc(trace)],
    [doc({}), doc({ $ref: "#/$defs/other" }, { other: trace })],
  ];
  for (const [published, current] of refused) {
    const found = check(published, current, "output", listed);
    assert.ok(found.some((p) => p.startsWith("$.field: ")), JSON.stringify(current));
  }
  // Never an input.
  assert.ok(check(doc({}), narrowed, "input", listed).length > 0);
});

Deno.test("compatibilityProblems() takes a union of types spelt as anyOf for the same schema", () => {
  const spelt = (s: unknown): unknown => obj({ v: s });
  const list = { description: "v", type: ["boolean", "number", "null"] };
  const any = {
    description: "v",
    anyOf: [{ type: "boolean" }, { type: "number" }, { type: "null" }],
  };
  for (const side of ["output", "input"] as const) {
    assert.deepEqual(check(spelt(list), spelt(any), side), []);
    assert.deepEqual(check(spelt(any), spelt(list), side), []);
  }
  // Another set of types is still another schema.
  const fewer = { description: "v", anyOf: [{ type: "boolean" }, { type: "null" }] };
  assert.ok(check(spelt(list), spelt(fewer), "output").length > 0);
  const other = { anyOf: [{ type: "boolean" }, { type: "string" }, { type: "null" }] };
  assert.ok(check(spelt(list), spelt(other), "output").length > 0);
});
