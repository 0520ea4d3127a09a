/**
 * Streaming reader and validator of workload CSVs (`op,key,value`), see
 * docs/workload_schema.md.
 *
 * One byte-level scanner serves every row. The common row (`get,K1,` in lower case, printable
 * ASCII fields without spaces, columns in the order `op,key,value`) is checked and split in one
 * pass and its strings are built straight from the bytes. Any other row without a quote
 * character takes the general unquoted path: split on commas, strip spaces, decode UTF-8.
 * A row with a quote goes through the RFC 4180 path of the same scanner (quoted fields, doubled
 * quotes, commas and line breaks inside quotes), which also keeps physical line numbers exact:
 * a row's line is the line it starts on, the header is line 1, blank lines count.
 *
 * Rows come out in batches of parallel arrays so the replay loop stays tight and allocation
 * free apart from the key and value strings. The input is read in chunks; memory does not
 * depend on the file size.
 *
 * A regular file is opened and read synchronously, chunk by chunk (unless `asyncReads`). An
 * asynchronous read hands the chunk to a thread pool and wakes the event loop when it is done;
 * on a 2-core machine busy with the replay and V8's GC threads those wake-ups took 0.3-10 ms
 * per 1 MiB chunk, 28-40 ms in a 1M-row run, against ~0.25 ms per chunk read synchronously
 * from the page cache. Reading a file thus never yields to the event loop: a consumer that
 * must let other work run during a replay yields itself, or asks for `asyncReads`
 * (`run-csv --metrics-port` does both). Stdin, FIFOs and other readers keep asynchronous opens
 * and reads, which wait for their writer.
 *
 * @module
 */

import { BadInputError, IOError } from "../errors.ts";

/** Op code of a `put` row. */
export const OP_PUT = 0;
/** Op code of a `get` row. */
export const OP_GET = 1;
/** Op code of a `del` row. */
export const OP_DEL = 2;

/** The hint of every workload validation error. */
export const WORKLOAD_HINT = "See docs/workload_schema.md";

/** A batch of rows; entries past `length` are stale. The reader reuses the batch object. */
export interface OpBatch {
  /** Rows in this batch. */
  length: number;
  /** `OP_PUT`, `OP_GET` or `OP_DEL` per row. */
  ops: Uint8Array;
  /** Key per row (stripped of surrounding whitespace). */
  keys: string[];
  /** Value per row as written (`""` for get and del). */
  values: string[];
}

/** Options of {@linkcode readWorkload}. */
export interface ReadWorkloadOptions {
  /** Refuse inputs larger than this many bytes; 0 disables. */
  maxBytes?: number;
  /** Refuse inputs with more data rows than this; 0 disables. */
  maxRows?: number;
  /** Rows per batch (default 4096). */
  batchSize?: number;
  /**
   * Stop after this many data rows, as if the input ended there: no row past them is read or
   * checked (0 reads everything, the default).
   */
  takeRows?: number;
  /** Read chunk size (default 1 MiB). */
  chunkSize?: number;
  /** Longest accepted row in bytes (default 1 MiB). */
  maxRowBytes?: number;
  /**
   * Read a regular file asynchronously too, letting the event loop run at every chunk: for a
   * caller that serves requests from the same thread while it consumes the rows (default
   * false: a regular file is read synchronously, see the module documentation).
   */
  asyncReads?: boolean;
}

/** Totals known once the whole input has been read. */
export interface ReadStats {
  /** Data rows (the header and blank lines excluded). */
  rows: number;
  /** Bytes read. */
  bytes: number;
  /** Physical lines seen. */
  lines: number;
}

const C_QUOTE = 34;
const C_COMMA = 44;
const C_LF = 10;
const C_CR = 13;
const C_SPACE = 32;
const C_TAB = 9;

function bad(message: string): BadInputError {
  return new BadInputError(message, { hint: WORKLOAD_HINT });
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * `bytes` as UTF-8, or BadInput naming `line`: replacing invalid bytes with U+FFFD would merge
 * distinct keys (`\xff` and `\xfe` would both become "\uFFFD").
 */
function utf8At(bytes: Uint8Array, line: number): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw bad(`Invalid UTF-8 at line ${line}`);
  }
}

