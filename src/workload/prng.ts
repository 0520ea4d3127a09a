/**
 * The workload generator's pseudo-random numbers: sfc32 (Chris Doty-Humphrey's Small Fast
 * Counting generator, 128-bit state, uint32 output) seeded by splitmix32 from a uint32 seed.
 * Pure 32-bit integer arithmetic, so the sequence is identical on every run and platform.
 *
 * @module
 */

/** splitmix32 step, used only to expand the seed into sfc32's four state words. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** A seeded sfc32 generator. */
export class Sfc32 {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds the generator with a uint32 (other numbers are truncated to 32 bits). */
  constructor(seed: number) {
    let s = seed >>> 0;
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, out] = splitmix32(s);
      s = next;
      words.push(out);
    }
    this.#a = words[0]! | 0;
    this.#b = words[1]! | 0;
    this.#c = words[2]! | 0;
    this.#d = words[3]! | 0;
    // Discard the first outputs: sfc32 mixes its state within a dozen steps.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** The next uint32. */
  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1) with 32 bits of precision. */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform integer in [0, n) for n <= 2^32 (multiply-shift, no modulo). */
  nextBelow(n: number): number {
    return Math.floor((this.nextUint32() / 4294967296) * n);
  }
}
