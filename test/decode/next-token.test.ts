import { describe, expect, it } from 'vitest';
import { argmax } from '../../src/sampling/softmax.js';
import { logSumExp, probOf, topKFromLogits } from '../../src/decode/next-token.js';
import { tokenText } from '../../src/tokenizer/token-text.js';

describe('next-token helpers', () => {
  it('top-k is sorted by logit with float64 softmax probabilities', () => {
    const row = new Float32Array([1, 3, 2, 3, -1]);
    const z = Math.exp(1) + 2 * Math.exp(3) + Math.exp(2) + Math.exp(-1);
    const top = topKFromLogits(row, 3);
    expect(top.map((t) => t.id)).toEqual([1, 3, 2]); // ties: lower id first
    expect(top[0].prob).toBeCloseTo(Math.exp(3) / z, 15);
    expect(top[2]).toMatchObject({ id: 2, logit: 2 });
    expect(top[2].prob).toBeCloseTo(Math.exp(2) / z, 15);
    expect(topKFromLogits(row, 5).map((t) => t.id)).toEqual([1, 3, 2, 0, 4]);
  });

  it('softmax does not overflow on large logits', () => {
    const row = new Float32Array([1000, 1000]);
    expect(logSumExp(row)).toBeCloseTo(1000 + Math.log(2), 10);
    expect(probOf(row, 1)).toBeCloseTo(0.5, 15);
  });

  it('argmax takes the first maximum', () => {
    expect(argmax(new Float32Array([0, 5, 5, -1]))).toBe(1);
  });

  it('token texts keep leading spaces; ids past the tokenizer get a placeholder', () => {
    expect(tokenText(6342)).toBe(' Paris');
    expect(tokenText(60000)).toBe('<|id:60000|>');
  });
});
