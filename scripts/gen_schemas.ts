/**
 * Writes schemas/*.schema.json from the zod contracts (src/contracts/schemas.ts).
 * Run with `deno task schemas`.
 *
 * @module
 */

import { renderSchemas } from "../src/contracts/schemas.ts";

if (import.meta.main) {
  for (const [name, text] of Object.entries(renderSchemas())) {
    await Deno.writeTextFile(`schemas/${name}`, text);
    console.log(`wrote schemas/${name}`);
  }
}
