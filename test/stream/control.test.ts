// GET /stream: cancel, subscribers (identical sequences, replay for late joiners), disconnect cleanup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';
import type { DoneMessage, ServerMessage, TokenMessage } from '../../src/schemas/stream.js';

const tokensOf = (frames: ServerMessage[]) =>
  frames.filter((f): f is TokenMessage => f.type === 'token').map((t) => t.token.id);
const genFrames = (c: StreamClient, id: string) => c.framesOf(id).filter((f) => f.type !== 'error');
const seqsOf = (frames: ServerMessage[]) => frames.map((f) => ('seq' in f ? f.seq : -1));
// Long enough that a client round trip (cancel, subscribe) lands mid-generation.
const N = 24;
const LONG = {
  prompt: 'The capital of France is',
  max_new_tokens: N,
  hooks: ['blocks.*.hook_resid_post'],
  logit_lens: false,
  temperature: 0.9,
  seed: 7,
};

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('GET /stream control', () => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer({ MAX_NEW_TOKENS: N, WS_HEARTBEAT_MS: 150 });
  });
  afterAll(async () => server.close());

  it('cancel mid-way ends with done cancelled and no token after it', async () => {
    const a = await StreamClient.connect(server.url);
    a.send({ type: 'generate', id: 'c1', ...LONG });
    await a.next('token', 'c1');
    a.send({ type: 'cancel', id: 'c1' });
    const done = (await a.next('done', 'c1')) as DoneMessage;
    expect(done.reason).toBe('cancelled');
    expect(done.detail).toMatch(/client/);
    expect(done.tokens).toBeGreaterThanOrEqual(1);
    expect(done.tokens).toBeLessThan(N);
    a.send({ type: 'ping', nonce: 'after' });
    await a.waitFor((f) => f.type === 'pong' && f.nonce === 'after');
    const frames = a.framesOf('c1');
    expect(frames.at(-1)!.type).toBe('done');
    expect(tokensOf(frames)).toEqual(done.token_ids);
    expect(server.app.streamHub.get('c1')).toBeUndefined();
    a.close();
  });

  it('two subscribers see the same frames as the owner, in order, without gaps or duplicates', async () => {
    const owner = await StreamClient.connect(server.url);
    const b = await StreamClient.connect(server.url);
    const c = await StreamClient.connect(server.url);
    owner.send({ type: 'generate', id: 'w1', ...LONG });
    const { share } = await owner.next('started', 'w1');
    b.send({ type: 'subscribe', id: 'w1', share });
    await owner.next('token', 'w1');
    await owner.next('token', 'w1');
    c.send({ type: 'subscribe', id: 'w1', share }); // a late joiner: replay first, then live
    const [fo, fb, fc] = await Promise.all([owner.untilDone('w1'), b.untilDone('w1'), c.untilDone('w1')]);
    const subscribed = c.frames.find((f) => f.type === 'subscribed')!;
    expect(subscribed).toMatchObject({ id: 'w1', missed: 0 });
    expect((subscribed as { replayed: number }).replayed).toBeGreaterThanOrEqual(4);
    for (const f of [fo, fb, fc]) expect(seqsOf(f)).toEqual(fo.map((_, i) => i));
    expect(tokensOf(fb)).toEqual(tokensOf(fo));
    expect(tokensOf(fc)).toEqual(tokensOf(fo));
    expect(fb[0]).toMatchObject({ type: 'started', owner: false });
    expect(fo[0]).toMatchObject({ type: 'started', owner: true });
    // Identical frames apart from the owner flag.
    expect(fc.slice(1)).toEqual(fo.slice(1));
    expect(tokensOf(fo)).toHaveLength(N);
    for (const x of [owner, b, c]) x.close();
  });

  it('subscribe/unsubscribe errors and unsubscribing stops the frames', async () => {
    const owner = await StreamClient.connect(server.url);
    const b = await StreamClient.connect(server.url);
    b.send({ type: 'subscribe', id: 'nope', share: 'A'.repeat(24) });
    expect(await b.next('error')).toMatchObject({ id: 'nope', code: 'unknown_generation' });
    owner.send({ type: 'generate', id: 'u1', ...LONG });
    const { share } = await owner.next('started', 'u1');
    owner.send({ type: 'subscribe', id: 'u1', share });
    expect(await owner.next('error', 'u1')).toMatchObject({ code: 'already_subscribed' });
    b.send({ type: 'cancel', id: 'u1' }); // ids are per connection: b has no u1 of its own
    expect(await b.next('error', 'u1')).toMatchObject({ code: 'unknown_generation' });
    b.send({ type: 'subscribe', id: 'u1', share });
    await b.next('token', 'u1');
    b.send({ type: 'cancel', id: 'u1' });
    expect(await b.next('error', 'u1')).toMatchObject({ code: 'not_owner' });
    b.send({ type: 'unsubscribe', id: 'u1' });
    await b.next('unsubscribed', 'u1');
    const seen = genFrames(b, 'u1').length;
    b.send({ type: 'unsubscribe', id: 'u1' });
    expect(await b.next('error', 'u1')).toMatchObject({ code: 'not_subscribed' });
    await owner.untilDone('u1');
    b.send({ type: 'ping' });
    await b.next('pong');
    expect(genFrames(b, 'u1')).toHaveLength(seen);
    owner.close();
    b.close();
  });

  it('closing the owner cancels its generation, tells subscribers and frees it', async () => {
    const owner = await StreamClient.connect(server.url);
    const b = await StreamClient.connect(server.url);
    owner.send({ type: 'generate', id: 'd1', ...LONG });
    const { share } = await owner.next('started', 'd1');
    b.send({ type: 'subscribe', id: 'd1', share });
    await b.next('token', 'd1');
    owner.ws.terminate();
    const done = (await b.next('done', 'd1')) as DoneMessage;
    expect(done).toMatchObject({ reason: 'cancelled' });
    expect(done.detail).toMatch(/closed/);
    expect(done.tokens).toBeLessThan(N);
    await until(() => server.app.streamHub.stats().connections === 1, 'the owner to be removed');
    expect(server.app.streamHub.stats().generations).toEqual([]);
    b.close();
    await until(() => server.app.streamHub.stats().connections === 0, 'all connections closed');
  });

  it('heartbeat: a peer that answers pings stays, one that does not is terminated', async () => {
    const live = await StreamClient.connect(server.url);
    const dead = new WebSocket(server.url, { autoPong: false });
    const closed = new Promise<number>((r) => dead.once('close', (code) => r(code)));
    expect(await closed).toBe(1006); // terminated after two silent intervals, no close frame
    expect(live.closed).toBeUndefined();
    live.send({ type: 'ping', nonce: 'still here' });
    await live.waitFor((f) => f.type === 'pong' && f.nonce === 'still here');
    live.close();
  });
});
