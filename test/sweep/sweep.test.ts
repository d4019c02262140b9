// POST /sweep: a sample of cells of every sweep kind equals the same single intervention through POST /trace and the
// independent numpy reference (tools/reference/gpt2_reference.py --cases); the reply's references and normalized grid;
// every refusal.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { SweepResponseSchema, type SweepResponse } from '../../src/schemas/sweep.js';
import { planSweep } from '../../src/plan/sweep-plan.js';
import { SweepRequestSchema } from '../../src/schemas/sweep.js';
import { TINY_FIXTURE, tinyApp } from '../trace/models-dir.js';

const CAPITAL = [464, 3139, 286, 4881, 318]; // "The capital of France is"
const ITALY = [464, 3139, 286, 8031, 318]; // "The capital of Italy is"
const PARIS = 6342;
const ROME = 10598;
const METRIC = { kind: 'logit_diff', tokens: [' Paris', ' Rome'] };
const TOL = 1e-4;
const CONFIG = { SWEEP_MAX_CELLS: 10, SWEEP_MAX_VALUES: 10, MAX_NEW_TOKENS: 8, MAX_INTERVENTIONS: 8 };

interface Kind {
  name: string;
  sweep: Record<string, unknown>;
  /** The single intervention of cell (layer, col) and the prompt it runs on. */
  cell: (layer: number, col: number) => { ids: number[]; iv: Record<string, unknown> };
}

const patchAt = (site: string, src: number[]) => (layer: number, p: number) => ({
  hook: `blocks.${layer}.${site}`,
  positions: [p],
  op: 'patch',
  source: { token_ids: src },
});

const KINDS: Kind[] = [
  {
    name: 'ablate_heads zero',
    sweep: { kind: 'ablate_heads' },
    cell: (l, h) => ({ ids: CAPITAL, iv: { hook: `blocks.${l}.attn.hook_z`, heads: [h], op: 'zero' } }),
  },
  {
    name: 'ablate_heads mean',
    sweep: { kind: 'ablate_heads', op: 'mean' },
    cell: (l, h) => ({ ids: CAPITAL, iv: { hook: `blocks.${l}.attn.hook_z`, heads: [h], op: 'mean' } }),
  },
  ...['hook_resid_pre', 'hook_attn_out', 'hook_mlp_out', 'hook_resid_post', 'attn.hook_z'].map((site) => ({
    name: `patch ${site} over positions`,
    sweep: { kind: 'patch', hook: site, over: ['layer', 'position'] },
    cell: (l: number, p: number) => ({ ids: ITALY, iv: patchAt(site, CAPITAL)(l, p) }),
  })),
  {
    name: 'patch attn.hook_z over heads',
    sweep: { kind: 'patch', hook: 'attn.hook_z', over: ['layer', 'head'] },
    cell: (l, h) => ({
      ids: ITALY,
      iv: { hook: `blocks.${l}.attn.hook_z`, heads: [h], op: 'patch', source: { token_ids: CAPITAL } },
    }),
  },
  {
    name: 'patch hook_resid_pre noising',
    sweep: { kind: 'patch', hook: 'hook_resid_pre', direction: 'noising' },
    cell: (l, p) => ({ ids: CAPITAL, iv: patchAt('hook_resid_pre', ITALY)(l, p) }),
  },
];

/** Cells checked one by one: corners, the changed position, and a spread. */
const sampleCells = (rows: number, cols: number): [number, number][] => [
  [0, 0],
  [rows - 1, cols - 1],
  [0, Math.min(3, cols - 1)],
  [Math.floor(rows / 2), Math.min(3, cols - 1)],
  [rows - 1, 0],
  [1, cols - 1],
];

