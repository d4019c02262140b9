import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { TraceResponseSchema } from '../../src/schemas/trace.js';
import { TINY_FIXTURE, tinyApp } from '../trace/models-dir.js';

const PY = '/usr/bin/python3';
const hasNumpy = spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const PROMPT = 'The capital of France is';

describe('POST /trace as safetensors / npz on the tiny fixture', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let tmp: string;
  beforeAll(async () => {
    ({ app, close } = await tinyApp({ EXPORT_MAX_BYTES: 4_000_000 }));
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-export-'));
  });
  afterAll(async () => {
    await close();
    await rm(tmp, { recursive: true, force: true });
  });

  const exportFile = async (payload: object, headers: Record<string, string> = {}, name = 'x') => {
    const res = await app.inject({ method: 'POST', url: '/trace', payload, headers });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    const file = path.join(tmp, name);
    await writeFile(file, res.rawPayload);
    return { res, file };
  };

  it('every hook equals the JSON reply and the independent reference; metadata holds the recipe', async () => {
    const { res, file } = await exportFile(
      { prompt: PROMPT, hooks: ['*'] },
      { accept: 'application/vnd.safetensors' },
      'all.safetensors',
    );
    expect(res.headers['content-type']).toBe('application/vnd.safetensors');
    const st = await readSafetensors(file);
    const json = TraceResponseSchema.parse(
      (
        await app.inject({ method: 'POST', url: '/trace', payload: { prompt: PROMPT, hooks: ['*'], detail: 'full' } })
      ).json(),
    );
    expect(st.tensors.map((t) => t.name)).toEqual(json.hooks.map((h) => h.hook));
    expect(st.tensors.map((t) => t.name)).toContain('logits');
    for (const h of json.hooks) {
      const t = st.tensor(h.hook);
      expect(t.dtype).toBe('F32');
      expect(t.shape, h.hook).toEqual(h.shape);
      const values = await st.readFloat32(h.hook);
      const jsonValues = h.values as (number | null)[];
      expect(values.length).toBe(jsonValues.length);
      let differing = 0;
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        // masked scores: -inf in the file, null in JSON; JSON holds the shortest decimal of each float32
        const j = jsonValues[i];
        if (Number.isFinite(v) ? j === null || Math.fround(j) !== v : j !== null) differing++;
      }
      expect(differing, h.hook).toBe(0);
    }
    // Against the numpy float64 reference (tools/reference/gpt2_reference.py), same tolerance as the parity tests.
    const ref = await readSafetensors(path.join(PROJECT_ROOT, 'test/fixtures/reference/tiny-gpt2.capital.safetensors'));
    let compared = 0;
    for (const t of st.tensors) {
      if (!ref.tensors.some((r) => r.name === t.name)) continue;
      const [a, b] = [await st.readFloat32(t.name), await ref.readFloat32(t.name)];
      expect(a.length, t.name).toBe(b.length);
      let outside = 0;
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(b[i]) ? a[i] !== b[i] : !(Math.abs(a[i] - b[i]) <= 2e-5 + 2e-5 * Math.abs(b[i])))
          outside++;
      }
      expect(outside, t.name).toBe(0);
      compared++;
    }
    expect(compared).toBe(st.tensors.length);

    const meta = st.metadata;
    expect(meta.model).toBe('tiny-gpt2');
    const sha = createHash('sha256')
      .update(await readFile(path.join(TINY_FIXTURE, 'model.safetensors')))
      .digest('hex');
    expect(meta.weights_sha256).toBe(sha);
    expect(JSON.parse(meta.token_ids)).toEqual([464, 3139, 286, 4881, 318]);
    expect(JSON.parse(meta.request)).toMatchObject({ prompt: PROMPT, hooks: ['*'] });
    expect(JSON.parse(meta.versions)).toHaveProperty('onnxruntime-node');
  });

  it('positions slice the tensors like the JSON shapes', async () => {
    const { file } = await exportFile(
      {
        prompt: PROMPT,
        hooks: ['blocks.1.attn.hook_pattern', 'blocks.2.hook_resid_post'],
        positions: 'last',
        format: 'safetensors',
      },
      {},
      'last.safetensors',
    );
    const st = await readSafetensors(file);
    expect(st.tensor('blocks.1.attn.hook_pattern').shape).toEqual([4, 1, 5]);
    expect(st.tensor('blocks.2.hook_resid_post').shape).toEqual([1, 32]);
    const all = await readSafetensors(
      (
        await exportFile(
          { prompt: PROMPT, hooks: ['blocks.2.hook_resid_post'], format: 'safetensors' },
          {},
          'r.safetensors',
        )
      ).file,
    );
    expect([...(await st.readFloat32('blocks.2.hook_resid_post'))]).toEqual([
      ...(await all.readFloat32('blocks.2.hook_resid_post')).subarray(4 * 32),
    ]);
  });

  it.skipIf(!hasNumpy)('npz: np.load reads the same tensors and the metadata', async () => {
    const { file: st } = await exportFile({ prompt: PROMPT, hooks: ['*'], format: 'safetensors' }, {}, 'a.safetensors');
    const { res, file } = await exportFile({ prompt: PROMPT, hooks: ['*'], format: 'npz' }, {}, 'a.npz');
    expect(res.headers['content-type']).toBe('application/x-npz');
    const script = `
import json, sys, numpy as np
z = np.load(sys.argv[1])
meta = json.loads(bytes(z['__metadata__']).decode())
out = {k: {'shape': list(z[k].shape), 'dtype': str(z[k].dtype), 'values': [None if not np.isfinite(v) else float(v) for v in z[k].ravel()[:400]]} for k in z.files if k != '__metadata__'}
print(json.dumps({'meta': meta, 'arrays': out, 'order': z.files}))`;
    const got = JSON.parse(execFileSync(PY, ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const ref = await readSafetensors(st);
    expect(got.order).toEqual([...ref.tensors.map((t) => t.name), '__metadata__']);
    expect(got.meta.model).toBe('tiny-gpt2');
    for (const t of ref.tensors) {
      const a = got.arrays[t.name];
      expect(a.dtype).toBe('float32');
      expect(a.shape).toEqual(t.shape);
      const v = await ref.readFloat32(t.name);
      expect(a.values).toEqual([...v.subarray(0, 400)].map((x) => (Number.isFinite(x) ? x : null)));
    }
  });

  it('is bound by EXPORT_MAX_BYTES, not MAX_RETURNED_VALUES: 413 with the size', async () => {
    const small = await tinyApp({ MAX_RETURNED_VALUES: 1000 });
    try {
      const ok = await small.app.inject({
        method: 'POST',
        url: '/trace',
        payload: { prompt: PROMPT, hooks: ['logits'], format: 'safetensors' },
      });
      expect(ok.statusCode).toBe(200); // 5 x 50257 values, over the JSON cap
    } finally {
      await small.close();
    }
    const res = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { token_ids: new Array(40).fill(464), hooks: ['*'], format: 'npz' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body.code).toBe('export_too_large');
    expect(body.bytes).toBeGreaterThan(4_000_000);
    expect(body.detail).toContain('EXPORT_MAX_BYTES');
  });

  it('applies interventions like the JSON trace and keeps them in the recipe', async () => {
    const interventions = [{ hook: 'blocks.0.attn.hook_z', heads: [1], op: 'zero' }];
    const body = { prompt: PROMPT, hooks: ['blocks.0.attn.hook_z', 'blocks.2.hook_resid_post'], interventions };
    const edited = await readSafetensors(
      (await exportFile({ ...body, format: 'safetensors' }, {}, 'i.safetensors')).file,
    );
    const json = (await app.inject({ method: 'POST', url: '/trace', payload: { ...body, detail: 'full' } })).json() as {
      hooks: { hook: string; values: number[] }[];
    };
    expect(json.hooks.map((h) => h.hook)).toEqual(edited.tensors.map((t) => t.name));
    // JSON holds the shortest decimal of each float32: Math.fround reads it back bit for bit
    for (const h of json.hooks) expect([...(await edited.readFloat32(h.hook))]).toEqual(h.values.map(Math.fround));
    const z = await edited.readFloat32('blocks.0.attn.hook_z'); // [pos, head, d_head]: head 1 zeroed
    for (let p = 0; p < 5; p++) expect([...z.subarray(p * 32 + 8, p * 32 + 16)]).toEqual(new Array(8).fill(0));
    const clean = await readSafetensors(
      (await exportFile({ prompt: PROMPT, hooks: body.hooks, format: 'safetensors' }, {}, 'c.safetensors')).file,
    );
    expect([...(await clean.readFloat32('blocks.2.hook_resid_post'))]).not.toEqual([
      ...(await edited.readFloat32('blocks.2.hook_resid_post')),
    ]);
    expect(JSON.parse(edited.metadata.request).interventions).toMatchObject(interventions);
  });

  it('refuses a continuation in an export with a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { prompt: PROMPT, max_new_tokens: 2, format: 'safetensors' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('export_with_generation');
  });
});
