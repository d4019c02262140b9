import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { testApp } from '../helpers/app.js';
import { buildApp } from '../../src/app.js';
import { main as importMain } from '../../src/cli/model-import.js';
import { ProblemError } from '../../src/errors/problem-error.js';
import { TINY_FIXTURE } from '../trace/models-dir.js';
import { StreamClient } from '../stream/client.js';

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

  it('unknown names: 404 unknown_model with suggestions; the registry folder is unknown too', () => {
    for (const name of ['tiny-gpt', 'registry', 'llama-9-8b', '../tiny-gpt2']) {
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

  it('folders present but invalid: 422 invalid_checkpoint naming the reason (relative to MODELS_DIR)', async () => {
    const reasons: Record<string, RegExp> = {
      broken: /^broken\/model\.safetensors declares a \d+-byte header; .*\(corrupt header\)\.$/,
      'a-llama': /^a-llama\/config\.json: config\.hidden_size/,
      'bad-json': /^bad-json\/config\.json is not valid JSON\.$/,
      'no-weights': /^no-weights\/ needs config\.json and model\.safetensors .*it has no weights\.$/,
    };
    for (const [name, reason] of Object.entries(reasons)) {
      const res = await app.inject({ method: 'POST', url: '/trace', payload: { prompt: 'a', model: name } });
      expect([res.statusCode, res.json().code, res.json().model]).toEqual([422, 'invalid_checkpoint', name]);
      expect(res.json().reason).toMatch(reason);
      expect(res.json().detail).toContain(res.json().reason);
      expect(res.body).not.toContain(dir); // no server paths in replies
    }
    const tok = await app.inject({ method: 'POST', url: '/tokenize', payload: { text: 'a', model: 'broken' } });
    expect([tok.statusCode, tok.json().code]).toEqual([422, 'invalid_checkpoint']);
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

  it('model_not_runnable names the command that installs the model', async () => {
    const res = await app.inject({ method: 'POST', url: '/trace', payload: { prompt: 'a', model: 'gpt2' } });
    expect([res.statusCode, res.json().code]).toEqual([409, 'model_not_runnable']);
    expect(res.json().detail).toContain('`npm run model:download -- gpt2`');
    expect(res.json().fix).toBe('install it with `npm run model:download -- gpt2`');
    const llama = app.models.resolve.bind(app.models);
    expect(() => llama('llama-3-8b')).toThrow(/in MODELS_DIR\/llama-3-8b/);
    // The llama family's downloadable models get their download command too.
    for (const name of ['qwen3-0.6b', 'qwen2.5-0.5b', 'llama-3.2-1b']) {
      const r = await app.inject({ method: 'POST', url: '/trace', payload: { prompt: 'a', model: name } });
      expect([r.statusCode, r.json().code, r.json().fix]).toEqual([
        409,
        'model_not_runnable',
        `install it with \`npm run model:download -- ${name}\``,
      ]);
    }
  });

  it('/trace and /tokenize name unknown models with 404 unknown_model', async () => {
    for (const [url, payload] of [
      ['/trace', { prompt: 'a', model: 'tiny-gpt3' }],
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

describe('models installed while the service runs', () => {
  let dir: string;
  let src: string;
  let app: FastifyInstance;
  const logs: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-live-'));
    src = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-hf-'));
    for (const f of ['config.json', 'model.safetensors']) await copyFile(path.join(TINY_FIXTURE, f), path.join(src, f));
    const stream = { write: (line: string) => logs.push(line) };
    app = await buildApp({
      logger: { level: 'warn', stream },
      config: {
        SERVE_WEB: false,
        MODELS_DIR: dir,
        DEFAULT_MODEL: 'gpt2',
        MODEL_WORKERS: 0,
        MAX_EVENT_LOOP_DELAY_MS: 0,
      },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
    await rm(src, { recursive: true, force: true });
  });

  it('warns at start when DEFAULT_MODEL is not installed, naming the command that installs it', () => {
    const warning = logs.map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === 40);
    expect(warning?.msg).toContain('DEFAULT_MODEL "gpt2" is not installed');
    expect(warning?.msg).toContain('`npm run model:download -- gpt2`');
  });

  it('model:import, then /trace and /models use it without a restart', async () => {
    const before = await app.inject({ method: 'POST', url: '/trace', payload: { prompt: 'a', model: 'my-gpt2' } });
    expect([before.statusCode, before.json().code]).toEqual([404, 'unknown_model']);

    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t), env: {}, isTty: false };
    expect(await importMain([src, '--name', 'my-gpt2', '--models-dir', dir], io)).toBe(0);
    expect(out.join('')).toContain('Use it with {"model": "my-gpt2"}');

    const trace = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt: 'The capital of France is', model: 'my-gpt2', hooks: [] },
    });
    expect(trace.statusCode).toBe(200);
    expect(trace.json().model).toBe('my-gpt2');
    expect(trace.json().tokens).toHaveLength(5);
    expect(app.models.list().map((m) => m.name)).toEqual(['my-gpt2']);
    const listed = await app.inject({ method: 'GET', url: '/models/my-gpt2' });
    expect([listed.statusCode, listed.json().runnable]).toEqual([200, true]);
  });

  it('the stream finds a model imported after start, and names an invalid folder with its reason', async () => {
    await symlink(TINY_FIXTURE, path.join(dir, 'streamed'), 'dir');
    await mkdir(path.join(dir, 'half'));
    await copyFile(path.join(TINY_FIXTURE, 'model.safetensors'), path.join(dir, 'half', 'model.safetensors'));
    const addr = app.server.address() as { port: number };
    const c = await StreamClient.connect(`ws://127.0.0.1:${addr.port}/stream`);
    try {
      c.send({ type: 'generate', id: 'g', prompt: 'The capital of France is', model: 'streamed', max_new_tokens: 2 });
      const frames = await c.untilDone('g');
      expect(frames.filter((f) => f.type === 'token')).toHaveLength(2);
      const err = c.next('error', 'h');
      c.send({ type: 'generate', id: 'h', prompt: 'a', model: 'half' });
      expect(await err).toMatchObject({
        code: 'invalid_checkpoint',
        message: expect.stringContaining('no config.json'),
      });
    } finally {
      c.close();
    }
  });

  it('a folder that becomes valid after a 422 runs on the next request', async () => {
    await mkdir(path.join(dir, 'later'));
    await copyFile(path.join(TINY_FIXTURE, 'config.json'), path.join(dir, 'later', 'config.json'));
    const first = await app.inject({ method: 'POST', url: '/tokenize', payload: { text: 'a', model: 'later' } });
    expect([first.statusCode, first.json().code]).toEqual([422, 'invalid_checkpoint']);
    expect(first.json().reason).toContain('it has no weights');
    await copyFile(path.join(TINY_FIXTURE, 'model.safetensors'), path.join(dir, 'later', 'model.safetensors'));
    const second = await app.inject({ method: 'POST', url: '/tokenize', payload: { text: 'a', model: 'later' } });
    expect([second.statusCode, second.json().model]).toEqual([200, 'later']);
  });

  it('DEFAULT_MODEL installed later: /readyz turns ready', async () => {
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await symlink(TINY_FIXTURE, path.join(dir, 'gpt2'), 'dir');
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json().status]).toEqual([200, 'ready']);
  });
});
