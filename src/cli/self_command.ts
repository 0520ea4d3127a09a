/**
 * The command lines a command suggests to run next (`demo` ends with two): they must work for
 * whoever reads them, whether this program is the source tree's `cli.ts`, a compiled
 * `hashmap-cli` or a bundle.
 *
 * @module
 */

/** `arg` as a POSIX shell word: as it is when it needs no quoting, else in single quotes. */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_\-./=:,@%+]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Permissions `deno run` needs for each subcommand suggested. */
const PERMISSIONS: Record<"validate-metrics" | "serve" | "probe-visualize", string> = {
  "validate-metrics": "--allow-read",
  "probe-visualize": "--allow-read --allow-env",
  serve: "--allow-read --allow-env --allow-net --allow-sys",
};

/**
 * How to run `subcommand` with this program: `deno task` when run in the source tree's
 * directory, the binary itself when compiled, else `deno run` of the script this process runs
 * (a bundle, or `cli.ts` run from elsewhere), with the permissions that subcommand needs. A
 * bundle's users have no `deno.json` for `deno task`.
 */
export function selfCommand(subcommand: keyof typeof PERMISSIONS): string {
  if (Deno.build.standalone) return `${shellWord(Deno.execPath())} ${subcommand}`;
  const main = new URL(Deno.mainModule);
  if (main.protocol === "file:" && main.pathname.endsWith("/cli.ts") && inTree(main)) {
    return subcommand === "serve" ? "deno task serve" : `deno task cli ${subcommand}`;
  }
  const script = main.protocol === "file:" ? filePath(main) : main.href;
  return `deno run ${PERMISSIONS[subcommand]} ${shellWord(script)} ${subcommand}`;
}

/**
 * The path a `file:` URL names, as `node:url`'s `fileURLToPath` gives it (importing that module
 * loaded Node's compatibility layer: 6 ms of every command's start).
 */
export function filePath(url: URL, windows = Deno.build.os === "windows"): string {
  const path = decodeURIComponent(url.pathname);
  if (!windows) return path;
  const full = url.host === "" ? path.replace(/^\/(?=[A-Za-z]:)/, "") : `//${url.host}${path}`;
  return full.replaceAll("/", "\\");
}

/**
 * Whether `main` has the project's `deno.json` beside it (its tasks are then at hand) and this
 * process runs there: `deno task` runs in that directory, so a relative path suggested from
 * anywhere else would name another file.
 */
function inTree(main: URL): boolean {
  try {
    return Deno.statSync(new URL("deno.json", main)).isFile &&
      Deno.realPathSync(Deno.cwd()) === Deno.realPathSync(filePath(new URL(".", main)));
  } catch {
    return false;
  }
}
