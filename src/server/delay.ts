/**
 * Delays given to timers: `setTimeout` and `setInterval` take at most 2^31 - 1 ms, and a longer
 * delay fires after 1 ms (with only a warning), so a month's keep-alive became a 1 ms loop.
 *
 * @module
 */

/** The longest delay a timer keeps, in milliseconds (about 24.8 days). */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** `ms`, or a RangeError naming `name` unless `min <= ms <= MAX_DELAY_MS`. */
export function checkDelay(name: string, ms: number, min = 1): number {
  if (!(ms >= min && ms <= MAX_DELAY_MS)) {
    throw new RangeError(`${name} must be ${min}-${MAX_DELAY_MS} ms, got ${ms}`);
  }
  return ms;
}
