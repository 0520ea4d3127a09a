/**
 * The command-line parser: a command tree with long options, positional arguments, per-command
 * help and global options accepted before or after the subcommand. Its builder API is the
 * subset of commander's that the CLI uses, so commands read the same way.
 *
 * Why not commander: it imports `node:child_process`, `node:fs`, `node:events`, `node:path`
 * and `node:process` (for executable subcommands), and loading those Node polyfills took
 * ~21 ms of every start-up, 6% of a 1M-row `run-csv` (docs/dependencies.md).
 *
 * Errors are {@linkcode UsageError}s (BadInput, exit 2) with commander's wording, e.g.
 * `unknown option '--x'`, `option '--n <n>' argument 'x' is invalid. ...`.
 *
 * @module
 */

import { BadInputError } from "../errors.ts";

const USAGE_HINT = "Run 'hashmap-cli --help' for usage";

/** A bad command line: unknown command or option, bad or missing value (BadInput, exit 2). */
export class UsageError extends BadInputError {
  constructor(message: string, hint = USAGE_HINT) {
    super(message, { hint });
    this.name = "UsageError";
  }
}

/**
 * Thrown by an option's value parser to reject a value; the message is appended to
 * `option '--x <v>' argument 'y' is invalid.`
 */
export class InvalidArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidArgumentError";
  }
}

/** Converts an option's text (and the value so far, for repeatable options) to its value. */
export type ValueParser = (value: string, previous: unknown) => unknown;

/** Placeholders naming a file system path, whose value cannot be empty. */
const PATH_PLACEHOLDER = /^(path|dir|file)$/;

/** Why `text` cannot be a path, or null. */
function pathProblem(text: string): string | null {
  if (text === "") return "A path cannot be empty.";
  // Deno reads arguments as UTF-8 and replaces invalid bytes: the path would name another file.
  if (text.includes("\uFFFD")) {
    return "A path cannot hold U+FFFD (its bytes were not valid UTF-8, so it would name another file).";
  }
  return null;
}

/** An option: `--name`, `--name <value>`, or `-x, --name ...`. */
export class Option {
  /** The flags as written, e.g. `--csv <path>` (shown in help and messages). */
  readonly flags: string;
  readonly description: string;
  /** `--csv` */
  readonly long: string;
  /** `-V`, when given. */
  readonly short: string | undefined;
  /** Whether the option takes a value (`<...>` in its flags). */
  readonly takesValue: boolean;
  /**
   * Whether it takes several values (`<name...>`): the arguments after it up to the next one
   * starting with `-`, each passed to the parser with the value so far.
   */
  readonly variadic: boolean;
  /** Key in the parsed options: `--csv-max-rows` -> `csvMaxRows`. */
  readonly key: string;
  defaultValue: unknown = undefined;
  choiceList: readonly string[] | undefined = undefined;
  envVar: string | undefined = undefined;
  parser: ValueParser | undefined = undefined;
  mandatory = false;
  /** Whether the value is a file system path (`<path>`, `<dir>`, `<file>`): never empty. */
  readonly namesPath: boolean;
  /**
   * Whether it takes every argument after it, options included, as its value (a command line
   * of its own, as `profile --then run-csv --csv w.csv`): set by {@linkcode Option.remainder}.
   */
  takesRest = false;

  constructor(flags: string, description = "") {
    const m = /^(?:(-[A-Za-z]),\s*)?(--[a-z][a-z0-9-]*)(?:\s+<([^>]+)>)?$/.exec(flags);
    if (m === null) throw new TypeError(`Unsupported option flags: "${flags}"`);
    this.flags = flags;
    this.description = description;
    this.short = m[1];
    this.long = m[2]!;
    this.takesValue = m[3] !== undefined;
    this.variadic = m[3]?.endsWith("...") ?? false;
    this.key = this.long.slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    this.namesPath = PATH_PLACEHOLDER.test(m[3] ?? "");
  }

  /** Restricts the value to `values`. */
  choices(values: readonly string[]): this {
    this.choiceList = values;
    return this;
  }

  /** The value when the option is not given (nor its environment variable). */
  default(value: unknown): this {
    this.defaultValue = value;
    return this;
  }

