// WorkerRuntime behaviour: problem codes across the thread boundary, worker-resident caches and their release,
// a crashed worker (503 for what was in flight, 409 for its caches, restart on next use), teardown.
import { copyFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/errors/problem-error.js';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { RuntimeLogger } from '../../src/runtime/ort-guard.js';
import type { ModelRuntime } from '../../src/runtime/types.js';
import { WorkerRuntime } from '../../src/runtime/worker-runtime.js';
import { crashWorker } from './crash-worker.js';
import { TINY } from './reference.js';

/** Status and code of a rejected promise (fails the test if it resolves or rejects with something else). */
async function problem(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProblemError);
  return { status: (err as ProblemError).statusCode, code: (err as ProblemError).code };
}

/** Bytes of one tiny-model cache of `len` tokens: keys + values, [head, len, d_head] float32 per layer. */
const cacheBytes = (rt: ModelRuntime, len: number) => 2 * rt.dims.nLayer * rt.dims.nHead * len * rt.dims.dHead * 4;

function recordingLogger(): RuntimeLogger & {
  records: { level: string; obj: Record<string, unknown>; msg?: string }[];
} {
  const records: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    void records.push({ level, obj: obj as Record<string, unknown>, msg });
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('WorkerRuntime', () => {
  let rt: WorkerRuntime;
  let local: ModelRuntime;
  const log = recordingLogger();
  beforeAll(async () => {
    [rt, local] = await Promise.all([
      WorkerRuntime.load(TINY, { name: 'tiny', workers: 1, threads: 1, logger: log }),
      loadModelRuntime(TINY, { name: 'tiny', threads: 1 }),
    ]);
  }, 30_000);
  afterAll(async () => {
    await rt?.dispose();
    await local?.dispose();
  });

  it("the worker's log records reach the main thread's logger, tagged with the worker", () => {
    expect(log.records).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: 'model loaded',
        obj: expect.objectContaining({ model: 'tiny', worker: 0 }),
      }),
    );
  });

  it('caller mistakes keep their status and code across the thread boundary', async () => {
    const first = await rt.forward({ tokenIds: Array(60).fill(5), hooks: [] });
    const cases: [() => Promise<unknown>, number, string][] = [
      [() => rt.forward({ tokenIds: [], hooks: [] }), 400, 'empty_input'],
      [() => rt.forward({ tokenIds: [50257], hooks: [] }), 400, 'token_id_out_of_range'],
      [() => rt.forward({ tokenIds: [1], hooks: ['blocks.3.hook_resid_pre'] }), 400, 'unknown_hook'],
      [() => rt.forward({ tokenIds: [1, 2, 3, 4, 5], past: first.present, hooks: [] }), 400, 'prompt_too_long'],
      [() => rt.forward({ tokenIds: [1], past: { length: 0 }, hooks: [] }), 400, 'foreign_cache'],
      [() => rt.lens({ rows: new Float32Array(32), nRows: 1, topK: 0 }), 400, 'invalid_top_k'],
    ];
    for (const [call, status, code] of cases) expect(await problem(call())).toEqual({ status, code });
    rt.release(first.present);
  });

  it('caches are not interchangeable between the in-process and the worker runtime: 400 foreign_cache both ways', async () => {
    const mine = (await rt.forward({ tokenIds: [1], hooks: [] })).present;
    const theirs = (await local.forward({ tokenIds: [1], hooks: [] })).present;
    expect(await problem(rt.forward({ tokenIds: [2], past: theirs, hooks: [] }))).toEqual({
      status: 400,
      code: 'foreign_cache',
    });
    expect(await problem(local.forward({ tokenIds: [2], past: mine, hooks: [] }))).toEqual({
      status: 400,
      code: 'foreign_cache',
    });
    rt.release(mine);
  });

  it('activations arrive as whole, separate buffers (moved out of the worker, never views of one shared block)', async () => {
    const r = await rt.forward({
      tokenIds: [1, 2, 3],
      hooks: ['logits', 'blocks.0.hook_resid_post', 'blocks.1.attn.hook_pattern'],
    });
    const arrays = [r.logits.data, ...[...r.activations.values()].map((a) => a.data)];
    for (const a of arrays) expect([a.byteOffset, a.buffer.byteLength]).toEqual([0, a.byteLength]);
    expect(r.activations.get('logits')!.data.buffer).not.toBe(r.logits.data.buffer); // asked twice: two buffers
    expect(Array.from(r.activations.get('logits')!.data.subarray(0, 8))).toEqual(
      Array.from(r.logits.data.subarray(0, 8)),
    );
    rt.release(r.present);
  });
});

