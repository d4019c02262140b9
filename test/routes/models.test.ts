// /models routes: list, detail, params, shapes, pasted configs, and their errors (replies parsed with the response schemas).
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import {
  ModelDetailSchema,
  ModelListSchema,
  ParamsReportSchema,
  ShapesReportSchema,
} from '../../src/schemas/models.js';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { SUPPORTED_MODEL_TYPES } from '../../src/arch/spec.js';
import { testApp } from '../helpers/app.js';

const TINY = path.join(PROJECT_ROOT, 'test/fixtures/tiny-gpt2');
const LLAMA2_7B = {
  model_type: 'llama',
  vocab_size: 32000,
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  intermediate_size: 11008,
  max_position_embeddings: 4096,
};

let app: FastifyInstance;
let modelsDir: string;

beforeAll(async () => {
  // Two runnable folders: one unknown to the registry, one named like a registry entry.
  modelsDir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-arch-models-'));
  await symlink(TINY, path.join(modelsDir, 'tiny-gpt2'), 'dir');
  await symlink(TINY, path.join(modelsDir, 'gpt2'), 'dir');
  app = await testApp({ MODELS_DIR: modelsDir, DEFAULT_MODEL: 'tiny-gpt2' });
});
afterAll(async () => {
  await app?.close();
  await rm(modelsDir, { recursive: true, force: true });
});

const get = async (url: string) => app.inject({ method: 'GET', url });
const post = async (url: string, body: unknown) => app.inject({ method: 'POST', url, payload: body as object });
function problem(res: Awaited<ReturnType<typeof get>>, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const p = ProblemSchema.parse(res.json());
  expect(p.code).toBe(code);
  return p;
}

describe('GET /models', () => {
  it('lists registry entries with computed totals and marks runnable checkpoints', async () => {
    const res = await get('/models');
    expect(res.statusCode).toBe(200);
    const body = ModelListSchema.parse(res.json());
    expect(body.count).toBe(body.models.length);
    const llama = body.models.find((m) => m.name === 'llama-3-8b')!;
    expect(llama).toMatchObject({
      family: 'llama',
      model_type: 'llama',
      runnable: false,
      in_registry: true,
      computed: { total: 8_030_261_248, active: null },
    });
    expect(body.models.find((m) => m.name === 'gpt2')).toMatchObject({
      runnable: true,
      computed: { total: 124_439_808 },
    });
    expect(body.models.find((m) => m.name === 'tiny-gpt2')).toMatchObject({
      runnable: true,
      in_registry: false,
      family: 'gpt2',
      published: { total: null },
    });
    const mixtral = body.models.find((m) => m.name === 'mixtral-8x7b')!;
    expect(mixtral.computed.active).toBe(12_879_925_248);
  });
  it('filters by family', async () => {
    const body = ModelListSchema.parse((await get('/models?family=Mistral')).json());
    expect(body.count).toBeGreaterThan(0);
    expect(new Set(body.models.map((m) => m.family))).toEqual(new Set(['mistral']));
    expect(ModelListSchema.parse((await get('/models?family=nope')).json()).count).toBe(0);
  });
});

describe('GET /models/:name', () => {
  it('resolves an HF repo id to the entry with its config, source and published figure', async () => {
    const res = await get('/models/meta-llama%2FMeta-Llama-3-8B');
    expect(res.statusCode).toBe(200);
    const body = ModelDetailSchema.parse(res.json());
    expect(body.name).toBe('llama-3-8b');
    expect(body.config).toMatchObject({ hidden_size: 4096, num_key_value_heads: 8 });
    expect(body.published_detail?.total).toBe(8_030_261_248);
  });
  it('an HF id with an unencoded "/" works like %2F, also for /params and /shapes', async () => {
    const detail = await get('/models/meta-llama/Meta-Llama-3-8B');
    expect([detail.statusCode, detail.json().name]).toEqual([200, 'llama-3-8b']);
    const params = await get('/models/meta-llama/Meta-Llama-3-8B/params');
    expect([params.statusCode, params.json().total]).toEqual([200, 8_030_261_248]);
    const shapes = await get('/models/meta-llama/Meta-Llama-3-8B/shapes?seq_len=16');
    expect([shapes.statusCode, shapes.json().model]).toEqual([200, 'llama-3-8b']);
    expect((await get('/models/gpt2/params')).json().total).toBe(124_439_808);
    problem(await get('/models/a/b/c'), 404, 'route_not_found');
  });
  it('404 unknown_model with suggestions', async () => {
    const p = problem(await get('/models/lama-3-8b'), 404, 'unknown_model');
    expect(p.suggestions).toContain('llama-3-8b');
  });
});

