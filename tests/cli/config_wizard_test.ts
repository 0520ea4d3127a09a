import assert from "node:assert/strict";
import { runCli, tempDir } from "./_run.ts";
import { MAX_ANSWER_CHARS, readLines } from "../../src/config/wizard.ts";
import { BadInputError } from "../../src/errors.ts";

/** A stream of `chunks`, counting how many were pulled. */
function stream(chunks: Iterable<Uint8Array>): {
  readable: ReadableStream<Uint8Array>;
  pulled: () => number;
} {
  const it = chunks[Symbol.iterator]();
  let pulled = 0;
  const readable = new ReadableStream<Uint8Array>({
    pull(c) {
      const next = it.next();
      if (next.done) c.close();
      else {
        pulled++;
        c.enqueue(next.value);
      }
    },
  }, { highWaterMark: 0 });
  return { readable, pulled: () => pulled };
}

/** `total` bytes of `byte` in chunks of `size`, then `tail`. */
function* repeated(byte: number, total: number, size: number, tail = ""): Iterable<Uint8Array> {
  const chunk = new Uint8Array(size).fill(byte);
  for (let n = total; n > 0; n -= size) yield chunk.slice(0, Math.min(size, n));
  if (tail !== "") yield new TextEncoder().encode(tail);
}

async function lines(chunks: Iterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(stream(chunks).readable)) out.push(l);
  return out;
}

Deno.test("readLines() splits lines across chunks, CRLF, UTF-8 and a BOM, keeping a last unterminated one", async () => {
  const bytes = new TextEncoder().encode("\ufeffa\r\nb é\n\n\ufefflast");
  const one = [...bytes].map((b) => new Uint8Array([b])); // every byte alone
  for (const chunks of [one, [bytes]]) {
    assert.deepEqual(await lines(chunks), ["a", "b é", "", "\ufefflast"]);
  }
  assert.deepEqual(await lines([new TextEncoder().encode("x\n")]), ["x"]);
  assert.deepEqual(await lines([]), []);
});

Deno.test("readLines() takes a line of the limit and refuses a longer one, naming the limit", async () => {
  const x = "x".repeat(MAX_ANSWER_CHARS);
  const enc = (s: string) => new TextEncoder().encode(s);
  assert.deepEqual(await lines([enc(`${x}\r\n1\n`)]), [x, "1"]);
  assert.deepEqual(await lines([enc(`1\n${x}`)]), ["1", x]);
  for (const input of [`1\n${x}y\n`, `1\n${x}y`, `1\n${x}y\r\n`, `1\n${x}\ry\n`]) {
    for (const chunks of [[enc(input)], [...enc(input)].map((b) => new Uint8Array([b]))]) {
      await assert.rejects(() => lines(chunks), (err: unknown) => {
        assert.ok(err instanceof BadInputError, String(err));
        assert.equal(
          err.message,
          `config-wizard: answer line 2 is longer than ${MAX_ANSWER_CHARS} characters ` +
            `(it starts "${"x".repeat(40)}"); nothing was written`,
        );
        return true;
      });
    }
  }
});

Deno.test("readLines() stops reading a line without end at the limit", async () => {
  // 50 MB without a line end: refused after the first 64 KiB chunk, not gathered whole (it
  // took 15 s and 780 MB when the text gathered so far was searched again after every chunk).
  const s = stream(repeated(0x78, 50_000_000, 65536));
  await assert.rejects(async () => {
    for await (const _ of readLines(s.readable)) { /* none */ }
  }, BadInputError);
  assert.equal(s.pulled(), 1);
});

Deno.test("config-wizard refuses an over-long answer with a BadInput envelope, writing nothing", async () => {
  const dir = tempDir();
  try {
    const out = `${dir}/w.toml`;
    // Under a pipe's buffer, so the write cannot fail when the command stops reading.
    const r = await runCli(["config-wizard", "--outfile", out], {
      stdin: "\n" + "9".repeat(MAX_ANSWER_CHARS + 1000),
    });
    assert.equal(r.code, 2, r.stderr);
    assert.deepEqual(r.envelope, {
      error: "BadInput",
      detail: `config-wizard: answer line 2 is longer than ${MAX_ANSWER_CHARS} characters ` +
        `(it starts "${"9".repeat(40)}"); nothing was written`,
      hint: "Answer each question on one line: a number, true or false, or a choice",
    });
    // The envelope is a line of its own, after the unanswered prompt.
    assert.match(r.stderr, /\[\d+\]: \n\{"error"/);
    assert.equal(r.stdout, "");
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
