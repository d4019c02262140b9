// Resolving interventions: every field is checked against the model, each mistake a 400 with its own code naming
// the field; applied[] and the hash describe what was resolved.
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/errors/problem-error.js';
import { describeApplied, interventionsHash, resolveInterventions } from '../../src/interventions/resolve.js';
import { InterventionsSchema } from '../../src/schemas/interventions.js';

const dims = { nLayer: 3, nHead: 4, dModel: 32, dHead: 8, dMlp: 128, dVocab: 50257 };
const resolve = (ivs: unknown[], max = 8, promptLength = 5) =>
  resolveInterventions(InterventionsSchema.parse(ivs), { dims, promptLength, max });

function problem(fn: () => unknown): { code: string; detail: string; field: unknown } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ProblemError);
    const p = e as ProblemError;
    expect(p.statusCode).toBe(400);
    return { code: p.code, detail: p.detail, field: p.extra.field };
  }
  throw new Error('expected a 400');
}

const b64 = (xs: number[]) => Buffer.from(new Float32Array(xs).buffer).toString('base64');

describe('resolveInterventions', () => {
  it.each([
    ['unknown hook', [{ hook: 'blocks.9.attn.hook_z', op: 'zero' }], 'unknown_hook', 'interventions[0].hook'],
    ['glob', [{ hook: 'blocks.*.attn.hook_z', op: 'zero' }], 'unknown_hook', 'interventions[0].hook'],
    [
      'read-only hook',
      [{ hook: 'blocks.0.attn.hook_pattern', op: 'zero' }],
      'hook_not_intervenable',
      'interventions[0].hook',
    ],
    [
      'heads without a head axis',
      [{ hook: 'blocks.0.hook_resid_post', heads: [0], op: 'zero' }],
      'heads_without_head_axis',
      'interventions[0].heads',
    ],
    [
      'head out of range',
      [{ hook: 'blocks.0.attn.hook_z', heads: [4], op: 'zero' }],
      'head_out_of_range',
      'interventions[0].heads',
    ],
    [
      'index out of range',
      [{ hook: 'blocks.0.attn.hook_z', index: [8], op: 'zero' }],
      'index_out_of_range',
      'interventions[0].index',
    ],
    [
      'position out of range',
      [{ hook: 'hook_embed', positions: [5], op: 'zero' }],
      'position_out_of_range',
      'interventions[0].positions',
    ],
    [
      'negative position out of range',
      [{ hook: 'hook_embed', positions: [-6], op: 'zero' }],
      'position_out_of_range',
      'interventions[0].positions',
    ],
    [
      'wrong vector length',
      [{ hook: 'blocks.1.mlp.hook_post', op: 'add', vector: [1, 2] }],
      'vector_length_mismatch',
      'interventions[0].vector',
    ],
    [
      'wrong base64 length',
      [{ hook: 'blocks.1.attn.hook_z', op: 'set', vector: { base64: b64([1, 2, 3]) } }],
      'vector_length_mismatch',
      'interventions[0].vector',
    ],
    [
      'base64 not float32',
      [{ hook: 'blocks.1.attn.hook_z', op: 'set', vector: { base64: 'AAA=' } }],
      'invalid_vector',
      'interventions[0].vector',
    ],
    [
      'NaN in base64',
      [{ hook: 'blocks.1.attn.hook_z', op: 'set', vector: { base64: b64([0, 0, 0, Number.NaN, 0, 0, 0, 0]) } }],
      'non_finite_value',
      'interventions[0].vector',
    ],
    [
      'vector beyond float32',
      [{ hook: 'blocks.1.attn.hook_z', op: 'set', vector: [1e39, 0, 0, 0, 0, 0, 0, 0] }],
      'non_finite_value',
      'interventions[0].vector',
    ],
    [
      'zero direction',
      [{ hook: 'blocks.1.attn.hook_z', op: 'project', vector: new Array(8).fill(0) }],
      'zero_vector',
      'interventions[0].vector',
    ],
    ['clamp without bounds', [{ hook: 'blocks.1.mlp.hook_pre', op: 'clamp' }], 'invalid_clamp', 'interventions[0].min'],
    [
      'clamp min above max',
      [{ hook: 'blocks.1.mlp.hook_pre', op: 'clamp', min: 2, max: 1 }],
      'invalid_clamp',
      'interventions[0].min',
    ],
    [
      'short patch source',
      [{ hook: 'blocks.1.hook_resid_post', op: 'patch', source: { token_ids: [1, 2] } }],
      'patch_source_length',
      'interventions[0].source',
    ],
    [
      'patch source id outside the vocabulary',
      [{ hook: 'hook_embed', positions: [0], op: 'patch', source: { token_ids: [50257] } }],
      'token_id_out_of_range',
      'interventions[0].source',
    ],
  ])('%s -> 400', (_, ivs, code, field) => {
    const p = problem(() => resolve(ivs));
    expect(p.code).toBe(code);
    expect(p.field).toBe(field);
    expect(p.detail).toContain(field);
  });

  it('names the failing entry, not the first', () => {
    const p = problem(() =>
      resolve([
        { hook: 'hook_embed', op: 'zero' },
        { hook: 'nope', op: 'zero' },
      ]),
    );
    expect(p.field).toBe('interventions[1].hook');
  });

  it('too many interventions -> 400 naming the limit', () => {
    const p = problem(() => resolve(new Array(3).fill({ hook: 'hook_embed', op: 'zero' }), 2));
    expect(p.code).toBe('too_many_interventions');
    expect(p.detail).toContain('MAX_INTERVENTIONS');
  });

  it('the schema refuses unknown ops and fields', () => {
    expect(InterventionsSchema.safeParse([{ hook: 'hook_embed', op: 'ablate' }]).success).toBe(false);
    expect(InterventionsSchema.safeParse([{ hook: 'hook_embed', op: 'zero', factor: 2 }]).success).toBe(false);
    expect(
      InterventionsSchema.safeParse([{ hook: 'hook_embed', op: 'scale', factor: Number.POSITIVE_INFINITY }]).success,
    ).toBe(false);
  });

  it('resolves negative positions, sorts and dedupes heads; applied[] gives the shape and count', () => {
    const r = resolve([
      { hook: 'blocks.2.attn.hook_z', heads: [3, 1, 3], positions: [-1, 0, 4], op: 'zero' },
      { hook: 'blocks.0.mlp.hook_post', index: [7, 2], op: 'scale', factor: 2 },
    ]);
    expect(r[0].heads).toEqual([1, 3]);
    expect(r[0].positions).toEqual([0, 4]);
    expect(describeApplied(r, 5)).toEqual([
      {
        hook: 'blocks.2.attn.hook_z',
        op: 'zero',
        heads: [1, 3],
        positions: [0, 4],
        index: null,
        shape: [2, 2, 8],
        values: 32,
      },
      {
        hook: 'blocks.0.mlp.hook_post',
        op: 'scale',
        heads: null,
        positions: 'all',
        index: [2, 7],
        shape: [5, 2],
        values: 10,
      },
    ]);
  });

  it('the hash follows what the interventions do, not how they were written', () => {
    const a = resolve([{ hook: 'blocks.0.attn.hook_z', heads: [1, 0], op: 'add', vector: [1, 2, 3, 4, 5, 6, 7, 8] }]);
    const b = resolve([
      {
        hook: 'blocks.0.attn.hook_z',
        heads: [0, 1],
        op: 'add',
        vector: { base64: b64([1, 2, 3, 4, 5, 6, 7, 8]) },
        scale: 1,
      },
    ]);
    const c = resolve([{ hook: 'blocks.0.attn.hook_z', heads: [0, 1], op: 'add', vector: [1, 2, 3, 4, 5, 6, 7, 9] }]);
    expect(interventionsHash(a)).toBe(interventionsHash(b));
    expect(interventionsHash(a)).not.toBe(interventionsHash(c));
    expect(interventionsHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