/** String of `buf[s..e)` on `line`; a char-code loop for short ASCII, TextDecoder otherwise. */
function decode(buf: Uint8Array, s: number, e: number, line: number): string {
  if (e - s <= 12) {
    let ascii = true;
    for (let i = s; i < e; i++) {
      if (buf[i]! >= 128) {
        ascii = false;
        break;
      }
    }
    if (ascii) return fromAscii(buf, s, e);
  }
  return utf8At(buf.subarray(s, e), line);
}

/** String of `buf[s..e)`, known to be ASCII. */
function fromAscii(buf: Uint8Array, s: number, e: number): string {
  switch (e - s) {
    case 0:
      return "";
    case 1:
      return String.fromCharCode(buf[s]!);
    case 2:
      return String.fromCharCode(buf[s]!, buf[s + 1]!);
    case 3:
      return String.fromCharCode(buf[s]!, buf[s + 1]!, buf[s + 2]!);
    case 4:
      return String.fromCharCode(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!);
    case 5:
      return String.fromCharCode(buf[s]!, buf[s + 1]!, buf[s + 2]!, buf[s + 3]!, buf[s + 4]!);
    case 6:
      return String.fromCharCode(
        buf[s]!,
        buf[s + 1]!,
        buf[s + 2]!,
        buf[s + 3]!,
        buf[s + 4]!,
        buf[s + 5]!,
      );
    case 7:
      return String.fromCharCode(
        buf[s]!,
        buf[s + 1]!,
        buf[s + 2]!,
        buf[s + 3]!,
        buf[s + 4]!,
        buf[s + 5]!,
        buf[s + 6]!,
      );
    default: {
      // Up to 12 characters each `+=` makes a flat string; past that it makes a rope of one
      // node per character, which a stored value keeps (33 MB for a 1 MB value).
      if (e - s > 12) return utf8.decode(buf.subarray(s, e));
      let out = "";
      for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
      return out;
    }
  }
}

/**
 * End of the run of bytes from `i` that a plain field may hold: printable ASCII other than a
 * space, a quote or a comma.
 */
function plainEnd(buf: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const x = buf[i]!;
    if (x <= C_SPACE || x >= 127 || x === C_QUOTE || x === C_COMMA) break;
  }
  return i;
}

function isSpace(c: number): boolean {
  return c === C_SPACE || c === C_TAB;
}

function afterQuote(line: number): BadInputError {
  return bad(`Invalid character after quoted field at line ${line}`);
}

function loneCrHeader(): BadInputError {
  return bad("The header holds a carriage return (CR) without LF: lines must end in LF or CRLF");
}

/** Whether `buf[s..e)` holds a CR followed by a byte other than LF (before `end`). */
function hasLoneCr(buf: Uint8Array, s: number, e: number, end: number): boolean {
  for (let i = s; i < e && i + 1 < end; i++) {
    if (buf[i] === C_CR && buf[i + 1] !== C_LF) return true;
  }
  return false;
}

/** Header names for a message; an empty one is shown as `''`. */
function columnList(names: string[]): string {
  return names.map((c) => c === "" ? "''" : c).join(", ");
}

/** Op code of `buf[s..e)` after stripping, case-insensitive; -1 when unknown. */
function opCode(buf: Uint8Array, s: number, e: number): number {
  while (s < e && isSpace(buf[s]!)) s++;
  while (e > s && isSpace(buf[e - 1]!)) e--;
  if (e - s !== 3) return e === s ? -2 : -1;
  const a = buf[s]! | 0x20, b = buf[s + 1]! | 0x20, c = buf[s + 2]! | 0x20;
  if (a === 112 && b === 117 && c === 116) return OP_PUT; // put
  if (a === 103 && b === 101 && c === 116) return OP_GET; // get
  if (a === 100 && b === 101 && c === 108) return OP_DEL; // del
  return -1;
}

