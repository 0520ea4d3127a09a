/**
 * Writes docs/third_party_notices.md: the licence of every npm package that `cli.ts` reaches, and
 * of the uPlot vendored in web/vendor/ that the dashboard serves. The release binaries
 * (`deno compile`) and the bundle (`deno bundle`) carry that code, and its MIT and BSD licences ask
 * that their notices go with every copy: the release uploads this file beside the binaries.
 *
 * `--check` writes nothing and exits 1, naming the packages that differ, when the file is not what
 * this script would write. `--out PATH` reads or writes PATH instead of the committed file.
 *
 * @module
 */

import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url);
const OUT = "docs/third_party_notices.md";
/** The command that regenerates the file, as the file and the `--check` message quote it. */
export const COMMAND =
  `deno run --allow-read --allow-run=deno --allow-write=${OUT} scripts/notices.ts`;

/** One package's entry in the notices. */
export interface Notice {
  name: string;
  version: string;
  /** SPDX id, from package.json where there is one. */
  license: string;
  /** Where the code is and where its licence text comes from. */
  origin: string;
  /** The licence text. */
  text: string;
}

class NoticesFailure extends Error {}

function fail(message: string): never {
  throw new NoticesFailure(message);
}

async function denoInfo(args: string[]): Promise<Record<string, unknown>> {
  // By name, not Deno.execPath(): `--allow-run=deno` grants the `deno` on PATH, and execPath is
  // often the target of a symlink (npm's global install), which that grant does not cover.
  const out = await new Deno.Command("deno", {
    args: ["info", "--json", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    fail(`deno info --json ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

interface NpmPackage {
  name: string;
  version: string;
  dependencies?: string[];
  localPath?: string;
}

interface Located {
  name: string;
  version: string;
  dir: string;
}

/** The npm packages in the module graph of `entry`, with their directories in Deno's cache. */
async function reachablePackages(entry: string): Promise<Located[]> {
  const info = await denoInfo([entry]) as {
    modules: { npmPackage?: string }[];
    npmPackages: Record<string, NpmPackage>;
  };
  // `npmPackages` holds every package that deno.json and deno.lock resolve, test tools included,
  // not only the graph's: the packages shipped are the ones that some module imports, and theirs.
  const seen = new Set<string>();
  const queue = info.modules.flatMap((m) => m.npmPackage === undefined ? [] : [m.npmPackage]);
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...info.npmPackages[id]?.dependencies ?? []);
  }
  const found = new Map<string, Located>();
  for (const id of seen) {
    const pkg = info.npmPackages[id] ?? fail(`deno info lists no npm package ${id}`);
    const dir = pkg.localPath ?? fail(`deno info gives no directory for ${id}`);
    // Ids differ by peer-dependency suffix for the same code: one entry per name and version.
    found.set(`${pkg.name}@${pkg.version}`, { name: pkg.name, version: pkg.version, dir });
  }
  return [...found.values()];
}

const LICENCE_FILE = /^licen[cs]e(?:[.-][\w.-]+)?$/i;

/** The licence files in `dir` (LICENSE, LICENCE.md, license-MIT...), with their texts. */
async function licenceFiles(dir: string | URL): Promise<{ file: string; text: string }[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && LICENCE_FILE.test(e.name)) names.push(e.name);
  }
  names.sort();
  return await Promise.all(
    names.map(async (file) => ({
      file,
      text: await Deno.readTextFile(
        typeof dir === "string" ? `${dir}/${file}` : new URL(file, dir),
      ),
    })),
  );
}

/** `text` with the line ends and trailing blanks that editors and tarballs vary in removed. */
function normalize(text: string): string {
  return text.replace(/^\uFEFF/, "").split(/\r?\n/).map((l) => l.trimEnd()).join("\n")
    .replace(/^\n+|\n+$/g, "");
}

function joinLicences(files: { file: string; text: string }[]): string {
  if (files.length === 1) return normalize(files[0]!.text);
  return files.map((f) => `${f.file}:\n\n${normalize(f.text)}`).join("\n\n");
}

/** The SPDX id of the common licences, for a text that comes with no package.json. */
export function licenceIdOf(text: string): string {
  if (/Permission is hereby granted, free of charge/.test(text)) return "MIT";
  if (/Permission to use, copy, modify, and\/or distribute/.test(text)) return "ISC";
  if (/Apache License,?\s+Version 2\.0/.test(text)) return "Apache-2.0";
  if (/Redistribution and use in source and binary forms/.test(text)) {
    return /Neither the name/.test(text) ? "BSD-3-Clause" : "BSD-2-Clause";
  }
  return "unknown (see the text)";
}

async function npmNotice(pkg: Located): Promise<Notice> {
  const manifest = JSON.parse(await Deno.readTextFile(`${pkg.dir}/package.json`)) as {
    license?: string | { type?: string };
    licenses?: { type?: string }[];
  };
  const declared = typeof manifest.license === "string"
    ? manifest.license
    // The old `licenses` array names the licences of a dual-licensed package.
    : manifest.license?.type ?? (manifest.licenses?.map((l) => l.type).join(" OR ") || undefined);
  const files = await licenceFiles(pkg.dir);
  // A notice is the licence's own text: a package without one needs a person to find it.
  if (files.length === 0) fail(`${pkg.name} ${pkg.version} ships no licence file`);
  const text = joinLicences(files);
  return {
    name: pkg.name,
    version: pkg.version,
    license: declared ?? licenceIdOf(text),
    origin: `npm package, licence from its ${files.map((f) => f.file).join(", ")}`,
    text,
  };
}

/** uPlot, copied into web/vendor/ rather than imported: no module graph sees it. */
async function vendoredNotice(): Promise<Notice> {
  const dir = new URL("web/vendor/", ROOT);
  const files = await licenceFiles(dir);
  if (files.length === 0) fail("web/vendor/ has no LICENSE for the vendored uPlot");
  let version = "unknown";
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  for (const name of names.sort()) {
    if (!name.endsWith(".js")) continue;
    // The minified build keeps its banner: `/*! https://github.com/leeoniya/uPlot (v1.6.32) */`.
    const banner = (await Deno.readTextFile(new URL(name, dir))).slice(0, 200);
    const v = /\(v(\d+\.\d+\.\d+[\w.-]*)\)/.exec(banner)?.[1];
    if (v !== undefined) {
      version = v;
      break;
    }
  }
  const text = joinLicences(files);
  return {
    name: "uPlot",
    version,
    license: licenceIdOf(text),
    origin: `vendored in web/vendor/ and served by the dashboard, licence from web/vendor/${
      files.map((f) => f.file).join(", web/vendor/")
    }`,
    text,
  };
}

/** Every notice, sorted by package name. */
export async function collectNotices(): Promise<Notice[]> {
  const packages = await reachablePackages("cli.ts");
  const notices = [...await Promise.all(packages.map(npmNotice)), await vendoredNotice()];
  const key = (n: Notice): string => `${n.name.toLowerCase()}\0${n.version}`;
  return notices.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** A fence longer than any run of backticks in `text`, so that no licence can close it early. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

/** The heading of a notice's section, by which `--check` names what differs. */
function heading(n: Notice): string {
  return `${n.name} ${n.version}`;
}

/** The Markdown of the notices file, formatted as `deno fmt` would (so that the check passes). */
export async function renderNotices(notices: Notice[]): Promise<string> {
  const lines = [
    "# Third-party notices",
    "",
    "adhash's release binaries (`deno compile` of `cli.ts`) and its bundle (`deno bundle`) " +
    "contain the code of the npm packages below, and the dashboard they serve contains the " +
    "vendored uPlot. Their licences ask that these notices go with every copy: the release " +
    "workflow uploads this file beside the binaries, and whoever passes on a bundle passes " +
    "this file on with it.",
    "",
    "The npm packages are those in the module graph of `cli.ts` (`deno info --json cli.ts`) " +
    "and their dependencies; packages only the tests and tools use are not shipped and not " +
    "listed.",
    "",
    "Generated by `scripts/notices.ts`; do not edit. Regenerate it with:",
    "",
    "```sh",
    COMMAND,
    "```",
    "",
    "A test fails when this file is not what the script would write.",
  ];
  for (const n of notices) {
    const fence = fenceFor(n.text);
    lines.push("", `## ${heading(n)}`, "", `- Licence: ${n.license}`, `- Source: ${n.origin}`);
    lines.push("", `${fence}text`, n.text, fence);
  }
  return await formatted(`${lines.join("\n")}\n`);
}

/** `markdown` through `deno fmt`, with the project's settings. */
async function formatted(markdown: string): Promise<string> {
  const child = new Deno.Command("deno", {
    args: ["fmt", "--ext=md", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(markdown));
  await writer.close();
  const out = await child.output();
  if (out.code !== 0) fail(`deno fmt failed:\n${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** The file's introduction and its sections by heading. */
function sections(markdown: string): Map<string, string> {
  const parts = markdown.split(/^## /m);
  const out = new Map<string, string>([["the introduction", parts[0] ?? ""]]);
  for (const part of parts.slice(1)) {
    const newline = part.indexOf("\n");
    out.set(newline < 0 ? part : part.slice(0, newline), part);
  }
  return out;
}

/** What differs between the file on disk and the expected one, by section; empty when equal. */
export function staleSections(onDisk: string, expected: string): string[] {
  if (onDisk === expected) return [];
  const have = sections(onDisk);
  const want = sections(expected);
  const problems: string[] = [];
  for (const [name, text] of want) {
    const had = have.get(name);
    if (had === undefined) problems.push(`${name}: missing`);
    else if (had !== text) problems.push(`${name}: differs`);
  }
  for (const name of have.keys()) {
    if (!want.has(name)) problems.push(`${name}: listed, but no longer shipped`);
  }
  // The same sections in another order, or a stray character between them.
  if (problems.length === 0) problems.push("the order or layout of the sections differs");
  return problems;
}

async function main(): Promise<void> {
  let values: { check: boolean; out?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: { check: { type: "boolean", default: false }, out: { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    fail(`${(err as Error).message}\nusage: scripts/notices.ts [--check] [--out PATH]`);
  }
  const out = values.out ?? new URL(OUT, ROOT);
  const shown = values.out ?? OUT;
  const expected = await renderNotices(await collectNotices());
  if (!values.check) {
    await Deno.writeTextFile(out, expected);
    console.log(`wrote ${shown}`);
    return;
  }
  let onDisk: string;
  try {
    onDisk = await Deno.readTextFile(out);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    fail(`${shown} does not exist. Generate it with:\n  ${COMMAND}`);
  }
  const problems = staleSections(onDisk, expected);
  if (problems.length > 0) {
    fail(
      `${shown} is stale:\n${
        problems.map((p) => `  ${p}\n`).join("")
      }Regenerate it with:\n  ${COMMAND}`,
    );
  }
  console.log(`${shown} is current`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof NoticesFailure)) throw err;
    console.error(`notices: ${err.message}`);
    Deno.exit(1);
  }
}
