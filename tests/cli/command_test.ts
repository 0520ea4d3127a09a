import assert from "node:assert/strict";
import {
  Command,
  InvalidArgumentError,
  Option,
  type ParseResult,
  UsageError,
} from "../../src/cli/command.ts";

/** A root with one global option and a `copy <from> <to>` command; records what the action got. */
function program(): { root: Command; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const root = new Command("tool").version("1.2.3").option("--json", "JSON output");
  root.addOption(new Option("--mode <mode>", "mode").choices(["a", "b"]).default("a"));
  root.command("copy")
    .alias("cp")
    .description("Copy a file")
    .argument("<from>", "source")
    .argument("<to>", "destination")
    .requiredOption("--level <n>", "level", (v: string) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`'${v}' is not a level.`);
      return Number(v);
    })
    .option("--tag <t>", "repeatable", (v: string, prev: unknown) => [
      ...(prev as string[] | undefined ?? []),
      v,
    ])
    .option("--name <n>", "a name", "anon")
    .option("--dry-run", "do nothing")
    .action((from: string, to: string, opts: Record<string, unknown>, cmd: Command) => {
      calls.push([from, to, opts, cmd.optsWithGlobals()]);
    });
  return { root, calls };
}

async function run(args: string[]): Promise<unknown[]> {
  const { root, calls } = program();
  const r = root.parse(args);
  assert.equal(r.kind, "action", JSON.stringify(r));
  await (r as Extract<ParseResult, { kind: "action" }>).run();
  assert.equal(calls.length, 1);
  return calls[0]!;
}

function usageError(args: string[], message: RegExp): void {
  assert.throws(() => program().root.parse(args), (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, message);
    assert.equal(err.exitCode, 2);
    return true;
  });
}

Deno.test("Command.parse() passes arguments, parsed options and defaults to the action", async () => {
  const [from, to, opts, all] = await run([
    "copy",
    "x",
    "--level=3",
    "y",
    "--tag",
    "p",
    "--tag",
    "-q",
    "--dry-run",
  ]);
  assert.equal(from, "x");
  assert.equal(to, "y");
  assert.deepEqual(opts, { level: 3, tag: ["p", "-q"], dryRun: true, name: "anon" });
  assert.deepEqual(all, { mode: "a", level: 3, tag: ["p", "-q"], dryRun: true, name: "anon" });
});

Deno.test("Command.parse() accepts global options before and after the subcommand", async () => {
  const before = await run(["--json", "--mode", "b", "cp", "x", "y", "--level", "1"]);
  const after = await run(["cp", "x", "y", "--level", "1", "--mode=b", "--json"]);
  assert.deepEqual(before[3], after[3]);
  assert.equal((after[3] as Record<string, unknown>).mode, "b");
  assert.equal((after[3] as Record<string, unknown>).json, true);
  assert.deepEqual(after[2], { level: 1, name: "anon" }, "globals stay out of the command's opts");
});

Deno.test("Command.parse() treats '-' as a value and everything after '--' as arguments", async () => {
  const [from, to] = await run(["copy", "--level", "1", "-", "--", "--not-an-option"]);
  assert.equal(from, "-");
  assert.equal(to, "--not-an-option");
});

Deno.test("Command.parse() reads an option's environment variable when it is not given", async () => {
  const root = new Command("tool");
  const seen: unknown[] = [];
  root.command("go")
    .addOption(new Option("--port <p>", "port").env("ADHASH_TEST_PORT").argParser(Number))
    .action((opts: unknown) => void seen.push(opts));
  Deno.env.set("ADHASH_TEST_PORT", "81");
  try {
    await (root.parse(["go"]) as Extract<ParseResult, { kind: "action" }>).run();
    await (root.parse(["go", "--port", "82"]) as Extract<ParseResult, { kind: "action" }>).run();
  } finally {
    Deno.env.delete("ADHASH_TEST_PORT");
  }
  assert.deepEqual(seen, [{ port: 81 }, { port: 82 }]);
});

Deno.test("Command.envSource() names the variable an option's value came from, per parse", () => {
  const root = new Command("tool");
  const sub = root.command("go").addOption(
    new Option("--root <dir>", "root").env("ADHASH_TEST_ROOT"),
  );
  sub.action(() => {});
  Deno.env.set("ADHASH_TEST_ROOT", "/from/env");
  try {
    root.parse(["go"]);
    assert.equal(sub.envSource("root"), "ADHASH_TEST_ROOT");
  } finally {
    Deno.env.delete("ADHASH_TEST_ROOT");
  }
  root.parse(["go", "--root", "/flag"]);
  assert.equal(sub.envSource("root"), undefined);
});

