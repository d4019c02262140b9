import { describe, expect, it } from 'vitest';
import { normGrid, rowNorms } from '../../../web/src/layout/resid-norms.js';

describe('residual norm per position', () => {
  it('is the L2 norm of each row, ignoring non-finite values', () => {
    expect(rowNorms([3, 4, 0, 0, 5, 12], 2, 3)).toEqual([5, 13]);
    expect(rowNorms([3, null, 4], 1, 3)).toEqual([5]);
  });

  it('orders the embedding first and labels stages as the lens does', () => {
    const g = normGrid([
      { hook: 'blocks.1.hook_resid_post', layer: 1, positions: [3, 4], values: [0, 2, 0, 1] },
      { hook: 'blocks.0.hook_resid_pre', layer: -1, positions: [3, 4], values: [6, 8, 0, 0] },
    ]);
    expect(g.stages).toEqual(['embed', 'L1']);
    expect(g.norms).toEqual([
      [10, 0],
      [2, 1],
    ]);
    expect(g.max).toBe(10);
    expect(g.positions).toEqual([3, 4]);
  });
});
