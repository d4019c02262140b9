// GET /stream: a full session on the tiny fixture, checked against the numpy reference and POST /trace.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';
import {
  STREAM_PROTOCOL,
  type ServerMessage,
  type StepMessage,
  type TokenMessage,
  type DoneMessage,
  type StartedMessage,
} from '../../src/schemas/stream.js';
import { TraceResponseSchema } from '../../src/schemas/trace.js';
import { replaySample } from '../../src/sampling/sample.js';

interface StreamRef {
  prompt: number[];
  greedy: { id: number; prob: number }[];
  decode_steps: {
    step: number;
    position: number;
    stats: Record<string, { mean: number; l2_norm: number }>;
    pattern0: number[][];
  }[];
  sampling: {
    params: { temperature: number; top_k: number; top_p: number; seed: number };
    tokens: { id: number; draw: number; candidates: number }[];
  };
}
const here = path.dirname(fileURLToPath(import.meta.url));
// Produced by test/stream/reference_stream.py: numpy GPT-2 with full recompute (no KV cache) + numpy sampler.
const ref = JSON.parse(readFileSync(path.join(here, 'fixtures/stream-reference.json'), 'utf8')) as StreamRef;

const of = <T extends ServerMessage['type']>(frames: ServerMessage[], type: T) =>
  frames.filter((f): f is Extract<ServerMessage, { type: T }> => f.type === type);