/**
 * The scanner. `scan()` consumes complete rows from `buf[pos..end)` into the batch and returns
 * the position after the last complete row; a row cut by the end of the buffer is left for the
 * next call (unless `eof`).
 */
class Scanner {
  /** Physical line number where the next row starts. */
  line = 1;
  rows = 0;
  headerDone = false;
  colOp = 0;
  colKey = 1;
  colValue = 2;
  readonly batch: OpBatch;
  readonly #batchSize: number;
  readonly #maxRows: number;
  /** Rows after which scanning stops (Infinity: all). */
  readonly takeRows: number;
  // Field boundaries of the current row (unquoted path) and decoded fields (quoted path).
  readonly #fs = new Int32Array(4);
  readonly #fe = new Int32Array(4);
  readonly #quoted: string[] = [];
  /** Whether the header is read and its columns are in the order `op,key,value`. */
  #plain = false;

  constructor(batchSize: number, maxRows: number, takeRows: number) {
    this.#batchSize = batchSize;
    this.#maxRows = maxRows;
    this.takeRows = takeRows > 0 ? takeRows : Infinity;
    this.batch = {
      length: 0,
      ops: new Uint8Array(batchSize),
      keys: new Array<string>(batchSize).fill(""),
      values: new Array<string>(batchSize).fill(""),
    };
  }

  scan(buf: Uint8Array, pos: number, end: number, eof: boolean): number {
    const batch = this.batch;
    // Every row counted is pushed, so the batch's room bounds the rows taken too.
    const size = Math.min(this.#batchSize, batch.length + this.takeRows - this.rows);
    while (pos < end && batch.length < size) {
      if (this.#plain) {
        const next = this.#plainRow(buf, pos, end);
        if (next >= 0) {
          pos = next;
          continue;
        }
      }
      // One pass: find the line end, note commas, and whether the line holds a quote.
      const fs = this.#fs, fe = this.#fe;
      let i = pos;
      let n = 0;
      let s = pos;
      let quote = false;
      for (; i < end; i++) {
        const c = buf[i]!;
        if (c === C_COMMA) {
          if (n < 4) {
            fs[n] = s;
            fe[n] = i;
          }
          n++;
          s = i + 1;
        } else if (c === C_LF) break;
        else if (c === C_QUOTE) quote = true;
      }
      if (i === end && !eof) return pos; // incomplete row
      if (quote) {
        const next = this.#quotedRow(buf, pos, end, eof);
        if (next < 0) return pos; // incomplete quoted row
        pos = next;
        continue;
      }
      let lineEnd = i;
      if (lineEnd > pos && buf[lineEnd - 1] === C_CR) lineEnd--;
      const next = i < end ? i + 1 : end;
      if (n < 4) {
        fs[n] = s;
        fe[n] = lineEnd;
      }
      n++;
      let blank = false;
      if (n === 1) {
        blank = true;
        for (let j = pos; j < lineEnd; j++) {
          if (!isSpace(buf[j]!)) {
            blank = false;
            break;
          }
        }
      }
      if (n === 1 && blank) {
        // Blank line: skipped, but it still counts as a physical line.
        this.line++;
        pos = next;
        continue;
      }
      if (!this.headerDone) {
        const names: string[] = [];
        for (let f = 0; f < Math.min(n, 4); f++) names.push(decode(buf, fs[f]!, fe[f]!, this.line));
        if (n > 4) {
          // Report every extra column by name.
          const all = utf8At(buf.subarray(pos, lineEnd), this.line).split(",");
          names.length = 0;
          names.push(...all);
        }
        this.#header(names);
        pos = next;
        continue;
      }
      this.#row(buf, n);
      pos = next;
    }
    return pos;
  }

  #header(raw: string[]): void {
    // A file with lone CR line ends is one long header line: its names would mislead.
    if (raw.some((s) => s.includes("\r"))) {
      throw loneCrHeader();
    }
    const names = raw.map((s) => s.trim());
    const expected = ["key", "op", "value"];
    const missing = expected.filter((c) => !names.includes(c)).sort();
    const extra = [...new Set(names.filter((c) => !expected.includes(c)))];
    const dup = [...new Set(names.filter((c, i) => names.indexOf(c) !== i))].sort();
    // Every problem is reported at once, in the order of the schema's table: a header fixed
    // one message at a time would take as many runs as it has problems, and the names that
    // are missing (` OP `, `Key`) are usually the ones that are unexpected.
    const problems: string[] = [];
    if (missing.length > 0) problems.push(`Missing header columns: ${missing.join(", ")}`);
    if (extra.length > 0) problems.push(`Unexpected column(s) in header: ${columnList(extra)}`);
    if (dup.length > 0) problems.push(`Duplicate column(s) in header: ${columnList(dup)}`);
    if (problems.length > 0) throw bad(problems.join("; "));
    this.colOp = names.indexOf("op");
    this.colKey = names.indexOf("key");
    this.colValue = names.indexOf("value");
    this.headerDone = true;
    this.#plain = this.colOp === 0 && this.colKey === 1;
    this.line++;
  }

