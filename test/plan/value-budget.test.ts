import { describe, expect, it } from 'vitest';
import type { ModelDims } from '../../src/arch/model-dims.js';
import { assertWithinBudget, countReturnedValues } from '../../src/plan/value-budget.js';

const dims: ModelDims = {
  nLayer: 2,
  nHead: 4,
  dModel: 32,
  dHead: 8,
  dMlp: 128,
  dVocab: 50257,
  nCtx: 64,
  layerNormEps: 1e-5,
};

describe('countReturnedValues', () => {
  it('counts full slices by the catalogue dims with positions selected', () => {
    // resid_post [pos, d_model]: 2 positions x 32; q [pos, head, d_head]: 2 x 4 x 8; scale [pos]: 2
    expect(countReturnedValues(['blocks.0.hook_resid_post'], dims, [0, 4], 5, true)).toBe(64);
    expect(countReturnedValues(['blocks.1.attn.hook_q'], dims, [0, 4], 5, true)).toBe(64);
    expect(countReturnedValues(['blocks.1.ln2.hook_scale'], dims, [0, 4], 5, true)).toBe(2);
    expect(countReturnedValues(['logits'], dims, [4], 5, true)).toBe(50257);
    expect(countReturnedValues(['blocks.0.hook_resid_post'], dims, [0, 4], 5, false)).toBe(0);
  });

  it('attention rows count at any detail: n_head * sum(q + 1); full adds [head, n_pos, key_pos]', () => {
    // positions 0 and 4: rows of length 1 and 5 per head -> 4 * 6 = 24
    expect(countReturnedValues(['blocks.0.attn.hook_pattern'], dims, [0, 4], 5, false)).toBe(24);
    expect(countReturnedValues(['blocks.0.attn.hook_pattern'], dims, [0, 4], 5, true)).toBe(24 + 4 * 2 * 5);
  });

  it('413 too_many_values over the cap, with both numbers', () => {
    expect(() => assertWithinBudget(10, 10)).not.toThrow();
    try {
      assertWithinBudget(11, 10);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ statusCode: 413, code: 'too_many_values', extra: { values: 11, max_values: 10 } });
    }
  });
});
