/**
 * Per-tick response cache: `/metrics` and `/api/metrics` change only when a tick arrives, so
 * their text (and its gzip) is built once per tick rather than once per request.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import type { Context } from "hono";
import type { MetricsTick } from "../contracts/metrics.ts";

const MIN_GZIP_BYTES = 1024;

/** Whether the request accepts gzip (and does not refuse it with `q=0`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().split(";");
    const n = name?.trim().toLowerCase();
    if (n !== "gzip" && n !== "*") continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/** Caches `render(tick)` for the latest tick and answers with it, gzipped when accepted. */
export class TickCache {
  #tick: MetricsTick | null | undefined = undefined;
  #text = "";
  #gzip: Uint8Array | null = null;

  constructor(
    private readonly render: (tick: MetricsTick | null) => string,
    private readonly contentType: string,
  ) {}

  /** The response for `tick`. */
  respond(c: Context, tick: MetricsTick | null): Response {
    if (tick !== this.#tick) {
      this.#tick = tick;
      this.#text = this.render(tick);
      this.#gzip = null;
    }
    if (this.#text.length >= MIN_GZIP_BYTES && acceptsGzip(c.req.header("accept-encoding"))) {
      this.#gzip ??= gzipSync(this.#text);
      return c.body(this.#gzip as Uint8Array<ArrayBuffer>, 200, {
        "Content-Type": this.contentType,
        "Content-Encoding": "gzip",
        "Vary": "Accept-Encoding",
      });
    }
    return c.body(this.#text, 200, { "Content-Type": this.contentType, "Vary": "Accept-Encoding" });
  }
}
