import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.js';
import { SavedTraceListSchema, SavedTraceSchema, SaveTraceResponseSchema } from '../../src/schemas/traces.js';
import { TINY_FIXTURE, tinyApp } from '../trace/models-dir.js';
import { testApp } from '../helpers/app.js';

const PROMPT = 'The capital of France is';
const REQUEST = {
  prompt: PROMPT,
  hooks: ['blocks.*.attn.hook_pattern', 'blocks.1.hook_resid_post', 'logits'],
  interventions: [{ hook: 'blocks.0.attn.hook_z', heads: [1], op: 'zero' }],
  top_k: 5,
};

/** A models folder whose `tiny-gpt2` has the fixture's config but other weights (one matrix scaled by 1.5). */
async function changedWeightsDir(root: string): Promise<string> {
  const dir = path.join(root, 'models-changed');
  await mkdir(path.join(dir, 'tiny-gpt2'), { recursive: true });
  await copyFile(path.join(TINY_FIXTURE, 'config.json'), path.join(dir, 'tiny-gpt2', 'config.json'));
  const st = await readSafetensors(path.join(TINY_FIXTURE, 'model.safetensors'));
  const tensors = [];
  for (const t of st.tensors) {
    const data = await st.readFloat32(t.name);
    if (t.name === 'h.0.mlp.c_fc.weight') for (let i = 0; i < data.length; i++) data[i] *= 1.5;
    tensors.push({ name: t.name, shape: t.shape, dtype: 'F32' as const, data });
  }
  await writeSafetensors(path.join(dir, 'tiny-gpt2', 'model.safetensors'), tensors, st.metadata);
  return dir;
}

