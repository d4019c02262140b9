// GPT-2 checkpoint inspection: config parsing, dims, and errors that name the bad tensor.
import { copyFile, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, expectedGpt2Tensors, inspectGpt2Checkpoint } from '../../src/checkpoint/gpt2-checkpoint.js';
import { readSafetensors, writeSafetensors, type TensorToWrite } from '../../src/checkpoint/safetensors.js';
import { TINY, TINY_FP16 } from '../runtime/reference.js';

let tmp: string;
let base: TensorToWrite[];
const config = { model_type: 'gpt2', n_layer: 1, n_head: 2, n_embd: 4, n_positions: 8, vocab_size: 10 };

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ckpt-'));
  const dims = { nLayer: 1, nHead: 2, dModel: 4, dHead: 2, dMlp: 16, dVocab: 10, nCtx: 8, layerNormEps: 1e-5 };
  base = [...expectedGpt2Tensors(dims)].map(([name, shape]) => ({
    name,
    shape,
    dtype: 'F32' as const,
    data: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  }));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

let n = 0;
async function checkpoint(tensors: TensorToWrite[], cfg: object = config): Promise<string> {
  const dir = path.join(tmp, `c${n++}`);
  await mkdir(dir);
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg));
  await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
  return dir;
}

async function failure(dir: string): Promise<CheckpointError> {
  const e = await inspectGpt2Checkpoint(dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CheckpointError);
  return e as CheckpointError;
}

describe('inspectGpt2Checkpoint', () => {
  it('reads the fixtures: dims, dtype, every tensor', async () => {
    const c = await inspectGpt2Checkpoint(TINY);
    expect(c.dims).toEqual({
      nLayer: 3,
      nHead: 4,
      dModel: 32,
      dHead: 8,
      dMlp: 128,
      dVocab: 50257,
      nCtx: 64,
      layerNormEps: 1e-5,
    });
    expect(c.dtype).toBe('F32');
    expect(c.tensors.size).toBe(2 + 3 * 12 + 2);
    expect((await inspectGpt2Checkpoint(TINY_FP16)).dtype).toBe('F16');
  });

  it('accepts the transformer. prefix and ignores attn.bias / masked_bias / a tied lm_head', async () => {
    const dir = await checkpoint([
      ...base.map((t) => ({ ...t, name: `transformer.${t.name}` })),
      { name: 'transformer.h.0.attn.bias', shape: [1, 1, 8, 8], dtype: 'F32', data: new Float32Array(64) },
      { name: 'transformer.h.0.attn.masked_bias', shape: [], dtype: 'F32', data: new Float32Array(1) },
      { name: 'lm_head.weight', shape: [10, 4], dtype: 'F32', data: new Float32Array(40) },
    ]);
    const c = await inspectGpt2Checkpoint(dir);
    expect(c.tensors.has('h.0.attn.c_attn.weight')).toBe(true);
    expect(c.tensors.get('wte.weight')!.name).toBe('transformer.wte.weight');
  });

  it('wrong shape names the tensor and the expected shape', async () => {
    const dir = await checkpoint(base.map((t) => (t.name === 'h.0.mlp.c_fc.weight' ? { ...t, shape: [16, 4] } : t)));
    const e = await failure(dir);
    expect(e.tensor).toBe('h.0.mlp.c_fc.weight');
    expect(e.message).toMatch(/expected shape \[4, 16\].*got \[16, 4\]/);
  });

  it('missing tensor', async () => {
    const e = await failure(await checkpoint(base.filter((t) => t.name !== 'ln_f.bias')));
    expect(e.tensor).toBe('ln_f.bias');
    expect(e.message).toMatch(/missing/);
  });

  it('wrong dtype (mixed F16 in an F32 checkpoint)', async () => {
    const e = await failure(
      await checkpoint(base.map((t) => (t.name === 'h.0.ln_2.bias' ? { ...t, dtype: 'F16' as const } : t))),
    );
    expect(e.tensor).toBe('h.0.ln_2.bias');
    expect(e.message).toMatch(/dtype F16 differs/);
  });

  it('unexpected tensor (a layer the config does not have)', async () => {
    const e = await failure(
      await checkpoint([...base, { name: 'h.1.ln_1.weight', shape: [4], dtype: 'F32', data: new Float32Array(4) }]),
    );
    expect(e.tensor).toBe('h.1.ln_1.weight');
  });

  it('bad config: n_embd not divisible by n_head, wrong activation, missing file', async () => {
    expect((await failure(await checkpoint(base, { ...config, n_head: 3 }))).message).toMatch(/divisible/);
    expect((await failure(await checkpoint(base, { ...config, activation_function: 'relu' }))).message).toMatch(
      /activation_function/,
    );
    const dir = path.join(tmp, 'noconfig');
    await mkdir(dir);
    await copyFile(path.join(TINY, 'model.safetensors'), path.join(dir, 'model.safetensors'));
    expect((await failure(dir)).message).toMatch(/config.json/);
  });

  it('truncated weights file', async () => {
    const dir = await checkpoint(base);
    const f = await readSafetensors(path.join(dir, 'model.safetensors'));
    const { truncate } = await import('node:fs/promises');
    await truncate(path.join(dir, 'model.safetensors'), f.fileSize - 4);
    const e = await failure(dir);
    expect(e.tensor).toBe(f.tensors[f.tensors.length - 1].name);
  });
});
