// The operator docs name only commands, flags and tasks that exist: every `hashmap-cli ...`,
// `deno task ...` and `<command> --flag` they show is checked against the CLI's own --help and
// deno.json, so the runbook cannot keep a flag the CLI dropped or never had.
import assert from "node:assert/strict";
import { runScript } from "../cli/_run.ts";
import { ROOT } from "./_kit_files.ts";

const DOCS = ["docs/operations.md", "docs/prometheus_grafana.md"];
const CLI = `${ROOT}cli.ts`;

async function help(args: string[]): Promise<string> {
  const r = await runScript(CLI, [...args, "--help"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Long flags a --help text lists, with whether each takes a value. */
function flags(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const m of text.matchAll(/^\s+(?:-\w, )?(--[\w-]+)( <)?/gm)) {
    out.set(m[1]!, m[2] !== undefined);
  }
  return out;
}

const rootHelp = await help([]);
const globalFlags = flags(rootHelp);
const commandFlags = new Map<string, Map<string, boolean>>();
for (const m of rootHelp.matchAll(/^ {2}([a-z][\w-]*(?:\|[\w-]+)*) /gm)) {
  const names = m[1]!.split("|");
  if (names[0] === "help") continue;
  const f = flags(await help([names[0]!]));
  for (const n of names) commandFlags.set(n, f);
}
const tasks = new Set(
  Object.keys((JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)) as { tasks: object }).tasks),
);

/** Command lines shown in a Markdown text: fenced code lines and inline code spans. */
function snippets(markdown: string): string[] {
  const out: string[] = [];
  const fenced = /^[ \t]*```[^\n]*\n([\s\S]*?)^[ \t]*```/gm;
  for (const m of markdown.matchAll(fenced)) out.push(...m[1]!.replace(/\\\n/g, " ").split("\n"));
  const prose = markdown.replace(fenced, "");
  for (const m of prose.matchAll(/`([^`]+)`/g)) out.push(m[1]!.replace(/\s+/g, " "));
  return out;
}

/** Problems in one snippet: unknown commands, flags or tasks. */
function problems(snippet: string): string[] {
  const found: string[] = [];
  // A flag on its own (a table of flags) must be some command's; --allow-* are Deno's.
  const alone = /^(--(?!allow-)[\w-]+)/.exec(snippet)?.[1];
  if (alone !== undefined && ![globalFlags, ...commandFlags.values()].some((f) => f.has(alone))) {
    found.push(`${snippet}: no command has a flag ${alone}`);
  }
  const start =
    /(?:^|[\s/=])(hashmap-cli(?=\s|$)|deno task cli(?=\s|$)|deno task (?=[\w-]+)|(?=[a-z][\w-]* --))/;
  // One invocation per shell command; a comment ends the line.
  for (const part of snippet.split("#")[0]!.split(/&&|\|\||[|;>&]|<<</)) {
    const m = start.exec(part);
    if (m === null) continue;
    const tokens = part.slice(m.index + m[0].length).trim().split(/\s+/).filter((t) => t !== "");
    if (m[1] === "deno task ") {
      const task = tokens[0] ?? "";
      if (!tasks.has(task)) found.push(`deno task ${task}: no such task in deno.json`);
      // `deno task serve` and `deno task demo` are `cli.ts serve` and `cli.ts demo`.
      if (task !== "serve" && task !== "demo") continue;
    }
    let i = 0;
    while (tokens[i]?.startsWith("-")) {
      const flag = tokens[i]!.split("=")[0]!;
      if (!globalFlags.has(flag)) found.push(`${snippet}: unknown global flag ${flag}`);
      i += globalFlags.get(flag) === true && !tokens[i]!.includes("=") ? 2 : 1;
    }
    const command = tokens[i];
    if (command === undefined || /^[<[A-Z.]/.test(command)) continue; // prose or a placeholder
    const own = commandFlags.get(command);
    if (own === undefined) {
      // `word --flag` in prose is checked only when the word is a command.
      if (m[1] !== "") found.push(`${snippet}: unknown command ${command}`);
      continue;
    }
    for (const t of tokens.slice(i + 1)) {
      const flag = t.split("=")[0]!;
      if (/^--[\w-]+$/.test(flag) && !own.has(flag) && !globalFlags.has(flag)) {
        found.push(`${snippet}: ${command} has no flag ${flag}`);
      }
    }
  }
  return found;
}

Deno.test("the operator docs show only hashmap-cli commands, flags and tasks that exist", async () => {
  let checked = 0;
  const all: string[] = [];
  for (const doc of DOCS) {
    for (const s of snippets(await Deno.readTextFile(`${ROOT}${doc}`))) {
      const p = problems(s);
      all.push(...p.map((x) => `${doc}: ${x}`));
      if (/hashmap-cli \S|deno task \S/.test(s)) checked++;
    }
  }
  assert.deepEqual(all, []);
  assert.ok(checked >= 20, `only ${checked} command lines found`);
});

Deno.test("the docs command check reports an unknown command, flag and task", () => {
  assert.deepEqual(problems("hashmap-cli --log-json frobnicate --x"), [
    "hashmap-cli --log-json frobnicate --x: unknown command frobnicate",
  ]);
  assert.deepEqual(problems("hashmap-cli serve --port 1 --jobroot d && deno task nope"), [
    "hashmap-cli serve --port 1 --jobroot d && deno task nope: serve has no flag --jobroot",
    "deno task nope: no such task in deno.json",
  ]);
  assert.deepEqual(problems("deno task serve --source f --folow"), [
    "deno task serve --source f --folow: serve has no flag --folow",
  ]);
  assert.deepEqual(problems("run-csv --metrics-port 9401 --json"), []);
  assert.deepEqual(problems("--log-max-bytes N"), []);
  assert.deepEqual(problems("--log-max-byte N"), [
    "--log-max-byte N: no command has a flag --log-max-byte",
  ]);
  assert.deepEqual(problems("run-csv --metrics-prot 9401"), [
    "run-csv --metrics-prot 9401: run-csv has no flag --metrics-prot",
  ]);
});
