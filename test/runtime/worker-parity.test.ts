// WorkerRuntime vs the in-process runtime: every hook bit-identical, KV-cached decoding through handles = full recompute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInterventions } from '../../src/interventions/resolve.js';
import { loadModelRuntime } from '../../src/runtime/load.js';
import { InterventionsSchema } from '../../src/schemas/interventions.js';
import type { ForwardResult, ModelRuntime, KvCache } from '../../src/runtime/types.js';
import { WorkerRuntime } from '../../src/runtime/worker-runtime.js';
import { loadReference, maxAbsDiff, TINY, TINY_FP16, type Reference } from './reference.js';

/** Bit-identical float arrays (vitest's deep equality walks element by element and takes seconds on logits). */
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Hooks whose values differ between the runtimes (none expected: same graph, same onnxruntime, one thread each). */
function differences(a: ForwardResult, b: ForwardResult, hooks: readonly string[]): string[] {
  const out: string[] = [];
  if (!sameBits(a.logits.data, b.logits.data)) out.push('logits');
  for (const h of hooks) {
    const x = a.activations.get(h);
    const y = b.activations.get(h);
    if (!x || !y || JSON.stringify(x.dims) !== JSON.stringify(y.dims) || !sameBits(x.data, y.data)) out.push(h);
  }
  return out;
}

const cases = [
  { model: TINY, file: 'tiny-gpt2.capital.safetensors', workers: 2 },
  { model: TINY_FP16, file: 'tiny-gpt2-fp16.capital.safetensors', workers: 1 },
];

