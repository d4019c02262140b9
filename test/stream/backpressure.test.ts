// GET /stream backpressure: a client that stops reading pauses its generation instead of growing server memory.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';
import type { DoneMessage, ServerMessage, StepMessage } from '../../src/schemas/stream.js';

const LIMIT = 256 * 1024;
// `logits` with detail=full makes every step frame ~1 MB (50257 raw values), so a few MB of unread frames fill
// the kernel's socket buffers quickly and the rest must wait in (or be kept out of) the server's send buffer.
const HEAVY = {
  prompt: 'The capital of France is',
  max_new_tokens: 40,
  hooks: ['logits'],
  detail: 'full',
  logit_lens: false,
};
const FRAME_BOUND = 2 * 1024 * 1024; // one step frame + one token frame, generously

const rawSocket = (c: StreamClient) => (c.ws as unknown as { _socket: Socket })._socket;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Wait until the owner's send buffer is over the limit (the kernel's socket buffers are full), then check the
 * generation has stopped: at most the one step already in flight may still finish.
 */
async function untilStalled(server: StreamServer, id: string): Promise<number> {
  const hub = server.app.streamHub;
  const behind = () => {
    const g = hub.get(id);
    const p = g && hub.stats().peers.find((x) => x.id === g.owner.connectionId);
    return p !== undefined && p.buffered > LIMIT;
  };
  for (let i = 0; i < 1500 && !behind(); i++) {
    if (i > 50 && !hub.get(id)) throw new Error(`${id} finished instead of pausing`);
    await sleep(10);
  }
  if (!behind()) throw new Error('the send buffer never filled');
  const n0 = hub.get(id)!.tokenIds.length;
  await sleep(300);
  const n1 = hub.get(id)!.tokenIds.length;
  expect(n1 - n0).toBeLessThanOrEqual(1);
  await sleep(300);
  expect(hub.get(id)!.tokenIds.length).toBe(n1); // paused
  return n1;
}

describe('GET /stream backpressure', () => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer({ MAX_NEW_TOKENS: 40, WS_MAX_BUFFERED_BYTES: LIMIT });
  });
  afterAll(async () => server.close());

  it('an owner that never reads pauses its generation; the server buffer stays bounded; nothing is lost', async () => {
    const a = await StreamClient.connect(server.url);
    await a.waitFor((f) => f.type === 'hello');
    a.send({ type: 'generate', id: 'bp', ...HEAVY });
    rawSocket(a).pause();
    const stalledAt = await untilStalled(server, 'bp');
    expect(stalledAt).toBeLessThan(40);
    const peer = server.app.streamHub
      .stats()
      .peers.find((p) => p.id === server.app.streamHub.get('bp')!.owner.connectionId)!;
    expect(peer.buffered).toBeGreaterThan(LIMIT); // it really is behind...
    expect(peer.maxBuffered).toBeLessThan(LIMIT + FRAME_BOUND); // ...but by at most one step's frames
    rawSocket(a).resume();
    const frames = await a.untilDone('bp');
    const done = frames.at(-1) as DoneMessage;
    expect(done).toMatchObject({ reason: 'length', tokens: 40, coalesced: 0 });
    expect(done.timings.paused_ms).toBeGreaterThan(0);
    expect(frames.filter((f) => f.type === 'step')).toHaveLength(40);
    expect(frames.map((f) => ('seq' in f ? f.seq : -1))).toEqual(frames.map((_, i) => i));
    a.close();
  }, 90_000);

  it('a slow subscriber does not stall the owner: its steps are coalesced, its tokens all arrive', async () => {
    const owner = await StreamClient.connect(server.url);
    const slow = await StreamClient.connect(server.url);
    await slow.waitFor((f) => f.type === 'hello');
    owner.send({ type: 'generate', id: 'sub', ...HEAVY });
    const { share } = await owner.next('started', 'sub');
    slow.send({ type: 'subscribe', id: 'sub', share });
    await slow.next('subscribed', 'sub');
    rawSocket(slow).pause();
    const ownerFrames = await owner.untilDone('sub'); // completes while the subscriber is not reading
    expect((ownerFrames.at(-1) as DoneMessage).reason).toBe('length');
    rawSocket(slow).resume();
    const got: ServerMessage[] = await slow.untilDone('sub');
    const done = got.at(-1) as DoneMessage;
    const tokens = (fs: ServerMessage[]) =>
      fs.filter((f) => f.type === 'token').map((f) => ('token' in f ? f.token.id : -1));
    expect(tokens(got)).toEqual(tokens(ownerFrames));
    const steps = got.filter((f): f is StepMessage => f.type === 'step');
    expect(done.coalesced).toBeGreaterThan(0);
    expect(steps.length + done.coalesced).toBe(40);
    expect(steps.reduce((n, s) => n + s.coalesced, 0)).toBeLessThanOrEqual(done.coalesced);
    const seqs = got.map((f) => ('seq' in f ? (f.seq ?? -1) : -1));
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs); // in order, no duplicates
    expect(new Set(seqs).size).toBe(seqs.length);
    owner.close();
    slow.close();
  }, 90_000);
});
