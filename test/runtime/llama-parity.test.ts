// Golden parity for the llama family: every hook, the logits, the logit lens, cached decode steps and a greedy
// continuation vs the independent numpy reference (tools/reference/llama_reference.py), one random checkpoint per
// variant (tools/checkpoint/make_random_llama.py; see test/fixtures/README.md).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { ModelRuntime, KvCache } from '../../src/runtime/types.js';
import { compare, FIXTURES, loadReference, type Reference } from './reference.js';

// Float32 against float64: the same budget as the GPT-2 parity test, relative to each hook's scale (these random
// weights are large on purpose so greedy margins are clear; hooks reach |x| ~ 50).
const ATOL = 2e-5;
const RTOL = 2e-5;

/** atol scaled by the hook's largest |value| (at least 1), so O(50) activations get the same relative budget. */
function within(actual: ArrayLike<number>, expected: ArrayLike<number>): string {
  let scale = 1;
  for (let i = 0; i < expected.length; i++)
    if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  const c = compare(actual, expected, ATOL * scale, RTOL);
  return c.ok ? '' : c.why;
}

const cases = [
  { variant: 'tiny-llama3', what: 'llama, rope_scaling.rope_type llama3, 2 query heads per KV head, untied, F32' },
  { variant: 'tiny-smollm', what: 'llama, tied embeddings, rope_scaling.type linear, no GQA, F16' },
  { variant: 'tiny-qwen2', what: 'qwen2, q/k/v biases, use_sliding_window false, 4 per KV head, tied, 2 shards' },
  { variant: 'tiny-qwen3', what: 'qwen3, per-head q/k RMSNorm, head_dim 16 != 32/4, BF16' },
  { variant: 'tiny-mistral', what: 'mistral, sliding window 4 < 10-token prompt, 4 query heads per KV head' },
];

describe.each(cases)('$variant ($what)', ({ variant }) => {
  let rt: ModelRuntime;
  let ref: Reference;
  beforeAll(async () => {
    [rt, ref] = await Promise.all([
      loadModelRuntime(path.join(FIXTURES, variant), { name: variant, threads: 1 }),
      loadReference(`${variant}.safetensors`),
    ]);
  });
  afterAll(() => rt?.dispose());

  it('reference covers every hook the runtime exposes', () => {
    const refHooks = [...ref.tensors.keys()].filter((k) => !k.startsWith('lens.'));
    expect(new Set(refHooks)).toEqual(new Set(rt.hookNames));
    expect(rt.hookNames).toContain('blocks.0.attn.hook_rot_q');
  });

  it('every hook of every layer and the logits match', async () => {
    const res = await rt.forward({ tokenIds: ref.ids, hooks: rt.hookNames });
    const failures: string[] = [];
    for (const hook of rt.hookNames) {
      const act = hook === 'logits' ? res.logits : res.activations.get(hook);
      const exp = ref.tensors.get(hook);
      if (!act || !exp) {
        failures.push(`${hook}: missing`);
        continue;
      }
      if (JSON.stringify(act.dims) !== JSON.stringify(exp.dims))
        failures.push(`${hook}: dims ${act.dims} vs ${exp.dims}`);
      const why = within(act.data, exp.data);
      if (why) failures.push(`${hook}: ${why}`);
    }
    expect(failures).toEqual([]);
  });

  it('cached decode steps reproduce the reference rows (rotary positions and window masks past the cache)', async () => {
    const split = 6;
    const hooks = ['blocks.1.attn.hook_pattern', 'blocks.1.attn.hook_rot_k', 'blocks.1.hook_resid_post'];
    let past: KvCache | undefined = (await rt.forward({ tokenIds: ref.ids.slice(0, split), hooks: [] })).present;
    const failures: string[] = [];
    for (let p = split; p < ref.ids.length; p++) {
      const res = await rt.forward({ tokenIds: [ref.ids[p]], past, hooks });
      past = res.present;
      for (const hook of hooks) {
        const exp = ref.tensors.get(hook)!;
        const act = res.activations.get(hook)!;
        let expRow: number[];
        if (hook.endsWith('hook_pattern')) {
          // [head, q, k] -> row q = p over keys 0..p
          const [H, T] = exp.dims;
          expRow = [];
          for (let h = 0; h < H; h++) expRow.push(...exp.data.subarray((h * T + p) * T, (h * T + p) * T + p + 1));
        } else {
          const row = exp.data.length / exp.dims[0];
          expRow = Array.from(exp.data.subarray(p * row, (p + 1) * row));
        }
        const why = within(act.data, expRow);
        if (why) failures.push(`${hook} @ ${p}: ${why}`);
      }
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
    expect(lens.flatMap((r) => r.topIds)).toEqual(Array.from(ref.tensors.get('lens.top_ids')!.data));
    expect(
      compare(
        lens.flatMap((r) => r.topProbs),
        ref.tensors.get('lens.top_probs')!.data,
        1e-6,
        1e-4,
      ).why,
    ).toBe('');
    expect(
      compare(
        lens.flatMap((r) => r.tracked),
        ref.tensors.get('lens.tracked')!.data,
        1e-6,
        1e-4,
      ).why,
    ).toBe('');
  });

  it('8-token greedy continuation with the KV cache gives the reference tokens', async () => {
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
