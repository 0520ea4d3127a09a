/**
 * A response body made as the client reads it.
 *
 * @module
 */

/** Characters made per read, about. */
const CHUNK_CHARS = 64 * 1024;

/**
 * `head`, then `part(0)` .. `part(count - 1)`, then `tail`, as a stream that makes about 64 KB
 * each time the client reads a chunk. Built whole, a body is held until the client has read it
 * all, and made in full for a client that has gone: clients that stopped reading the metrics
 * history took the server from 128 MB to 3 GB in 20 s (2,950 requests of 360 ticks), 6.7 GB
 * with 300 requests at `--history-limit 100000`.
 */
export function lazyBody(
  head: string,
  count: number,
  part: (i: number) => string,
  tail: string,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next = 0;
  let text = head;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      while (next < count && text.length < CHUNK_CHARS) text += part(next++);
      if (next === count) {
        controller.enqueue(encoder.encode(text + tail));
        controller.close();
      } else controller.enqueue(encoder.encode(text));
      text = "";
    },
  }, { highWaterMark: 0 });
}
