/**
 * Serving the metrics app on a socket, for `serve` and for `run-csv --metrics-port`.
 *
 * @module
 */

import type { Hono } from "hono";
import { createApp, type CreateAppOptions } from "./app.ts";
import { BadInputError, IOError } from "../errors.ts";

/** Options of {@linkcode startMetricsServer}: the app's options plus where to listen. */
export interface StartMetricsServerOptions extends CreateAppOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port, or `"auto"` for any free port. */
  port: number | "auto";
}

/** A listening metrics server. */
export interface MetricsServer {
  /** The port actually bound. */
  port: number;
  /** Dashboard address, e.g. `http://localhost:9090/`. */
  url: string;
  /** The app being served. */
  app: Hono;
  /** Ends open streams and stops listening. */
  close(): Promise<void>;
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "0.0.0.0", "::", "::1", "[::1]"]);

/** Parses a `--port` value: an integer 0-65535 or `auto`; throws RangeError quoting it. */
export function parsePort(raw: string): number | "auto" {
  if (raw === "auto") return "auto";
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    throw new RangeError(`port must be an integer 0-65535 or "auto", got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** Starts serving the metrics app; resolves once the socket is bound. */
export function startMetricsServer(options: StartMetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port === "auto" ? 0 : options.port;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(
      new RangeError(`port must be an integer 0-65535 or "auto", got ${options.port}`),
    );
  }
  const shutdown = new AbortController();
  const app = createApp({ ...options, shutdownSignal: shutdown.signal });
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: host,
        port,
        onListen: () => {},
        onError: () => new Response("internal server error", { status: 500 }),
      }, (req, info) => app.fetch(req, info));
    } catch (err) {
      reject(listenError(err, host, port));
      return;
    }
    const bound = server.addr.port;
    const shown = LOCAL_HOSTS.has(host) ? "localhost" : host.includes(":") ? `[${host}]` : host;
    resolve({
      port: bound,
      url: `http://${shown}:${bound}/`,
      app,
      async close(): Promise<void> {
        shutdown.abort();
        await server.shutdown();
      },
    });
  });
}

/**
 * Why binding failed, in the error contract's terms: a port in use is IO naming the address; a
 * host that does not resolve or is not this machine's is BadInput naming the host. Permission
 * denials pass through (Policy).
 */
function listenError(err: unknown, host: string, port: number): unknown {
  if (err instanceof Deno.errors.AddrInUse) {
    return new IOError(`Address ${host}:${port} is already in use`, {
      hint: "Stop the other server or choose another port (auto picks a free one)",
      cause: err,
    });
  }
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return err;
  }
  const why = err instanceof Error ? err.message : String(err);
  return new BadInputError(`Cannot listen on host ${JSON.stringify(host)}: ${why}`, {
    hint: "Give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0",
    cause: err,
  });
}
