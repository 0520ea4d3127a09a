import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "csv-parse/sync";
import {
  type ByteReader,
  OP_DEL,
  OP_GET,
  OP_PUT,
  readWorkload,
  type ReadWorkloadOptions,
} from "../../src/workload/csv_reader.ts";
import { BadInputError, IOError } from "../../src/errors.ts";
import { removedAtUnload } from "../_helpers.ts";
import { shellWord } from "../../src/cli/self_command.ts";

/** A reader over `bytes` that returns at most `chunk` bytes per read. */
function bytesReader(bytes: Uint8Array, chunk: number): ByteReader {
  let off = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (off >= bytes.length) return Promise.resolve(null);
      const n = Math.min(chunk, p.length, bytes.length - off);
      p.set(bytes.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
  };
}

type Row = [op: string, key: string, value: string];

async function readAll(
  input: string | Uint8Array,
  options: ReadWorkloadOptions & { readChunk?: number } = {},
): Promise<{ rows: Row[]; stats: { rows: number; bytes: number; lines: number } }> {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const stats = { rows: 0, bytes: 0, lines: 0 };
  const rows: Row[] = [];
  const names = ["put", "get", "del"];
  for await (
    const b of readWorkload(bytesReader(bytes, options.readChunk ?? 1 << 16), options, stats)
  ) {
    for (let i = 0; i < b.length; i++) rows.push([names[b.ops[i]!]!, b.keys[i]!, b.values[i]!]);
  }
  return { rows, stats };
}

async function rejects(input: string, message: string, options: ReadWorkloadOptions = {}) {
  await assert.rejects(() => readAll(input, options), (err: unknown) => {
    assert.ok(err instanceof BadInputError, String(err));
    assert.equal(err.message, message);
    assert.equal(err.hint, "See docs/workload_schema.md");
    return true;
  });
}

Deno.test("readWorkload() reads plain rows with op codes, keys and values", async () => {
  const input = "op,key,value\nput,a,1\nget,b,\nDEL,c,\n Put , d , 7 \n";
  const { rows, stats } = await readAll(input);
  assert.deepEqual(rows, [["put", "a", "1"], ["get", "b", ""], ["del", "c", ""], [
    "put",
    "d",
    " 7 ",
  ]]);
  assert.deepEqual(stats, { rows: 4, bytes: input.length, lines: 5 });
  assert.deepEqual([OP_PUT, OP_GET, OP_DEL], [0, 1, 2]);
});

Deno.test("readWorkload() accepts CRLF, a UTF-8 BOM, no final newline and blank lines", async () => {
  const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
  const body = new TextEncoder().encode(
    "op,key,value\r\nput,k1,v\r\n\r\nget,k1,\r\nput,ключ,значение",
  );
  const input = new Uint8Array(bom.length + body.length);
  input.set(bom);
  input.set(body, bom.length);
  for (const readChunk of [1, 2, 3, 5, 1 << 16]) {
    const { rows } = await readAll(input, { readChunk });
    assert.deepEqual(rows, [["put", "k1", "v"], ["get", "k1", ""], ["put", "ключ", "значение"]]);
  }
});

Deno.test("readWorkload() accepts header columns in any order and with spaces", async () => {
  const { rows } = await readAll(" value , op,key\n5,put,a\n,get,a\n");
  assert.deepEqual(rows, [["put", "a", "5"], ["get", "a", ""]]);
});

Deno.test("readWorkload() parses RFC 4180 quoted fields", async () => {
  const input = 'op,key,value\nput,"a,b","say ""hi"""\n"get","multi\nline",\nput,x,"v\r\nw"\n';
  for (const readChunk of [1, 4, 7, 1 << 16]) {
    const { rows } = await readAll(input, { readChunk });
    assert.deepEqual(rows, [["put", "a,b", 'say "hi"'], ["get", "multi\nline", ""], [
      "put",
      "x",
      "v\r\nw",
    ]]);
  }
});

Deno.test("readWorkload() reports physical line numbers after quoted line breaks", async () => {
  await rejects('op,key,value\nput,"a\nb",1\n\nnoop,k,\n', "Unknown op 'noop' at line 5");
  await rejects('op,key,value\n"put","k\n\n",\n', "PUT missing value at line 2");
});

