/**
 * Query parameters of the `/api/*` routes.
 *
 * @module
 */

import type { Context } from "hono";
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
