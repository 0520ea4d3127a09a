/**
 * Small Hono middleware for the metrics server: bearer auth, per-client rate limiting and the
 * response headers every route carries.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { ApiError } from "../contracts/api.ts";

/** A JSON error response with the `api.error.v1` body. */
export function errorResponse(
  c: Context,
  status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 503,
  error: string,
  detail: string,
  hint?: string,
): Response {
  const body: ApiError = { schema: "api.error.v1", error, detail };
  if (hint !== undefined) body.hint = hint;
  return c.json(body, status);
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/**
 * Compares two secrets in time independent of where they differ. Hashing first gives equal
 * lengths, so the length of the token does not leak either.
 */
function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Requires `Authorization: Bearer <token>`; never echoes or logs the token. */
export function bearerAuth(token: string): MiddlewareHandler {
  return async (c, next): Promise<Response | void> => {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (m === null || !constantTimeEqual(m[1] ?? "", token)) {
      c.header("WWW-Authenticate", 'Bearer realm="adhash"');
      return errorResponse(
        c,
        401,
        "Unauthorized",
        header === ""
          ? "missing bearer token"
          : m === null
          ? "malformed Authorization header: expected 'Bearer <token>'"
          : "invalid bearer token",
        "Send 'Authorization: Bearer <ADHASH_TOKEN>'",
      );
    }
    await next();
  };
}

/** Names a request for this machine's loopback interface is addressed to. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Refuses a request addressed to another name than a loopback one: a server on loopback without
 * a token is reached by name only through DNS rebinding, a page on another site whose name now
 * points at 127.0.0.1, which would read it as its own origin.
 */
export function loopbackHostOnly(): MiddlewareHandler {
  return async (c, next): Promise<Response | void> => {
    const host = new URL(c.req.url).hostname;
    if (!LOOPBACK_HOSTS.has(host)) {
      return errorResponse(
        c,
        403,
        "Policy",
        `without ADHASH_TOKEN a server on loopback answers only loopback names, not ${
          JSON.stringify(host)
        }`,
        "Use http://127.0.0.1:<port>/, or set ADHASH_TOKEN",
      );
    }
    await next();
  };
}

/** Token-bucket settings of {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Sustained requests per second per client. */
  perSecond: number;
  /** Requests a client may make at once. */
  burst: number;
}

type Bucket = { tokens: number; at: number };

const MAX_TRACKED_CLIENTS = 10_000;

/** The client address, from Deno's connection info when served, else a fixed key. */
function clientKey(c: Context): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return env?.remoteAddr?.hostname ?? "local";
}

/** A per-client token bucket; an empty bucket gets 429 with `Retry-After`. */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  if (!(options.perSecond > 0) || !(options.burst >= 1)) {
    throw new RangeError(
      `rate limit needs perSecond > 0 and burst >= 1, got ${options.perSecond}/${options.burst}`,
    );
  }
  const buckets = new Map<string, Bucket>();
  return async (c, next): Promise<Response | void> => {
    const key = clientKey(c);
    const now = performance.now();
    let b = buckets.get(key);
    if (b === undefined) {
      // Forget everyone rather than grow without bound; at worst a client gets a fresh burst.
      if (buckets.size >= MAX_TRACKED_CLIENTS) buckets.clear();
      b = { tokens: options.burst, at: now };
      buckets.set(key, b);
    } else {
      b.tokens = Math.min(options.burst, b.tokens + ((now - b.at) / 1000) * options.perSecond);
      b.at = now;
    }
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / options.perSecond));
      c.header("Retry-After", String(wait));
      return errorResponse(c, 429, "RateLimited", `more than ${options.perSecond} requests/s`);
    }
    b.tokens -= 1;
    await next();
  };
}

/**
 * The Content-Security-Policy of every response: scripts, styles and connections only from this
 * origin, nothing inline, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Security and caching headers on every response. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set("Cache-Control", "no-store");
    h.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    h.set("X-Content-Type-Options", "nosniff");
    h.set("Referrer-Policy", "no-referrer");
    h.set("X-Frame-Options", "DENY");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
  };
}

/**
 * Refuses request bodies over `maxBytes` with 413 `TooLarge`: by the declared length when there
 * is one, else (chunked, HTTP/2) by counting the body as it arrives. Hono's `bodyLimit` does the
 * same but copies the Request with `new Request(raw, ...)`, which reads `raw.signal`: Deno then
 * prints a deprecation warning on stderr, raw text among `--log-json` lines. The copy here is
 * made from the URL, method and headers instead; the routes never use the request's signal.
 */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function limitBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (c: Context) => errorResponse(c, 413, "TooLarge", "request body too large");
  return async (c, next) => {
    const raw = c.req.raw;
    // Only routes of these methods read a body. Another's is never read, and a Request of
    // GET, HEAD, TRACE, TRACK or CONNECT cannot carry one: rebuilt, it threw (a 500 for any
    // `curl -X TRACE`, logged as a server error, before the rate limit and the token).
    if (raw.body === null || !BODY_METHODS.has(raw.method)) return await next();
    const declared = raw.headers.get("content-length");
    if (declared !== null && !raw.headers.has("transfer-encoding")) {
      return Number(declared) > maxBytes ? tooLarge(c) : await next();
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = raw.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxBytes) {
        await reader.cancel();
        return tooLarge(c);
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      body.set(chunk, at);
      at += chunk.length;
    }
    c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body });
    return await next();
  };
}