describe.each(cases)('$file through $workers worker(s)', ({ model, file, workers }) => {
  let local: ModelRuntime;
  let threaded: WorkerRuntime;
  let ref: Reference;
  beforeAll(async () => {
    [local, threaded, ref] = await Promise.all([
      loadModelRuntime(model, { name: 'tiny', threads: 1 }),
      WorkerRuntime.load(model, { name: 'tiny', workers, threads: 1 }),
      loadReference(file),
    ]);
  }, 30_000);
  afterAll(async () => {
    await local?.dispose();
    await threaded?.dispose();
  });

  it('every hook of every layer and the logits are bit-identical to the in-process runtime', async () => {
    const [a, b] = await Promise.all([
      local.forward({ tokenIds: ref.ids, hooks: local.hookNames }),
      threaded.forward({ tokenIds: ref.ids, hooks: threaded.hookNames }),
    ]);
    expect(threaded.hookNames).toEqual(local.hookNames);
    expect(threaded.dims).toEqual(local.dims);
    expect(b.activations.size).toBe(local.hookNames.length);
    expect(differences(a, b, local.hookNames)).toEqual([]);
  });

  it('KV-cached decoding through handles equals a full recompute (and the in-process cached decode, bit for bit)', async () => {
    const hooks = ['blocks.1.attn.hook_pattern', 'blocks.2.hook_resid_post', 'blocks.0.attn.hook_k'];
    const ids = ref.ids;
    const full = await local.forward({ tokenIds: ids, hooks: [] });
    const V = local.dims.dVocab;
    const split = 3;
    let a = await local.forward({ tokenIds: ids.slice(0, split), hooks });
    let b = await threaded.forward({ tokenIds: ids.slice(0, split), hooks });
    for (let t = split; t < ids.length; t++) {
      const pastA: KvCache = a.present;
      const pastB: KvCache = b.present;
      a = await local.forward({ tokenIds: [ids[t]!], past: pastA, hooks });
      b = await threaded.forward({ tokenIds: [ids[t]!], past: pastB, hooks });
      expect(b.present.length).toBe(t + 1);
      expect(differences(a, b, hooks)).toEqual([]);
      expect(maxAbsDiff(b.logits.data, full.logits.data.subarray(t * V, (t + 1) * V))).toBeLessThan(1e-5);
    }
  });

  it('interventions cross into the worker: an edited forward is bit-identical to the in-process one', async () => {
    const ivs = resolveInterventions(
      InterventionsSchema.parse([
        { hook: 'blocks.1.attn.hook_z', heads: [1], op: 'zero' },
        { hook: 'blocks.0.hook_resid_post', positions: 'last', op: 'add', vector: new Array(32).fill(0.25) },
      ]),
      { dims: local.dims, promptLength: ref.ids.length, max: 8 },
    );
    const hooks = ['blocks.1.attn.hook_z', 'blocks.2.hook_resid_post'];
    const [a, b] = await Promise.all([
      local.forward({ tokenIds: ref.ids, hooks, interventions: ivs }),
      threaded.forward({ tokenIds: ref.ids, hooks, interventions: ivs }),
    ]);
    expect(differences(a, b, hooks)).toEqual([]);
    const clean = await threaded.forward({ tokenIds: ref.ids, hooks });
    expect(differences(clean, b, hooks)).toEqual(['logits', ...hooks]);
  });

  it('greedy continuation through handles gives the reference tokens', async () => {
    let past: KvCache | undefined;
    let next = ref.ids;
    const out: number[] = [];
    for (let step = 0; step < ref.greedyIds.length; step++) {
      const res = await threaded.forward({ tokenIds: next, past, hooks: [] });
      const V = threaded.dims.dVocab;
      const last = res.logits.data.subarray((next.length - 1) * V, next.length * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (last[v]! > last[best]!) best = v;
      out.push(best);
      past = res.present;
      next = [best];
    }
    expect(out).toEqual(ref.greedyIds);
  });

  it('logit lens rows are identical to the in-process runtime', async () => {
    const rows = ref.tensors.get('lens.rows')!;
    const req = { rows: rows.data, nRows: rows.dims[0]!, topK: ref.lensTopK, trackIds: ref.lensTrackIds };
    expect(await threaded.lens(req)).toEqual(await local.lens(req));
    expect(rows.data.length).toBe(rows.dims[0]! * local.dims.dModel); // the caller's rows are copied, not moved
  });
});

describe('two workers', () => {
  let local: ModelRuntime;
  let threaded: WorkerRuntime;
  beforeAll(async () => {
    [local, threaded] = await Promise.all([
      loadModelRuntime(TINY, { name: 'tiny', threads: 1 }),
      WorkerRuntime.load(TINY, { name: 'tiny', workers: 2, threads: 1 }),
    ]);
  }, 30_000);
  afterAll(async () => {
    await local?.dispose();
    await threaded?.dispose();
  });

  it('concurrent generations land on both workers and each continues on its own, with in-process results', async () => {
    const prompts = [
      [464, 3139, 286],
      [4881, 318, 6342, 13],
    ];
    const hooks = ['blocks.2.hook_resid_post'];
    const run = async (rt: ModelRuntime, ids: number[]) => {
      let r = await rt.forward({ tokenIds: ids, hooks });
      const steps = [r];
      for (const next of [13307, 19296, 11])
        steps.push((r = await rt.forward({ tokenIds: [next], past: r.present, hooks })));
      return steps;
    };
    const threadedRuns = await Promise.all(prompts.map((p) => run(threaded, p)));
    const stats = await threaded.cacheStats();
    expect(stats.map((s) => s.caches > 0)).toEqual([true, true]); // one generation per worker
    for (const [i, p] of prompts.entries()) {
      const localRun = await run(local, p);
      localRun.forEach((a, s) => expect(differences(a, threadedRuns[i]![s]!, hooks)).toEqual([]));
    }
  });

  it('branching: any earlier handle can be continued again, with identical results', async () => {
    const base = await threaded.forward({ tokenIds: [464, 3139, 286], hooks: [] });
    const a = await threaded.forward({ tokenIds: [100], past: base.present, hooks: [] });
    await threaded.forward({ tokenIds: [200, 300], past: base.present, hooks: [] });
    const again = await threaded.forward({ tokenIds: [100], past: base.present, hooks: [] });
    expect(sameBits(again.logits.data, a.logits.data)).toBe(true);
    expect(again.present.length).toBe(4);
  });
});
