// The registry runs models in worker threads (MODEL_WORKERS): the event loop answers during a long forward pass,
// a worker that dies mid-request is a 503 and restarts on the next one, app.close() ends every worker thread.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrtModelRuntime } from '../../src/runtime/ort-runtime.js';
import { WorkerRuntime } from '../../src/runtime/worker-runtime.js';
import { TraceResponseSchema } from '../../src/schemas/trace.js';
import { makeRandomGpt2 } from '../../tools/checkpoint/make-random.js';
import { testApp } from '../helpers/app.js';
import { crashWorker } from '../runtime/crash-worker.js';
import { startStreamServer, StreamClient } from '../stream/client.js';
import { TINY_FIXTURE } from '../trace/models-dir.js';

// A model whose one forward pass over 1024 tokens takes long enough (~0.1-0.3 s on one thread) to be observed
// from outside, yet is 2 MB and written in milliseconds: 4 layers, d_model 128, a 512-token vocabulary.
const LONG = { nLayer: 4, nHead: 4, dModel: 128, nCtx: 1024, vocab: 512, dtype: 'F32' as const, seed: 7 };
const LONG_IDS = Array.from({ length: 1024 }, (_, i) => (i * 37) % 512);
const longTrace = {
  model: 'long',
  token_ids: LONG_IDS,
  hooks: ['hook_embed'],
  positions: 'last',
  logit_lens: false,
  max_new_tokens: 0,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-workers-'));
  await makeRandomGpt2(path.join(dir, 'long'), LONG);
  await symlink(TINY_FIXTURE, path.join(dir, 'tiny-gpt2'), 'dir');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Send /healthz one after another until `trace` settles; how many were answered before it did. Each round first
 * yields to the event loop (as socket I/O would): inject() alone can finish in microtasks and starve everything else.
 */
async function healthzDuring(app: FastifyInstance, trace: Promise<unknown>, onAnswer?: () => void): Promise<number> {
  let settled = false;
  void trace.finally(() => (settled = true));
  let answered = 0;
  for (let round = 0; !settled && round < 1_000_000; round++) {
    await new Promise((r) => setImmediate(r));
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    if (!settled) {
      answered++;
      onAnswer?.();
    }
  }
  expect(settled).toBe(true);
  return answered;
}

describe('MODEL_WORKERS=1 (the default)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'tiny-gpt2', ORT_THREADS: 1 });
  });
  afterAll(() => app?.close());

  it('loads models into a worker runtime with one worker; list() and readiness are unchanged', async () => {
    const rt = await app.models.get('tiny-gpt2');
    expect(rt).toBeInstanceOf(WorkerRuntime);
    expect((rt as WorkerRuntime).parallelism).toBe(1);
    expect(app.models.list().map((m) => [m.name, m.loaded])).toEqual([
      ['long', false],
      ['tiny-gpt2', true],
    ]);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('/healthz keeps answering while a long /trace runs its forward pass', async () => {
    const rt = (await app.models.get('long')) as WorkerRuntime; // loaded beforehand: only the forward pass is in flight
    const slot = (rt as unknown as { slots: { busy: number }[] }).slots[0]!;
    const trace = app.inject({ method: 'POST', url: '/trace', payload: longTrace });
    // Count only the answers sent while the worker is inside the forward pass (not the routing or summary phases,
    // whose length depends on the machine's load).
    let duringPass = 0;
    const counting = healthzDuring(app, trace, () => {
      if (slot.busy > 0) duringPass++;
    });
    await counting;
    const res = await trace;
    expect(res.statusCode).toBe(200);
    expect(TraceResponseSchema.parse(res.json()).tokens).toHaveLength(1024);
    // Typically hundreds; on the main thread (MODEL_WORKERS=0 below) none can be answered during the pass.
    expect(duringPass).toBeGreaterThanOrEqual(5);
  });

  it('a worker that died is started again by the next request, in the same runtime', async () => {
    const rt = (await app.models.get('long')) as WorkerRuntime;
    crashWorker(rt, 0); // in-flight requests of a crashed worker: test/runtime/worker-runtime.test.ts
    while (rt.liveWorkers > 0) await new Promise((r) => setImmediate(r));
    const again = await app.inject({ method: 'POST', url: '/trace', payload: longTrace });
    expect(again.statusCode).toBe(200);
    expect(rt.liveWorkers).toBe(1);
    expect(await app.models.get('long')).toBe(rt); // only its thread was replaced
    expect(app.models.list().find((m) => m.name === 'long')?.loaded).toBe(true);
  });

  it('app.close() during a long /trace lets the forward pass finish, then ends the worker (no abort, no hang)', async () => {
    const own = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'tiny-gpt2', ORT_THREADS: 1 });
    const rt = (await own.models.get('long')) as WorkerRuntime;
    const trace = own.inject({ method: 'POST', url: '/trace', payload: longTrace });
    while (rt.liveWorkers > 0 && (rt as unknown as { slots: { busy: number }[] }).slots[0]!.busy === 0) {
      await new Promise((r) => setImmediate(r));
    }
    await own.close();
    expect(rt.liveWorkers).toBe(0);
    expect((await trace).statusCode).toBe(200);
  });
});

describe('worker caches over a whole request', () => {
  it('a finished generation (stream) and a /trace with a continuation leave no cache in the worker', async () => {
    const server = await startStreamServer({ ORT_THREADS: 1 });
    const client = await StreamClient.connect(server.url);
    try {
      const rt = (await server.app.models.get('tiny-gpt2')) as WorkerRuntime;
      client.send({
        type: 'generate',
        id: 'g',
        prompt: 'The capital of France is',
        max_new_tokens: 6,
        hooks: ['hook_embed'],
      });
      const frames = await client.untilDone('g');
      expect(frames.filter((f) => f.type === 'token')).toHaveLength(6);
      expect(await rt.cacheStats()).toEqual([{ caches: 0, bytes: 0 }]);
      const trace = await server.app.inject({
        method: 'POST',
        url: '/trace',
        payload: { prompt: 'The capital of', max_new_tokens: 4 },
      });
      expect(trace.statusCode).toBe(200);
      expect(await rt.cacheStats()).toEqual([{ caches: 0, bytes: 0 }]);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('app.close()', () => {
  it('terminates every worker thread of every loaded model (MODEL_WORKERS=2)', async () => {
    const app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'tiny-gpt2', ORT_THREADS: 1, MODEL_WORKERS: 2 });
    const rts = (await Promise.all([app.models.get('tiny-gpt2'), app.models.get('long')])) as WorkerRuntime[];
    expect(rts.map((r) => [r.parallelism, r.liveWorkers])).toEqual([
      [2, 2],
      [2, 2],
    ]);
    await app.close();
    expect(rts.map((r) => r.liveWorkers)).toEqual([0, 0]);
  }, 30_000);
});

describe('MODEL_WORKERS=0', () => {
  it('runs the model on the main thread, which then cannot answer /healthz until the forward pass is over', async () => {
    const app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'tiny-gpt2', ORT_THREADS: 1, MODEL_WORKERS: 0 });
    try {
      expect(await app.models.get('long')).toBeInstanceOf(OrtModelRuntime);
      const trace = app.inject({ method: 'POST', url: '/trace', payload: longTrace });
      const answered = await healthzDuring(app, trace);
      expect((await trace).statusCode).toBe(200);
      expect(answered).toBeLessThanOrEqual(5); // observed: 2, answered while the request was still being routed
    } finally {
      await app.close();
    }
  });
});
