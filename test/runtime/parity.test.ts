// Golden parity: every hook, the logits, the logit lens and a greedy continuation vs the independent numpy reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { ModelRuntime, KvCache } from '../../src/runtime/types.js';
import { compare, loadReference, TINY, TINY_FP16, type Reference } from './reference.js';

// Tolerances. The reference computes in float64; we compute in float32, so errors are float32 rounding
// accumulated over 3 layers: observed max abs error 3.8e-6 on O(1) values (max error / max |value| = 6e-7).
// 2e-5 abs + 2e-5 rel leaves 5x room for other BLAS summation orders yet fails on any real mistake
// (a missing bias, gain, scale or mask, or a wrong eps or gelu constant moves values by >1e-4).
const ATOL = 2e-5;
const RTOL = 2e-5;

const cases = [
  { model: TINY, file: 'tiny-gpt2.capital.safetensors' },
  { model: TINY, file: 'tiny-gpt2.fox.safetensors' },
  { model: TINY_FP16, file: 'tiny-gpt2-fp16.capital.safetensors' },
];

describe.each(cases)('$file', ({ model, file }) => {
  let rt: ModelRuntime;
  let ref: Reference;
  beforeAll(async () => {
    [rt, ref] = await Promise.all([loadModelRuntime(model, { name: 'tiny', threads: 1 }), loadReference(file)]);
  });
  afterAll(() => rt?.dispose());

  it('reference covers every hook the runtime exposes', () => {
    const refHooks = [...ref.tensors.keys()].filter((k) => !k.startsWith('lens.'));
    expect(new Set(refHooks)).toEqual(new Set(rt.hookNames));
  });

  it('every hook of every layer and the logits match', async () => {
    const res = await rt.forward({ tokenIds: ref.ids, hooks: rt.hookNames });
    expect(res.logits.dims).toEqual([ref.ids.length, rt.dims.dVocab]);
    const failures: string[] = [];
    for (const hook of rt.hookNames) {
      const act = hook === 'logits' ? res.logits : res.activations.get(hook);
      const exp = ref.tensors.get(hook)!;
      if (!act) {
        failures.push(`${hook}: not returned`);
        continue;
      }
      if (JSON.stringify(act.dims) !== JSON.stringify(exp.dims))
        failures.push(`${hook}: dims ${act.dims} vs ${exp.dims}`);
      const c = compare(act.data, exp.data, ATOL, RTOL);
      if (!c.ok) failures.push(`${hook}: ${c.why}`);
    }
    expect(failures).toEqual([]);
  });

  it('logit lens of every layer matches (top-k ids, probabilities, tracked id)', async () => {
    const rows = ref.tensors.get('lens.rows')!;
    const lens = await rt.lens({
      rows: rows.data,
      nRows: rows.dims[0],
      topK: ref.lensTopK,
      trackIds: ref.lensTrackIds,
    });
    const ids = ref.tensors.get('lens.top_ids')!.data;
    const probs = ref.tensors.get('lens.top_probs')!.data;
    const tracked = ref.tensors.get('lens.tracked')!.data;
    expect(lens.length).toBe(rows.dims[0]);
    expect(lens.flatMap((r) => r.topIds)).toEqual(Array.from(ids));
    expect(
      compare(
        lens.flatMap((r) => r.topProbs),
        probs,
        1e-6,
        1e-4,
      ).why,
    ).toBe('');
    expect(
      compare(
        lens.flatMap((r) => r.tracked),
        tracked,
        1e-6,
        1e-4,
      ).why,
    ).toBe('');
  });

  it('greedy continuation with the KV cache gives the reference tokens', async () => {
    let past: KvCache | undefined;
    let next = ref.ids;
    const out: number[] = [];
    for (let step = 0; step < ref.greedyIds.length; step++) {
      const res = await rt.forward({ tokenIds: next, past, hooks: [] });
      const V = rt.dims.dVocab;
      const last = res.logits.data.subarray((next.length - 1) * V, next.length * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
      out.push(best);
      past = res.present;
      next = [best];
    }
    expect(out).toEqual(ref.greedyIds);
  });
});