Deno.test("readWorkload() reports the reference messages with line numbers", async () => {
  await rejects("", "Missing header columns: key, op, value");
  await rejects("op,value\nput,1\n", "Missing header columns: key");
  await rejects("op,key,value,extra\n", "Unexpected column(s) in header: extra");
  await rejects("op,key,value,a,b\n", "Unexpected column(s) in header: a, b");
  await rejects("op,key,op\n", "Missing header columns: value; Duplicate column(s) in header: op");
  await rejects("op,key,value,key\n", "Duplicate column(s) in header: key");
  await rejects('"op","key","value","x"\n', "Unexpected column(s) in header: x");
  await rejects("op,key,value\nput,a,1\n,b,\n", "Missing op at line 3");
  await rejects("op,key,value\nput,a,1\nnoop,b,\n", "Unknown op 'noop' at line 3");
  await rejects("op,key,value\n\nget, ,\n", "Missing key at line 3");
  await rejects("op,key,value\nget\n", "Missing key at line 2");
  await rejects("op,key,value\nput,a,\n", "PUT missing value at line 2");
  await rejects("op,key,value\nput,a,  \n", "PUT missing value at line 2");
  await rejects("op,key,value\r\nput,a,1\r\nput,b\r\n", "PUT missing value at line 3");
  await rejects("op,key,value\nput,a,1,2\n", "Too many fields at line 2 (expected 3, got 4)");
  await rejects('op,key,value\nput,"a,1\n', "Unterminated quoted field at line 2");
  await rejects('op,key,value\nput,a"b,1\n', "Invalid quote inside unquoted field at line 2");
  await rejects('op,key,value\nput,"a"b,1\n', "Invalid character after quoted field at line 2");
  await rejects('op,key,value\nput,"a","  "\n', "PUT missing value at line 2");
  await rejects('op,key,value\nput,"a", \t\n', "PUT missing value at line 2");
});

Deno.test("readWorkload() refuses invalid UTF-8 with its line instead of merging keys", async () => {
  const enc = new TextEncoder();
  const bytes = (...parts: Array<string | number[]>): Uint8Array =>
    new Uint8Array(parts.flatMap((p) => typeof p === "string" ? [...enc.encode(p)] : p));
  const cases: Array<[Uint8Array, string]> = [
    [bytes("op,key,value\nput,a,1\nput,", [0xff], ",1\n"), "Invalid UTF-8 at line 3"],
    [bytes("op,key,value\nput,a,", [0xc3], "\n"), "Invalid UTF-8 at line 2"],
    // A row is numbered by the line it starts on, quoted line breaks or not.
    [bytes('op,key,value\nput,"x\ny', [0xfe], '",1\n'), "Invalid UTF-8 at line 2"],
    [bytes("op,k", [0xff], "y,value\n"), "Invalid UTF-8 at line 1"],
    // A get's or del's value is ignored, but is UTF-8 too, quoted or not.
    [bytes("op,key,value\nget,a,", [0xff], "\n"), "Invalid UTF-8 at line 2"],
    [bytes('op,key,value\ndel,a,"', [0xff], '"\n'), "Invalid UTF-8 at line 2"],
  ];
  for (const [input, message] of cases) {
    await assert.rejects(() => readAll(input), (err: unknown) => {
      assert.ok(err instanceof BadInputError, String(err));
      assert.equal(err.message, message);
      return true;
    });
  }
  // Valid multi-byte UTF-8 still reads, quoted or not.
  const { rows } = await readAll('op,key,value\nput,café,1\nput,"été",2\nget,a,été\n');
  assert.deepEqual(rows, [["put", "café", "1"], ["put", "été", "2"], ["get", "a", ""]]);
});

Deno.test("readWorkload() enforces the row and byte limits", async () => {
  await rejects("op,key,value\nput,a,1\nput,b,2\n", "CSV row limit exceeded (2 > 1)", {
    maxRows: 1,
  });
  const ok = await readAll("op,key,value\nput,a,1\n", { maxRows: 1 });
  assert.equal(ok.rows.length, 1);
  // Streams (stdin) are counted as read.
  await rejects("op,key,value\nput,a,1\nput,b,2\n", "CSV file is 29 bytes which exceeds limit 10", {
    maxBytes: 10,
  });
  const unlimited = await readAll("op,key,value\nput,a,1\n", { maxBytes: 0, maxRows: 0 });
  assert.equal(unlimited.rows.length, 1);
  // An input of exactly maxBytes is within the limit.
  const exact = await readAll("op,key,value\nput,a,1\n", { maxBytes: 21, readChunk: 4 });
  assert.deepEqual(exact.rows, [["put", "a", "1"]]);
});