  /** Takes the value from environment variable `name` when the option is not given. */
  env(name: string): this {
    this.envVar = name;
    return this;
  }

  /** Converts (and validates) the value; throw {@linkcode InvalidArgumentError} to reject it. */
  argParser(parser: ValueParser): this {
    this.parser = parser;
    return this;
  }

  /**
   * Makes a variadic option (`--then <args...>`) take every argument after it as its value,
   * including ones starting with `-` and `--help`; it must have at least one.
   */
  remainder(): this {
    if (!this.variadic) throw new TypeError(`A remainder option must be variadic: "${this.flags}"`);
    this.takesRest = true;
    return this;
  }

  /** Makes the option required. */
  makeOptionMandatory(): this {
    this.mandatory = true;
    return this;
  }

  /**
   * The value of `text` given for this option (on the command line, or in its environment
   * variable with `fromEnv`), or a UsageError naming it.
   */
  parse(text: string, previous: unknown, fromEnv = false): unknown {
    const what = fromEnv
      ? `option '${this.flags}' value '${text}' from env '${this.envVar}'`
      : `option '${this.flags}' argument '${text}'`;
    const problem = this.namesPath ? pathProblem(text) : null;
    if (problem !== null) throw new UsageError(`${what} is invalid. ${problem}`);
    if (this.choiceList !== undefined && !this.choiceList.includes(text)) {
      throw new UsageError(
        `${what} is invalid. Allowed choices are ${this.choiceList.join(", ")}.`,
      );
    }
    if (this.parser === undefined) {
      return this.variadic ? [...(previous as string[] | undefined ?? []), text] : text;
    }
    try {
      return this.parser(text, previous);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      throw new UsageError(`${what} is invalid. ${err.message}`);
    }
  }
}

/** An action: the positional arguments, then the options, then the command. */
// deno-lint-ignore no-explicit-any
export type Action = (...args: any[]) => void | Promise<void>;

/** What {@linkcode Command.parse} found on the command line. */
export type ParseResult =
  | { kind: "help"; text: string }
  | { kind: "version"; text: string }
  | { kind: "none" }
  | {
    kind: "action";
    command: Command;
    run: () => Promise<void>;
    /** The command's cheap checks of its arguments (files, outputs), without its work. */
    preflight: () => Promise<void>;
    /** Every file system path on its command line: `[flag or argument name, path]`. */
    paths: Array<[string, string]>;
  };

const HELP = new Option("-h, --help", "display help for command");

/** A command and its subcommands, built with the chained methods. */
export class Command {
  readonly #name: string;
  #description = "";
  #version: Option | undefined = undefined;
  #versionText = "";
  readonly #aliases: string[] = [];
  readonly #arguments: Array<{ name: string; description: string }> = [];
  readonly #options: Option[] = [];
  readonly #commands: Command[] = [];
  #action: Action | undefined = undefined;
  #preflight: Action | undefined = undefined;
  #parent: Command | undefined = undefined;
  #values: Record<string, unknown> = {};
  /** Options whose value came from an environment variable: the variable's name. */
  #fromEnv: Record<string, string> = {};
  /** Options that took their default. */
  #defaulted = new Set<string>();

  constructor(name: string) {
    this.#name = name;
  }

  /** The command's name. */
  name(): string {
    return this.#name;
  }

  /** Adds and returns a subcommand (one level: a subcommand has none of its own). */
  command(name: string): Command {
    if (this.#parent !== undefined) {
      throw new TypeError(`'${this.#name}' is a subcommand: '${name}' cannot nest under it`);
    }
    const sub = new Command(name);
    sub.#parent = this;
    this.#commands.push(sub);
    return sub;
  }

  /** Sets the one-line description shown in help. */
  description(text: string): this {
    this.#description = text;
    return this;
  }

  /** Adds another name for this command. */
  alias(name: string): this {
    this.#aliases.push(name);
    return this;
  }

