import assert from "node:assert/strict";
import { z } from "zod";
import { API_SCHEMAS } from "../../src/contracts/api.ts";

Deno.test("API_SCHEMAS names each body by its own schema literal", () => {
  for (const [name, schema] of Object.entries(API_SCHEMAS)) {
    type Obj = { properties?: { schema?: { const?: string } }; required?: string[] };
    const doc = z.toJSONSchema(schema, {
      target: "draft-2020-12",
      io: "output",
      unrepresentable: "any",
    }) as Obj & { $ref?: string; $defs?: Record<string, Obj> };
    // Schemas with a meta id render as a $ref to their $defs entry.
    const json: Obj = doc.$ref === undefined ? doc : doc.$defs![doc.$ref.replace("#/$defs/", "")]!;
    assert.equal(json.properties?.schema?.const, name, name);
    assert.ok(json.required?.includes("schema"), `${name} requires schema`);
  }
});

Deno.test("API_SCHEMAS rejects a body with the wrong schema name", () => {
  assert.throws(() =>
    API_SCHEMAS["api.health.v1"]!.parse({ schema: "api.ready.v1", status: "ok" })
  );
  assert.doesNotThrow(() =>
    API_SCHEMAS["api.health.v1"]!.parse({ schema: "api.health.v1", status: "ok" })
  );
});
