import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { CONFIG_KEYS } from "../../src/config/keys.ts";

const DOCS = new URL("../../docs/", import.meta.url);

/** A default as the docs spell it: `1,000,000` and `chaining` in backquotes read as values. */
function docValue(cell: string): string {
  return cell.replaceAll("`", "").replaceAll(",", "").trim();
}

Deno.test("docs/config.md's defaults block is the configuration every key defaults to", async () => {
  const text = await Deno.readTextFile(new URL("config.md", DOCS));
  const block = /```toml\n(\[adaptive\][^\n]*\(defaults shown\)[\s\S]*?)```/.exec(text)?.[1];
  assert.ok(block !== undefined, "docs/config.md has no `[adaptive] ... (defaults shown)` block");
  // Through JSON: smol-toml's tables have a null prototype, which deepEqual would count.
  const doc = JSON.parse(JSON.stringify(parseToml(block)));
  const expected: Record<string, Record<string, unknown>> = {};
  for (const key of CONFIG_KEYS) (expected[key.section] ??= {})[key.name] = key.defaultValue;
  assert.deepEqual(doc, expected);
});

Deno.test("docs/adaptive_policy.md's policy table gives every field its default", async () => {
  const text = await Deno.readTextFile(new URL("adaptive_policy.md", DOCS));
  const rows = new Map<string, string>();
  for (const [, name, value] of text.matchAll(/^\| `\w+` \(`(\w+)`\)\s*\|\s*([^|]+?)\s*\|/gm)) {
    rows.set(name!, value!);
  }
  for (const key of CONFIG_KEYS.filter((k) => k.section === "adaptive")) {
    const cell = rows.get(key.name);
    assert.ok(cell !== undefined, `no row for ${key.name}`);
    assert.equal(Number(docValue(cell)) || docValue(cell), key.defaultValue, key.name);
  }
});
