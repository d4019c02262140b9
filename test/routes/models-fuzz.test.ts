// Fuzz the two POST routes with a seeded PRNG: every reply is a 4xx or a 200 whose body parses, never a 500; the server stays up.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ParamsReportSchema, ShapesReportSchema } from '../../src/schemas/models.js';
import { ProblemSchema } from '../../src/schemas/problem.js';
import { SUPPORTED_MODEL_TYPES } from '../../src/arch/spec.js';
import { testApp } from '../helpers/app.js';
import { mulberry32 as prng } from '../../tools/checkpoint/make-random.js';

const FIELDS = [
  'vocab_size',
  'hidden_size',
  'n_embd',
  'num_hidden_layers',
  'n_layer',
  'num_attention_heads',
  'n_head',
  'num_key_value_heads',
  'head_dim',
  'intermediate_size',
  'max_position_embeddings',
  'n_positions',
  'num_local_experts',
  'num_experts',
  'num_experts_per_tok',
  'n_routed_experts',
  'moe_intermediate_size',
  'kv_lora_rank',
  'q_lora_rank',
  'qk_nope_head_dim',
  'qk_rope_head_dim',
  'v_head_dim',
  'sliding_window',
  'layer_types',
  'mlp_only_layers',
  'tie_word_embeddings',
  'first_k_dense_replace',
  'moe_layer_freq',
  'decoder_sparse_step',
  'num_nextn_predict_layers',
  'text_config',
];
const GOOD = {
  model_type: 'llama',
  vocab_size: 1000,
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  intermediate_size: 128,
  max_position_embeddings: 256,
};

function fuzzBodies(seed: number, n: number): Array<{ payload: string; contentType: string; query: string }> {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const weird = (): unknown =>
    pick<() => unknown>([
      () => -Math.floor(r() * 100),
      () => 0,
      () => 1e12,
      () => 1e300,
      () => 2 ** 53 + 1,
      () => r() * 10,
      () => 'NaN',
      () => 'Infinity',
      () => '64',
      () => null,
      () => true,
      () => [],
      () => [1, 'a', null],
      () => ({}),
      () => Math.floor(r() * 5000),
      () => pick(SUPPORTED_MODEL_TYPES),
      () => 'x'.repeat(Math.floor(r() * 300)),
      () => ({ model_type: pick(SUPPORTED_MODEL_TYPES), hidden_size: 'big' }),
    ])();
  const out: Array<{ payload: string; contentType: string; query: string }> = [];
  for (let i = 0; i < n; i++) {
    const kind = r();
    let body: unknown;
    if (kind < 0.15) body = weird();
    else {
      const cfg: Record<string, unknown> = { ...GOOD, model_type: r() < 0.9 ? pick(SUPPORTED_MODEL_TYPES) : weird() };
      const edits = 1 + Math.floor(r() * 4);
      for (let j = 0; j < edits; j++) {
        const f = pick(FIELDS);
        if (r() < 0.2) delete cfg[f];
        else cfg[f] = weird();
      }
      body = cfg;
    }
    let payload = JSON.stringify(body) ?? 'null';
    if (r() < 0.1) payload = payload.slice(0, Math.floor(r() * payload.length)); // truncated JSON text
    const contentType =
      r() < 0.08 ? pick(['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) : 'application/json';
    const query =
      r() < 0.3
        ? `?seq_len=${pick(['1', '0', '-3', 'abc', '1e9', '99999999999', '256', '257', '1.5'])}&batch=${pick(['1', '0', '2', '5000', 'x'])}`
        : '';
    out.push({ payload, contentType, query });
  }
  return out;
}

describe('POST /models/params and /models/shapes fuzz', () => {
  let app: FastifyInstance;
  let emptyModels: string;
  beforeAll(async () => {
    emptyModels = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-fuzz-'));
    app = await testApp({ MODELS_DIR: emptyModels });
  });
  afterAll(async () => {
    await app?.close();
    await rm(emptyModels, { recursive: true, force: true });
  });

  it('never answers 5xx for 400 generated bodies (seed 20240611)', async () => {
    const statuses = new Map<number, number>();
    for (const [i, b] of fuzzBodies(20240611, 400).entries()) {
      const url = `${i % 2 ? '/models/shapes' : '/models/params'}${b.query}`;
      const res = await app.inject({
        method: 'POST',
        url,
        payload: b.payload,
        headers: { 'content-type': b.contentType },
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      const where = `#${i} ${url} ${b.contentType} ${b.payload.slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
      expect(res.statusCode < 500, where).toBe(true);
      if (res.statusCode === 200) (i % 2 ? ShapesReportSchema : ParamsReportSchema).parse(res.json());
      else ProblemSchema.parse(res.json());
    }
    // The generator must reach both outcomes, or it tests nothing.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThan(1);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});
