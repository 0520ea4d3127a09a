/**
 * Path arithmetic on strings, without looking at the file system. Paths come out with `/`
 * separators: on Windows `\` separates too (and `Deno.realPath` writes it), and `/` works in
 * every Windows file API, so one form serves both; elsewhere `\` is a character of a name. The
 * `windows` parameters are for tests; callers leave them to the platform.
 *
 * @module
 */

const WINDOWS = (globalThis as { Deno?: typeof Deno }).Deno?.build.os === "windows";

/** `path` with `/` separators (on Windows, its `\` turned into `/`). */
export function slashed(path: string, windows = WINDOWS): string {
  return windows ? path.replaceAll("\\", "/") : path;
}

/**
 * The root `path` starts from, ending with `/`: `/`, and on Windows also `C:/` and a share's
 * `//server/share/`; `""` for a relative path.
 */
export function rootOf(path: string, windows = WINDOWS): string {
  const p = slashed(path, windows);
  if (!windows) return p.startsWith("/") ? "/" : "";
  const share = /^\/\/[^/]+\/[^/]+/.exec(p)?.[0];
  if (share !== undefined) return `${share}/`;
  return /^[A-Za-z]:\//.exec(p)?.[0] ?? (p.startsWith("/") ? "/" : "");
}

/** Whether `path` is absolute (`/x`; on Windows also `C:\x` and `\\server\share\x`). */
export function isAbsolute(path: string, windows = WINDOWS): boolean {
  return rootOf(path, windows) !== "";
}

/** The directory part of `path` (`.` for a bare name, the root for a name in the root). */
export function dirOf(path: string, windows = WINDOWS): string {
  const p = slashed(path, windows);
  const root = rootOf(p, windows);
  const i = p.lastIndexOf("/");
  return i < root.length ? root || "." : p.slice(0, i);
}

/**
 * `path` with `.`, `..` and empty segments resolved as written, without looking at the file
 * system (`a/b/../c/.` is `a/c`; above the root is the root).
 */
export function withoutDots(path: string, windows = WINDOWS): string {
  const p = slashed(path, windows);
  const root = rootOf(p, windows);
  const parts: string[] = [];
  for (const s of p.slice(root.length).split("/")) {
    if (s === "" || s === ".") continue;
    if (s !== "..") parts.push(s);
    else if (parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (root === "") parts.push(s);
  }
  const joined = parts.join("/");
  return root !== "" ? root + joined : joined || ".";
}

/** The last segment of `path` (the whole of a bare name). */
export function baseOf(path: string, windows = WINDOWS): string {
  const p = slashed(path, windows);
  return p.slice(p.lastIndexOf("/") + 1);
}

/** `dir/name`, without doubling the slashes `dir` ends with: `/` gives `/name`, `""` `./name`. */
export function joinPath(dir: string, name: string, windows = WINDOWS): string {
  const d = slashed(dir, windows);
  const root = rootOf(d, windows);
  if (root !== "" && d.replace(/\/+$/, "/") === root) return root + name;
  return `${d.replace(/\/+$/, "") || "."}/${name}`;
}

/**
 * Whether `path` is `dir` or lies under it, both real paths (`Deno.realPath`'s): on Windows its
 * `\` and either case of a letter match (the file system ignores case there).
 */
export function isInside(dir: string, path: string, windows = WINDOWS): boolean {
  const fold = (s: string): string => windows ? slashed(s, true).toLowerCase() : s;
  const d = fold(dir).replace(/\/+$/, "");
  const p = fold(path);
  return p === d || p.startsWith(`${d}/`);
}
