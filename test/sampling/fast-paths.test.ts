// The sampler's fast paths give exactly what their plain definitions give: radix-sorted nucleus, cached normaliser.
import { describe, expect, it } from 'vitest';
import { topP } from '../../src/sampling/filters.js';
import { rowNorm, softmax, softmaxAt } from '../../src/sampling/softmax.js';

/** The definition: ids by probability descending, ties by lower id (numpy's lexsort((ids, -p))). */
const byDefinition = (p: Float64Array) =>
  Array.from({ length: p.length }, (_, i) => i)
    .filter((i) => (p[i] as number) > -1)
    .sort((a, b) => (p[b] as number) - (p[a] as number) || a - b);

describe('sampling fast paths', () => {
  it('a whole-vocabulary nucleus is ordered exactly as the definition, ties and zeros included', () => {
    // 50257 logits on a coarse grid: thousands of exact ties; every third probability forced to 0.
    const logits = Float32Array.from({ length: 50257 }, (_, i) => ((i * 7919) % 601) / 40 - 5);
    const p = softmax(logits, 0.9);
    for (let i = 0; i < p.length; i += 3) p[i] = 0;
    expect(topP(p, 1)).toEqual(byDefinition(p));
    const want = byDefinition(p);
    let cum = 0;
    const n = want.findIndex((id) => (cum += p[id] as number) >= 0.5) + 1;
    expect(n).toBeGreaterThan(256); // the radix path, not the small-pool comparison sort
    expect(topP(p, 0.5)).toEqual(want.slice(0, n));
  });

  it('probabilities that differ only in their last bits are ordered by them', () => {
    // 2e-5 * (1 + j * 2^-40): one high word, low words in a scrambled order (and some exact ties).
    const p = Float64Array.from({ length: 1000 }, (_, i) => 2e-5 * (1 + ((i * 389) % 257) * 2 ** -40));
    expect(topP(p, 1)).toEqual(byDefinition(p));
  });

  it('a probability array holding -0 or NaN still sorts like the comparison sort', () => {
    const p = Float64Array.from({ length: 600 }, (_, i) => ((i * 31) % 97) / 5000);
    p[10] = -0;
    p[20] = Number.NaN;
    expect(topP(p, 1)).toEqual(byDefinition(p));
  });

  it('rowNorm and softmaxAt equal the full float64 softmax, bit for bit', () => {
    const row = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i));
    row[7] = 50;
    const { max, sum } = rowNorm(row);
    expect(max).toBe(50);
    expect(Math.exp(row[7] - max) / sum).toBe(softmax(row)[7]);
    expect(softmaxAt(row, 7)).toBe(softmax(row)[7]);
    expect(softmaxAt(row.slice(), 3, 0.7)).toBe(softmax(row, 0.7)[3]);
  });
});
