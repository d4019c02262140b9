import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from '../helpers/app.js';
import { ProblemError } from '../../src/errors/problem-error.js';
import { TINY_FIXTURE } from '../trace/models-dir.js';

/** MODELS_DIR with one good checkpoint and every kind of folder the scan must skip. */
async function messyModelsDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-registry-'));
  await symlink(TINY_FIXTURE, path.join(dir, 'tiny-gpt2'), 'dir');
  await mkdir(path.join(dir, 'registry'));
  await writeFile(path.join(dir, 'registry', 'gpt.json'), '{"family":"gpt","models":[]}');
  await mkdir(path.join(dir, 'a-llama'));
  await writeFile(path.join(dir, 'a-llama', 'config.json'), '{"model_type":"llama"}');
  await writeFile(path.join(dir, 'a-llama', 'model.safetensors'), '');
  await mkdir(path.join(dir, 'broken'));
  await copyFile(path.join(TINY_FIXTURE, 'config.json'), path.join(dir, 'broken', 'config.json'));
  await writeFile(path.join(dir, 'broken', 'model.safetensors'), 'not a safetensors file');
  await mkdir(path.join(dir, 'bad-json'));
  await writeFile(path.join(dir, 'bad-json', 'config.json'), '{');
  await writeFile(path.join(dir, 'bad-json', 'model.safetensors'), '');
  await mkdir(path.join(dir, 'no-weights'));
  await copyFile(path.join(TINY_FIXTURE, 'config.json'), path.join(dir, 'no-weights', 'config.json'));
  await writeFile(path.join(dir, 'README.md'), 'a file, not a model');
  return dir;
}

describe('model-registry plugin', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = await messyModelsDir();
    app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'tiny-gpt2' });
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists only valid GPT-2 checkpoints, synchronously, with dims and config', () => {
    const list = app.models.list();
    expect(list.map((m) => m.name)).toEqual(['tiny-gpt2']);
    expect(list[0]).toMatchObject({
      dir: path.join(dir, 'tiny-gpt2'),
      loaded: false,
      dtype: 'F32',
      dims: { nLayer: 3, nHead: 4, dModel: 32, dHead: 8, dMlp: 128, dVocab: 50257, nCtx: 64 },
      config: { model_type: 'gpt2', n_layer: 3, n_embd: 32 },
    });
    expect(app.models.defaultName).toBe('tiny-gpt2');
  });

  it('unknown names: 404 unknown_model with suggestions; skipped folders are unknown too', () => {
    for (const name of ['tiny-gpt', 'broken', 'a-llama', 'registry', 'llama-9-8b']) {
      let err: unknown;
      try {
        app.models.resolve(name);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProblemError);
      expect([(err as ProblemError).statusCode, (err as ProblemError).code]).toEqual([404, 'unknown_model']);
      expect((err as ProblemError).extra.suggestions).toContain('tiny-gpt2');
    }
  });

  it('loads once: concurrent first calls share one promise, then the model is marked loaded', async () => {
    const a = app.models.get('tiny-gpt2');
    const b = app.models.get('tiny-gpt2');
    expect(a).toBe(b);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toBe(rb);
    expect(ra.dims.nLayer).toBe(3);
    expect(app.models.list()[0].loaded).toBe(true);
    await expect(app.models.get('nope')).rejects.toMatchObject({ statusCode: 404, code: 'unknown_model' });
  });

  it('famous architectures without a checkpoint: 409 model_not_runnable (name or alias)', async () => {
    for (const name of ['llama-3-8b', 'meta-llama/Meta-Llama-3-8B']) {
      expect(() => app.models.resolve(name)).toThrow(/only its parameter counts and shape flow/);
      const res = await app.inject({ method: 'POST', url: '/trace', payload: { prompt: 'a', model: name } });
      expect([res.statusCode, res.json().code, res.json().model]).toEqual([409, 'model_not_runnable', 'llama-3-8b']);
    }
    const tok = await app.inject({ method: 'POST', url: '/tokenize', payload: { text: 'a', model: 'gpt2-xl' } });
    expect([tok.statusCode, tok.json().code]).toEqual([409, 'model_not_runnable']);
  });

  it('/trace and /tokenize name unknown models with 404 unknown_model', async () => {
    for (const [url, payload] of [
      ['/trace', { prompt: 'a', model: 'broken' }],
      ['/tokenize', { text: 'a', model: 'tiny-gpt' }],
    ] as const) {
      const res = await app.inject({ method: 'POST', url, payload });
      expect([res.statusCode, res.json().code]).toEqual([404, 'unknown_model']);
      expect(res.json().suggestions).toContain('tiny-gpt2');
    }
  });
});

describe('model-registry lifecycle', () => {
  it('eager loading builds sessions at start; close disposes them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-eager-'));
    await symlink(TINY_FIXTURE, path.join(dir, 'tiny-gpt2'), 'dir');
    const app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'tiny-gpt2', MODEL_LOADING: 'eager' });
    expect(app.models.list()[0].loaded).toBe(true);
    const rt = await app.models.get('tiny-gpt2');
    await app.close();
    await expect(rt.forward({ tokenIds: [464], hooks: [] })).rejects.toThrow();
    await rm(dir, { recursive: true, force: true });
  });

  it('a missing MODELS_DIR means no runnable models (and /readyz says so), not a crash', async () => {
    const app = await testApp({
      MODELS_DIR: path.join(os.tmpdir(), 'tensortrace-does-not-exist'),
      DEFAULT_MODEL: 'tiny-gpt2',
    });
    expect(app.models.list()).toEqual([]);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    const trace = await app.inject({ method: 'POST', url: '/trace', payload: { prompt: 'a' } });
    expect([trace.statusCode, trace.json().code]).toEqual([404, 'unknown_model']);
    await app.close();
  });
});
