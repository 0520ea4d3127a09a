// The operator docs' relative links lead somewhere: the file exists and, for `file.md#anchor`,
// one of its headings has that anchor (GitHub's rule: lower case, punctuation dropped, spaces to
// hyphens).
import assert from "node:assert/strict";
import { ROOT } from "./_kit_files.ts";

const DOCS = ["docs/operations.md", "docs/prometheus_grafana.md"];

function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-"));
  }
  return out;
}

/** Broken relative links of the doc at `path` (relative to the project root). */
async function brokenLinks(path: string): Promise<string[]> {
  const text = await Deno.readTextFile(`${ROOT}${path}`);
  const dir = path.slice(0, path.lastIndexOf("/") + 1);
  const broken: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const link = m[1]!;
    if (/^[a-z]+:/.test(link)) continue; // an absolute URL
    const [file, anchor] = link.split("#") as [string, string | undefined];
    const target = file === "" ? path : `${dir}${file}`;
    let content: string;
    try {
      content = await Deno.readTextFile(`${ROOT}${target}`);
    } catch {
      broken.push(`${path}: ${link} (no file ${target})`);
      continue;
    }
    if (anchor !== undefined && !anchors(content).has(anchor)) {
      broken.push(`${path}: ${link} (no heading #${anchor} in ${target})`);
    }
  }
  return broken;
}

Deno.test("the operator docs' links lead to existing files and headings", async () => {
  const broken = (await Promise.all(DOCS.map(brokenLinks))).flat();
  assert.deepEqual(broken, []);
});

Deno.test("anchors() follows GitHub's heading anchors", () => {
  assert.deepEqual(
    [...anchors("## 9. Incident response\n### What `each` alert means, and what to do\n# A/B")],
    ["9-incident-response", "what-each-alert-means-and-what-to-do", "ab"],
  );
});