  #countRow(): void {
    this.rows++;
    if (this.#maxRows > 0 && this.rows > this.#maxRows) {
      throw bad(`CSV row limit exceeded (${this.rows} > ${this.#maxRows})`);
    }
  }

  /**
   * The common row in one pass: `get`, `put` or `del` in lower case, then a key and a value of
   * printable ASCII without spaces, quotes or further commas, then LF or CRLF. Returns the
   * position after it, or -1 for anything else, a row cut by the end of the buffer included,
   * which the general path then takes. Columns must be in the order `op,key,value`.
   */
  #plainRow(buf: Uint8Array, pos: number, end: number): number {
    if (pos + 5 > end || buf[pos + 3] !== C_COMMA) return -1;
    const a = buf[pos]!, b = buf[pos + 1]!, c = buf[pos + 2]!;
    let op: number;
    if (a === 103 && b === 101 && c === 116) op = OP_GET;
    else if (a === 112 && b === 117 && c === 116) op = OP_PUT;
    else if (a === 100 && b === 101 && c === 108) op = OP_DEL;
    else return -1;
    const ks = pos + 4;
    const ke = plainEnd(buf, ks, end);
    if (ke === ks || ke >= end || buf[ke] !== C_COMMA) return -1;
    const vs = ke + 1;
    const ve = plainEnd(buf, vs, end);
    let i = ve;
    if (i < end && buf[i] === C_CR) i++;
    if (i >= end || buf[i] !== C_LF || (op === OP_PUT && ve === vs)) return -1;
    this.#countRow();
    this.#push(op, fromAscii(buf, ks, ke), op === OP_PUT ? fromAscii(buf, vs, ve) : "");
    this.line++;
    return i + 1;
  }

  /** Appends a row to the batch. */
  #push(op: number, key: string, value: string): void {
    const b = this.batch;
    const k = b.length;
    b.ops[k] = op;
    b.keys[k] = key;
    b.values[k] = value;
    b.length = k + 1;
  }

  /** One unquoted row with `n` fields whose bounds are in #fs/#fe. */
  #row(buf: Uint8Array, n: number): void {
    const line = this.line;
    if (n > 3) throw bad(`Too many fields at line ${line} (expected 3, got ${n})`);
    this.#countRow();
    const fs = this.#fs, fe = this.#fe;
    const op = n > this.colOp ? opCode(buf, fs[this.colOp]!, fe[this.colOp]!) : -2;
    if (op === -2) throw bad(`Missing op at line ${line}`);
    if (op === -1) {
      // Stripped as the op was, of spaces and tabs: trim() showed `put\u00a0` as 'put'.
      const shown = decode(buf, fs[this.colOp]!, fe[this.colOp]!, line).replace(
        /^[ \t]+|[ \t]+$/g,
        "",
      );
      throw bad(`Unknown op '${shown}' at line ${line}`);
    }
    let ks = n > this.colKey ? fs[this.colKey]! : 0;
    let ke = n > this.colKey ? fe[this.colKey]! : 0;
    while (ks < ke && isSpace(buf[ks]!)) ks++;
    while (ke > ks && isSpace(buf[ke - 1]!)) ke--;
    if (ke === ks) throw bad(`Missing key at line ${line}`);
    let value = "";
    if (op === OP_PUT) {
      const vs = n > this.colValue ? fs[this.colValue]! : 0;
      const ve = n > this.colValue ? fe[this.colValue]! : 0;
      let blank = true;
      for (let j = vs; j < ve; j++) {
        if (!isSpace(buf[j]!)) {
          blank = false;
          break;
        }
      }
      if (blank) throw bad(`PUT missing value at line ${line}`);
      value = decode(buf, vs, ve, line);
    } else if (n > this.colValue) {
      // A get's or del's value is ignored, but must be UTF-8 all the same (as a quoted row's).
      const vs = fs[this.colValue]!, ve = fe[this.colValue]!;
      for (let j = vs; j < ve; j++) {
        if (buf[j]! >= 0x80) {
          decode(buf, vs, ve, line);
          break;
        }
      }
    }
    this.#push(op, decode(buf, ks, ke, line), value);
    this.line++;
  }

  /**
   * One row containing quotes (RFC 4180). Returns the position after it, or -1 when the row
   * continues past `end` and more input may come.
   */
  #quotedRow(buf: Uint8Array, pos: number, end: number, eof: boolean): number {
    // Every message names the line the row starts on, wherever in the row the fault is.
    const startLine = this.line;
    const fields = this.#quoted;
    fields.length = 0;
    let newlines = 0;
    let i = pos;
    for (;;) {
      // Start of a field: optional whitespace, then a quote or plain text. The whitespace
      // around a quoted field is dropped (as since the first version: a frozen leniency).
      let j = i;
      while (j < end && isSpace(buf[j]!)) j++;
      if (j < end && buf[j] === C_QUOTE) {
        const parts: Uint8Array[] = [];
        let s = j + 1;
        let k = s;
        for (;;) {
          if (k >= end) {
            if (!eof) return -1;
            const err = bad(`Unterminated quoted field at line ${startLine}`);
            throw this.#fault(err, buf, pos, k, end);
          }
          const c = buf[k]!;
          if (c === C_QUOTE) {
            if (k + 1 < end && buf[k + 1] === C_QUOTE) {
              parts.push(buf.subarray(s, k + 1));
              k += 2;
              s = k;
              continue;
            }
            if (k + 1 >= end && !eof) return -1;
            parts.push(buf.subarray(s, k));
            k++;
            break;
          }
          if (c === C_LF) newlines++;
          k++;
        }
        let total = 0;
        for (const p of parts) total += p.length;
        const joined = new Uint8Array(total);
        let o = 0;
        for (const p of parts) {
          joined.set(p, o);
          o += p.length;
        }
        fields.push(utf8At(joined, startLine));
        // After the closing quote: whitespace, then a comma, a line end or the end of input.
        // A CR ends the line only before an LF or at the end of input: `"a"\r,b` is refused.
        while (k < end && isSpace(buf[k]!)) k++;
        const cr = k < end && buf[k] === C_CR;
        if (cr) k++;
        if (k >= end) {
          if (!eof) return -1;
          i = end;
          break;
        }
        const c = buf[k]!;
        if (c === C_COMMA && !cr) {
          i = k + 1;
          continue;
        }
        if (c === C_LF) {
          i = k + 1;
          break;
        }
        throw this.#fault(afterQuote(startLine), buf, pos, k, end);
      }
      // Unquoted field: up to a comma or line end; a quote inside it is an error.
      let k = i;
      while (k < end) {
        const c = buf[k]!;
        if (c === C_COMMA || c === C_LF) break;
        if (c === C_QUOTE) {
          const err = bad(`Invalid quote inside unquoted field at line ${startLine}`);
          throw this.#fault(err, buf, pos, k, end);
        }
        k++;
      }
      if (k >= end && !eof) return -1;
      let fe = k;
      if (fe > i && buf[fe - 1] === C_CR && (k >= end || buf[k] === C_LF)) fe--;
      fields.push(decode(buf, i, fe, startLine));
      if (k < end && buf[k] === C_COMMA) {
        i = k + 1;
        continue;
      }
      i = k < end ? k + 1 : end;
      break;
    }
    this.#fieldsRow(fields, startLine);
    this.line = startLine + newlines + 1;
    return i;
  }

  /**
   * `err`, a fault found at `buf[k]` in the row from `pos`; in the header, after a lone CR, the
   * lone CR instead: a file with CR line ends is one long line, and its first quote after a
   * line end looks misplaced.
   */
  #fault(err: BadInputError, buf: Uint8Array, pos: number, k: number, end: number): BadInputError {
    return !this.headerDone && hasLoneCr(buf, pos, k, end) ? loneCrHeader() : err;
  }

  /** A row given as decoded fields (quoted path). */
  #fieldsRow(fields: string[], line: number): void {
    // A lone `""` is a blank line, before the header too, as an empty line is.
    if (fields.length === 1 && fields[0]!.trim() === "") return;
    if (!this.headerDone) {
      this.#header(fields);
      return;
    }
    if (fields.length > 3) {
      throw bad(`Too many fields at line ${line} (expected 3, got ${fields.length})`);
    }
    this.#countRow();
    const opText = (fields[this.colOp] ?? "").trim();
    if (opText === "") throw bad(`Missing op at line ${line}`);
    const lower = opText.toLowerCase();
    const op = lower === "put" ? OP_PUT : lower === "get" ? OP_GET : lower === "del" ? OP_DEL : -1;
    if (op < 0) throw bad(`Unknown op '${opText}' at line ${line}`);
    const key = (fields[this.colKey] ?? "").trim();
    if (key === "") throw bad(`Missing key at line ${line}`);
    const value = fields[this.colValue] ?? "";
    // Blank as the plain path sees it, spaces and tabs only: a row's quotes change no verdict.
    if (op === OP_PUT && /^[ \t]*$/.test(value)) throw bad(`PUT missing value at line ${line}`);
    this.#push(op, key, op === OP_PUT ? value : "");
  }

  finish(): void {
    if (!this.headerDone) throw bad("Missing header columns: key, op, value");
  }
}

