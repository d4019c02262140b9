import { describe, expect, it } from 'vitest';
import { attentionRows, attentionValueCount } from '../../src/decode/attention-rows.js';

describe('attentionRows', () => {
  // [head 2, query_pos 3, key_pos 3]; value = h*100 + q*10 + k
  const data = new Float32Array(18).map((_, i) => Math.floor(i / 9) * 100 + Math.floor((i % 9) / 3) * 10 + (i % 3));
  const act = { hook: 'blocks.1.attn.hook_pattern', dims: [2, 3, 3], data };

  it('keeps key_pos 0..q of each chosen query row, per head', () => {
    const a = attentionRows(act, 1, [0, 2], 0);
    expect(a.query_positions).toEqual([0, 2]);
    const plain = (rows: ArrayLike<number>[]) => rows.map((r) => Array.from(r));
    expect(plain(a.heads[0].rows)).toEqual([[0], [20, 21, 22]]);
    expect(plain(a.heads[1].rows)).toEqual([[100], [120, 121, 122]]);
    // views on the activation, not copies
    expect(a.heads[1].rows.every((r) => r instanceof Float32Array && r.buffer === data.buffer)).toBe(true);
    expect(attentionValueCount(2, [0, 2])).toBe(8);
  });

  it('maps absolute positions through the cache offset', () => {
    // one new token at absolute position 4, keys 0..4: [head 1, 1, 5]
    const step = { hook: 'blocks.0.attn.hook_pattern', dims: [1, 1, 5], data: new Float32Array([1, 2, 3, 4, 5]) };
    expect(Array.from(attentionRows(step, 0, [4], 4).heads[0].rows[0]!)).toEqual([1, 2, 3, 4, 5]);
    expect(() => attentionRows(step, 0, [3], 4)).toThrow(RangeError);
  });
});
