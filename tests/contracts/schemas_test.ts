import assert from "node:assert/strict";
import { renderSchemas, SCHEMA_FILES } from "../../src/contracts/schemas.ts";
import { ErrorEnvelope } from "../../src/contracts/error_envelope.ts";
import { MetricsTick } from "../../src/contracts/metrics.ts";

const SCHEMAS_DIR = new URL("../../schemas/", import.meta.url);

Deno.test("renderSchemas() matches the committed schemas/*.schema.json (run `deno task schemas`)", async () => {
  const rendered = renderSchemas();
  assert.deepEqual(Object.keys(rendered).sort(), Object.keys(SCHEMA_FILES).sort());
  for (const [name, text] of Object.entries(rendered)) {
    const onDisk = await Deno.readTextFile(new URL(name, SCHEMAS_DIR));
    assert.equal(onDisk, text, `schemas/${name} drifted from src/contracts: run deno task schemas`);
  }
  const stale = [...Deno.readDirSync(SCHEMAS_DIR)].map((e) => e.name).filter((n) =>
    n.endsWith(".schema.json") && !(n in rendered)
  );
  assert.deepEqual(stale, [], "schema files without a zod source");
});

Deno.test("renderSchemas() describes the contract fields", () => {
  const metrics = JSON.parse(renderSchemas()["metrics.v1.schema.json"]!);
  const tick = metrics.$defs?.["metrics.v1"] ?? metrics;
  for (const f of ["schema", "t", "backend", "ops", "latency_ms", "events", "alerts"]) {
    assert.ok(f in tick.properties, f);
  }
  const env = JSON.parse(renderSchemas()["error_envelope.schema.json"]!);
  const e = env.$defs?.error_envelope ?? env;
  assert.deepEqual(e.properties.error.enum, ["BadInput", "Invariant", "Policy", "IO", "Internal"]);
  assert.deepEqual(e.required.sort(), ["detail", "error"]);
});

Deno.test("ErrorEnvelope refuses unknown codes and accepts fields a later version adds", () => {
  assert.ok(ErrorEnvelope.safeParse({ error: "IO", detail: "x" }).success);
  assert.ok(!ErrorEnvelope.safeParse({ error: "Oops", detail: "x" }).success);
  assert.ok(ErrorEnvelope.safeParse({ error: "IO", detail: "x", since: "v2" }).success);
});

Deno.test("renderSchemas() leaves the documents adhash writes open and its inputs closed", () => {
  for (const [name, text] of Object.entries(renderSchemas())) {
    const closed = text.includes('"additionalProperties": false');
    assert.equal(closed, SCHEMA_FILES[name]!.io === "input", name);
  }
});

Deno.test("MetricsTick refuses a tick without its required fields", () => {
  const r = MetricsTick.safeParse({ schema: "metrics.v1" });
  assert.ok(!r.success);
  assert.ok(r.error.issues.some((i) => i.path[0] === "latency_ms"));
});

Deno.test("renderSchemas() writes no union type, which strict validators refuse (ajv's strictTypes)", () => {
  const unions: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (typeof node !== "object" || node === null) return;
    const type = (node as { type?: unknown }).type;
    if (Array.isArray(type) && type.filter((t) => t !== "null").length > 1) unions.push(at);
    for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`);
  };
  for (const [name, text] of Object.entries(renderSchemas())) walk(JSON.parse(text), `${name}#`);
  assert.deepEqual(unions, []);
  // A nullable type stays one type or null, which they take.
  const result = JSON.parse(renderSchemas()["config_result.v1.schema.json"]!);
  const before = result.$defs["config_result.v1"].properties.changes.items.properties.before;
  assert.deepEqual(before.anyOf.map((b: { type: string }) => b.type), [
    "boolean",
    "number",
    "string",
    "null",
  ]);
});
