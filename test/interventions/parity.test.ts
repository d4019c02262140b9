// Interventions vs the independent numpy reference (tools/reference/gpt2_reference.py --cases): every op, every
// hook downstream, the last-position logits and the intervened greedy tokens (KV-cache decode here, full
// recompute there), on the fp32 and fp16 fixtures.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPatchSources } from '../../src/interventions/patch.js';
import { resolveInterventions } from '../../src/interventions/resolve.js';
import type { ResolvedIntervention } from '../../src/interventions/types.js';
import { loadModelRuntime } from '../../src/runtime/load.js';
import type { ModelRuntime, KvCache } from '../../src/runtime/types.js';
import { InterventionsSchema } from '../../src/schemas/interventions.js';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import { compare, FIXTURES, TINY, TINY_FP16 } from '../runtime/reference.js';

// The parity tolerance of test/runtime/parity.test.ts (float32 vs float64 over 3 layers).
const ATOL = 2e-5;
const RTOL = 2e-5;

interface Case {
  name: string;
  ids: number[];
  interventions: unknown[];
  greedy: number;
}

const casesOf = async (file: string): Promise<Case[]> =>
  JSON.parse(await readFile(path.join(FIXTURES, 'reference', file), 'utf8')).cases;
const GPT2_CASES = await casesOf('intervention-cases.json');
const LLAMA_CASES = await casesOf('llama-intervention-cases.json');

/** As test/runtime/llama-parity.test.ts: atol scaled by the tensor's largest |value| (at least 1). */
function within(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  let scale = 1;
  for (let i = 0; i < expected.length; i++)
    if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  return compare(actual, expected, ATOL * scale, RTOL);
}

describe.each([
  { model: TINY, file: 'tiny-gpt2.interventions.safetensors', cases: GPT2_CASES },
  { model: TINY_FP16, file: 'tiny-gpt2-fp16.interventions.safetensors', cases: GPT2_CASES },
  // llama family: grouped key/value heads, RoPE, gated MLP (src/graph/build-llama.ts)
  { model: path.join(FIXTURES, 'tiny-qwen2'), file: 'tiny-qwen2.interventions.safetensors', cases: LLAMA_CASES },
])('$file', ({ model, file, cases }) => {
  let rt: ModelRuntime;
  let ref: Map<string, Float32Array>;
  let greedy: Record<string, number[]>;
  beforeAll(async () => {
    rt = await loadModelRuntime(model, { name: 'tiny', threads: 1 });
    const f = await readSafetensors(path.join(FIXTURES, 'reference', file));
    ref = new Map();
    for (const t of f.tensors) ref.set(t.name, await f.readFloat32(t.name));
    greedy = JSON.parse(f.metadata.greedy_ids);
  });
  afterAll(() => rt?.dispose());

  const resolved = async (c: Case): Promise<ResolvedIntervention[]> =>
    runPatchSources(
      rt,
      resolveInterventions(InterventionsSchema.parse(c.interventions), {
        dims: rt.dims,
        promptLength: c.ids.length,
        max: 64,
      }),
    );

  it('covers every op', () => {
    const ops = new Set(cases.flatMap((c: Case) => c.interventions.map((i) => (i as { op: string }).op)));
    expect([...ops].sort()).toEqual(['add', 'clamp', 'mean', 'patch', 'project', 'scale', 'set', 'zero']);
  });

  it.each(cases)('$name: every hook and the logits match', async (c) => {
    const ivs = await resolved(c);
    const res = await rt.forward({ tokenIds: c.ids, hooks: rt.hookNames, interventions: ivs });
    const V = rt.dims.dVocab;
    const failures: string[] = [];
    for (const hook of rt.hookNames) {
      if (hook === 'logits') continue;
      const exp = ref.get(`${c.name}/${hook}`);
      const act = res.activations.get(hook);
      if (!exp || !act) {
        failures.push(`${hook}: missing`);
        continue;
      }
      const r = within(act.data, exp);
      if (!r.ok) failures.push(`${hook}: ${r.why}`);
    }
    const last = res.logits.data.subarray((c.ids.length - 1) * V, c.ids.length * V);
    const r = within(last, ref.get(`${c.name}/logits_last`) as Float32Array);
    if (!r.ok) failures.push(`logits: ${r.why}`);
    expect(failures).toEqual([]);
  });

  it.each(cases.filter((c) => c.greedy > 0))(
    '$name: intervened KV-cache greedy decode gives the reference tokens',
    async (c) => {
      const ivs = await resolved(c);
      const V = rt.dims.dVocab;
      let past: KvCache | undefined;
      let next = c.ids;
      const out: number[] = [];
      for (let step = 0; step < c.greedy; step++) {
        const res = await rt.forward({ tokenIds: next, past, hooks: [], interventions: ivs });
        const last = res.logits.data.subarray((next.length - 1) * V, next.length * V);
        let best = 0;
        for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
        out.push(best);
        past = res.present;
        next = [best];
      }
      expect(out).toEqual(greedy[c.name]);
    },
  );
});
