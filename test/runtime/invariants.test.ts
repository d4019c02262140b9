// Invariants of the hooked forward pass: softmax rows, causality, residual sums, KV cache = recompute, fp16 ~ fp32.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.js';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { Activation, ModelRuntime, KvCache } from '../../src/runtime/types.js';
import { compare, maxAbsDiff, TINY, TINY_FP16 } from './reference.js';

const PROMPT = [464, 3139, 286, 4881, 318, 6342, 13, 383, 3139, 286]; // "The capital of France is Paris. The capital of"
let rt: ModelRuntime;
let all: Map<string, Activation>;
let logits: Activation;

beforeAll(async () => {
  rt = await loadModelRuntime(TINY, { name: 'tiny', threads: 1 });
  const res = await rt.forward({ tokenIds: PROMPT, hooks: rt.hookNames });
  all = res.activations;
  logits = res.logits;
});
afterAll(() => rt?.dispose());

const get = (h: string) => all.get(h)!;
/** Bit-identical float arrays (vitest's deep equality walks element by element and takes seconds on logits). */
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('attention', () => {
  it('pattern rows sum to 1, are exactly 0 above the diagonal, and nothing is NaN', () => {
    const T = PROMPT.length;
    for (let l = 0; l < rt.dims.nLayer; l++) {
      const p = get(`blocks.${l}.attn.hook_pattern`);
      const s = get(`blocks.${l}.attn.hook_attn_scores`);
      expect(p.dims).toEqual([rt.dims.nHead, T, T]);
      for (let h = 0; h < rt.dims.nHead; h++) {
        for (let q = 0; q < T; q++) {
          let sum = 0;
          for (let k = 0; k < T; k++) {
            const i = (h * T + q) * T + k;
            expect(Number.isNaN(p.data[i])).toBe(false);
            if (k > q) {
              expect(p.data[i]).toBe(0);
              expect(s.data[i]).toBe(-Infinity);
            } else expect(Number.isFinite(s.data[i])).toBe(true);
            sum += p.data[i];
          }
          expect(Math.abs(sum - 1)).toBeLessThan(1e-6);
        }
      }
    }
  });
});

describe('residual stream', () => {
  it('resid_mid = resid_pre + attn_out and resid_post = resid_mid + mlp_out, and blocks chain', () => {
    for (let l = 0; l < rt.dims.nLayer; l++) {
      const b = `blocks.${l}`;
      const pre = get(`${b}.hook_resid_pre`).data;
      const mid = get(`${b}.hook_resid_mid`).data;
      const post = get(`${b}.hook_resid_post`).data;
      const attn = get(`${b}.hook_attn_out`).data;
      const mlp = get(`${b}.hook_mlp_out`).data;
      expect(
        compare(
          mid,
          pre.map((v, i) => v + attn[i]),
          1e-6,
          1e-6,
        ).why,
      ).toBe('');
      expect(
        compare(
          post,
          mid.map((v, i) => v + mlp[i]),
          1e-6,
          1e-6,
        ).why,
      ).toBe('');
      if (l > 0)
        expect(sameBits(get(`${b}.hook_resid_pre`).data, get(`blocks.${l - 1}.hook_resid_post`).data)).toBe(true);
    }
    const e = get('hook_embed').data;
    const p = get('hook_pos_embed').data;
    expect(
      compare(
        get('blocks.0.hook_resid_pre').data,
        e.map((v, i) => v + p[i]),
        0,
        0,
      ).why,
    ).toBe('');
  });
});

