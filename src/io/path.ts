/**
 * Path arithmetic on `/`-separated strings, without looking at the file system.
 *
 * @module
 */

/** The directory part of `path` (`.` for a bare name). */
export function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/**
 * `path` with `.`, `..` and empty segments resolved as written, without looking at the file
 * system (`a/b/../c/.` is `a/c`; above the root is the root).
 */
export function withoutDots(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p !== "..") parts.push(p);
    else if (parts.length > 0 && parts.at(-1) !== "..") parts.pop();
    else if (!absolute) parts.push(p);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined || ".";
}

/** The last segment of `path` (the whole of a bare name). */
export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** `dir/name`, without doubling the slashes `dir` ends with: `/` gives `/name`, `""` `./name`. */
export function joinPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "") || (dir.startsWith("/") ? "" : ".")}/${name}`;
}