Deno.test("readWorkload() checks a file's size before reading it", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(path, "op,key,value\nput,a,1\nput,b,22\n");
    const stats = { rows: 0, bytes: 0, lines: 0 };
    await assert.rejects(async () => {
      for await (const _ of readWorkload(path, { maxBytes: 10 }, stats)) { /* consume */ }
    }, /CSV file is 30 bytes which exceeds limit 10/);
    assert.equal(stats.bytes, 0, "nothing read");
    let n = 0;
    for await (const b of readWorkload(path, {}, stats)) n += b.length;
    assert.equal(n, 2);
    n = 0;
    for await (const b of readWorkload(path, { maxBytes: 30 })) n += b.length;
    assert.equal(n, 2, "a file of exactly maxBytes is read");
  } finally {
    await Deno.remove(path);
  }
});

/** Counts `Deno.FsFile` reads, by kind, while `fn` runs. */
async function countReads(fn: () => Promise<void>): Promise<{ sync: number; async: number }> {
  const proto = Deno.FsFile.prototype;
  const { read, readSync } = proto;
  const counts = { sync: 0, async: 0 };
  proto.read = function (p: Uint8Array) {
    counts.async++;
    return read.call(this, p);
  };
  proto.readSync = function (p: Uint8Array) {
    counts.sync++;
    return readSync.call(this, p);
  };
  try {
    await fn();
  } finally {
    proto.read = read;
    proto.readSync = readSync;
  }
  return counts;
}