  /** Adds a required positional argument, `<name>`. */
  argument(spec: string, description: string): this {
    const m = /^<([a-z][a-z0-9-]*)>$/.exec(spec);
    if (m === null) throw new TypeError(`Unsupported argument: "${spec}"`);
    this.#arguments.push({ name: m[1]!, description });
    return this;
  }

  /** Adds `-V, --version` (or `flags`) printing `version`. */
  version(version: string, flags = "-V, --version"): this {
    this.#version = new Option(flags, "output the version number");
    this.#versionText = version;
    return this;
  }

  /** Adds an option; `parserOrDefault` is a value parser, or the default when no parser. */
  option(
    flags: string,
    description: string,
    parserOrDefault?: unknown,
    defaultValue?: unknown,
  ): this {
    const opt = new Option(flags, description);
    if (typeof parserOrDefault === "function") {
      opt.argParser(parserOrDefault as ValueParser).default(defaultValue);
    } else opt.default(parserOrDefault);
    return this.addOption(opt);
  }

  /** {@linkcode Command.option} for an option that must be given. */
  requiredOption(
    flags: string,
    description: string,
    parserOrDefault?: unknown,
    defaultValue?: unknown,
  ): this {
    this.option(flags, description, parserOrDefault, defaultValue);
    this.#options.at(-1)!.makeOptionMandatory();
    return this;
  }

