// The stream's compare: true (the clean generation in lockstep) and the `intervene` message (a new set from the
// next forward pass on). Clean tokens are the reference's greedy tokens; tokens made after an `intervene` equal an
// intervened full recompute through POST /trace with the same edits at the positions computed under them.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import type {
  DoneMessage,
  IntervenedMessage,
  ServerMessage,
  StartedMessage,
  StepMessage,
  TokenMessage,
} from '../../src/schemas/stream.js';
import { FIXTURES, loadReference } from '../runtime/reference.js';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';

const PROMPT = [464, 3139, 286, 4881, 318];
const P = PROMPT.length;
const of = <T extends ServerMessage['type']>(frames: ServerMessage[], type: T) =>
  frames.filter((f) => f.type === type) as Extract<ServerMessage, { type: T }>[];

describe('GET /stream compare and intervene', () => {
  let server: StreamServer;
  let c: StreamClient;
  let cleanGreedy: number[];
  let refIntervened: Record<string, number[]>;
  beforeAll(async () => {
    server = await startStreamServer({ MAX_NEW_TOKENS: 24 });
    c = await StreamClient.connect(server.url);
    cleanGreedy = (await loadReference('tiny-gpt2.capital.safetensors')).greedyIds;
    const iv = await readSafetensors(path.join(FIXTURES, 'reference', 'tiny-gpt2.interventions.safetensors'));
    refIntervened = JSON.parse(iv.metadata.greedy_ids);
  });
  afterAll(async () => {
    c.close();
    await server.close();
  });

  /** The greedy next token of POST /trace on `ids` with `interventions` (a full recompute). */
  async function traceNext(ids: number[], interventions: unknown[] = []): Promise<{ id: number; prob: number }> {
    const res = await server.app.inject({
      method: 'POST',
      url: '/trace',
      payload: { token_ids: ids, max_new_tokens: 0, hooks: [], interventions },
    });
    expect(res.statusCode).toBe(200);
    return res.json().top_k[0];
  }

  it('compare: true: token frames carry the clean token next to the intervened one, both as the reference', async () => {
    const interventions = [{ hook: 'blocks.1.attn.hook_z', heads: [0, 2], op: 'zero' }];
    c.send({
      type: 'generate',
      id: 'cmp',
      token_ids: PROMPT,
      max_new_tokens: 4,
      hooks: [],
      interventions,
      compare: true,
    });
    const frames = await c.untilDone('cmp');
    const started = of(frames, 'started')[0] as StartedMessage;
    const tokens = of(frames, 'token');
    const done = frames.at(-1) as DoneMessage;
    expect(started.params.compare).toBe(true);
    expect(started.interventions_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(started.applied).toEqual([expect.objectContaining({ hook: 'blocks.1.attn.hook_z', heads: [0, 2] })]);
    expect(tokens.map((t) => t.token.id)).toEqual(refIntervened.zero_heads);
    expect(tokens.map((t) => t.baseline?.token.id)).toEqual(cleanGreedy.slice(0, 4));
    expect(tokens.map((t) => t.baseline?.same)).toEqual(tokens.map((t, i) => t.token.id === cleanGreedy[i]));
    for (const t of [...tokens, ...of(frames, 'step')]) expect(t.interventions_hash).toBe(started.interventions_hash);
    // the first clean token's probability is the clean /trace's, the intervened one the intervened /trace's
    const clean0 = await traceNext(PROMPT);
    const edited0 = await traceNext(PROMPT, interventions);
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(rel(tokens[0].baseline?.prob as number, clean0.prob)).toBeLessThan(1e-4);
    expect(rel(tokens[0].prob, edited0.prob)).toBeLessThan(1e-4);
    expect(rel(tokens[0].prob, tokens[0].baseline?.prob as number)).toBeGreaterThan(0.1);
    expect(done.token_ids).toEqual(refIntervened.zero_heads);
    expect(done.baseline).toMatchObject({ reason: 'length', tokens: 4, token_ids: cleanGreedy.slice(0, 4) });
  });

  it('without compare, frames carry no baseline, and a generation without edits has hash null', async () => {
    c.send({ type: 'generate', id: 'plain', token_ids: PROMPT, max_new_tokens: 2, hooks: [] });
    const frames = await c.untilDone('plain');
    const tokens = of(frames, 'token');
    expect(tokens.map((t) => t.token.id)).toEqual(cleanGreedy.slice(0, 2));
    expect(tokens.every((t) => !('baseline' in t) && t.interventions_hash === null)).toBe(true);
    expect((frames.at(-1) as DoneMessage).baseline).toBeUndefined();
    expect((of(frames, 'started')[0] as StartedMessage).applied).toEqual([]);
  });

  it('intervene mid-generation: frames from `from_step` on carry the new hash and equal an intervened recompute', async () => {
    const N = 24;
    const edit = { hook: 'blocks.0.hook_attn_out', positions: 'last', op: 'scale', factor: 2.5 };
    const sent = c.waitFor((f) => f.type === 'token' && f.id === 'live' && f.index === 1);
    c.send({ type: 'generate', id: 'live', token_ids: PROMPT, max_new_tokens: N, stop_at_eos: false, compare: true });
    await sent;
    c.send({ type: 'intervene', id: 'live', interventions: [edit] });
    const frames = await c.untilDone('live');
    const ack = of(frames, 'intervened');
    expect(ack).toHaveLength(1);
    const { from_step: k, interventions_hash: hash, seq } = ack[0] as IntervenedMessage;
    expect(k).toBeGreaterThanOrEqual(2); // sent after token 1 arrived: step 2 at the earliest
    expect(k).toBeLessThan(N);
    expect(hash).toMatch(/^sha256:/);
    expect(ack[0].note).toBeUndefined(); // "last" acts on every new token
    const tokens = of(frames, 'token');
    const steps = of(frames, 'step') as StepMessage[];
    expect(tokens.map((t) => t.interventions_hash)).toEqual(tokens.map((t) => (t.index < k ? null : hash)));
    expect(steps.map((s) => s.interventions_hash)).toEqual(steps.map((s) => (s.step < k ? null : hash)));
    expect(steps.find((s) => s.step === k)?.seq).toBeGreaterThan(seq);
    const ids = tokens.map((t) => t.token.id);
    // the clean lane is untouched by the intervene
    const cleanIds = tokens.map((t) => t.baseline?.token.id);
    for (let j = 0; j < N; j += 7)
      expect(cleanIds[j]).toBe((await traceNext([...PROMPT, ...cleanIds.slice(0, j)] as number[])).id);
    expect(ids.slice(0, k)).toEqual(cleanIds.slice(0, k));
    // token j >= k: its forward passes from step k on (positions P+k-1 ..) ran with the edit
    for (const j of [k, k + 1, N - 1].filter((j, i, a) => j < N && a.indexOf(j) === i)) {
      const positions = Array.from({ length: j - k + 1 }, (_, t) => P + k - 1 + t);
      const next = await traceNext([...PROMPT, ...ids.slice(0, j)], [{ ...edit, positions }]);
      expect(next.id, `token ${j}`).toBe(ids[j]);
    }
    expect(ids.slice(k)).not.toEqual(cleanIds.slice(k)); // the edit changed the answer
  });

  it('an intervene whose positions lie in the prompt says it can no longer act', async () => {
    const sent = c.waitFor((f) => f.type === 'token' && f.id === 'late' && f.index === 0);
    c.send({ type: 'generate', id: 'late', token_ids: PROMPT, max_new_tokens: 16, stop_at_eos: false, hooks: [] });
    await sent;
    c.send({
      type: 'intervene',
      id: 'late',
      interventions: [
        { hook: 'blocks.0.hook_resid_post', positions: [1], op: 'zero' },
        { hook: 'blocks.0.hook_resid_post', positions: 'last', op: 'scale', factor: 1 },
      ],
    });
    const frames = await c.untilDone('late');
    const ack = of(frames, 'intervened')[0] as IntervenedMessage;
    expect(ack.note).toMatch(/^interventions 0 select only positions already in the KV cache/);
    expect(ack.applied.map((a) => a.positions)).toEqual([[1], 'last']);
    // positions in the KV cache and scale 1 change nothing: the tokens stay the clean ones
    const tokens = of(frames, 'token') as TokenMessage[];
    expect(tokens.slice(0, 8).map((t) => t.token.id)).toEqual(cleanGreedy);
  });

  it('bad intervene frames are errors for that id; the generation and the connection go on', async () => {
    const sent = c.waitFor((f) => f.type === 'token' && f.id === 'go' && f.index === 0);
    c.send({ type: 'generate', id: 'go', token_ids: PROMPT, max_new_tokens: 12, stop_at_eos: false, hooks: [] });
    await sent;
    const err = c.next('error', 'go');
    c.send({ type: 'intervene', id: 'go', interventions: [{ hook: 'blocks.0.attn.hook_z', heads: [9], op: 'zero' }] });
    expect(await err).toMatchObject({ id: 'go', code: 'head_out_of_range' });
    expect((await err).message).toContain('interventions[0].heads');
    const noSuch = c.next('error', 'nope');
    c.send({ type: 'intervene', id: 'nope', interventions: [] });
    expect((await noSuch).code).toBe('unknown_generation');
    const shape = c.next('error', 'go');
    c.send({ type: 'intervene', id: 'go' });
    expect((await shape).code).toBe('invalid_message');
    const frames = await c.untilDone('go');
    const done = frames.at(-1) as DoneMessage;
    expect(done.reason).toBe('length');
    expect(done.token_ids.slice(0, 8)).toEqual(cleanGreedy);
    expect(of(frames, 'intervened')).toEqual([]);
  });

  it('only the owner may intervene: a subscriber gets not_owner', async () => {
    const other = await StreamClient.connect(server.url);
    try {
      const started = c.next('started', 'own');
      c.send({ type: 'generate', id: 'own', token_ids: PROMPT, max_new_tokens: 24, stop_at_eos: false });
      const { share } = await started;
      const sub = other.next('subscribed', 'w');
      other.send({ type: 'subscribe', id: 'w', share });
      await sub;
      const err = other.next('error', 'w');
      other.send({ type: 'intervene', id: 'w', interventions: [] });
      expect((await err).code).toBe('not_owner');
      await c.untilDone('own');
    } finally {
      other.close();
    }
  });
});