describe('saved traces: POST /traces, GET, list, tensors, verify, DELETE on a real SQLite store', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let tmp: string;
  let dataDir: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-traces-'));
    dataDir = path.join(tmp, 'data');
    ({ app, close } = await tinyApp({ DATA_DIR: dataDir, EXPORT_MAX_BYTES: 4_000_000 }));
  });
  afterAll(async () => {
    await close();
    await rm(tmp, { recursive: true, force: true });
  });

  const save = async (payload: object = REQUEST) => {
    const res = await app.inject({ method: 'POST', url: '/traces', payload });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(201);
    return SaveTraceResponseSchema.parse(res.json());
  };

  it('stores the recipe, the JSON reply and the tensors of the request, and reopens them without recomputing', async () => {
    const saved = await save();
    expect(saved.links).toEqual({
      self: `/traces/${saved.id}`,
      tensors: `/traces/${saved.id}/tensors`,
      share: `/?trace=${saved.id}`,
    });
    expect(saved.recipe).toMatchObject({
      model: 'tiny-gpt2',
      token_ids: [464, 3139, 286, 4881, 318],
      request: { prompt: PROMPT, interventions: REQUEST.interventions, top_k: 5 },
    });
    expect(saved.recipe.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    // the plan as it ran: exact hook names (globs expanded) and absolute positions
    expect(saved.recipe.hooks).toEqual(saved.tensor_names);
    expect(saved.recipe.hooks).toContain('blocks.2.attn.hook_pattern');
    expect(saved.recipe.positions).toEqual([0, 1, 2, 3, 4]);

    const got = await app.inject({ method: 'GET', url: `/traces/${saved.id}` });
    expect(got.statusCode).toBe(200);
    const body = SavedTraceSchema.parse(got.json());
    expect(body.verification).toBeUndefined();
    // the stored reply is the /trace reply of the same request (timings aside)
    const live = (await app.inject({ method: 'POST', url: '/trace', payload: REQUEST })).json();
    const { timings: _a, ...storedTrace } = body.trace as Record<string, unknown>;
    const { timings: _b, ...liveTrace } = live;
    expect(storedTrace).toEqual(liveTrace);
    expect(storedTrace.applied).toBeDefined();
    expect(saved.recipe.interventions_hash).toBe(live.interventions_hash);
    expect(saved.recipe.interventions_hash).toMatch(/^sha256:[0-9a-f]{64}$/);

    // the tensors equal an export of the same request, with the intervention in force
    const file = await app.inject({ method: 'GET', url: saved.links.tensors });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('application/vnd.safetensors');
    expect(Number(file.headers['content-length'])).toBe(file.rawPayload.length);
    expect(file.rawPayload.length).toBe(saved.tensor_bytes);
    const exported = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { ...REQUEST, format: 'safetensors' },
    });
    await writeFile(path.join(tmp, 'stored.safetensors'), file.rawPayload);
    await writeFile(path.join(tmp, 'exported.safetensors'), exported.rawPayload);
    const [a, b] = [
      await readSafetensors(path.join(tmp, 'stored.safetensors')),
      await readSafetensors(path.join(tmp, 'exported.safetensors')),
    ];
    expect(a.tensors.map((t) => t.name)).toEqual(saved.tensor_names);
    expect(a.tensors.map((t) => [t.name, t.shape])).toEqual(b.tensors.map((t) => [t.name, t.shape]));
    for (const t of a.tensors) expect(await a.readFloat32(t.name), t.name).toEqual(await b.readFloat32(t.name));
    // the intervention is really in the stored values: head 1 of layer 0 zeroed changes layer 1's residual
    const clean = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { ...REQUEST, interventions: undefined, format: 'safetensors' },
    });
    await writeFile(path.join(tmp, 'clean.safetensors'), clean.rawPayload);
    const c = await readSafetensors(path.join(tmp, 'clean.safetensors'));
    expect(await c.readFloat32('blocks.1.hook_resid_post')).not.toEqual(
      await a.readFloat32('blocks.1.hook_resid_post'),
    );
  });

  it('verify=true reruns the recipe: the same weights match', async () => {
    const saved = await save();
    const res = await app.inject({ method: 'GET', url: `/traces/${saved.id}?verify=true` });
    expect(res.statusCode).toBe(200);
    const v = SavedTraceSchema.parse(res.json()).verification;
    expect(v).toMatchObject({ match: true, reason: 'match', weights: { match: true } });
    expect(v?.tensors.compared).toBe(saved.tensor_names.length);
    expect(v?.tensors.max_abs_diff).toBe(0);
  });

  it('lists newest first with a cursor, deletes, and answers 404 problems for unknown ids', async () => {
    const ids = [(await save()).id, (await save({ prompt: 'People in Kenya speak', hooks: [] })).id];
    const page = SavedTraceListSchema.parse((await app.inject({ method: 'GET', url: '/traces?limit=1' })).json());
    expect(page.items.map((t) => t.id)).toEqual([ids[1]]);
    expect(page.items[0].preview).toBe('People in Kenya speak');
    expect(page.next_cursor).not.toBeNull();
    const next = SavedTraceListSchema.parse(
      (await app.inject({ method: 'GET', url: `/traces?limit=1&cursor=${page.next_cursor}` })).json(),
    );
    expect(next.items.map((t) => t.id)).toEqual([ids[0]]);
    expect(page.total_count).toBeGreaterThanOrEqual(2);

    const del = await app.inject({ method: 'DELETE', url: `/traces/${ids[0]}` });
    expect(del.statusCode).toBe(204);
    expect(existsSync(path.join(dataDir, 'traces', `${ids[0]}.safetensors`))).toBe(false);
    for (const url of [`/traces/${ids[0]}`, `/traces/${ids[0]}/tensors`, '/traces/not-an-id']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json().code).toBe('trace_not_found');
    }
    expect((await app.inject({ method: 'DELETE', url: `/traces/${ids[0]}` })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'GET', url: '/traces?limit=0' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBeDefined();
  });

  it('bad requests are refused before anything is stored', async () => {
    const before = SavedTraceListSchema.parse(
      await app.inject({ method: 'GET', url: '/traces' }).then((r) => r.json()),
    );
    for (const payload of [
      { prompt: PROMPT, format: 'npz' },
      { prompt: PROMPT, hooks: ['blocks.99.hook_resid_post'] },
      { token_ids: [999999] },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/traces', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const after = SavedTraceListSchema.parse((await app.inject({ method: 'GET', url: '/traces' })).json());
    expect(after.total_count).toBe(before.total_count);
    expect((await readdir(path.join(dataDir, 'traces'))).length).toBe(after.total_count);
  });

  it('a server whose model has other weights says the stored values no longer match (200, not an error)', async () => {
    const saved = await save();
    const other = await testApp({
      MODELS_DIR: await changedWeightsDir(tmp),
      DEFAULT_MODEL: 'tiny-gpt2',
      DATA_DIR: dataDir,
    });
    try {
      const res = await other.inject({ method: 'GET', url: `/traces/${saved.id}?verify=1` });
      expect(res.statusCode).toBe(200);
      const v = SavedTraceSchema.parse(res.json()).verification;
      expect(v?.match).toBe(false);
      expect(v?.reason).toBe('weights_changed');
      expect(v?.weights.stored).toBe(saved.recipe.weights_sha256);
      expect(v?.weights.current).not.toBe(saved.recipe.weights_sha256);
      expect(v?.tensors.mismatched).toBeGreaterThan(0);
      expect(v?.detail).toMatch(/weights of tiny-gpt2 changed/);
      // the stored trace itself is untouched: it still opens, with its old values
      const tensors = await other.inject({ method: 'GET', url: `/traces/${saved.id}/tensors` });
      expect(tensors.rawPayload.length).toBe(saved.tensor_bytes);
    } finally {
      await other.close();
    }
  });

  it('a model that is gone is reported as not recomputable', async () => {
    const saved = await save();
    const empty = path.join(tmp, 'no-models');
    await mkdir(empty, { recursive: true });
    const other = await testApp({ MODELS_DIR: empty, DEFAULT_MODEL: 'tiny-gpt2', DATA_DIR: dataDir });
    try {
      const res = await other.inject({ method: 'GET', url: `/traces/${saved.id}?verify=true` });
      expect(res.statusCode).toBe(200);
      const v = SavedTraceSchema.parse(res.json()).verification;
      expect(v).toMatchObject({ match: false, reason: 'not_recomputable', weights: { current: null } });
    } finally {
      await other.close();
    }
  });
});

describe('saved traces: store limits through the API', () => {
  it('TRACES_MAX_COUNT evicts the oldest first and names it', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-traces-evict-'));
    const { app, close } = await tinyApp({ DATA_DIR: tmp, TRACES_MAX_COUNT: 2 });
    try {
      const ids: string[] = [];
      const evicted: string[][] = [];
      for (let i = 0; i < 3; i++) {
        const r = SaveTraceResponseSchema.parse(
          (await app.inject({ method: 'POST', url: '/traces', payload: { prompt: PROMPT, hooks: [] } })).json(),
        );
        ids.push(r.id);
        evicted.push(r.evicted);
      }
      expect(evicted).toEqual([[], [], [ids[0]]]);
      const list = SavedTraceListSchema.parse((await app.inject({ method: 'GET', url: '/traces' })).json());
      expect(list.items.map((t) => t.id)).toEqual([ids[2], ids[1]]);
      expect((await app.inject({ method: 'GET', url: `/traces/${ids[0]}` })).statusCode).toBe(404);
    } finally {
      await close();
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('TRACES_MAX_BYTES below one trace: 413 trace_too_large_to_store with the size', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-traces-big-'));
    const { app, close } = await tinyApp({ DATA_DIR: tmp, TRACES_MAX_BYTES: 1000 });
    try {
      const res = await app.inject({ method: 'POST', url: '/traces', payload: { prompt: PROMPT, hooks: ['*'] } });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ code: 'trace_too_large_to_store', max_bytes: 1000 });
      expect(res.json().bytes).toBeGreaterThan(1000);
    } finally {
      await close();
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