Deno.test("Command.source() tells where an option's value came from, per parse", () => {
  const root = new Command("tool");
  root.option("--mode <m>", "mode", "a");
  root.option("--quiet", "quiet");
  const sub = root.command("go").addOption(
    new Option("--root <dir>", "root").env("ADHASH_TEST_ROOT").default("/default"),
  );
  sub.action(() => {});
  const sources = () => ["mode", "root", "quiet"].map((k) => sub.source(k));
  root.parse(["go"]);
  assert.deepEqual(sources(), ["default", "default", undefined]);
  root.parse(["go", "--mode", "a", "--quiet"]);
  assert.deepEqual(sources(), ["cli", "default", "cli"]);
  Deno.env.set("ADHASH_TEST_ROOT", "/from/env");
  try {
    root.parse(["go", "--root", "/flag"]);
    assert.deepEqual(sources(), ["default", "cli", undefined]);
    root.parse(["go"]);
    assert.deepEqual(sources(), ["default", "env", undefined]);
  } finally {
    Deno.env.delete("ADHASH_TEST_ROOT");
  }
});

Deno.test("Command.parse() reports usage errors in commander's words", () => {
  usageError(["copie"], /^unknown command 'copie'\n\(Did you mean copy\?\)$/);
  usageError(["zzzzzz"], /^unknown command 'zzzzzz'$/);
  usageError(
    ["copy", "a", "b", "--level", "1", "--nmae", "x"],
    /unknown option '--nmae'\n.*--name/,
  );
  usageError(["--bogus", "copy"], /^unknown option '--bogus'$/);
  usageError(["copy", "a", "b"], /^required option '--level <n>' not specified$/);
  usageError(["copy", "a", "--level", "1"], /^missing required argument 'to'$/);
  usageError(
    ["copy", "a", "b", "c", "--level", "1"],
    /^too many arguments for 'copy'\. Expected 2 arguments but got 3: a, b, c\.$/,
  );
  usageError(["copy", "a", "b", "--level"], /^option '--level <n>' argument missing$/);
  usageError(
    ["copy", "a", "b", "--level", "x"],
    /^option '--level <n>' argument 'x' is invalid\. 'x' is not a level\.$/,
  );
  usageError(
    ["--mode", "c", "copy"],
    /^option '--mode <mode>' argument 'c' is invalid\. Allowed choices are a, b\.$/,
  );
  usageError(["copy", "--dry-run=yes"], /^option '--dry-run' does not take a value$/);
});

Deno.test("Command.parse() answers --help, help <command> and --version before checking", () => {
  const { root } = program();
  const sub = root.parse(["copy", "--help"]); // --level is missing: help still wins
  assert.equal(sub.kind, "help");
  assert.deepEqual(root.parse(["help", "cp"]), sub);
  assert.deepEqual(root.parse(["--version"]), { kind: "version", text: "1.2.3\n" });
  assert.deepEqual(root.parse(["copy", "-V"]), { kind: "version", text: "1.2.3\n" });
  assert.equal(root.parse(["--json"]).kind, "none");
});

Deno.test("Command.helpText() lists usage, arguments, options with defaults and commands", () => {
  const { root } = program();
  const top = root.helpText();
  assert.match(top, /^Usage: tool \[options\] \[command\]\n/);
  assert.match(top, /\n {2}--mode <mode> +mode \(choices: "a", "b", default: "a"\)\n/);
  assert.match(top, /\n {2}copy\|cp \[options\] <from> <to> +Copy a file\n/);
  assert.match(top, /\n {2}help \[command\] +display help for command\n$/);
  const sub = (root.parse(["cp", "-h"]) as { text: string }).text;
  assert.match(sub, /^Usage: tool copy\|cp \[options\] <from> <to>\n\nCopy a file\n/);
  assert.match(sub, /\nArguments:\n {2}from +source\n {2}to +destination\n/);
  assert.match(sub, /\n {2}--name <n> +a name \(default: "anon"\)\n/);
});

Deno.test("Command.helpText() wraps long descriptions under their column", () => {
  const root = new Command("tool");
  root.command("go").option("--x <v>", "word ".repeat(30).trim());
  const text = (root.parse(["go", "--help"]) as { text: string }).text;
  const lines = text.split("\n").filter((l) => l.includes("word"));
  assert.ok(lines.length >= 2, text);
  for (const line of lines) assert.ok(line.length <= 80, line);
  assert.equal(lines[1]!.indexOf("word"), lines[0]!.indexOf("word"));
});

