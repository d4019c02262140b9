// Seeded, counter-based RNG: draw n of seed s is splitmix64(s)'s n-th output, as a 53-bit uniform double.
// Counter-based so any single draw can be recomputed from (seed, counter) without replaying the ones before it,
// and BigInt arithmetic so the sequence is bit-identical on every platform and Node version.

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const TWO_POW_53 = 2 ** 53;

/** splitmix64 output number `counter` (0-based) of the generator seeded with `seed`. */
export function splitmix64At(seed: number, counter: number): bigint {
  let z = (BigInt(seed) + BigInt(counter + 1) * GOLDEN_GAMMA) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** Uniform double in [0, 1): the top 53 bits of draw `counter`. */
export function uniformAt(seed: number, counter: number): number {
  return Number(splitmix64At(seed, counter) >> 11n) / TWO_POW_53;
}

/** A stream of uniform draws; `counter` is the number of draws consumed so far. */
export class SeededRng {
  private drawn = 0;
  constructor(readonly seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError('seed must be a uint32');
  }

  get counter(): number {
    return this.drawn;
  }

  next(): number {
    const u = uniformAt(this.seed, this.drawn);
    this.drawn += 1;
    return u;
  }
}

/** A fresh uint32 seed for requests that did not choose one (reported back so the run can be replayed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 0x1_0000_0000);
}