/** A byte source: an open file, stdin, or any reader. */
export interface ByteReader {
  read(p: Uint8Array): Promise<number | null>;
}

/**
 * Throws IOError when a regular file was cut short while being read: its rows up to the cut,
 * the last one perhaps truncated, would otherwise replay as if they were the whole workload.
 */
function checkUnchanged(path: string, file: Deno.FsFile, opened: number, read: number): void {
  const now = file.statSync().size;
  if (read >= opened && now >= read) return;
  throw new IOError(
    `CSV file '${path}' changed while being read: ${opened} bytes when opened, ${now} now, ` +
      `${read} read`,
    { hint: "Replay a file no other process is writing (generate-csv writes atomically)" },
  );
}

/** Where a workload comes from: a path (`-` for stdin) or a reader. */
export type WorkloadSource = string | ByteReader;

function exceeds(size: number, max: number): BadInputError {
  return bad(`CSV file is ${size} bytes which exceeds limit ${max}`);
}

/**
 * Fails as {@linkcode readWorkload} would on a workload path that is missing or a directory,
 * without opening it (a FIFO's writer would wait).
 */
export async function checkWorkloadPath(path: string): Promise<void> {
  if (path === "-") return;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    throw openError(path, err);
  }
  if (info.isDirectory) throw isDirectory(path);
}

