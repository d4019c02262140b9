// Llama-family checkpoint inspection: model_type dispatch, refusals with their reasons, shards.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectCheckpoint, RUNNABLE_MODEL_TYPES } from '../../src/checkpoint/any-checkpoint.js';
import { PROJECT_ROOT } from '../../src/config.js';

const fixture = (v: string) => path.join(PROJECT_ROOT, 'test/fixtures', v);
let dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

/** A copy of a fixture with its config.json edited. */
async function edited(variant: string, edit: (c: Record<string, unknown>) => void): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-ckpt-'));
  dirs.push(dir);
  await cp(fixture(variant), dir, { recursive: true });
  const cfg = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
  edit(cfg);
  await writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}

describe('inspectCheckpoint', () => {
  it('dispatches on model_type: the five variants are llama family with their specs', async () => {
    const q3 = await inspectCheckpoint(fixture('tiny-qwen3'));
    expect(q3.family).toBe('llama');
    if (q3.family !== 'llama') return;
    expect(q3.ckpt.dims).toMatchObject({ family: 'llama', nHead: 4, nKvHeads: 2, dHead: 16, dModel: 32 });
    expect(q3.ckpt.spec).toMatchObject({ qkNorm: true, qkvBias: false, tied: false });
    const q2 = await inspectCheckpoint(fixture('tiny-qwen2'));
    if (q2.family !== 'llama') throw new Error('qwen2 must be llama family');
    expect(q2.ckpt.files.weights.map((f) => path.basename(f))).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect(q2.ckpt.spec).toMatchObject({ qkvBias: true, tied: true, windows: [null, null] }); // use_sliding_window false
    const m = await inspectCheckpoint(fixture('tiny-mistral'));
    if (m.family !== 'llama') throw new Error('mistral must be llama family');
    expect(m.ckpt.spec.windows).toEqual([4, 4]);
    const l3 = await inspectCheckpoint(fixture('tiny-llama3'));
    if (l3.family !== 'llama') throw new Error('llama must be llama family');
    expect(l3.ckpt.spec.ropeScaling).toMatchObject({ kind: 'llama3', factor: 8, originalMaxPositions: 64 });
    const s = await inspectCheckpoint(fixture('tiny-smollm'));
    if (s.family !== 'llama') throw new Error('smollm must be llama family');
    expect(s.ckpt.spec.ropeScaling).toEqual({ kind: 'linear', factor: 2 }); // the older `type` key
    expect(s.ckpt.dtype).toBe('F16');
  });

  it('another model_type is a 422 listing the runnable ones', async () => {
    const dir = await edited('tiny-llama3', (c) => {
      c.model_type = 'gemma';
    });
    const err = await inspectCheckpoint(dir).catch((e) => e);
    expect([err.statusCode, err.code]).toEqual([422, 'invalid_checkpoint']);
    expect(err.detail).toContain(`runnable model_types: ${RUNNABLE_MODEL_TYPES.join(', ')}`);
    expect(RUNNABLE_MODEL_TYPES).toEqual(['gpt2', 'llama', 'qwen2', 'qwen3', 'mistral']);
  });

  it('refuses an unsupported rope_scaling and a config that disagrees with the tensors, naming the tensor', async () => {
    const yarn = await edited('tiny-llama3', (c) => {
      c.rope_scaling = { rope_type: 'yarn', factor: 4 };
    });
    expect((await inspectCheckpoint(yarn).catch((e) => e)).detail).toMatch(/rope_scaling type "yarn" is not supported/);
    const biased = await edited('tiny-llama3', (c) => {
      c.attention_bias = true;
    });
    const err = await inspectCheckpoint(biased).catch((e) => e);
    expect(err.statusCode).toBe(422);
    expect(err.detail).toMatch(/model\.layers\.0\.self_attn\.q_proj\.bias is missing/);
  });
});
