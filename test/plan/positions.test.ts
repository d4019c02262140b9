import { describe, expect, it } from 'vitest';
import { resolvePositions } from '../../src/plan/positions.js';

describe('resolvePositions', () => {
  it('last / all', () => {
    expect(resolvePositions('last', 5)).toEqual([4]);
    expect(resolvePositions('all', 3)).toEqual([0, 1, 2]);
  });

  it('negative counts from the end; sorted and deduplicated', () => {
    expect(resolvePositions([-1, 0, 4, 2, -5], 5)).toEqual([0, 2, 4]);
  });

  it('out of range -> 400 position_out_of_range naming the bad positions', () => {
    expect(() => resolvePositions([5], 5)).toThrowError(/outside the prompt: it has 5 tokens/);
    try {
      resolvePositions([1, -6, 9], 5);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({
        statusCode: 400,
        code: 'position_out_of_range',
        extra: { positions: [-6, 9], n_tokens: 5 },
      });
    }
  });

  it('{"last": n}: the last n positions, clipped to the prompt (never an error)', () => {
    expect(resolvePositions({ last: 2 }, 5)).toEqual([3, 4]);
    expect(resolvePositions({ last: 64 }, 4)).toEqual([0, 1, 2, 3]);
  });

  it('a long list of bad positions is shortened in the sentence, kept whole in the field', () => {
    const bad = Array.from({ length: 60 }, (_, i) => i - 64);
    try {
      resolvePositions(bad, 4);
      expect.unreachable();
    } catch (e) {
      const err = e as { detail: string; extra: { positions: number[] } };
      expect(err.detail).toContain('… (');
      expect(err.detail.length).toBeLessThan(200);
      expect(err.extra.positions).toHaveLength(60);
    }
  });
});
