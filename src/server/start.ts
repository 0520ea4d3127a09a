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
  /**
   * Told when the server stopped listening on its own and will listen on the same port again in
   * `retryMs` ({@linkcode MetricsServer.failure} says when it cannot).
   */
  onStopped?: (err: IOError, retryMs: number) => void;
  /** Told when the server listens again (on `port`, the one it had) after {@linkcode onStopped}. */
  onResumed?: (port: number) => void;
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
   * Settles, with an IOError saying why, if the server stopped listening on its own and cannot
   * listen again (its port taken meanwhile, say). Never settles otherwise: out of file
   * descriptors, Deno's HTTP server stops accepting (denoland/deno#10148; the connections it
   * holds stay open), and this one listens again after `RETRY_FIRST_MS`, doubling while it keeps
   * stopping.
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

/** Wait before listening again after the server stopped on its own. */
const RETRY_FIRST_MS = 250;
/** The longest wait, reached when the server keeps stopping. */
const RETRY_MAX_MS = 8000;
/** Serving this long since it last listened again, the next stop waits `RETRY_FIRST_MS` again. */
const RETRY_RESET_MS = 60_000;

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
  const listen = (at: number): Deno.HttpServer<Deno.NetAddr> =>
    Deno.serve({
      hostname: host,
      port: at,
      onListen: () => {},
      onError: () => new Response("internal server error", { status: 500 }),
    }, (req, info) => {
      // `completed` settles once the body is sent or the client is gone (it rejects then).
      inFlight++;
      info.completed.then(settled, settled);
      return app.fetch(req, info);
    });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = listen(port);
  } catch (err) {
    return Promise.reject(listenError(err, host, port));
  }
  const bound = server.addr.port;
  let closing = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let wait = RETRY_FIRST_MS;
  let resumedAt = performance.now();
  let fail: (err: IOError) => void = () => {};
  const failure = new Promise<IOError>((resolve) => fail = resolve);
  // Unhandled, the rejection would end the process with a stack trace.
  const watch = (s: Deno.HttpServer<Deno.NetAddr>): void => {
    s.finished.catch((err) => {
      if (closing) return;
      if (performance.now() - resumedAt > RETRY_RESET_MS) wait = RETRY_FIRST_MS;
      relistenAfter(failed(err));
    });
  };
  const relistenAfter = (why: IOError): void => {
    options.onStopped?.(why, wait);
    retry = setTimeout(() => {
      if (closing) return;
      wait = Math.min(2 * wait, RETRY_MAX_MS); // for the next stop, unless a minute passes
      try {
        server = listen(bound);
      } catch (err) {
        // Another process has the port, or the permission went: waiting changes nothing.
        if (
          err instanceof Deno.errors.AddrInUse || err instanceof Deno.errors.PermissionDenied ||
          err instanceof Deno.errors.NotCapable
        ) {
          const why = messageOf(listenError(err, host, bound));
          fail(
            new IOError(`The server stopped listening and cannot listen again: ${why}`, {
              cause: err,
              hint: "Start the server again",
            }),
          );
        } else relistenAfter(failed(err));
        return;
      }
      resumedAt = performance.now();
      watch(server);
      options.onResumed?.(bound);
    }, wait);
  };
  watch(server);
  const stop = (): Promise<void> => {
    shutdown.abort();
    closing = true;
    clearTimeout(retry);
    return server.shutdown().catch(() => {}); // a server that stopped on its own is done
  };
  const shown = LOCAL_HOSTS.has(host) ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return Promise.resolve({
    port: bound,
    url: `http://${shown}:${bound}/`,
    app,
    get inFlight(): number {
      return inFlight;
    },
    failure,
    close: stop,
    async closeWithin(graceMs: number): Promise<number> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const expired = new Promise<"expired">((r) => timer = setTimeout(r, graceMs, "expired"));
      const outcome = await Promise.race([stop(), expired]);
      clearTimeout(timer);
      return outcome === "expired" ? Math.max(1, inFlight) : 0;
    },
  });
}

/** The warning for {@linkcode StartMetricsServerOptions.onStopped}'s arguments. */
export function stoppedText(err: IOError, retryMs: number): string {
  const hint = err.hint === undefined ? "" : ` (${err.hint})`;
  return `${err.message}; listening again in ${retryMs / 1000} s${hint}`;
}

/** Why a listening server stopped serving, and for want of descriptors what would prevent it. */
function failed(err: unknown): IOError {
  const fds = err instanceof Error && /too many open files/i.test(err.message);
  return new IOError(`The server stopped listening: ${messageOf(err)}`, {
    cause: err,
    ...fds && {
      hint:
        "Raise the open-file limit (ulimit -n; LimitNOFILE= in a systemd unit) above the clients served at once",
    },
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
