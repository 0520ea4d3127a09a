/**
 * Query parameters of the `/api/*` routes.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";

/**
 * Parses an optional integer query value, clamped to `[min, max]` however large (the documented
 * ranges say what is served); `fallback` when absent or empty. Throws a 400 on anything but
 * digits.
 */
export function intQuery<F extends number | undefined>(
  c: Context,
  name: string,
  fallback: F,
  min: number,
  max: number,
): number | F {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new HTTPException(400, {
      message: `query ${name}=${JSON.stringify(raw)} is not a non-negative integer`,
    });
  }
  return Math.min(max, Math.max(min, Number(raw)));
}

/**
 * Refuses a query that is not percent-encoded UTF-8 (`key=%FF`) with a 400. Hono hands such a
 * value to the route undecoded, so `key=%FF` looked up the three characters `%FF`.
 */
export function strictQuery(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    const at = url.indexOf("?");
    const query = at < 0 ? "" : url.slice(at + 1).replace(/#.*/, "");
    for (const part of query.split("&")) {
      try {
        decodeURIComponent(part.replaceAll("+", " "));
      } catch {
        throw new HTTPException(400, {
          message: `query ${JSON.stringify(part)} is not percent-encoded UTF-8`,
        });
      }
    }
    await next();
  };
}
