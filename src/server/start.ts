/**
 * Serving the metrics app on a socket, for `serve` and for `run-csv --metrics-port`.
 *
 * @module
 */

import type { Hono } from "hono";
import { createApp, type CreateAppOptions } from "./app.ts";
import { BadInputError, IOError, messageOf } from "../errors.ts";

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
  /** Requests being handled now: from the handler's start until the response is sent. */
  readonly inFlight: number;
  /**
   * Settles, with an IOError saying why, if the server stops listening on its own: out of file
   * descriptors, Deno's HTTP server ends (denoland/deno#10148). Never settles otherwise.
   */
  readonly failure: Promise<IOError>;
  /** Ends open streams, stops listening and waits for the requests under way to finish. */
  close(): Promise<void>;
  /**
   * As {@linkcode close}, waiting at most `graceMs` for the requests under way. Resolves to how
   * many were still unfinished then (0 when all ended), which the caller cuts off by exiting:
   * Deno cannot close a served connection from outside.
   */
  closeWithin(graceMs: number): Promise<number>;
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "0.0.0.0", "::", "::1", "[::1]"]);
/** `--host` values that bind the loopback interface only. */
export const LOOPBACK_ADDRESSES: ReadonlySet<string> = new Set([
  "127.0.0.1",
  "localhost",
  "::1",
  "[::1]",
]);

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
  const app = createApp({
    ...options,
    loopback: LOOPBACK_ADDRESSES.has(host),
    shutdownSignal: shutdown.signal,
  });
  let inFlight = 0;
  const settled = (): void => {
    inFlight--;
  };
  return new Promise((resolve, reject) => {
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: host,
        port,
        onListen: () => {},
        onError: () => new Response("internal server error", { status: 500 }),
      }, (req, info) => {
        // `completed` settles once the body is sent or the client is gone (it rejects then).
        inFlight++;
        info.completed.then(settled, settled);
        return app.fetch(req, info);
      });
    } catch (err) {
      reject(listenError(err, host, port));
      return;
    }
    // Unhandled, the rejection would end the process with a stack trace.
    const failure = server.finished.then(() => new Promise<never>(() => {}), failed);
    const bound = server.addr.port;
    const shown = LOCAL_HOSTS.has(host) ? "localhost" : host.includes(":") ? `[${host}]` : host;
    resolve({
      port: bound,
      url: `http://${shown}:${bound}/`,
      app,
      get inFlight(): number {
        return inFlight;
      },
      failure,
      async close(): Promise<void> {
        shutdown.abort();
        await server.shutdown();
      },
      async closeWithin(graceMs: number): Promise<number> {
        shutdown.abort();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const expired = new Promise<"expired">((r) => timer = setTimeout(r, graceMs, "expired"));
        const outcome = await Promise.race([server.shutdown(), expired]);
        clearTimeout(timer);
        return outcome === "expired" ? Math.max(1, inFlight) : 0;
      },
    });
  });
}

/** Why a listening server stopped serving. */
function failed(err: unknown): IOError {
  const fds = err instanceof Error && /too many open files/i.test(err.message);
  return new IOError(`The server stopped listening: ${messageOf(err)}`, {
    cause: err,
    hint: fds
      ? "Raise the open-file limit (ulimit -n; LimitNOFILE= in a systemd unit) above the clients served at once"
      : "Start the server again",
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
  const why = messageOf(err);
  return new BadInputError(`Cannot listen on host ${JSON.stringify(host)}: ${why}`, {
    hint: "Give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0",
    cause: err,
  });
}
