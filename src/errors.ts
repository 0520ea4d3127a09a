/**
 * Errors that carry a contract code and exit code, shared by the CLI, snapshots and server.
 *
 * The codes and exit codes are frozen (docs/error_envelope.md): 2 BadInput, 3 Invariant,
 * 4 Policy, 5 IO, 1 Internal.
 *
 * @module
 */

/** The error codes of the envelope `{"error":"<Code>","detail":"...","hint":"..."}`. */
export type ErrorCode = "BadInput" | "Invariant" | "Policy" | "IO" | "Internal";

/** Process exit code for each error code. */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = Object.freeze({
  BadInput: 2,
  Invariant: 3,
  Policy: 4,
  IO: 5,
  Internal: 1,
});

/** An error a caller may want to report with its code; `hint` says what to do about it. */
export class AdhashError extends Error {
  /** Envelope code. */
  readonly code: ErrorCode;
  /** Optional advice for the user. */
  readonly hint: string | undefined;

  /** An error with envelope code `code`; `options.hint` says what to do about it. */
  constructor(code: ErrorCode, message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options?.hint;
  }

  /** The process exit code for this error. */
  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

/** Bad input from the user: flags, files, config (exit 2). */
export class BadInputError extends AdhashError {
  /** An error with envelope code `BadInput`. */
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super("BadInput", message, options);
  }
}

/** A well-formed structure whose contents break an invariant (exit 3). */
export class InvariantError extends AdhashError {
  /** An error with envelope code `Invariant`. */
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super("Invariant", message, options);
  }
}

/** A request refused by policy: limits, permissions (exit 4). */
export class PolicyError extends AdhashError {
  /** An error with envelope code `Policy`. */
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super("Policy", message, options);
  }
}

/** A file that cannot be read or written, or is corrupt (exit 5). */
export class IOError extends AdhashError {
  /** An error with envelope code `IO`. */
  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super("IO", message, options);
  }
}

/**
 * Runs `fn`, putting `path` in the hint of an {@linkcode AdhashError} that names no file: the
 * decoders report what is wrong inside a file ("Truncated snapshot") without knowing its name.
 * The message (the envelope's `detail`) stays as it is.
 */
export async function withFileHint<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // Messages quote the files they name: `Snapshot not found: 'x.snap'`.
    const quoted = `'${path}'`;
    if (
      err instanceof AdhashError && !err.message.includes(quoted) && !err.hint?.includes(quoted)
    ) {
      prependHint(err, `In '${path}'`, ": ");
    }
    throw err;
  }
}

/**
 * Runs `fn`, naming in the hint of an {@linkcode AdhashError} the environment variables of
 * `vars` (`[name, value]`; no name for a value that came from elsewhere) whose value its message
 * quotes: a value from the environment is otherwise hard to trace (`Config file not found:
 * 'x.toml'`, with no `--config` on the command line).
 */
export async function withEnvHint<T>(
  vars: ReadonlyArray<readonly [string | undefined, unknown]>,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const names = err instanceof AdhashError
      ? vars.filter(([name, value]) => name !== undefined && err.message.includes(String(value)))
        .map(([name]) => name)
      : [];
    if (err instanceof AdhashError && names.length > 0) {
      prependHint(err, `From the environment: ${names.join(", ")}`, ". ");
    }
    throw err;
  }
}

/** Puts `text` before `err`'s hint, joined by `sep` (`text` alone when it has none). */
function prependHint(err: AdhashError, text: string, sep: string): void {
  (err as { hint: string | undefined }).hint = err.hint === undefined
    ? text
    : `${text}${sep}${err.hint}`;
}

/** The message of anything thrown: an Error's `message`, else the value as a string. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
