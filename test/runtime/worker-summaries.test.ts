// Summaries where the activations are: a WorkerRuntime forward with `summarize` brings back the summaries its worker
// computed (equal to summarising the same activations on this thread, token texts filled in here), and /healthz
// keeps answering while heavy /trace requests run (a generous bound, not a benchmark).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allHookNames } from '../../src/hooks/catalogue.js';
import { WorkerRuntime } from '../../src/runtime/worker-runtime.js';
import { GPT2_TOKENIZER } from '../../src/tokenizer/model-tokenizer.js';
import {
  hooksToFetch,
  summarizeForward,
  summarizeSpec,
  type SummarizeOptions,
} from '../../src/decode/summarize-forward.js';
import { makeRandomGpt2 } from '../../tools/checkpoint/make-random.js';
import { testApp } from '../helpers/app.js';
import { TINY_FIXTURE } from '../trace/models-dir.js';

describe('forward({ summarize }) on a WorkerRuntime', () => {
  let rt: WorkerRuntime;
  beforeAll(async () => {
    rt = await WorkerRuntime.load(TINY_FIXTURE, { name: 'tiny-gpt2', threads: 1 });
  });
  afterAll(() => rt?.dispose());

  it('returns the worker-made summaries: every hook, attention, logit lens and top-k equal to this thread summarising', async () => {
    const ids = [464, 3139, 286, 4881, 318];
    const opts: SummarizeOptions = {
      hooks: allHookNames(rt.dims.nLayer),
      positions: [1, 3, 4],
      offset: 0,
      detail: 'full',
      topK: 5,
      logitLens: true,
      lensPositions: [4],
      bins: 16,
      tokenizer: GPT2_TOKENIZER,
    };
    const fetch = hooksToFetch(opts.hooks, rt.dims.nLayer, true);
    const r = await rt.forward({ tokenIds: ids, hooks: fetch, summarize: summarizeSpec(opts) });
    expect(r.summary?.spec).toEqual(summarizeSpec(opts));
    expect(r.summary?.ms).toBeGreaterThanOrEqual(0);
    const fromWorker = await summarizeForward(rt, r, opts);
    const here = await summarizeForward(rt, { ...r, summary: undefined }, opts);
    expect(fromWorker).toEqual(here);
    expect(fromWorker.hooks).toHaveLength(opts.hooks.length);
    expect(fromWorker.top_k[0].text).toBe(GPT2_TOKENIZER.tokenText(fromWorker.top_k[0].id));
    expect(fromWorker.logit_lens?.positions[0].layers.at(-1)?.top[0].text).not.toBe('');
    // Other options than the worker's: summarised here, as asked.
    const other = await summarizeForward(rt, r, { ...opts, bins: 4 });
    expect(other.hooks[0].histogram.counts).toHaveLength(4);
  });

  it('without summarize, no summary comes back', async () => {
    const r = await rt.forward({ tokenIds: [464, 3139], hooks: ['hook_embed'] });
    expect(r.summary).toBeUndefined();
  });
});

describe('/healthz during heavy /trace requests', () => {
  // 4 layers, d_model 128, 512 tokens: each trace summarises ~3M values of MLP and residual hooks at every position.
  const MODEL = { nLayer: 4, nHead: 4, dModel: 128, nCtx: 512, vocab: 512, dtype: 'F32' as const, seed: 11 };
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-heavy-'));
    await makeRandomGpt2(path.join(dir, 'heavy'), MODEL);
    app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'heavy', ORT_THREADS: 1, MODEL_REQUESTS_PER_CLIENT: 8 });
    await app.models.get('heavy');
  });
  afterAll(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers every /healthz while 6 traces of every position run, with the event loop never stalled for long', async () => {
    const payload = {
      model: 'heavy',
      token_ids: Array.from({ length: 512 }, (_, i) => (i * 31) % 512),
      hooks: ['blocks.*.mlp.*', 'blocks.*.hook_resid_*'],
      positions: 'all',
      logit_lens: false,
      attribution: false,
      max_new_tokens: 0,
    };
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    let settled = false;
    const traces = Promise.all(
      Array.from({ length: 6 }, () => app.inject({ method: 'POST', url: '/trace', payload })),
    ).finally(() => (settled = true));
    let answered = 0;
    while (!settled) {
      await new Promise((r) => setTimeout(r, 5));
      const res = await app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      answered++;
    }
    delay.disable();
    for (const res of await traces) expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(answered).toBeGreaterThan(3);
    // Generous: the summaries run in the model worker; what is left here is routing and JSON.
    expect(delay.max / 1e6).toBeLessThan(1500);
  });
});
