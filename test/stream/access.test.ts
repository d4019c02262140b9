// GET /stream access: ids are per connection, watching needs the share token, browsers from other sites are
// refused at the upgrade, and one client cannot take every connection or generation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';
import { ProblemSchema } from '../../src/schemas/problem.js';
import type { StartedMessage, TokenMessage } from '../../src/schemas/stream.js';

const GEN = { prompt: 'The capital of France is', max_new_tokens: 12, hooks: ['blocks.0.hook_resid_post'] };

/** The HTTP answer to an upgrade the server refuses (status, content type, parsed body). */
function refusedUpgrade(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; type: string; body: unknown }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += String(d)));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: JSON.parse(text) }),
      );
    });
    ws.once('error', () => undefined);
  });
}

describe('GET /stream access', () => {
  let server: StreamServer;
  let origin: string;
  beforeAll(async () => {
    server = await startStreamServer({
      MAX_NEW_TOKENS: 12,
      WS_ALLOWED_ORIGINS: 'https://lab.example.org, http://localhost:5173',
    });
    origin = server.url.replace(/^ws:/, 'http:').replace(/\/stream$/, '');
  });
  afterAll(async () => server.close());

  it('ids are per connection: two clients run their own "g1" at once, and a stranger cannot name one', async () => {
    const a = await StreamClient.connect(server.url);
    const b = await StreamClient.connect(server.url);
    a.send({ type: 'generate', id: 'g1', ...GEN, prompt: 'People in Kenya speak' });
    b.send({ type: 'generate', id: 'g1', ...GEN });
    const [sa, sb] = (await Promise.all([a.next('started', 'g1'), b.next('started', 'g1')])) as StartedMessage[];
    expect(sa.prompt_tokens.map((t) => t.text).join('')).toBe('People in Kenya speak');
    expect(sb.prompt_tokens.map((t) => t.text).join('')).toBe('The capital of France is');
    expect(sa.share).toMatch(/^[\w-]{24}$/);
    expect(sb.share).not.toBe(sa.share);
    const c = await StreamClient.connect(server.url);
    c.send({ type: 'cancel', id: 'g1' }); // the ids of others mean nothing here
    expect(await c.next('error', 'g1')).toMatchObject({ code: 'unknown_generation' });
    c.send({ type: 'subscribe', id: 'g1' }); // a subscription without the token is refused by the schema
    expect(await c.next('error', 'g1')).toMatchObject({ code: 'invalid_message' });
    c.send({ type: 'subscribe', id: 'g1', share: `${sa.share.slice(0, -1)}${sa.share.endsWith('A') ? 'B' : 'A'}` });
    expect(await c.next('error', 'g1')).toMatchObject({ code: 'unknown_generation' });
    const [da, db] = await Promise.all([a.untilDone('g1'), b.untilDone('g1')]);
    expect(da.at(-1)).toMatchObject({ type: 'done', reason: 'length' });
    expect(db.at(-1)).toMatchObject({ type: 'done', reason: 'length' });
    expect(c.frames.some((f) => f.type === 'started' || f.type === 'token')).toBe(false);
    for (const x of [a, b, c]) x.close();
  });

  it('whoever holds the share token watches under a label of its own', async () => {
    const owner = await StreamClient.connect(server.url);
    const watcher = await StreamClient.connect(server.url);
    owner.send({ type: 'generate', id: 'mine', ...GEN });
    const { share } = await owner.next('started', 'mine');
    watcher.send({ type: 'generate', id: 'mine', ...GEN, max_new_tokens: 1 }); // the watcher's own "mine"
    await watcher.untilDone('mine');
    watcher.send({ type: 'subscribe', id: 'theirs', share });
    const ownerFrames = await owner.untilDone('mine');
    const watched = await watcher.untilDone('theirs');
    expect(watched[0]).toMatchObject({ type: 'started', id: 'theirs', owner: false, share });
    const tokens = (fs: typeof watched) =>
      fs.filter((f): f is TokenMessage => f.type === 'token').map((t) => t.token.id);
    expect(tokens(watched)).toEqual(tokens(ownerFrames));
    expect(watched.every((f) => 'id' in f && f.id === 'theirs')).toBe(true);
    owner.close();
    watcher.close();
  });

  it('a page from another site is refused at the upgrade with 403 problem+json; same origin, no Origin and the allow-list open', async () => {
    const refused = await refusedUpgrade(server.url, { origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.type).toMatch(/^application\/problem\+json/);
    expect(ProblemSchema.parse(refused.body)).toMatchObject({ status: 403, code: 'origin_not_allowed' });
    expect((await refusedUpgrade(server.url, { origin: 'null' })).status).toBe(403);
    // Same host, other port: another origin.
    expect((await refusedUpgrade(server.url, { origin: 'http://127.0.0.1:1' })).status).toBe(403);
    const allowed: Record<string, string>[] = [
      {},
      { origin },
      { origin: 'https://lab.example.org' },
      { origin: 'http://localhost:5173' },
    ];
    for (const headers of allowed) {
      const c = await StreamClient.connect(server.url, { headers });
      await c.waitFor((f) => f.type === 'hello');
      c.close();
    }
  });
});

describe('GET /stream per-client limits', () => {
  let server: StreamServer;
  beforeAll(async () => {
    server = await startStreamServer({
      MAX_NEW_TOKENS: 64,
      WS_MAX_CONNECTIONS_PER_CLIENT: 3,
      WS_MAX_GENERATIONS_PER_CLIENT: 2,
    });
  });
  afterAll(async () => server.close());

  it('connections and concurrent generations are limited per client, while another client still gets in', async () => {
    const mine = await Promise.all([0, 1, 2].map(() => StreamClient.connect(server.url)));
    const extra = await StreamClient.connect(server.url);
    expect((await extra.waitClosed()).code).toBe(1013);
    expect(extra.frames).toEqual([
      expect.objectContaining({ type: 'error', id: null, code: 'too_many_client_connections' }),
    ]);
    // Another address on the loopback network is another client.
    const other = await StreamClient.connect(server.url, { localAddress: '127.0.0.2' });
    await other.waitFor((f) => f.type === 'hello');

    const long = { ...GEN, max_new_tokens: 56, stop_at_eos: false };
    mine[0]!.send({ type: 'generate', id: 'x1', ...long });
    mine[1]!.send({ type: 'generate', id: 'x2', ...long });
    await Promise.all([mine[0]!.next('token', 'x1'), mine[1]!.next('token', 'x2')]);
    mine[2]!.send({ type: 'generate', id: 'x3', ...long });
    expect(await mine[2]!.next('error', 'x3')).toMatchObject({ code: 'too_many_client_generations' });
    other.send({ type: 'generate', id: 'x3', ...long });
    await other.next('started', 'x3');
    await Promise.all([mine[0]!.untilDone('x1'), mine[1]!.untilDone('x2'), other.untilDone('x3')]);
    mine[2]!.send({ type: 'generate', id: 'x4', ...long, max_new_tokens: 1 }); // free again
    expect(await mine[2]!.next('done', 'x4')).toMatchObject({ reason: 'length' });
    for (const x of [...mine, other]) x.close();
  });
});
