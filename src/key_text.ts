/**
 * Number keys typed as text (`--numeric` on the command line, `numeric=1` in the API).
 *
 * @module
 */

const DECIMAL = /^[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

/**
 * The number key `text` spells: decimal notation (`5`, `-2.5e3`) or `Infinity`/`-Infinity`, as
 * traces and previews write numbers. Throws a `RangeError` saying why for text that spells no
 * number, or one it cannot keep: other notations `Number()` reads (`0x10`, `0b11`, blanks), an
 * integer written out that a double cannot hold exactly (`9007199254740993`, `...993.0`), digits
 * that overflow to an infinity or underflow to 0. Such text would otherwise write the key of
 * another text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberKey } from "./key_text.ts";
 * assert.equal(numberKey("-2.5e3"), -2500);
 * assert.throws(() => numberKey("0x10"), RangeError);
 * ```
 */
export function numberKey(text: string): number {
  const quoted = JSON.stringify(text);
  if (!DECIMAL.test(text)) {
    throw new RangeError(`${quoted} is not a number in decimal notation (nor Infinity)`);
  }
  const n = Number(text);
  if (!/Infinity/.test(text) && !Number.isFinite(n)) {
    throw new RangeError(`${quoted} is too large for a number: it would be ${n}`);
  }
  if (n === 0 && /[1-9]/.test(text.replace(/[eE].*/, ""))) {
    throw new RangeError(`${quoted} is too small for a number: it would be 0`);
  }
  // An integer written out (an id, say), `.0` or not: in scientific notation a number is
  // understood as the nearest one (`1e308`), but 9007199254740993 would be ...992's key.
  const whole = /^([+-]?\d+)(?:\.0*)?$/.exec(text)?.[1];
  if (whole !== undefined && !Number.isSafeInteger(n) && BigInt(whole) !== BigInt(n)) {
    throw new RangeError(`${quoted} is not exactly a number: it would be ${BigInt(n)}`);
  }
  return n;
}

/** The number key `text` spells, or undefined where {@linkcode numberKey} would throw. */
export function numberKeyOf(text: string): number | undefined {
  try {
    return numberKey(text);
  } catch {
    return undefined;
  }
}

/**
 * `key` as JSON can hold it: JSON has no literal for an infinity (`JSON.stringify` writes
 * `null`, which is no key at all), so ±Infinity is given as its text, `"Infinity"` or
 * `"-Infinity"`. Where a string key of that text must be told apart, outputs carry `key_repr`.
 */
export function jsonKey(key: string | number): string | number {
  return typeof key === "number" && !Number.isFinite(key) ? String(key) : key;
}