describe('WorkerRuntime caches stay in the worker until released', () => {
  let rt: WorkerRuntime;
  beforeAll(async () => {
    rt = await WorkerRuntime.load(TINY, { name: 'tiny', workers: 1, threads: 1 });
  }, 30_000);
  afterAll(() => rt?.dispose());
  const held = async () => (await rt.cacheStats())[0]!;

  it('release() frees the tensors in the worker; using the cache afterwards is 409 cache_released; siblings live on', async () => {
    const start = await held();
    const base = await rt.forward({ tokenIds: [464, 3139, 286], hooks: [] });
    const child = await rt.forward({ tokenIds: [4881], past: base.present, hooks: [] });
    expect(await held()).toEqual({
      caches: start.caches + 2,
      bytes: start.bytes + cacheBytes(rt, 3) + cacheBytes(rt, 4),
    });
    rt.release(base.present);
    rt.release(base.present); // idempotent
    rt.release({ length: 3 }); // not ours: ignored
    expect(await held()).toEqual({ caches: start.caches + 1, bytes: start.bytes + cacheBytes(rt, 4) });
    expect(await problem(rt.forward({ tokenIds: [1], past: base.present, hooks: [] }))).toEqual({
      status: 409,
      code: 'cache_released',
    });
    const grandchild = await rt.forward({ tokenIds: [318], past: child.present, hooks: [] });
    expect(grandchild.present.length).toBe(5);
    rt.release(child.present);
    rt.release(grandchild.present);
    expect(await held()).toEqual(start);
  });

  it('a handle dropped without release() is freed in the worker once the main thread garbage-collects it', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const start = await held();
    await (async () => {
      await rt.forward({ tokenIds: [1, 2, 3, 4], hooks: [] }); // the result (and its cache handle) is dropped here
    })();
    expect((await held()).caches).toBe(start.caches + 1);
    // FinalizationRegistry callbacks run some time after a collection: collect and yield until the worker has let go.
    for (let i = 0; i < 100 && (await held()).caches > start.caches; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await held()).toEqual(start);
  });

  it('the in-process runtime has the same release semantics (409 cache_released)', async () => {
    const local = await loadModelRuntime(TINY, { name: 'tiny', threads: 1 });
    try {
      const r = await local.forward({ tokenIds: [1, 2], hooks: [] });
      local.release!(r.present);
      expect(await problem(local.forward({ tokenIds: [3], past: r.present, hooks: [] }))).toEqual({
        status: 409,
        code: 'cache_released',
      });
    } finally {
      await local.dispose();
    }
  });
});

describe('WorkerRuntime when a worker stops', () => {
  it('in-flight calls fail with 503 model_worker_crashed, its caches with 409 cache_released, the next call restarts it', async () => {
    const log = recordingLogger();
    const rt = await WorkerRuntime.load(TINY, { name: 'tiny', workers: 1, threads: 1, logger: log });
    try {
      const before = await rt.forward({ tokenIds: [464, 3139, 286], hooks: [] });
      crashWorker(rt, 0);
      const inFlight = problem(rt.forward({ tokenIds: [4881], past: before.present, hooks: [] }));
      expect(await inFlight).toEqual({ status: 503, code: 'model_worker_crashed' });
      expect(rt.liveWorkers).toBe(0);
      const report = log.records.find((r) => r.msg === 'model worker stopped unexpectedly; it restarts on next use');
      expect(report).toMatchObject({ level: 'error', obj: { model: 'tiny', worker: 0 } });
      expect(String((report!.obj.err as Error).message)).toMatch(/not iterable/); // the worker's own exception
      expect(await problem(rt.forward({ tokenIds: [4881], past: before.present, hooks: [] }))).toEqual({
        status: 409,
        code: 'cache_released',
      });
      const again = await rt.forward({ tokenIds: [464, 3139, 286], hooks: [] });
      expect(rt.liveWorkers).toBe(1);
      expect(Array.from(again.logits.data.subarray(0, 16))).toEqual(Array.from(before.logits.data.subarray(0, 16)));
      const next = await rt.forward({ tokenIds: [4881], past: again.present, hooks: [] }); // caches of the new worker work
      expect(next.present.length).toBe(4);
    } finally {
      await rt.dispose();
    }
  }, 30_000);

  it('a restart that cannot load the model is 503 model_load_failed; the one after the files are fixed works', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-restart-'));
    await copyFile(path.join(TINY, 'config.json'), path.join(dir, 'config.json'));
    await copyFile(path.join(TINY, 'model.safetensors'), path.join(dir, 'model.safetensors'));
    const rt = await WorkerRuntime.load(dir, { name: 'tiny', workers: 1, threads: 1 });
    try {
      crashWorker(rt, 0);
      while (rt.liveWorkers > 0) await new Promise((r) => setImmediate(r));
      await rename(path.join(dir, 'model.safetensors'), path.join(dir, 'moved.safetensors'));
      expect(await problem(rt.forward({ tokenIds: [1], hooks: [] }))).toEqual({
        status: 503,
        code: 'model_load_failed',
      });
      await rename(path.join(dir, 'moved.safetensors'), path.join(dir, 'model.safetensors'));
      expect((await rt.forward({ tokenIds: [1], hooks: [] })).present.length).toBe(1);
    } finally {
      await rt.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('dispose() lets calls in flight finish, then the worker threads exit; later calls fail with 422 model_unloaded', async () => {
    const rt = await WorkerRuntime.load(TINY, { name: 'tiny', workers: 2, threads: 1 });
    expect(rt.liveWorkers).toBe(2);
    const inFlight = Promise.all([
      rt.forward({ tokenIds: [1, 2, 3], hooks: [] }),
      rt.forward({ tokenIds: [4, 5], hooks: [] }),
    ]);
    await new Promise((r) => setImmediate(r)); // both requests have been posted to their workers
    await rt.dispose();
    expect(rt.liveWorkers).toBe(0);
    expect((await inFlight).map((r) => r.present.length)).toEqual([3, 2]);
    expect(await problem(rt.forward({ tokenIds: [1], hooks: [] }))).toEqual({ status: 422, code: 'model_unloaded' });
  }, 30_000);

  it('a checkpoint the worker cannot load rejects load() with its problem (422 invalid_checkpoint)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-bad-'));
    try {
      await copyFile(path.join(TINY, 'config.json'), path.join(dir, 'config.json'));
      await writeFile(path.join(dir, 'model.safetensors'), 'not a safetensors file');
      expect(await problem(WorkerRuntime.load(dir, { name: 'bad', workers: 1, threads: 1 }))).toEqual({
        status: 422,
        code: 'invalid_checkpoint',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