describe('POST /sweep on the tiny fixture', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  let work: string;
  const replies = new Map<string, SweepResponse>();
  beforeAll(async () => {
    ({ app, close } = await tinyApp({ SWEEP_MAX_CELLS: 100 }));
    work = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-sweep-'));
    for (const k of KINDS) {
      const patch = k.sweep.kind === 'patch';
      const res = await app.inject({
        method: 'POST',
        url: '/sweep',
        payload: {
          token_ids: CAPITAL,
          ...(patch ? { corrupted_token_ids: ITALY } : {}),
          metric: METRIC,
          sweep: k.sweep,
        },
      });
      expect(res.statusCode, res.body).toBe(200);
      replies.set(k.name, SweepResponseSchema.parse(res.json()));
    }
  }, 120_000);
  afterAll(async () => {
    await close?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const trace = async (ids: number[], iv: Record<string, unknown>) => {
    const res = await app.inject({
      method: 'POST',
      url: '/trace',
      payload: { token_ids: ids, hooks: [], logit_lens: false, interventions: [iv], metric: METRIC },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().metrics as { baseline: number; intervened: number };
  };

  it.each(KINDS)('$name: sampled cells equal the single intervention on /trace', async (k) => {
    const r = replies.get(k.name) as SweepResponse;
    const rows = r.axes[0].values.length;
    const cols = r.axes[1].values.length;
    expect(r.values).toHaveLength(rows);
    expect(r.cells).toBe(rows * cols);
    for (const [i, j] of sampleCells(rows, cols)) {
      const { ids, iv } = k.cell(r.axes[0].values[i], r.axes[1].values[j]);
      const m = await trace(ids, iv);
      expect(Math.abs(r.values[i][j] - m.intervened), `${k.name} cell ${i},${j}`).toBeLessThan(TOL);
    }
  });

  it.each(KINDS)('$name: sampled cells equal the numpy reference', async (k) => {
    const r = replies.get(k.name) as SweepResponse;
    const rows = r.axes[0].values.length;
    const cols = r.axes[1].values.length;
    const sample = sampleCells(rows, cols);
    const cases = sample.map(([i, j]) => {
      const { ids, iv } = k.cell(r.axes[0].values[i], r.axes[1].values[j]);
      return { name: `c${i}_${j}`, ids, interventions: [iv], greedy: 0 };
    });
    const file = path.join(work, `${k.name.replace(/[^a-z]+/gi, '_')}.json`);
    const out = `${file}.safetensors`;
    await writeFile(file, JSON.stringify({ cases }));
    execFileSync('/usr/bin/python3', [
      path.join(PROJECT_ROOT, 'tools/reference/gpt2_reference.py'),
      TINY_FIXTURE,
      out,
      '--cases',
      file,
    ]);
    const ref = await readSafetensors(out);
    for (const [i, j] of sample) {
      const last = await ref.readFloat32(`c${i}_${j}/logits_last`);
      expect(Math.abs(r.values[i][j] - (last[PARIS] - last[ROME])), `${k.name} cell ${i},${j}`).toBeLessThan(TOL);
    }
  });

  it.each([{ kind: 'prob', token: ' Paris' }, { kind: 'logprob', token: ' Rome' }, { kind: 'kl' }])(
    'metric $kind (the whole unembedding row): sampled cells equal /trace',
    async (metric) => {
      const res = await app.inject({
        method: 'POST',
        url: '/sweep',
        payload: {
          token_ids: ITALY,
          corrupted_token_ids: CAPITAL,
          metric,
          sweep: { kind: 'patch', hook: 'hook_mlp_out' },
        },
      });
      expect(res.statusCode, res.body).toBe(200);
      const r = res.json() as SweepResponse;
      for (const [i, j] of sampleCells(3, 5)) {
        const t = await app.inject({
          method: 'POST',
          url: '/trace',
          payload: {
            token_ids: CAPITAL,
            hooks: [],
            logit_lens: false,
            interventions: [patchAt('hook_mlp_out', ITALY)(i, j)],
            metric,
          },
        });
        expect(Math.abs(r.values[i][j] - t.json().metrics.intervened), `cell ${i},${j}`).toBeLessThan(TOL);
      }
    },
  );

  it('reports the clean and corrupted metrics of /trace and the normalized grid', async () => {
    const r = replies.get('patch hook_resid_pre over positions') as SweepResponse;
    const clean = await trace(CAPITAL, { hook: 'hook_embed', op: 'scale', factor: 1 });
    const corrupted = await trace(ITALY, { hook: 'hook_embed', op: 'scale', factor: 1 });
    expect(r.clean).toBeCloseTo(clean.baseline, 6);
    expect(r.corrupted).toBeCloseTo(corrupted.baseline, 6);
    const c = r.corrupted as number;
    r.values.forEach((row, i) => {
      row.forEach((v, j) => {
        expect((r.normalized as number[][])[i][j]).toBeCloseTo((v - c) / (r.clean - c), 9);
      });
    });
    // denoising: patching the whole residual at layer 0 restores the clean run at the changed position
    expect(r.values[0][3]).toBeCloseTo(r.clean, 4);
    // positions before the change are the corrupted run's (nothing to patch): not run at all; so is the last
    // position at layer 0, where both prompts embed the same token
    expect(r.values[0].slice(0, 3)).toEqual([c, c, c]);
    expect(r.values[0][4]).toBe(c);
    expect(r.computed).toBe(r.cells - 3 * r.axes[0].values.length - 1);
    expect(r.axes[1].labels).toEqual(['The', ' capital', ' of', ' France', ' is']);
    expect(r.corrupted_tokens?.[3].text).toBe(' Italy');
  });

  it('noising swaps the roles: clean run edited, corrupted values patched in', () => {
    const n = replies.get('patch hook_resid_pre noising') as SweepResponse;
    const d = replies.get('patch hook_resid_pre over positions') as SweepResponse;
    expect(n.direction).toBe('noising');
    expect(n.clean).toBeCloseTo(d.clean, 9);
    expect(n.corrupted).toBeCloseTo(d.corrupted as number, 9);
    expect(n.values[0][3]).toBeCloseTo(n.corrupted as number, 4);
  });

  it('ablation replies carry the unablated metric and no normalized grid', () => {
    const r = replies.get('ablate_heads zero') as SweepResponse;
    expect(r.axes.map((a) => a.name)).toEqual(['layer', 'head']);
    expect(r.axes[1].labels).toEqual(['0', '1', '2', '3']);
    expect(r.corrupted).toBeNull();
    expect(r.normalized).toBeNull();
    expect(r.hook).toBe('attn.hook_z');
  });

  it('layers picks and orders the rows', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/sweep',
      payload: { token_ids: CAPITAL, metric: METRIC, sweep: { kind: 'ablate_heads', layers: [2, 0, 2] } },
    });
    expect(res.statusCode).toBe(200);
    const r = res.json() as SweepResponse;
    expect(r.axes[0].values).toEqual([0, 2]);
    const full = replies.get('ablate_heads zero') as SweepResponse;
    expect(r.values[1][2]).toBeCloseTo(full.values[2][2], 6);
  });

  const post = (payload: object) => app.inject({ method: 'POST', url: '/sweep', payload });
  it.each([
    ['missing_corrupted', { sweep: { kind: 'patch', hook: 'hook_resid_pre' } }],
    ['corrupted_not_used', { corrupted_token_ids: ITALY, sweep: { kind: 'ablate_heads' } }],
    ['sweep_length_mismatch', { corrupted_token_ids: [464, 3139], sweep: { kind: 'patch', hook: 'hook_resid_pre' } }],
    ['layer_out_of_range', { sweep: { kind: 'ablate_heads', layers: [0, 3] } }],
    [
      'sweep_over_unsupported',
      { corrupted_token_ids: ITALY, sweep: { kind: 'patch', hook: 'hook_mlp_out', over: ['layer', 'head'] } },
    ],
    ['metric_token_not_single', { metric: { kind: 'prob', token: ' Parisianism' }, sweep: { kind: 'ablate_heads' } }],
  ])('400 %s', async (code, body) => {
    const res = await post({ token_ids: CAPITAL, metric: METRIC, ...body });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe(code);
  });

  it('400 on a malformed sweep (schema)', async () => {
    const res = await post({ token_ids: CAPITAL, metric: METRIC, sweep: { kind: 'patch', hook: 'hook_q' } });
    expect(res.statusCode).toBe(400);
  });

  it('413 sweep_too_large says the size the sweep would have had', async () => {
    const long = Array.from({ length: 40 }, (_, i) => 464 + i);
    const res = await post({
      token_ids: long,
      corrupted_token_ids: long,
      metric: METRIC,
      sweep: { kind: 'patch', hook: 'hook_resid_pre' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'sweep_too_large', cells: 120, max: 100 });
    expect(res.json().detail).toContain('120 cells (3 layers x 40 positions)');
  });

  it('refuses llama-family models with sweep_unsupported', () => {
    const req = SweepRequestSchema.parse({
      token_ids: [1, 2],
      metric: { kind: 'kl' },
      sweep: { kind: 'ablate_heads' },
    });
    const dims = {
      family: 'llama' as const,
      nLayer: 2,
      nHead: 2,
      dModel: 8,
      dHead: 4,
      dMlp: 8,
      dVocab: 10,
      nCtx: 8,
      layerNormEps: 1e-5,
    };
    expect(() =>
      planSweep(req, { resolve: () => ({ name: 'l', dims, modelType: 'llama' }) as never, defaultName: 'l' }, CONFIG),
    ).toThrow(expect.objectContaining({ code: 'sweep_unsupported', statusCode: 400 }));
  });
});
