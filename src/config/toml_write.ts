/**
 * Writes a configuration as TOML for people to read: a header comment, `[adaptive]` then
 * `[watchdog]`, keys in the schema's order, each with its default beside it. Only the keys
 * set are written; the values are booleans, numbers and enum strings, which need no escaping
 * beyond JSON's.
 *
 * @module
 */

import { CONFIG_KEYS, type ConfigSections, SECTIONS, showValue } from "./keys.ts";

/** The TOML text of `sections`, after `header` (one comment line each). */
export function renderToml(sections: ConfigSections, header: readonly string[]): string {
  const out = header.map((line) => `# ${line}`.trimEnd());
  for (const section of SECTIONS) {
    const rows = CONFIG_KEYS.filter((k) => k.section === section && k.name in sections[section])
      .map((k) => [`${k.name} = ${showValue(k, sections[section][k.name]!)}`, k] as const);
    if (rows.length === 0) continue;
    const width = Math.max(...rows.map(([line]) => line.length));
    out.push("", `[${section}]`);
    for (const [line, k] of rows) {
      out.push(`${line.padEnd(width)}  # default ${showValue(k, k.defaultValue)}`);
    }
  }
  if (out.length === header.length) {
    out.push("", "# No key is set: every key takes its default (docs/config.md).");
  }
  return `${out.join("\n")}\n`;
}