describe('KV cache', () => {
  it('prompt then one token at a time gives the same logits and hooks as a full recompute', async () => {
    const split = 4;
    const hooks = [
      'blocks.1.attn.hook_attn_scores',
      'blocks.2.attn.hook_pattern',
      'blocks.2.hook_resid_post',
      'blocks.0.attn.hook_k',
    ];
    let past: KvCache | undefined;
    const first = await rt.forward({ tokenIds: PROMPT.slice(0, split), hooks });
    past = first.present;
    expect(past.length).toBe(split);
    const T = PROMPT.length;
    const V = rt.dims.dVocab;
    const H = rt.dims.nHead;
    for (let t = split; t < T; t++) {
      const step = await rt.forward({ tokenIds: [PROMPT[t]], past, hooks });
      past = step.present;
      expect(past.length).toBe(t + 1);
      // logits row t of the full pass
      expect(maxAbsDiff(step.logits.data, logits.data.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-5);
      // scores/pattern: [head, 1, t+1] vs the full pass's row t restricted to keys 0..t
      for (const h of hooks.slice(0, 2)) {
        const got = step.activations.get(h)!;
        expect(got.dims).toEqual([H, 1, t + 1]);
        const full = get(h).data;
        const want = new Float32Array(H * (t + 1));
        for (let hd = 0; hd < H; hd++)
          want.set(full.subarray((hd * T + t) * T, (hd * T + t) * T + t + 1), hd * (t + 1));
        expect(compare(got.data, want, 1e-5, 1e-5).why).toBe('');
      }
      const D = rt.dims.dModel;
      expect(
        maxAbsDiff(
          step.activations.get('blocks.2.hook_resid_post')!.data,
          get('blocks.2.hook_resid_post').data.subarray(t * D, (t + 1) * D),
        ),
      ).toBeLessThan(1e-5);
    }
  });

  it('a cache is immutable: branching twice from the same cache gives identical results', async () => {
    const base = await rt.forward({ tokenIds: PROMPT.slice(0, 3), hooks: [] });
    const a = await rt.forward({ tokenIds: [100], past: base.present, hooks: [] });
    await rt.forward({ tokenIds: [200, 300], past: base.present, hooks: [] });
    const again = await rt.forward({ tokenIds: [100], past: base.present, hooks: [] });
    expect(base.present.length).toBe(3);
    expect(sameBits(again.logits.data, a.logits.data)).toBe(true);
  });
});

describe('fetching', () => {
  it('returns exactly the requested hooks', async () => {
    const res = await rt.forward({ tokenIds: [1, 2], hooks: ['ln_final.hook_scale', 'blocks.0.mlp.hook_post'] });
    expect([...res.activations.keys()]).toEqual(['ln_final.hook_scale', 'blocks.0.mlp.hook_post']);
    expect(res.activations.get('ln_final.hook_scale')!.dims).toEqual([2]);
    expect(res.activations.get('blocks.0.mlp.hook_post')!.dims).toEqual([2, rt.dims.dMlp]);
  });

  it('concurrent runs on one session each get their own correct outputs', async () => {
    const inputs = [[464], [3139, 286], [4881, 318, 11], PROMPT];
    const solo: Awaited<ReturnType<ModelRuntime['forward']>>[] = [];
    for (const ids of inputs) solo.push(await rt.forward({ tokenIds: ids, hooks: ['blocks.2.hook_resid_post'] }));
    const together = await Promise.all(
      inputs.map((ids) => rt.forward({ tokenIds: ids, hooks: ['blocks.2.hook_resid_post'] })),
    );
    together.forEach((r, i) => {
      expect(r.logits.dims).toEqual([inputs[i].length, rt.dims.dVocab]);
      expect(sameBits(r.logits.data, solo[i].logits.data)).toBe(true);
      expect(
        sameBits(
          r.activations.get('blocks.2.hook_resid_post')!.data,
          solo[i].activations.get('blocks.2.hook_resid_post')!.data,
        ),
      ).toBe(true);
    });
  });
});

describe('bf16 checkpoint', () => {
  it('loads (BFLOAT16 initializers + Cast) and matches fp32 within bf16 rounding tolerance', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bf16-'));
    try {
      const src = await readSafetensors(path.join(TINY, 'model.safetensors'));
      const tensors = await Promise.all(
        src.tensors.map(async (t) => ({
          name: t.name,
          shape: t.shape,
          dtype: 'BF16' as const,
          data: await src.readFloat32(t.name),
        })),
      );
      await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
      await copyFile(path.join(TINY, 'config.json'), path.join(dir, 'config.json'));
      const bf = await loadModelRuntime(dir, { name: 'tiny-bf16', threads: 1 });
      try {
        const res = await bf.forward({ tokenIds: PROMPT, hooks: [] });
        // 8 significant bits (rel. 3.9e-3): logits of size ~1 move by ~1e-2
        const diff = maxAbsDiff(res.logits.data, logits.data);
        expect(diff).toBeGreaterThan(0);
        expect(diff).toBeLessThan(1e-1);
      } finally {
        await bf.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fp16 checkpoint', () => {
  it('loads and matches the fp32 model within fp16 weight-rounding tolerance', async () => {
    const half = await loadModelRuntime(TINY_FP16, { name: 'tiny-fp16', threads: 1 });
    try {
      const res = await half.forward({ tokenIds: PROMPT, hooks: ['blocks.2.hook_resid_post'] });
      // weights rounded to 11 significant bits (rel. 4.9e-4): logits of size ~1 move by ~1e-3
      const diff = maxAbsDiff(res.logits.data, logits.data);
      expect(diff).toBeGreaterThan(0); // really the fp16 weights
      expect(diff).toBeLessThan(2e-2);
      expect(
        maxAbsDiff(res.activations.get('blocks.2.hook_resid_post')!.data, get('blocks.2.hook_resid_post').data),
      ).toBeLessThan(2e-2);
    } finally {
      await half.dispose();
    }
  });
});
