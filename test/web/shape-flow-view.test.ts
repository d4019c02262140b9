import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { StageSchema } from '../../src/schemas/models.js';
import { equation, flowStage, shortName } from '../../web/src/views/shape-flow-view.js';

type Stage = z.infer<typeof StageSchema>;

const base = { layer: 0, layer_group: 'dense', flops: 0 } as const;

const qProj: Stage = {
  ...base,
  id: 'blocks.0.attn.q',
  name: 'Q projection (per head)',
  op: 'matmul',
  inputs: [{ name: 'blocks.0.ln1.hook_normalized', shape: [1024, 768] }],
  weights: [
    { name: 'attn.W_Q[h]', shape: [768, 64] },
    { name: 'attn.b_Q[h]', shape: [64] },
  ],
  output: { name: 'blocks.0.attn.hook_q', shape: [1024, 64] },
  per_head: true,
  heads: 12,
};

describe('flowStage (what a shape-flow stage draws)', () => {
  it('draws x x W_Q = q with the bias vector left to the text, per-head tensors stacked', () => {
    const f = flowStage(qProj);
    expect(f.operands.map((o) => [o.role, o.dims, o.copies])).toEqual([
      ['data', [1024, 768], 1],
      ['weight', [768, 64], 12],
    ]);
    expect(f.output).toMatchObject({ dims: [1024, 64], copies: 12, role: 'data' });
    expect(equation(qProj)).toBe('[1024, 768] × [768, 64] = [1024, 64] · with attn.b_Q[h] [64]');
  });

  it('draws only data for non-matmul ops and names the gathered weight in the text', () => {
    const addPos: Stage = {
      ...base,
      layer: null,
      layer_group: null,
      id: 'pos',
      name: 'Add learned position embedding',
      op: 'add',
      inputs: [
        { name: 'hook_embed', shape: [5, 768] },
        { name: 'hook_pos_embed', shape: [5, 768] },
      ],
      weights: [{ name: 'pos_embed.W_pos', shape: [1024, 768] }],
      output: { name: 'blocks.0.hook_resid_pre', shape: [5, 768] },
    };
    expect(flowStage(addPos).operands.map((o) => o.role)).toEqual(['data', 'data']);
    expect(equation(addPos)).toBe('[5, 768] + [5, 768] = [5, 768] · with pos_embed.W_pos [1024, 768]');
  });

  it('writes other ops as functions and a lookup as ids -> table', () => {
    const softmax: Stage = {
      ...base,
      id: 's',
      name: 'Softmax',
      op: 'softmax',
      inputs: [{ name: 'blocks.0.attn.hook_attn_scores', shape: [5, 5] }],
      weights: [],
      output: { name: 'blocks.0.attn.hook_pattern', shape: [5, 5] },
      per_head: true,
      heads: 12,
    };
    expect(equation(softmax)).toBe('softmax([5, 5]) = [5, 5]');
    expect(flowStage(softmax).operands[0].copies).toBe(12);
    const lookup: Stage = {
      ...base,
      layer: null,
      layer_group: null,
      id: 'e',
      name: 'Token embedding lookup',
      op: 'lookup',
      inputs: [{ name: 'token_ids', shape: [5] }],
      weights: [{ name: 'embed.W_E', shape: [50257, 768] }],
      output: { name: 'hook_embed', shape: [5, 768] },
    };
    expect(equation(lookup)).toBe('[5] → [50257, 768] = [5, 768]');
  });

  it('shortens hook names to their TransformerLens site', () => {
    expect(shortName('blocks.3.attn.hook_q')).toBe('q');
    expect(shortName('blocks.3.ln1.hook_normalized')).toBe('ln1.normalized');
    expect(shortName('hook_embed')).toBe('embed');
    expect(shortName('attn.W_Q[h]')).toBe('attn.W_Q[h]');
  });
});
