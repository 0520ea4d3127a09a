/**
 * Which methods a path takes, as `Allow` reports them (RFC 9110 §10.2.1) on a 405 and on
 * OPTIONS, and as a CORS preflight's `Access-Control-Allow-Methods`.
 *
 * @module
 */

import type { Context, Handler, Hono, MiddlewareHandler } from "hono";
import { errorResponse } from "./security.ts";

/** Handlers that only explain why a request is refused (a job kind that does not exist). */
const refusals = new WeakSet<Handler>();

/** Marks `handler` as one that refuses every request it gets, so its method is not allowed. */
export function refusal<H extends Handler>(handler: H): H {
  refusals.add(handler);
  return handler;
}

/**
 * The methods `app`'s routes answer on `path`, sorted; none for a path no route takes.
 * Middleware (registered for every method) and {@linkcode refusal}s aside; GET implies HEAD, as
 * Hono serves it; OPTIONS is answered on every path that takes any method.
 */
export function allowedMethods(app: Hono, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || route.method === "OPTIONS" || refusals.has(route.handler)) {
      continue;
    }
    const pattern = route.path.split("/").map((part) =>
      part === "*"
        ? ".*"
        : part.startsWith(":")
        ? "[^/]+"
        : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    ).join("/");
    if (new RegExp(`^${pattern}$`).test(path)) methods.add(route.method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  if (methods.size > 0) methods.add("OPTIONS");
  return [...methods].sort();
}

/** 405 for a request on a path `app` takes with other methods (`allowed`, not empty). */
export function methodNotAllowed(c: Context, allowed: string[]): Response {
  c.header("Allow", allowed.join(", "));
  return errorResponse(
    c,
    405,
    "MethodNotAllowed",
    `${c.req.method} is not allowed on ${c.req.path}`,
    `Allowed: ${allowed.join(", ")}`,
  );
}

/**
 * OPTIONS on `app`: a path no route takes is not found (the CORS middleware would otherwise
 * answer 204 for any path); a known one gets `Allow` on the answer of what follows: the CORS
 * middleware's preflight, or a route that answers OPTIONS with 204, registered last.
 */
export function answerOptions(app: Hono): MiddlewareHandler {
  return async (c: Context, next) => {
    if (c.req.method !== "OPTIONS") return await next();
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length === 0) return c.notFound();
    await next();
    c.res.headers.set("Allow", allowed.join(", "));
  };
}