Deno.test("Command.parse() gives a <name...> option every value up to the next option", async () => {
  const root = new Command("tool");
  const seen: unknown[] = [];
  root.command("go")
    .option("--seed <kv...>", "entries")
    .option("--flag", "a flag")
    .action((opts: unknown) => void seen.push(opts));
  await (root.parse(["go", "--seed", "a=1", "b=2", "--flag", "--seed", "c=3"]) as Extract<
    ParseResult,
    { kind: "action" }
  >).run();
  assert.deepEqual(seen, [{ seed: ["a=1", "b=2", "c=3"], flag: true }]);
});

Deno.test("Command.parse() names the environment variable a bad value came from", () => {
  const root = new Command("tool");
  root.command("go")
    .addOption(
      new Option("--port <p>", "port").env("ADHASH_TEST_PORT").argParser((v: string) => {
        throw new InvalidArgumentError(`'${v}' is not a port.`);
      }),
    )
    .addOption(new Option("--on", "a flag").env("ADHASH_TEST_ON"))
    .addOption(new Option("--n <n>", "n").default("5").makeOptionMandatory())
    .action(() => {});
  Deno.env.set("ADHASH_TEST_ON", "0");
  try {
    const r = root.parse(["go", "--port", "1"]);
    assert.fail(`parsed: ${JSON.stringify(r)}`);
  } catch (err) {
    assert.match(String(err), /option '--port <p>' argument '1' is invalid\. '1' is not a port\./);
  }
  Deno.env.set("ADHASH_TEST_PORT", "x");
  try {
    assert.throws(
      () => root.parse(["go"]),
      /option '--port <p>' value 'x' from env 'ADHASH_TEST_PORT' is invalid\. 'x' is not a port\./,
    );
    Deno.env.delete("ADHASH_TEST_PORT");
    const r = root.parse(["go"]) as Extract<ParseResult, { kind: "action" }>;
    assert.deepEqual(r.command.opts(), { on: true, n: "5" }, "a set boolean variable means true");
  } finally {
    Deno.env.delete("ADHASH_TEST_PORT");
    Deno.env.delete("ADHASH_TEST_ON");
  }
});

Deno.test("Command.parse() shows help wherever --help is, even after an unknown option", () => {
  const { root } = program();
  const copyHelp = root.parse(["copy", "--help"]);
  assert.deepEqual(root.parse(["--bogus", "copy", "-h"]), copyHelp);
  assert.deepEqual(root.parse(["--json", "help", "--json", "copy"]), copyHelp);
  assert.deepEqual(root.parse(["copy", "--bogus", "-V"]), { kind: "version", text: "1.2.3\n" });
  assert.throws(() => root.parse(["copy", "a", "b", "--level", "1", "--", "--help"]), /too many/);
});

Deno.test("Command.parse() suggests like commander: help and version included, ties listed", () => {
  const root = new Command("tool").version("1");
  root.command("get").action(() => {});
  root.command("set").action(() => {});
  root.addOption(new Option("--log-json", "x")).addOption(new Option("--log-file <f>", "x"));
  usageErrorOf(root, ["hepl"], /\(Did you mean help\?\)$/);
  usageErrorOf(root, ["--hlep"], /\(Did you mean --help\?\)$/);
  usageErrorOf(root, ["--versoin"], /\(Did you mean --version\?\)$/);
  usageErrorOf(root, ["net"], /\(Did you mean one of get, set\?\)$/);
  usageErrorOf(root, ["--log-back"], /^unknown option '--log-back'$/);
});

function usageErrorOf(root: Command, args: string[], message: RegExp): void {
  assert.throws(() => root.parse(args), (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("Command refuses an option repeated across levels and nested subcommands", () => {
  const root = new Command("tool").option("--json", "x");
  const sub = root.command("go");
  assert.throws(() => sub.option("--json", "again"), /Option --json declared twice for 'go'/);
  assert.throws(() => sub.command("deeper"), /'go' is a subcommand/);
});

Deno.test("Option.remainder() takes every later argument, options and --help included", () => {
  const root = new Command("tool").option("--json", "JSON output");
  let got: unknown;
  root.command("wrap")
    .option("--n <n>", "a number")
    .addOption(new Option("--then <args...>", "a command line").remainder())
    .action((opts: Record<string, unknown>) => {
      got = opts;
    });
  const r = root.parse(["wrap", "--n", "1", "--then", "run", "--n", "2", "--help", "--", "-x"]);
  assert.equal(r.kind, "action");
  void (r as Extract<ParseResult, { kind: "action" }>).run();
  assert.deepEqual(got, { n: "1", then: ["run", "--n", "2", "--help", "--", "-x"] });
  // A --help before the remainder is still this command's.
  assert.equal(root.parse(["wrap", "--help", "--then", "run"]).kind, "help");
  assert.throws(() => root.parse(["wrap", "--then"]), /argument missing/);
  assert.throws(() => new Option("--then <arg>").remainder(), TypeError);
});
