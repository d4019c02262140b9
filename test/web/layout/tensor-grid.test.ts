import { describe, expect, it } from 'vitest';
import { caption, stageKind } from '../../../web/src/layout/captions.js';
import {
  finiteRange,
  firstValues,
  formatValue,
  matricesOf,
  overview,
  rowOf,
  unitOf,
} from '../../../web/src/layout/tensor-grid.js';
import { hookForStage, traceBodyFor } from '../../../web/src/layout/tensor-request.js';

describe('matricesOf', () => {
  it('splits [pos, head, d_head] into one pos x d_head tile per head, reading row-major values', () => {
    // value = 100*p + 10*h + d
    const axes = [
      { name: 'pos' as const, size: 2 },
      { name: 'head' as const, size: 3 },
      { name: 'd_head' as const, size: 4 },
    ];
    const values: number[] = [];
    for (let p = 0; p < 2; p++)
      for (let hd = 0; hd < 3; hd++) for (let d = 0; d < 4; d++) values.push(100 * p + 10 * hd + d);
    const mats = matricesOf(axes, values);
    expect(mats.map((m) => m.title)).toEqual(['head 0', 'head 1', 'head 2']);
    expect(mats[2].rows).toBe(2);
    expect(mats[2].cols).toBe(4);
    expect(mats[2].at(1, 3)).toBe(123);
    expect(rowOf(mats[1], 0)).toEqual([10, 11, 12, 13]);
  });

  it('tiles [head, query_pos, key_pos] by head and keeps 2-D and 1-D tensors whole', () => {
    const mats = matricesOf(
      [
        { name: 'head', size: 2 },
        { name: 'query_pos', size: 2 },
        { name: 'key_pos', size: 2 },
      ],
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    expect(mats[1].at(1, 0)).toBe(7);
    expect(mats[1].rowAxis.name).toBe('query_pos');
    const flat = matricesOf([{ name: 'd_vocab', size: 3 }], [1, null, 3]);
    expect(flat[0].rows).toBe(1);
    expect(flat[0].at(0, 1)).toBeNull();
    const two = matricesOf(
      [
        { name: 'pos', size: 2 },
        { name: 'd_model', size: 3 },
      ],
      [0, 1, 2, 3, 4, 5],
    );
    expect(two[0].at(1, 2)).toBe(5);
  });
});

describe('overview', () => {
  const m = matricesOf(
    [
      { name: 'pos', size: 2 },
      { name: 'd_model', size: 10 },
    ],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, -9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
  )[0];

  it('keeps one cell per value when it fits', () => {
    const ov = overview(m, 8, 16);
    expect(ov.colStep).toBe(1);
    expect(ov.cells).toHaveLength(20);
    expect(ov.cells[9].mean).toBe(-9);
  });

  it('buckets wide rows into contiguous means and keeps the signed peak', () => {
    const ov = overview(m, 8, 3);
    expect(ov.colStep).toBe(4);
    expect(ov.cols).toBe(3);
    expect(ov.cells[2]).toMatchObject({ c0: 8, c1: 9, mean: -0.5, peak: -9 });
    expect(ov.cells[3]).toMatchObject({ row: 1, c0: 0, c1: 3, mean: 11.5 });
  });
});

describe('formatting', () => {
  it('prints the first values like the walk-through', () => {
    expect(firstValues('The', [0.31634, 0.5244, 0.0631, 0.9])).toBe('The = [0.316, 0.524, 0.063, …]');
    expect(firstValues('is', [1, 2])).toBe('is = [1.000, 2.000]');
    expect(formatValue(-0.00004)).toBe('-4.00e-5');
    expect(formatValue(null)).toBe('inf/nan');
  });

  it('ranges and unit mapping ignore non-finite values', () => {
    expect(finiteRange([null, 3, -1, Number.NaN])).toEqual({ min: -1, max: 3 });
    expect(finiteRange([null])).toBeNull();
    expect(unitOf(1, -1, 3)).toBe(0.5);
    expect(unitOf(5, 5, 5)).toBe(0.5);
  });
});

describe('stage -> hook -> /trace body', () => {
  const st = (id: string, out: string, layer: number | null = 0) => ({
    id,
    layer,
    output: { name: out, shape: [5, 32] },
  });

  it('maps block stages to the chosen layer and the tail stages to the last position', () => {
    expect(hookForStage(st('blocks.0.attn.q', 'blocks.0.attn.hook_q'), 3)).toEqual({
      hook: 'blocks.3.attn.hook_q',
      lastOnly: false,
    });
    expect(hookForStage(st('blocks.0.attn.concat', 'blocks.0.attn.z_concat'), 1)?.hook).toBe('blocks.1.attn.hook_z');
    expect(hookForStage(st('embed', 'hook_embed', null), 2)?.hook).toBe('hook_embed');
    expect(hookForStage(st('pos_embed', 'blocks.0.hook_resid_pre', null), 2)?.hook).toBe('blocks.0.hook_resid_pre');
    expect(hookForStage(st('unembed', 'logits', null), 0)).toEqual({ hook: 'logits', lastOnly: true });
    expect(hookForStage(st('last_row', 'last_row', null), 0)).toEqual({
      hook: 'ln_final.hook_normalized',
      lastOnly: true,
    });
    expect(hookForStage(st('tokenize', 'tokens', null), 0)).toBeNull();
    expect(hookForStage(st('blocks.0.attn.rope', 'blocks.0.attn.q_rot'), 0)).toBeNull();
  });

  it('recomputes a decode step from the prefix up to its position', () => {
    const ids = [10, 11, 12, 13, 14, 15, 16];
    const body = traceBodyFor('m', ids, { positions: [5] }, { hook: 'blocks.0.attn.hook_q', lastOnly: false });
    expect(body).toMatchObject({ model: 'm', token_ids: [10, 11, 12, 13, 14, 15], positions: [5], detail: 'full' });
    const prefill = traceBodyFor('m', ids, { positions: [0, 1, 2, 3, 4] }, { hook: 'logits', lastOnly: true });
    expect(prefill.token_ids).toEqual([10, 11, 12, 13, 14]);
    expect(prefill.positions).toEqual([4]);
  });
});

describe('captions', () => {
  it('speaks of the stage in the walk-through words with its real dims', () => {
    expect(stageKind('blocks.11.attn.softmax')).toBe('attn.softmax');
    const q = caption({
      id: 'blocks.0.attn.q',
      op: 'matmul',
      heads: 12,
      output: { shape: [1024, 64] },
      inputs: [{ shape: [1024, 768] }],
      weights: [{ name: 'attn.W_Q[h]', shape: [768, 64] }],
    });
    expect(q).toBe(
      'Queries: [1024, 768] × [768, 64] = [1024, 64] for one head, 12 heads side by side. Each row asks "what am I looking for?"',
    );
  });

  it('tells RMSNorm from LayerNorm', () => {
    const norm = { id: 'blocks.0.ln1', op: 'norm', output: { shape: [5, 64] }, inputs: [], weights: [] };
    expect(caption({ ...norm, name: 'Norm before attention (RMSNorm)' })).toMatch(/root-mean-square/);
    expect(caption({ ...norm, name: 'Norm before attention (LayerNorm)' })).toMatch(/mean 0 and variance 1/);
  });
});
