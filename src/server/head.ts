/**
 * HEAD as RFC 9110 has it: the GET's headers, `Content-Length` included. Hono answers HEAD with
 * the GET's headers and a null body, to which `Deno.serve` adds `Content-Length: 0`, so every
 * HEAD said the resource was empty. The app instead answers HEAD with the GET's whole response,
 * which the HTTP server sends without its body (`Deno.serve` computes the length and cancels a
 * stream). Routes whose GET would open a stream or a file ask {@linkcode isHead} first.
 *
 * @module
 */

import type { Context, Hono } from "hono";

/** The GET requests that stand for a HEAD. */
const heads = new WeakSet<Request>();

/** Makes `app` dispatch every HEAD request as a GET that {@linkcode isHead} recognises. */
export function answerHeadAsGet(app: Hono): void {
  const dispatch = app.fetch;
  app.fetch = (request, ...rest) => {
    if (request.method !== "HEAD") return dispatch(request, ...rest);
    // Not `new Request(request, ...)`, which reads `request.signal`: Deno then prints a
    // deprecation warning on stderr (see limitBody()); the routes never use the signal.
    const get = new Request(request.url, { method: "GET", headers: request.headers });
    heads.add(get);
    return dispatch(get, ...rest);
  };
}

/** Whether `c` answers a HEAD request (dispatched as a GET). */
export function isHead(c: Context): boolean {
  return heads.has(c.req.raw);
}

/**
 * Headers without a body, for a HEAD whose GET streams: a stream that ends at once, since a null
 * body would be sent as `Content-Length: 0` while the GET's length is not known in advance.
 */
export function headersOnly(c: Context, headers: Record<string, string>): Response {
  return c.body(new ReadableStream({ start: (controller) => controller.close() }), 200, headers);
}
