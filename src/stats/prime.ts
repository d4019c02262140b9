// Run a hot loop once on tiny inputs at module load so every branch has type feedback before real tensors arrive.

/**
 * Why: V8 optimises a long loop mid-call (on-stack replacement) on the first large tensor. Code after the loop,
 * or a branch the interpreter never took (NaN, ±Inf, the tail), then has no type feedback, and the optimised
 * code bails out there on every call — measured at 3-5x slower than the primed kernel. A few calls on samples
 * that take every path (leading non-finite values, a clean group of four, a mixed group, a tail, all non-finite,
 * empty) cost microseconds and make the first real call run optimised code to the end.
 */
const PRIMING_SAMPLES: readonly Float32Array[] = [
  new Float32Array([NaN, Infinity, -Infinity, 1, -2, 3, 4, 5, NaN, 6, -7, Infinity, 8, -Infinity, 9, 10, 11]),
  new Float32Array([0.5, -0.25, 2, 2, -4, 1, 0, 3, -Infinity]),
  new Float32Array([NaN, -Infinity]),
  new Float32Array(0),
];

export function primeKernel(kernel: (sample: Float32Array) => void): void {
  for (let round = 0; round < 4; round++) for (const sample of PRIMING_SAMPLES) kernel(sample);
}
