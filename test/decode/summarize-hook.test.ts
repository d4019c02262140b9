import { describe, expect, it } from 'vitest';
import { HOOK_SITES } from '../../src/hooks/catalogue.js';
import { summarizeHook } from '../../src/decode/summarize-hook.js';
import { jsonBytes } from '../../src/json/json-bytes.js';

const site = (name: string) => HOOK_SITES.find((s) => s.site === name)!;

describe('summarizeHook', () => {
  it('slices the pos axis, summarises the slice and maps abs_max coords back to absolute positions', () => {
    // resid [pos 3, d_model 2]: rows [1 2] [3 -9] [5 6]
    const act = { hook: 'blocks.0.hook_resid_post', dims: [3, 2], data: new Float32Array([1, 2, 3, -9, 5, 6]) };
    const s = summarizeHook(act, site('hook_resid_post'), 0, { positions: [1, 2], offset: 0, bins: 2, full: true });
    expect(s.shape).toEqual([2, 2]);
    expect(s.full_shape).toEqual([3, 2]);
    expect(s.axes).toEqual([
      { name: 'pos', size: 2 },
      { name: 'd_model', size: 2 },
    ]);
    expect(Array.from(s.values!)).toEqual([3, -9, 5, 6]);
    expect(s.stats.mean).toBe(1.25);
    expect(s.stats.abs_max).toBe(9);
    expect(s.stats.abs_max_index).toEqual({ flat: 1, index: [0, 1], coords: { pos: 1, d_model: 1 } });
    // edges -9, -1.5, 6 -> [-9] | [3, 5, 6]
    expect(s.histogram).toEqual({ min: -9, max: 6, edges: [-9, -1.5, 6], counts: [1, 3] });
  });

  it('selects query_pos of a pattern and writes -inf scores as null', () => {
    // scores [head 1, query_pos 2, key_pos 2]: row 0 is [a, -inf]
    const act = {
      hook: 'blocks.0.attn.hook_attn_scores',
      dims: [1, 2, 2],
      data: new Float32Array([0.5, -Infinity, 1, 2]),
    };
    const s = summarizeHook(act, site('attn.hook_attn_scores'), 0, { positions: [0], offset: 0, bins: 4, full: true });
    expect(s.shape).toEqual([1, 1, 2]);
    expect(Array.from(s.values!)).toEqual([0.5, Number.NEGATIVE_INFINITY]);
    expect(JSON.parse(jsonBytes(s).toString()).values).toEqual([0.5, null]); // JSON has no -Infinity
    expect(s.stats).toMatchObject({ count: 2, finite_count: 1, neg_inf_count: 1, mean: 0.5, std: 0 });
  });

  it('omits values with detail=summary and refuses an activation whose rank disagrees with the catalogue', () => {
    const act = { hook: 'hook_embed', dims: [2, 2], data: new Float32Array(4) };
    expect(
      summarizeHook(act, site('hook_embed'), null, { positions: [0, 1], offset: 0, bins: 1, full: false }).values,
    ).toBeUndefined();
    expect(() =>
      summarizeHook({ ...act, dims: [4] }, site('hook_embed'), null, {
        positions: [0],
        offset: 0,
        bins: 1,
        full: false,
      }),
    ).toThrow(/expected 2 axes/);
  });
});