  /**
   * Adds a configured {@linkcode Option}. A flag may not repeat one of this command's or of
   * the command above it: global options are accepted after the subcommand too.
   */
  addOption(option: Option): this {
    for (const flag of [option.long, option.short]) {
      if (flag === undefined) continue;
      const scopes = this.#parent === undefined ? [this] : [this, this.#parent];
      if (scopes.some((c) => c.#findOption(flag) !== undefined)) {
        throw new TypeError(`Option ${flag} declared twice for '${this.#name}'`);
      }
    }
    this.#options.push(option);
    return this;
  }

  /** Sets what runs when this command is chosen. */
  action(fn: Action): this {
    this.#action = fn;
    return this;
  }

  /**
   * Sets the checks a caller may run before the action, with the action's arguments, so that a
   * command run later (`profile --then`) fails at once on a missing file or a bad output.
   */
  preflight(fn: Action): this {
    this.#preflight = fn;
    return this;
  }

  /** The parsed options of this command. */
  opts(): Record<string, unknown> {
    return { ...this.#values };
  }

  /**
   * The environment variable option `key`'s value came from (of this command or, for a global
   * option, its parent), or undefined when it came from the command line or a default.
   */
  envSource(key: string): string | undefined {
    return key in this.#values ? this.#fromEnv[key] : this.#parent?.envSource(key);
  }

  /**
   * Where option `key`'s value (of this command or, for a global option, its parent) came from:
   * the command line, its environment variable or its default; undefined when it has none.
   */
  source(key: string): "cli" | "env" | "default" | undefined {
    if (!(key in this.#values)) return this.#parent?.source(key);
    return key in this.#fromEnv ? "env" : this.#defaulted.has(key) ? "default" : "cli";
  }

  /** The parsed options of this command and of every command above it. */
  optsWithGlobals(): Record<string, unknown> {
    return { ...this.#parent?.optsWithGlobals(), ...this.#values };
  }

  #findOption(flag: string): Option | undefined {
    return this.#options.find((o) => o.long === flag || o.short === flag);
  }

  #findCommand(name: string): Command | undefined {
    return this.#commands.find((c) => c.#name === name || c.#aliases.includes(name));
  }

  /** `name|alias`, after the names of the commands above it. */
  #path(): string {
    const names = [this.#name, ...this.#aliases].join("|");
    return this.#parent === undefined ? names : `${this.#parent.#name} ${names}`;
  }

  /** ` <a> <b>` for the positional arguments. */
  #argumentsUsage(): string {
    return this.#arguments.map((a) => ` <${a.name}>`).join("");
  }

  /**
   * Parses `args` (without the executable). Options of this command are accepted before the
   * subcommand and after it; each command's own options, environment variables and defaults
   * are resolved, so `optsWithGlobals()` is complete when `run` is called. `--help` and
   * `--version` win wherever they are (before a `--`), even over an unknown option.
   */
  parse(args: readonly string[]): ParseResult {
    this.#values = {};
    this.#fromEnv = {};
    this.#defaulted = new Set();
    let end = args.indexOf("--") < 0 ? args.length : args.indexOf("--");
    // The command whose help a --help shows: the first subcommand named, if any.
    const named = args.slice(0, end).map((a) => this.#findCommand(a)).find((c) => c);
    // A remainder option's arguments are another command line: its --help is not ours.
    const rest = named === undefined
      ? -1
      : args.findIndex((a) => named.#findOption(a.split("=", 1)[0]!)?.takesRest);
    if (rest >= 0 && rest < end) end = rest;
    for (const arg of args.slice(0, end)) {
      if (arg === "-h" || arg === "--help") {
        return { kind: "help", text: (named ?? this).helpText() };
      }
      const v = this.#version;
      if (v !== undefined && (arg === v.long || arg === v.short)) {
        return { kind: "version", text: `${this.#versionText}\n` };
      }
    }
    // Deno reads bytes that are not UTF-8 as U+FFFD, so such text would stand for another key,
    // value or file name (`a\xff` and `a\xfe` alike). It cannot tell a U+FFFD typed on purpose
    // (the bytes are in /proc/self/cmdline, which Deno lets only --allow-all read).
    const replaced = args.find((a) => a.includes("\uFFFD"));
    if (replaced !== undefined) {
      throw new UsageError(
        `argument ${JSON.stringify(replaced)} holds U+FFFD, which Deno puts for bytes that are ` +
          "not UTF-8: it may not be the text given",
        "Pass the text as UTF-8 without U+FFFD; a CSV workload or the library takes any text",
      );
    }
    const positional: string[] = [];
    let sub: Command | undefined;
    try {
      return this.#parseWords(args, positional, (found) => sub = found);
    } catch (err) {
      // A subcommand's own help is the one that lists what was wrong.
      if (!(err instanceof UsageError) || err.hint !== USAGE_HINT || sub === undefined) throw err;
      throw new UsageError(err.message, `Run '${this.#name} ${sub.#name} --help' for usage`);
    }
  }

  /** The loop of {@linkcode parse}; `found` is told the subcommand as soon as it is named. */
  #parseWords(
    args: readonly string[],
    positional: string[],
    found: (sub: Command) => void,
  ): ParseResult {
    let sub: Command | undefined;
    let error: UsageError | undefined;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === "--") {
        positional.push(...args.slice(i + 1));
        break;
      }
      if (!arg.startsWith("-") || arg === "-") {
        if (sub === undefined) {
          if (arg === "help" && this.#findCommand("help") === undefined) return this.#help(args, i);
          sub = this.#findCommand(arg);
          if (sub === undefined) throw error ?? this.#unknownCommand(arg);
          found(sub);
          sub.#values = {};
          sub.#fromEnv = {};
          sub.#defaulted = new Set();
        } else positional.push(arg);
        continue;
      }
      const flag = arg.split("=", 1)[0]!;
      const owner = sub !== undefined && sub.#findOption(flag) !== undefined ? sub : this;
      const opt = owner.#findOption(flag);
      if (opt === undefined) error ??= (sub ?? this).#unknownOption(flag);
      else i = owner.#take(opt, args, i);
    }
    if (error !== undefined) throw error;
    this.#resolve();
    if (sub === undefined) return { kind: "none" };
    return sub.#finish(positional);
  }

  /** `help [command]`: the help of the command named after it, or of this one. */
  #help(args: readonly string[], i: number): ParseResult {
    const name = args.slice(i + 1).find((a) => !a.startsWith("-"));
    const target = name === undefined ? this : this.#findCommand(name);
    if (target === undefined) throw this.#unknownCommand(name!);
    return { kind: "help", text: target.helpText() };
  }

  /** Checks the subcommand's arguments and options; returns its action, ready to run. */
  #finish(positional: string[]): ParseResult {
    this.#resolve();
    const expected = this.#arguments.length;
    if (positional.length < expected) {
      throw new UsageError(
        `missing required argument '${this.#arguments[positional.length]!.name}'`,
      );
    }
    if (positional.length > expected) {
      throw new UsageError(
        `too many arguments for '${this.#name}'. Expected ${expected} argument${
          expected === 1 ? "" : "s"
        } but got ${positional.length}: ${positional.join(", ")}.`,
      );
    }
    this.#arguments.forEach((a, i) => {
      const text = positional[i];
      const problem = text !== undefined && PATH_PLACEHOLDER.test(a.name)
        ? pathProblem(text)
        : null;
      if (problem !== null) throw new UsageError(`argument '${a.name}' is invalid. ${problem}`);
    });
    const action = this.#action;
    if (action === undefined) return { kind: "help", text: this.helpText() };
    const opts = this.opts();
    const preflight = this.#preflight;
    const paths: Array<[string, string]> = [];
    this.#arguments.forEach((a, i) => {
      if (PATH_PLACEHOLDER.test(a.name)) paths.push([a.name, positional[i]!]);
    });
    for (const o of this.#options) {
      const value = opts[o.key];
      if (o.namesPath && typeof value === "string") paths.push([o.long, value]);
    }
    return {
      kind: "action",
      command: this,
      run: async () => await action(...positional, opts, this),
      preflight: async () => await preflight?.(...positional, opts, this),
      paths,
    };
  }

  /** Reads option `opt` at `args[i]` (and its values); returns the last index used. */
  #take(opt: Option, args: readonly string[], i: number): number {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    if (!opt.takesValue) {
      if (eq > 0) throw new UsageError(`option '${opt.flags}' does not take a value`);
      this.#values[opt.key] = true;
      return i;
    }
    let text: string;
    if (eq > 0) text = arg.slice(eq + 1);
    else if (i + 1 < args.length) text = args[++i]!;
    else throw new UsageError(`option '${opt.flags}' argument missing`);
    this.#values[opt.key] = opt.parse(text, this.#values[opt.key]);
    if (opt.takesRest) {
      for (i++; i < args.length; i++) {
        this.#values[opt.key] = opt.parse(args[i]!, this.#values[opt.key]);
      }
      return args.length - 1;
    }
    while (opt.variadic && i + 1 < args.length && !args[i + 1]!.startsWith("-")) {
      this.#values[opt.key] = opt.parse(args[++i]!, this.#values[opt.key]);
    }
    return i;
  }

  /** Fills options not given from their environment variable or default; checks mandatory ones. */
  #resolve(): void {
    for (const opt of this.#options) {
      if (opt.key in this.#values) continue;
      // Empty is unset, but for a path: `ADHASH_CONFIG=$(cat missing)` must not mean defaults.
      const env = opt.envVar === undefined ? undefined : readEnv(opt.envVar, opt.namesPath);
      if (env !== undefined) {
        this.#values[opt.key] = opt.takesValue ? opt.parse(env, undefined, true) : true;
        this.#fromEnv[opt.key] = opt.envVar!;
      } else if (opt.defaultValue !== undefined) {
        this.#values[opt.key] = opt.defaultValue;
        this.#defaulted.add(opt.key);
      } else if (opt.mandatory) {
        throw new UsageError(`required option '${opt.flags}' not specified`);
      }
    }
  }

  #unknownOption(flag: string): UsageError {
    const scopes = this.#parent === undefined ? [this] : [this, this.#parent];
    const known = [
      ...scopes.flatMap((c) => [...c.#options, ...(c.#version === undefined ? [] : [c.#version])]),
      HELP,
    ].map((o) => o.long);
    // A negative number (`get -5 --numeric`) is an argument the parser cannot tell from a flag.
    if (/^-(\d|\.\d|Infinity)/.test(flag)) {
      return new UsageError(
        `unknown option '${flag}'`,
        `An argument that starts with '-' goes after '--': ... -- ${flag}`,
      );
    }
    return new UsageError(`unknown option '${flag}'${suggestion(flag, known)}`);
  }

  #unknownCommand(name: string): UsageError {
    const known = [...this.#commands.flatMap((c) => [c.#name, ...c.#aliases]), "help"];
    return new UsageError(`unknown command '${name}'${suggestion(name, known)}`);
  }

  /** The help text: usage, description, arguments, options and subcommands. */
  helpText(): string {
    const usage = `${this.#path()} [options]${
      this.#commands.length > 0 ? " [command]" : ""
    }${this.#argumentsUsage()}`;
    const sections: Array<[string, Array<[string, string]>]> = [
      ["Arguments", this.#arguments.map((a) => [a.name, a.description])],
      [
        "Options",
        [
          ...(this.#version === undefined ? [] : [this.#version]),
          ...this.#options,
          HELP,
        ].map((o) => [o.flags, optionDescription(o)]),
      ],
      [
        "Commands",
        this.#commands.length === 0 ? [] : [
          ...this.#commands.map((c): [string, string] => [c.#summary(), c.#description]),
          ["help [command]", "display help for command"],
        ],
      ],
    ];
    const width = Math.max(
      ...sections.flatMap(([, rows]) => rows.map(([term]) => term.length)),
    );
    const out = [`Usage: ${usage}`, ""];
    if (this.#description !== "") out.push(this.#description, "");
    for (const [title, rows] of sections) {
      if (rows.length === 0) continue;
      out.push(`${title}:`);
      for (const [term, text] of rows) out.push(row(term, text, width));
      out.push("");
    }
    return `${out.join("\n").trimEnd()}\n`;
  }

  #summary(): string {
    const opts = this.#options.length > 0 ? " [options]" : "";
    return `${[this.#name, ...this.#aliases].join("|")}${opts}${this.#argumentsUsage()}`;
  }
}

/**
 * An environment variable, or undefined when unset, not readable (no permission) or empty (but
 * with `keepEmpty`).
 */
export function readEnv(name: string, keepEmpty = false): string | undefined {
  try {
    const v = Deno.env.get(name);
    return v === undefined || (v === "" && !keepEmpty) ? undefined : v;
  } catch {
    return undefined;
  }
}

function optionDescription(o: Option): string {
  const extra: string[] = [];
  if (o.choiceList !== undefined) {
    extra.push(`choices: ${o.choiceList.map((c) => JSON.stringify(c)).join(", ")}`);
  }
  if (o.defaultValue !== undefined && o.takesValue) {
    extra.push(`default: ${JSON.stringify(o.defaultValue)}`);
  }
  if (o.envVar !== undefined) extra.push(`env: ${o.envVar}`);
  return extra.length === 0 ? o.description : `${o.description} (${extra.join(", ")})`;
}

const HELP_WIDTH = 80;

/** One help line: the term padded to `width`, the text wrapped under itself when it fits. */
function row(term: string, text: string, width: number): string {
  const indent = width + 4;
  const room = HELP_WIDTH - indent;
  if (room < 40 || text.length <= room) return `  ${term.padEnd(width)}  ${text}`.trimEnd();
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  return [
    `  ${term.padEnd(width)}  ${lines[0]}`,
    ...lines.slice(1).map((l) => " ".repeat(indent) + l),
  ]
    .join("\n");
}

/**
 * `\n(Did you mean x?)` (or `one of x, y`) for the known words closest to `word`, else "".
 * Commander's rule: at most 2 edits, more than 40% of the longer word kept, `--` ignored.
 */
function suggestion(word: string, known: readonly string[]): string {
  const dashes = word.startsWith("--") ? "--" : "";
  const w = word.slice(dashes.length);
  let best: string[] = [];
  let bestDistance = 3;
  for (const k of new Set(known)) {
    const c = k.slice(dashes.length);
    if (c.length <= 1) continue;
    const d = editDistance(w, c);
    const length = Math.max(w.length, c.length);
    if ((length - d) / length <= 0.4) continue;
    if (d < bestDistance) {
      bestDistance = d;
      best = [c];
    } else if (d === bestDistance) best.push(c);
  }
  const names = best.sort((a, b) => a.localeCompare(b)).map((c) => dashes + c);
  if (names.length === 0) return "";
  return names.length === 1
    ? `\n(Did you mean ${names[0]}?)`
    : `\n(Did you mean one of ${names.join(", ")}?)`;
}

/** Levenshtein distance, adjacent transpositions counting one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
