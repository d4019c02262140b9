// WorkerRuntime: the same numbers as the in-process runtime, computed in worker threads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerRuntime } from '../../src/stream/worker-runtime.js';
import { loadGpt2Runtime } from '../../src/runtime/load.js';
import type { Gpt2Runtime } from '../../src/runtime/types.js';
import { TINY_FIXTURE } from '../trace/models-dir.js';

describe('WorkerRuntime', () => {
  let local: Gpt2Runtime;
  let threaded: WorkerRuntime;
  beforeAll(async () => {
    local = await loadGpt2Runtime(TINY_FIXTURE, { name: 'tiny' });
    threaded = await WorkerRuntime.load(TINY_FIXTURE, { name: 'tiny', workers: 2, threads: 1 });
  }, 30_000);
  afterAll(async () => {
    await local.dispose();
    await threaded.dispose();
  });

  it('prefill + KV-cached decode steps give bit-identical hooks and logits, whichever worker runs a step', async () => {
    const hooks = ['blocks.0.hook_resid_post', 'blocks.2.attn.hook_pattern'];
    let a = await local.forward({ tokenIds: [464, 3139, 286, 4881, 318], hooks });
    let b = await threaded.forward({ tokenIds: [464, 3139, 286, 4881, 318], hooks });
    for (const next of [13307, 13307, 19296]) {
      expect(b.present.length).toBe(a.present.length);
      expect(Array.from(b.logits.data)).toEqual(Array.from(a.logits.data));
      for (const h of hooks) expect(Array.from(b.activations.get(h)!.data)).toEqual(Array.from(a.activations.get(h)!.data));
      a = await local.forward({ tokenIds: [next], past: a.present, hooks });
      b = await threaded.forward({ tokenIds: [next], past: b.present, hooks });
    }
    const rows = a.activations.get('blocks.0.hook_resid_post')!.data;
    const req = { rows, nRows: 1, topK: 5, trackIds: [13307] };
    expect(await threaded.lens(req)).toEqual(await local.lens(req));
  });

  it('errors keep their problem code; a foreign cache is refused', async () => {
    await expect(threaded.forward({ tokenIds: [50257], hooks: [] })).rejects.toMatchObject({ code: 'invalid_token_id', statusCode: 400 });
    const foreign = (await local.forward({ tokenIds: [1], hooks: [] })).present;
    await expect(threaded.forward({ tokenIds: [1], past: foreign, hooks: [] })).rejects.toThrow(/not made by it/);
  });
});
