// Invariants of interventions on the real runtime: edits act only downstream, identity edits change nothing,
// the intervened KV-cache decode equals the intervened full recompute, and a plain call after an edited one is clean.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPatchSources } from '../../src/interventions/patch.js';
import { resolveInterventions } from '../../src/interventions/resolve.js';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { ForwardResult, ModelRuntime, KvCache } from '../../src/runtime/types.js';
import { InterventionsSchema } from '../../src/schemas/interventions.js';
import { compare, TINY } from '../runtime/reference.js';

const CAPITAL = [464, 3139, 286, 4881, 318];

describe('intervention invariants (tiny fp32)', () => {
  let rt: ModelRuntime;
  let clean: ForwardResult;
  beforeAll(async () => {
    rt = await loadModelRuntime(TINY, { name: 'tiny', threads: 1 });
    clean = await rt.forward({ tokenIds: CAPITAL, hooks: rt.hookNames });
  });
  afterAll(() => rt?.dispose());

  const run = async (ivs: unknown[], tokenIds = CAPITAL, past?: KvCache, promptLength = CAPITAL.length) => {
    const resolved = await runPatchSources(
      rt,
      resolveInterventions(InterventionsSchema.parse(ivs), { dims: rt.dims, promptLength, max: 64 }),
    );
    return rt.forward({ tokenIds, past, hooks: rt.hookNames, interventions: resolved });
  };
  const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

  it('zeroing a head changes nothing upstream of it, and the other heads of hook_z stay as they were', async () => {
    const res = await run([{ hook: 'blocks.1.attn.hook_z', heads: [2], op: 'zero' }]);
    const at = rt.hookNames.indexOf('blocks.1.attn.hook_z');
    const upstream = rt.hookNames.slice(0, at).filter((h) => h !== 'logits');
    const changed = upstream.filter((h) => !same(res.activations.get(h)!.data, clean.activations.get(h)!.data));
    expect(changed).toEqual([]);
    const z = res.activations.get('blocks.1.attn.hook_z')!;
    const z0 = clean.activations.get('blocks.1.attn.hook_z')!.data;
    const [T, H, dh] = z.dims;
    for (let p = 0; p < T; p++)
      for (let h = 0; h < H; h++)
        for (let j = 0; j < dh; j++) {
          const k = (p * H + h) * dh + j;
          expect(z.data[k]).toBe(h === 2 ? 0 : z0[k]);
        }
    // downstream it does act: the attention output and the logits move
    expect(
      same(res.activations.get('blocks.1.hook_attn_out')!.data, clean.activations.get('blocks.1.hook_attn_out')!.data),
    ).toBe(false);
    expect(same(res.logits.data, clean.logits.data)).toBe(false);
    // and hook_result of that head is zero
    const r = res.activations.get('blocks.1.attn.hook_result')!;
    const dm = r.dims[2];
    for (let p = 0; p < T; p++) for (let j = 0; j < dm; j++) expect(r.data[(p * H + 2) * dm + j]).toBe(0);
  });

  it.each([
    ['scale by 1', [{ hook: 'blocks.1.hook_resid_mid', op: 'scale', factor: 1 }]],
    ['add zeros', [{ hook: 'blocks.0.mlp.hook_post', op: 'add', vector: new Array(128).fill(0), scale: 5 }]],
    ['patch from the same prompt', [{ hook: 'blocks.2.attn.hook_z', op: 'patch', source: { token_ids: CAPITAL } }]],
    [
      'patch from the same prompt, every residual hook',
      ['hook_embed', 'blocks.0.hook_resid_post', 'blocks.1.hook_resid_mid', 'blocks.2.mlp.hook_post'].map((hook) => ({
        hook,
        op: 'patch',
        source: { prompt: 'The capital of France is' },
      })),
    ],
  ])('%s is the identity', async (_, ivs) => {
    const res = await run(ivs);
    const failures = rt.hookNames
      .filter((h) => h !== 'logits')
      .filter((h) => !compare(res.activations.get(h)!.data, clean.activations.get(h)!.data, 1e-6, 1e-6).ok);
    expect(failures).toEqual([]);
    expect(compare(res.logits.data, clean.logits.data, 1e-5, 1e-6).why).toBe('');
  });

  it.each([
    ['zero heads at every position', [{ hook: 'blocks.0.attn.hook_z', heads: [0, 3], op: 'zero' }]],
    [
      'a steering vector',
      [
        {
          hook: 'blocks.1.hook_resid_pre',
          op: 'add',
          vector: Array.from({ length: 32 }, (_, i) => Math.sin(i)),
          scale: 2,
        },
      ],
    ],
    ['a key edit at a prompt position', [{ hook: 'blocks.1.attn.hook_k', positions: [1], op: 'scale', factor: -2 }]],
    ['a clamp', [{ hook: 'blocks.2.mlp.hook_pre', op: 'clamp', min: -0.05, max: 0.05 }]],
  ])('%s: the KV-cache decode equals the full recompute', async (_, ivs) => {
    const extra = [262, 11, 13];
    const full = await run(ivs, [...CAPITAL, ...extra], undefined, CAPITAL.length);
    let step = await run(ivs, CAPITAL);
    const V = rt.dims.dVocab;
    for (let k = 0; k < extra.length; k++) {
      step = await run(ivs, [extra[k]], step.present, CAPITAL.length);
      const p = CAPITAL.length + k;
      const want = full.logits.data.subarray(p * V, (p + 1) * V);
      expect(compare(step.logits.data, want, 1e-5, 1e-5).why).toBe('');
    }
  });

  it('a call without interventions after an edited one is the clean forward, bit for bit', async () => {
    await run([{ hook: 'blocks.0.hook_resid_post', op: 'zero' }]);
    const again = await rt.forward({ tokenIds: CAPITAL, hooks: rt.hookNames });
    expect(same(again.logits.data, clean.logits.data)).toBe(true);
  });
});
