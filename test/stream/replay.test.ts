// GET /stream replay buffer: bounded in bytes on the heaviest stream, tokens kept for late subscribers, and
// released once the generation's grace period is over.
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';
import type { DoneMessage, SubscribedMessage, TokenMessage } from '../../src/schemas/stream.js';

const BOUND = 4 * 1024 * 1024;
const GRACE = 1500;
const N = 40;
// Every hook, full detail, the logit lens on every token: ~0.7 MB per step frame on the tiny fixture.
const HEAVY = {
  prompt: 'The capital of France is',
  max_new_tokens: N,
  hooks: ['*'],
  detail: 'full',
  logit_lens: true,
  stop_at_eos: false,
};

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
};
const arrayBuffers = () => process.memoryUsage().arrayBuffers;

describe('GET /stream replay buffer', () => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer({ MAX_NEW_TOKENS: N, WS_REPLAY_BYTES: BOUND, WS_REPLAY_GRACE_MS: GRACE });
  });
  afterAll(async () => server.close());

  it('holds at most WS_REPLAY_BYTES of a heavy stream, keeps every token, and lets go after the grace period', async () => {
    const hub = server.app.streamHub;
    const owner = await StreamClient.connect(server.url);
    let received = 0;
    let peak = 0;
    owner.ws.on('message', (d: Buffer) => {
      received += d.length;
      for (const g of hub.stats().generations) peak = Math.max(peak, g.replay_bytes);
    });
    owner.send({ type: 'generate', id: 'heavy', ...HEAVY });
    const ownerFrames = await owner.untilDone('heavy');
    const done = ownerFrames.at(-1) as DoneMessage;
    expect(done).toMatchObject({ reason: 'length', tokens: N });
    expect(received).toBeGreaterThan(5 * BOUND); // the bound had to bite
    expect(peak).toBeGreaterThan(BOUND / 2);
    expect(peak).toBeLessThanOrEqual(BOUND);
    const held = hub.stats().replayBytes;
    expect(held).toBeGreaterThan(BOUND / 2);
    expect(held).toBeLessThanOrEqual(BOUND);

    // Within the grace period a late subscriber gets started, every token (the text rebuilds), the newest steps
    // that fit, and done; the frame says how many steps were dropped.
    const { share } = ownerFrames[0] as { share: string };
    const late = await StreamClient.connect(server.url);
    late.send({ type: 'subscribe', id: 'late', share });
    const frames = await late.untilDone('late');
    const subscribed = late.frames.find((f) => f.type === 'subscribed') as SubscribedMessage;
    const tokens = frames.filter((f): f is TokenMessage => f.type === 'token');
    expect(tokens.map((t) => t.index)).toEqual([...Array(N).keys()]);
    expect(tokens.map((t) => t.token.text).join('')).toBe(done.text);
    expect(subscribed.missed_tokens).toBe(0);
    expect(subscribed.missed_steps).toBeGreaterThan(0);
    expect(subscribed.missed).toBe(subscribed.missed_steps);
    const steps = frames.filter((f) => f.type === 'step');
    expect(steps.length).toBe(N - subscribed.missed_steps);
    expect(frames[0]).toMatchObject({ type: 'started', id: 'late', owner: false });
    expect(frames.at(-1)).toMatchObject({ type: 'done', id: 'late', text: done.text });

    // After the grace period the buffer is gone: the bytes are given back and the token no longer works.
    await settle();
    const during = arrayBuffers();
    await new Promise((r) => setTimeout(r, GRACE + 200));
    await settle();
    expect(hub.stats()).toMatchObject({ retained: 0, replayBytes: 0 });
    expect(during - arrayBuffers()).toBeGreaterThan(0.9 * held);
    late.send({ type: 'subscribe', id: 'later', share });
    expect(await late.next('error', 'later')).toMatchObject({ code: 'unknown_generation' });
    owner.close();
    late.close();
  }, 120_000);
});
