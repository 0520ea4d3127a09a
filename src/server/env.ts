/**
 * Server settings read from the environment: `ADHASH_TOKEN`, `ADHASH_SNAPSHOT_DIR`,
 * `ADHASH_RATE_LIMIT` and `ADHASH_CORS_ORIGINS`. Shared by `serve` and `run-csv --metrics-port`.
 *
 * @module
 */

import { BadInputError } from "../errors.ts";
import type { RateLimitOptions } from "./security.ts";

/** What the environment configures. */
export interface ServerEnv {
  /** `ADHASH_TOKEN`: the bearer token the API requires. */
  token?: string;
  /** `ADHASH_SNAPSHOT_DIR`: where the snapshot routes read and write. */
  snapshotDir?: string;
  /** `ADHASH_RATE_LIMIT`: requests per second and burst per client, or false (`0`) for none. */
  rateLimit?: RateLimitOptions | false;
  /** `ADHASH_CORS_ORIGINS`: origins allowed cross-origin requests, or false for none. */
  corsOrigins?: string[] | false;
}

/** Parses `ADHASH_RATE_LIMIT`: `PER_SECOND[:BURST]`, or `0` to disable. */
export function parseRateLimit(raw: string | undefined): RateLimitOptions | false | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d{1,7})(?::(\d{1,7}))?$/.exec(raw.trim());
  if (m === null) {
    throw new BadInputError(`ADHASH_RATE_LIMIT=${JSON.stringify(raw)} is not PER_SECOND[:BURST]`, {
      hint: "e.g. ADHASH_RATE_LIMIT=200:400, or 0 to disable",
    });
  }
  const perSecond = Number(m[1]);
  if (perSecond === 0) return false;
  return { perSecond, burst: m[2] === undefined ? perSecond * 2 : Math.max(1, Number(m[2])) };
}

/** Parses `ADHASH_CORS_ORIGINS`: comma-separated origins, `*`, or `none`. */
export function parseCorsOrigins(raw: string | undefined): string[] | false | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === "none") return false;
  const list = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const o of list) {
    if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) {
      throw new BadInputError(`ADHASH_CORS_ORIGINS entry ${JSON.stringify(o)} is not an origin`, {
        hint: "Use e.g. https://grafana.example.com, * or none",
      });
    }
  }
  return list;
}

function env(name: string): string | undefined {
  const v = Deno.env.get(name);
  return v === undefined || v === "" ? undefined : v;
}

/** Reads the server settings from the environment; throws BadInputError on a bad value. */
export function serverEnv(): ServerEnv {
  const out: ServerEnv = {};
  // Read raw: `ADHASH_TOKEN=$(cat /missing/file)` sets it empty, and an operator who set a
  // token must never get a server without auth because the value went missing.
  const token = Deno.env.get("ADHASH_TOKEN");
  const snapshotDir = env("ADHASH_SNAPSHOT_DIR");
  const rateLimit = parseRateLimit(env("ADHASH_RATE_LIMIT"));
  const corsOrigins = parseCorsOrigins(env("ADHASH_CORS_ORIGINS"));
  if (token === "") {
    throw new BadInputError("ADHASH_TOKEN is set but empty, which would turn auth off", {
      hint: "Give it a token (e.g. openssl rand -hex 32), or unset it to serve without auth",
    });
  }
  if (token !== undefined) {
    // The Authorization header carries one word after "Bearer": such a token could never match.
    if (/\s/.test(token)) {
      throw new BadInputError("ADHASH_TOKEN contains whitespace, so no request could send it", {
        hint: "Use a token without spaces, e.g. openssl rand -hex 32",
      });
    }
    // A header is read as Latin-1, and fetch() sends nothing else: `tökén` could never match.
    if (!/^[!-~]+$/.test(token)) {
      throw new BadInputError("ADHASH_TOKEN has characters other than printable ASCII", {
        hint: "Use e.g. openssl rand -hex 32",
      });
    }
    out.token = token;
  }
  if (snapshotDir !== undefined) {
    let isDir = false;
    try {
      isDir = Deno.statSync(snapshotDir).isDirectory;
    } catch {
      // reported below
    }
    if (!isDir) {
      throw new BadInputError(
        `ADHASH_SNAPSHOT_DIR ${JSON.stringify(snapshotDir)} is not a readable directory`,
      );
    }
    out.snapshotDir = snapshotDir;
  }
  if (rateLimit !== undefined) out.rateLimit = rateLimit;
  if (corsOrigins !== undefined) out.corsOrigins = corsOrigins;
  return out;
}