Deno.test("readWorkload() reads a regular file synchronously, chunk by chunk", async () => {
  const lines = ["op,key,value"];
  for (let i = 0; i < 20_000; i++) lines.push(`put,k${i},${i}`);
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(path, lines.join("\n"));
    const stats = { rows: 0, bytes: 0, lines: 0 };
    let timerRan = false;
    const timer = setTimeout(() => (timerRan = true), 0);
    let total = 0;
    let firstBatchBytes = -1;
    const sync = await countReads(async () => {
      for await (const b of readWorkload(path, { chunkSize: 4096 }, stats)) {
        if (firstBatchBytes < 0) firstBatchBytes = stats.bytes;
        total += b.length;
      }
    });
    // No read waited on the event loop, so the timer could not run in between.
    assert.equal(timerRan, false);
    clearTimeout(timer);
    assert.equal(total, 20_000);
    assert.ok(firstBatchBytes <= 4096, `read ${firstBatchBytes} bytes before the first batch`);
    assert.ok(sync.sync > 10 && sync.async === 0, JSON.stringify(sync));
    // With asyncReads, every chunk is an asynchronous read.
    total = 0;
    const async = await countReads(async () => {
      for await (const b of readWorkload(path, { chunkSize: 4096, asyncReads: true })) {
        total += b.length;
      }
    });
    assert.equal(total, 20_000);
    assert.ok(async.async > 10 && async.sync === 0, JSON.stringify(async));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test({
  name: "readWorkload() opens a FIFO without blocking the thread while it waits for a writer",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = removedAtUnload(await Deno.makeTempDir());
    const fifo = `${dir}/w.fifo`;
    try {
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.ok(made.success, "mkfifo");
      // The writer connects after 300 ms; meanwhile the timer must keep running.
      const writer = new Deno.Command("sh", {
        args: ["-c", `sleep 0.3; printf 'op,key,value\\nput,a,1\\nget,a,\\n' > ${shellWord(fifo)}`],
      }).spawn();
      let beats = 0;
      const timer = setInterval(() => beats++, 20);
      let rows = 0;
      try {
        for await (const b of readWorkload(fifo)) rows += b.length;
      } finally {
        clearInterval(timer);
      }
      assert.equal((await writer.status).success, true);
      assert.equal(rows, 2);
      assert.ok(beats >= 5, `the thread ran ${beats} timer beats while waiting`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("readWorkload() refuses rows longer than maxRowBytes", async () => {
  await rejects(
    `op,key,value\nput,${"x".repeat(100)},1\n`,
    "Row longer than 64 bytes at line 2",
    { chunkSize: 16, maxRowBytes: 64 },
  );
});

Deno.test("readWorkload() takes rows of exactly maxRowBytes, whatever their line end", async () => {
  // A row of exactly the limit was refused: its line end did not fit in the buffer.
  const row = (n: number) => `put,k,${"v".repeat(n - 6)}`;
  for (const end of ["\n", "\r\n", ""]) {
    for (const chunkSize of [16, 1 << 20]) {
      const input = `op,key,value\n${row(64)}${end}`;
      const { rows } = await readAll(input, { chunkSize, maxRowBytes: 64, readChunk: 7 });
      assert.equal(rows[0]![2].length, 58, JSON.stringify(end));
    }
    await rejects(`op,key,value\n${row(65)}${end}`, "Row longer than 64 bytes at line 2", {
      chunkSize: 16,
      maxRowBytes: 64,
    });
  }
  // The default: 1 MiB.
  const { rows } = await readAll(`op,key,value\n${row(1 << 20)}\r\n`);
  assert.equal(rows.length, 1);
  await rejects(`op,key,value\n${row((1 << 20) + 1)}\n`, "Row longer than 1048576 bytes at line 2");
});

Deno.test("readWorkload() streams in batches without holding the file", async () => {
  const lines = ["op,key,value"];
  for (let i = 0; i < 10_000; i++) lines.push(`put,k${i},${i}`);
  const bytes = new TextEncoder().encode(lines.join("\n"));
  let batches = 0;
  let total = 0;
  const stats = { rows: 0, bytes: 0, lines: 0 };
  for await (
    const b of readWorkload(bytesReader(bytes, 4096), { batchSize: 1000, chunkSize: 4096 }, stats)
  ) {
    assert.ok(b.length <= 1000);
    assert.equal(b.keys[0], `k${total}`);
    // Streaming: rows come out while most of the input is still unread.
    if (batches === 0) assert.ok(stats.bytes <= 4096, `read ${stats.bytes} before the first batch`);
    total += b.length;
    batches++;
  }
  assert.equal(total, 10_000);
  assert.ok(batches >= 10);
  assert.equal(stats.rows, 10_000);
});

Deno.test("readWorkload() agrees with csv-parse on random quoted workloads", async () => {
  // Plain rows take the scanner's one-pass path; anything odd in them (upper case, spaces,
  // tabs, control or non-ASCII characters, an empty value) must send them down the general one.
  const field = fc.string({
    unit: fc.constantFrom("a", "K", "7", ",", '"', "\n", " ", "\t", "é", "\r\n", "\x01", "\x7f"),
  });
  const key = field.filter((s) => s.trim() !== "");
  const op = fc.constantFrom("put", "get", "del", "PUT", "Get", " del", "get\t");
  const row = fc.tuple(op, key, fc.oneof(key, fc.constant(""))).filter(([o, , v]) =>
    o.trim().toLowerCase() !== "put" || v.trim() !== ""
  );
  const quote = (s: string) =>
    /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
  await fc.assert(
    fc.asyncProperty(
      fc.array(row, { minLength: 1, maxLength: 20 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 64 }),
      async (rs, crlf, readChunk) => {
        const eol = crlf ? "\r\n" : "\n";
        const text = ["op,key,value", ...rs.map((r) => r.map(quote).join(","))].join(eol) + eol;
        const expected = (parse(text, { relax_quotes: false }) as string[][]).slice(1).map((
          [o, k, v],
        ) => {
          const name = o!.trim().toLowerCase();
          return [name, k!.trim(), name === "put" ? v! : ""];
        });
        const { rows } = await readAll(text, { readChunk });
        assert.deepEqual(rows, expected);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("readWorkload() reports every problem of a header, in the schema's order", async () => {
  const cases: Array<[string, string]> = [
    ["op,op,value", "Missing header columns: key; Duplicate column(s) in header: op"],
    [
      " OP , Key ,VALUE",
      "Missing header columns: key, op, value; Unexpected column(s) in header: OP, Key, VALUE",
    ],
    ["op,key,value,x,x", "Unexpected column(s) in header: x; Duplicate column(s) in header: x"],
    [
      "value,op,key,op,key",
      "Duplicate column(s) in header: key, op",
    ],
    [
      "op,Key,value,,op",
      "Missing header columns: key; Unexpected column(s) in header: Key, ''; " +
      "Duplicate column(s) in header: op",
    ],
  ];
  for (const [header, message] of cases) {
    // The same header through the unquoted path (up to 4 columns, more) and the quoted one.
    const quoted = header.split(",").map((c) => `"${c}"`).join(",");
    for (const text of [header, quoted]) {
      for (const rest of ["\nput,a,1\n", "\r\nput,a,1\r\n", ""]) {
        await rejects(text + rest, message);
      }
    }
  }
});

Deno.test("readWorkload() skips a lone quoted blank before the header as an empty line", async () => {
  const { rows, stats } = await readAll('""\n\n" "\nop,key,value\nput,a,1\n');
  assert.deepEqual(rows, [["put", "a", "1"]]);
  assert.equal(stats.lines, 5);
  await rejects('""\nop,key,value\nnoop,a,\n', "Unknown op 'noop' at line 3");
});

Deno.test("readWorkload() drops whitespace around a quoted field, as it always has", async () => {
  // A frozen leniency beyond RFC 4180: files written against it keep reading the same.
  const { rows } = await readAll(
    'op,key,value\nput,K1, "hello"\nput, "K2" ,x\t\nput,"K3\u00a0",v\n"put"\t,K4,"1" \r\n',
  );
  assert.deepEqual(rows, [
    ["put", "K1", "hello"],
    ["put", "K2", "x\t"],
    ["put", "K3", "v"],
    ["put", "K4", "1"],
  ]);
  // Anything else after a closing quote, or a quote inside a field, is an error naming the line
  // the row starts on, after a quoted line break too.
  await rejects('op,key,value\nput,"a\nb" x,1\n', "Invalid character after quoted field at line 2");
  await rejects('op,key,value\nput,"a\nb",x"y\n', "Invalid quote inside unquoted field at line 2");
});

Deno.test("readWorkload() of a file cut short while it is read throws IOError, not a shorter workload", async () => {
  const dir = removedAtUnload(Deno.makeTempDirSync());
  try {
    const path = `${dir}/w.csv`;
    const rows = ["op,key,value"];
    for (let i = 0; i < 2000; i++) rows.push(`put,K${i},${i}`);
    Deno.writeTextFileSync(path, rows.join("\n") + "\n");
    let batches = 0;
    await assert.rejects(
      async () => {
        for await (const _ of readWorkload(path, { chunkSize: 4096, batchSize: 64 })) {
          if (batches++ === 0) Deno.truncateSync(path, 1000); // behind the reader already
        }
      },
      (err: unknown) => {
        assert.ok(err instanceof IOError, String(err));
        assert.match(
          err.message,
          /w\.csv' changed while being read: \d+ bytes when opened, 1000 now/,
        );
        return true;
      },
    );
    // Cut ahead of the reader: it reads to the new end, which is still not the whole file.
    Deno.writeTextFileSync(path, rows.join("\n") + "\n");
    batches = 0;
    await assert.rejects(
      async () => {
        for await (const _ of readWorkload(path, { chunkSize: 4096, batchSize: 64 })) {
          if (batches++ === 0) Deno.truncateSync(path, 10_000);
        }
      },
      (err: unknown) => {
        assert.ok(err instanceof IOError, String(err));
        assert.match(
          err.message,
          /changed while being read: \d+ bytes when opened, 10000 now, 10000 read/,
        );
        return true;
      },
    );
    // Unchanged, the same file reads whole.
    Deno.writeTextFileSync(path, rows.join("\n") + "\n");
    let n = 0;
    for await (const b of readWorkload(path, { chunkSize: 4096, batchSize: 64 })) n += b.length;
    assert.equal(n, 2000);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readWorkload() says so when lines end in a lone CR", async () => {
  const message =
    "The header holds a carriage return (CR) without LF: lines must end in LF or CRLF";
  await rejects("op,key,value\rput,a,1\rget,a,\r", message);
  await rejects('op,"key",value\rput,a,1\r', message);
  // A quote after a lone CR made it "Invalid character after quoted field at line 1" or
  // "Invalid quote inside unquoted field at line 1", sending the user after a quote.
  await rejects('"op","key","value"\r"put","a","1"\r', message);
  await rejects('op,key,"value"\rput,a,1\r', message);
  await rejects('op,key,value\r"put","a","1"\r', message);
  await rejects('"op","key","value\rput,a,1\r', message);
  // Not so without a lone CR.
  await rejects(
    '"op","key","value" x\r\nput,a,1\r\n',
    "Invalid character after quoted field at line 1",
  );
});

Deno.test("readWorkload() takes a value of other whitespace, with quotes in the row or not", async () => {
  for (
    const row of ["put,a,\u00a0", 'put,"a",\u00a0', 'put,a,"\u00a0"', "put,a,\f", 'put,"a",\f']
  ) {
    const { rows } = await readAll(`op,key,value\n${row}\n`);
    assert.deepEqual(rows, [["put", "a", row.endsWith("\f") ? "\f" : "\u00a0"]], row);
  }
  for (const row of ["put,a, \t", 'put,"a", \t', 'put,a," \t"']) {
    await rejects(`op,key,value\n${row}\n`, "PUT missing value at line 2");
  }
});

Deno.test("readWorkload() keeps a CR before a comma as data, with quotes in the row or not", async () => {
  const { rows } = await readAll('op,value,key\r\nput,v\r,"k"\r\nput,w\r,k\r\n');
  assert.deepEqual(rows, [["put", "k", "v\r"], ["put", "k", "w\r"]]);
});

Deno.test("readWorkload() shows an unknown op of a row without quotes as it read it", async () => {
  // `put\u00a0` was "Unknown op 'put'", and a lone no-break space "Unknown op ''": without a
  // quote in the row only spaces and tabs are stripped, so the message showed another op.
  await rejects("op,key,value\nput\u00a0,k,1\n", "Unknown op 'put\u00a0' at line 2");
  await rejects("op,key,value\n \u00a0\t,k,1\n", "Unknown op '\u00a0' at line 2");
  await rejects("op,key,value\n\tput\f ,k,1\n", "Unknown op 'put\f' at line 2");
  await rejects("op,key,value\n noop ,k,1\n", "Unknown op 'noop' at line 2");
  // With a quote in the row the op is trimmed of all whitespace, so this one is known.
  const { rows } = await readAll('op,key,value\nput\u00a0,"k",1\n');
  assert.deepEqual(rows, [["put", "k", "1"]]);
});

Deno.test("readWorkload() refuses a CR between a closing quote and a comma", async () => {
  // `put,"K"\r,1` was read as key K, value 1: the CR vanished, though it ends no line.
  for (const readChunk of [1, 1 << 16]) {
    for (const row of ['put,"K"\r,1', 'put,"K" \r,1', '"put"\r,K,1']) {
      await assert.rejects(
        () => readAll(`op,key,value\nget,a,\n${row}\n`, { readChunk, chunkSize: 16 }),
        { message: "Invalid character after quoted field at line 3" },
      );
    }
  }
  // Before an LF, or as the last byte, the CR still ends the line.
  const { rows } = await readAll('op,key,value\r\nput,"K","1"\r\nget,"K"\r\nput,K,"2"\r');
  assert.deepEqual(rows, [["put", "K", "1"], ["get", "K", ""], ["put", "K", "2"]]);
});

Deno.test("readWorkload() ends a quoted field at the input's last byte, whatever the buffer holds past it", async () => {
  // Chunks of 32 bytes: the last row is cut after its first 6 bytes and moved to the front of
  // the buffer, where the byte after its closing quote is left over from the header's quote.
  const header = '"op","key","value"\n';
  const input = header + "get,a,\n" + 'put,k,"v"';
  assert.equal(header[9], '"');
  for (const readChunk of [1 << 16, 5]) {
    const { rows } = await readAll(input, { chunkSize: 32, readChunk });
    assert.deepEqual(rows, [["get", "a", ""], ["put", "k", "v"]]);
  }
});

Deno.test("readWorkload() keeps long plain values as flat strings, not one node per byte", async () => {
  // 1,000 values of 16 KiB: 16 MB as text. Built a character at a time, each would be a rope of
  // 16,384 nodes kept alive by the value (over 300 MB in all).
  const value = "x".repeat(16_384);
  const text = `op,key,value\n${
    Array.from({ length: 1000 }, (_, i) => `put,K${i},${value}\n`).join("")
  }`;
  const before = Deno.memoryUsage().heapUsed;
  const { rows } = await readAll(text);
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.equal(rows.length, 1000);
  assert.ok(rows.every((r) => r[2] === value));
  assert.ok(grown < 120 * 2 ** 20, `heap grew ${(grown / 2 ** 20).toFixed(0)} MiB`);
});

Deno.test("readWorkload() with takeRows stops there, reading no row after", async () => {
  const text = "op,key,value\nput,a,1\nget,a,\ndel,a,\nbad row,\n";
  const { rows, stats } = await readAll(text, { takeRows: 3, batchSize: 2, maxRows: 3 });
  assert.deepEqual(rows, [["put", "a", "1"], ["get", "a", ""], ["del", "a", ""]]);
  assert.equal(stats.rows, 3);
  // Fewer rows than asked: the whole input, as without it.
  assert.equal((await readAll("op,key,value\nput,a,1\n", { takeRows: 5 })).rows.length, 1);
});
