/**
 * Numbers, CSV fields and untrusted text as the text renderings print them, and numbers as JSON
 * documents round them.
 *
 * @module
 */

/** `1234567.8` -> `1,234,568` (no Intl: loading ICU data costs milliseconds). */
export function thousands(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A latency given in milliseconds, in microseconds: three significant digits (`0.401`, `1.44`,
 * `10.9`), whole above 100 (`123`, `1,234`). An operation takes well under a microsecond, so in
 * milliseconds it read `4.01e-4`.
 */
export function micros(ms: number): string {
  const us = ms * 1000;
  if (us === 0) return "0";
  return us >= 100 ? thousands(us) : us.toPrecision(3);
}

/** `n` rounded to `digits` decimals, as JSON documents carry ratios and timings. */
export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** `0.1234` -> `12.3%`. */
export function percent(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** A CSV field (RFC 4180): quoted, quotes doubled, when it holds a comma, a quote or a line end. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return "";
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** What a terminal would act on: controls but the tab (C0, DEL, C1) and bidi overrides/isolates. */
// deno-lint-ignore no-control-regex -- matching controls is the point
const UNSEEN = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` as one line a terminal shows as it is: controls and bidi overrides as `\uXXXX`, so
 * that data (a key, a value, a file name) cannot move the cursor, set the title, hide or
 * reorder text, or start a line that looks like adhash's own.
 */
export function visible(text: string): string {
  return text.replace(UNSEEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The first `n` UTF-16 units of `text` for a preview, one fewer where the cut would split a
 * surrogate pair: half an emoji is a lone surrogate, which strict JSON readers refuse in a log.
 */
export function prefix(text: string, n: number): string {
  const last = text.charCodeAt(n - 1);
  return text.slice(0, n < text.length && last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}