describe('GET /models/:name/params', () => {
  it('answers 124,439,808 for gpt2', async () => {
    const body = ParamsReportSchema.parse((await get('/models/gpt2/params')).json());
    expect([body.total, body.conventions.non_embedding, body.conventions.hidden_only]).toEqual([
      124_439_808, 123_653_376, 84_934_656,
    ]);
  });
  it('counts a runnable checkpoint the registry does not know', async () => {
    // d 32, 3 layers, V 50257, 64 positions: 50257*32 + 64*32 + 3*(12*32^2 + 13*32) + 2*32
    const body = ParamsReportSchema.parse((await get('/models/tiny-gpt2/params')).json());
    expect(body.total).toBe(1_648_448);
  });
  it('reports the DeepSeek-V3 MTP module beside the 671B total', async () => {
    const body = ParamsReportSchema.parse((await get('/models/deepseek-v3/params')).json());
    expect(body.total).toBe(671_026_419_200);
    expect(body.mtp?.total_with_mtp).toBe(684_489_845_504);
  });
});

describe('GET /models/:name/shapes', () => {
  it('shows Llama-3-8B with GQA K/V shapes', async () => {
    const res = await get('/models/llama-3-8b/shapes?seq_len=1024');
    expect(res.statusCode).toBe(200);
    const body = ShapesReportSchema.parse(res.json());
    const k = body.stages.find((s) => s.id === 'blocks.0.attn.k')!;
    expect([k.inputs[0]!.shape, k.weights[0]!.shape, k.heads, k.all_heads?.weights]).toEqual([
      [1024, 4096],
      [4096, 128],
      8,
      [4096, 1024],
    ]);
  });
  it('400 seq_len_too_long names the limit', async () => {
    const p = problem(await get('/models/gpt2/shapes?seq_len=2048'), 400, 'seq_len_too_long');
    expect(p.detail).toContain('1024');
  });
  it('400 for a non-numeric seq_len or a batch out of range', async () => {
    problem(await get('/models/gpt2/shapes?seq_len=abc'), 400, 'invalid_request');
    problem(await get('/models/gpt2/shapes?batch=0'), 400, 'invalid_request');
  });
});

describe('POST /models/params and /models/shapes (pasted config.json)', () => {
  it('counts Llama-2-7B exactly', async () => {
    const body = ParamsReportSchema.parse((await post('/models/params', LLAMA2_7B)).json());
    expect(body.total).toBe(6_738_415_616);
    expect(body.model).toBeNull();
  });
  it('draws the flow with seq_len and batch from the query', async () => {
    const res = await post('/models/shapes?seq_len=16&batch=2', LLAMA2_7B);
    const body = ShapesReportSchema.parse(res.json());
    expect([body.seq_len, body.batch]).toEqual([16, 2]);
    expect(body.stages.find((s) => s.id === 'embed')!.output.shape).toEqual([2, 16, 4096]);
  });
  it('422 unsupported_model_type lists the supported types', async () => {
    const p = problem(
      await post('/models/params', { ...LLAMA2_7B, model_type: 'mamba' }),
      422,
      'unsupported_model_type',
    );
    expect(p.supported).toEqual([...SUPPORTED_MODEL_TYPES]);
  });
  it('400 invalid_config names a missing field', async () => {
    const { intermediate_size: _, ...rest } = LLAMA2_7B;
    const p = problem(await post('/models/shapes', rest), 400, 'invalid_config');
    expect(p.field).toBe('intermediate_size');
  });
  it('400 invalid_request for absurd sizes, caught by the schema bounds', async () => {
    problem(await post('/models/params', { ...LLAMA2_7B, hidden_size: 1e12 }), 400, 'invalid_request');
    problem(await post('/models/params', { ...LLAMA2_7B, num_hidden_layers: 1e6 }), 400, 'invalid_request');
    problem(await post('/models/params', [LLAMA2_7B]), 400, 'invalid_request');
  });
  it('works over a real socket (supertest)', async () => {
    const res = await request(app.server)
      .post('/models/params')
      .send({ model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(124_439_808);
  });
});

it('documents the routes in OpenAPI', async () => {
  const doc = (await get('/openapi.json')).json() as { paths: Record<string, unknown> };
  for (const p of [
    '/models',
    '/models/{name}',
    '/models/{name}/params',
    '/models/{name}/shapes',
    '/models/params',
    '/models/shapes',
  ])
    expect(Object.keys(doc.paths)).toContain(p);
});