function openError(path: string, err: unknown): unknown {
  return err instanceof Deno.errors.NotFound
    ? new IOError(`CSV file not found: '${path}'`, { hint: WORKLOAD_HINT, cause: err })
    : err;
}

function isDirectory(path: string): BadInputError {
  return bad(`CSV path '${path}' is a directory`);
}

/**
 * Reads and validates a workload, yielding batches of rows (the same batch object each time:
 * consume it before the next iteration). `stats` is filled in as the input is read; its totals
 * are final once the iteration ends. Errors are BadInputError with the reference messages.
 */
export async function* readWorkload(
  source: WorkloadSource,
  options: ReadWorkloadOptions = {},
  stats: ReadStats = { rows: 0, bytes: 0, lines: 0 },
): AsyncGenerator<OpBatch, ReadStats> {
  const maxBytes = options.maxBytes ?? 0;
  const maxRowBytes = options.maxRowBytes ?? (1 << 20);
  let reader: ByteReader;
  let file: Deno.FsFile | null = null;
  let openedSize = -1; // a regular file's size when opened
  if (typeof source === "string") {
    if (source === "-") reader = Deno.stdin;
    else {
      // Only a regular file is opened synchronously: opening a FIFO waits for its writer.
      let regular: Deno.FileInfo | null = null;
      try {
        if (!options.asyncReads) {
          const info = Deno.statSync(source);
          if (info.isFile) regular = info;
        }
        file = regular !== null
          ? Deno.openSync(source, { read: true })
          : await Deno.open(source, { read: true });
      } catch (err) {
        throw openError(source, err);
      }
      const info = regular ?? await file.stat();
      if (info.isFile) openedSize = info.size;
      if (info.isDirectory) {
        file.close();
        throw isDirectory(source);
      }
      if (maxBytes > 0 && info.isFile && info.size > maxBytes) {
        file.close();
        throw exceeds(info.size, maxBytes);
      }
      const f = file;
      reader = regular !== null ? { read: (p) => Promise.resolve(f.readSync(p)) } : f;
    }
  } else reader = source;
  const scanner = new Scanner(
    options.batchSize ?? 4096,
    options.maxRows ?? 0,
    options.takeRows ?? 0,
  );
  let buf = new Uint8Array(options.chunkSize ?? (1 << 20));
  let pos = 0;
  let end = 0;
  let eof = false;
  let bomChecked = false;
  try {
    for (;;) {
      if (!bomChecked && (end >= 3 || eof)) {
        bomChecked = true;
        if (end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
      }
      if (bomChecked) {
        pos = scanner.scan(buf, pos, end, eof);
        stats.rows = scanner.rows;
        stats.lines = scanner.line - 1;
        if (scanner.batch.length > 0) {
          yield scanner.batch;
          scanner.batch.length = 0;
          continue;
        }
        if (eof) break; // at end of input the scanner consumes everything
        if (scanner.rows >= scanner.takeRows) break; // no more rows are wanted
      }
      // The scanner needs more input: move the unfinished row to the front, then read.
      if (pos > 0) {
        buf.copyWithin(0, pos, end);
        end -= pos;
        pos = 0;
      }
      if (end === buf.length) {
        // The unfinished row fills the buffer. A row of maxRowBytes needs room for its line end
        // too: one byte more, and a second only when that byte is the "\r" of a "\r\n".
        const room = maxRowBytes + (end > maxRowBytes && buf[maxRowBytes] === 0x0d ? 2 : 1);
        if (buf.length >= room) {
          throw bad(`Row longer than ${maxRowBytes} bytes at line ${scanner.line}`);
        }
        const bigger = new Uint8Array(Math.min(buf.length * 2, room));
        bigger.set(buf.subarray(0, end));
        buf = bigger;
      }
      const n = await reader.read(buf.subarray(end));
      if (n === null) {
        eof = true;
        if (openedSize >= 0) checkUnchanged(source as string, file!, openedSize, stats.bytes);
      } else {
        stats.bytes += n;
        if (maxBytes > 0 && stats.bytes > maxBytes) throw exceeds(stats.bytes, maxBytes);
        end += n;
      }
    }
    scanner.finish();
  } finally {
    // Also on failure: callers report how far the input got.
    stats.rows = scanner.rows;
    stats.lines = scanner.line - 1;
    file?.close();
  }
  stats.rows = scanner.rows;
  stats.lines = scanner.line - 1;
  return stats;
}