describe('GET /stream session', () => {
  let server: StreamServer;
  let client: StreamClient;
  let greedy: ServerMessage[];
  beforeAll(async () => {
    server = await startStreamServer({ MAX_NEW_TOKENS: 40 });
    client = await StreamClient.connect(server.url);
    client.send({
      type: 'generate',
      id: 'g1',
      token_ids: ref.prompt,
      max_new_tokens: 4,
      hooks: [
        'blocks.*.hook_resid_post',
        'blocks.*.hook_attn_out',
        'blocks.*.mlp.hook_post',
        'blocks.*.attn.hook_pattern',
      ],
    });
    greedy = await client.untilDone('g1');
  });
  afterAll(async () => {
    client.close();
    await server.close();
  });

  it('says hello first, with the protocol, limits and models', () => {
    expect(client.frames[0]).toMatchObject({
      type: 'hello',
      protocol: STREAM_PROTOCOL,
      default_model: 'tiny-gpt2',
      models: ['tiny-gpt2'],
      limits: { max_new_tokens: 40, max_message_bytes: 65_536 },
    });
  });

  it('sends started, then step/token pairs with contiguous seq, then done', () => {
    expect(greedy.map((f) => f.type)).toEqual([
      'started',
      'step',
      'token',
      'step',
      'token',
      'step',
      'token',
      'step',
      'token',
      'done',
    ]);
    expect(greedy.map((f) => ('seq' in f ? f.seq : -1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const started = greedy[0] as StartedMessage;
    expect(started.owner).toBe(true);
    expect(started.prompt_tokens.map((t) => t.text).join('')).toBe('The capital of France is');
    expect(started.params).toMatchObject({ greedy: true, max_new_tokens: 4, prefill_positions: [4] });
    expect(started.hooks).toHaveLength(12);
    const steps = of(greedy, 'step');
    expect(steps.map((s) => [s.step, s.phase, s.positions, s.input_tokens, s.cache_length])).toEqual([
      [0, 'prefill', [4], 5, 5],
      [1, 'decode', [5], 1, 6],
      [2, 'decode', [6], 1, 7],
      [3, 'decode', [7], 1, 8],
    ]);
    for (const s of steps) {
      expect(s.hooks.map((h) => h.hook)).toEqual(started.hooks);
      expect(s.attention.map((a) => a.layer)).toEqual([0, 1, 2]);
    }
    const done = greedy.at(-1) as DoneMessage;
    expect(done).toMatchObject({ reason: 'length', tokens: 4, stop: null, coalesced: 0 });
    expect(done.timings.tokens_per_s).toBeGreaterThan(0);
  });

  it('greedy tokens equal the reference continuation, with their probabilities', () => {
    const tokens = of(greedy, 'token');
    expect(tokens.map((t) => t.token.id)).toEqual(ref.greedy.map((g) => g.id));
    expect(tokens.map((t) => t.position)).toEqual([5, 6, 7, 8]);
    tokens.forEach((t, i) => {
      expect(t.prob).toBeCloseTo(ref.greedy[i]!.prob, 6);
      expect(t.sampling).toMatchObject({ greedy: true, rank: 0, draw: null, candidates: 1 });
      expect(t.alternatives[0]!.id).toBe(t.token.id);
      // The lens of the predicting position tracks the real top-1 (this token).
      expect(t.logit_lens!.positions[0]!.position).toBe(4 + i);
      expect(t.logit_lens!.positions[0]!.final_top1.id).toBe(t.token.id);
      expect(t.logit_lens!.stages).toHaveLength(4);
    });
    expect((greedy.at(-1) as DoneMessage).token_ids).toEqual(ref.greedy.map((g) => g.id));
  });

  it('decode steps (KV cache) match the reference full recompute at the new position', () => {
    const steps = of(greedy, 'step').slice(1);
    for (const want of ref.decode_steps) {
      const got = steps.find((s) => s.step === want.step) as StepMessage;
      expect(got.positions).toEqual([want.position]);
      for (const [hook, st] of Object.entries(want.stats)) {
        const h = got.hooks.find((x) => x.hook === hook)!;
        expect(Math.abs(h.stats.l2_norm - st.l2_norm)).toBeLessThan(1e-4 * Math.max(1, st.l2_norm));
        expect(Math.abs(h.stats.mean! - st.mean)).toBeLessThan(1e-5);
      }
      const heads = got.attention[0]!.heads;
      heads.forEach((hd, i) => {
        expect(hd.rows[0]!).toHaveLength(want.position + 1);
        hd.rows[0]!.forEach((v, k) => expect(Math.abs(v - want.pattern0[i]![k]!)).toBeLessThan(1e-5));
      });
    }
  });

  it('the prefill step equals POST /trace at the last position (same summariser, same numbers)', async () => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/trace',
      payload: {
        token_ids: ref.prompt,
        positions: 'last',
        hooks: (greedy[0] as StartedMessage).hooks,
        max_new_tokens: 4,
      },
    });
    expect(res.statusCode).toBe(200);
    const trace = TraceResponseSchema.parse(res.json());
    const prefill = of(greedy, 'step')[0]!;
    expect(prefill.hooks).toEqual(trace.hooks);
    expect(prefill.attention).toEqual(trace.attention);
    const first = of(greedy, 'token')[0]!;
    expect(first.alternatives).toEqual(trace.top_k);
    expect(first.logit_lens).toEqual(trace.logit_lens);
    expect(of(greedy, 'token').map((t) => t.token.id)).toEqual(trace.generated!.tokens.map((t) => t.id));
  });

  it('seeded sampling reproduces the numpy sampler on reference logits, and replays from its record', async () => {
    const { params, tokens } = ref.sampling;
    const run = async (id: string, seed: number) => {
      client.send({
        type: 'generate',
        id,
        token_ids: ref.prompt,
        max_new_tokens: tokens.length,
        hooks: ['hook_embed'],
        logit_lens: false,
        ...params,
        seed,
      });
      return of(await client.untilDone(id), 'token') as TokenMessage[];
    };
    const a = await run('s1', params.seed);
    expect(a.map((t) => t.token.id)).toEqual(tokens.map((t) => t.id));
    a.forEach((t, i) => {
      expect(t.sampling).toMatchObject({ greedy: false, seed: 42, rng_counter: i, candidates: tokens[i]!.candidates });
      expect(t.sampling.draw).toBe(tokens[i]!.draw);
      expect(t.sampling.prob_filtered).toBeGreaterThan(0);
      expect(t.logit_lens).toBeNull();
    });
    const b = await run('s2', params.seed);
    expect(b.map((t) => t.token.id)).toEqual(a.map((t) => t.token.id));
    const c = await run('s3', params.seed + 1);
    expect(c.map((t) => t.token.id)).not.toEqual(a.map((t) => t.token.id));
  });

  it('a greedy record replays to the same token from the alternatives logits', () => {
    const t = of(greedy, 'token')[0]!;
    const logits = new Float64Array(50257).fill(-1e9);
    for (const alt of t.alternatives) logits[alt.id] = alt.logit;
    expect(replaySample(logits, t.sampling)).toBe(t.token.id);
  });

  it('max_new_tokens 0 gives only the prefill step', async () => {
    client.send({ type: 'generate', id: 'z', prompt: 'Hello', max_new_tokens: 0 });
    const frames = await client.untilDone('z');
    expect(frames.map((f) => f.type)).toEqual(['started', 'step', 'done']);
    expect(frames[2]).toMatchObject({ reason: 'length', tokens: 0, text: '' });
  });

  it('prefill_positions {"last": 64} on a 5-token prompt is clipped to positions 0..4', async () => {
    const prompt = 'The capital of France is';
    client.send({ type: 'generate', id: 'cl', prompt, max_new_tokens: 0, prefill_positions: { last: 64 } });
    const frames = await client.untilDone('cl');
    expect(frames.map((f) => f.type)).toEqual(['started', 'step', 'done']);
    expect((frames[0] as StartedMessage).params.prefill_positions).toEqual([0, 1, 2, 3, 4]);
  });

  it('a server-chosen seed is reported in started', async () => {
    client.send({ type: 'generate', id: 'rs', prompt: 'Hello', max_new_tokens: 1, temperature: 1 });
    const frames = await client.untilDone('rs');
    const started = frames[0] as StartedMessage;
    expect(Number.isInteger(started.params.seed)).toBe(true);
    expect((frames[2] as TokenMessage).sampling.seed).toBe(started.params.seed);
  });
});
