// GET /stream bad input: every mistake gets an `error` frame with a stable code and the connection keeps working.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';
import { ProblemSchema } from '../../src/schemas/problem.js';

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('GET /stream errors', () => {
  let server: StreamServer;
  let c: StreamClient;
  beforeAll(async () => {
    server = await startStreamServer({
      MAX_NEW_TOKENS: 8,
      WS_MAX_GENERATIONS: 1,
      WS_MAX_CONNECTIONS: 2,
      WS_MAX_MESSAGE_BYTES: 4096,
      MAX_RETURNED_VALUES: 5000,
    });
    c = await StreamClient.connect(server.url);
    await c.waitFor((f) => f.type === 'hello');
  });
  afterAll(async () => {
    c.close();
    await server.close();
  });

  /** Send a frame, expect one error frame (id, code), then prove the connection still answers. */
  async function expectError(frame: unknown, id: string | null, code: string): Promise<void> {
    const next = c.next('error');
    c.send(frame);
    const err = await next;
    expect({ id: err.id, code: err.code }).toEqual({ id, code });
    expect(err.message.length).toBeGreaterThan(10);
    const nonce = String(Math.random());
    c.send({ type: 'ping', nonce });
    await c.waitFor((f) => f.type === 'pong' && f.nonce === nonce, c.frames.length);
  }

  it.each([
    ['malformed JSON', '{"type": "generate", ', null, 'invalid_json'],
    ['not an object', '[1, 2]', null, 'invalid_message'],
    ['no type', { id: 'x' }, null, 'invalid_message'],
    ['unknown type', { type: 'launch', id: 'x' }, 'x', 'unknown_type'],
    ['bad id', { type: 'generate', id: 'has space', prompt: 'a' }, 'has space', 'invalid_message'],
    ['unknown field', { type: 'generate', id: 'g', prompt: 'a', tempreature: 1 }, 'g', 'invalid_message'],
    ['negative temperature', { type: 'generate', id: 'g', prompt: 'a', temperature: -1 }, 'g', 'invalid_message'],
    ['top_p 0', { type: 'generate', id: 'g', prompt: 'a', top_p: 0 }, 'g', 'invalid_message'],
    ['top_p above 1', { type: 'generate', id: 'g', prompt: 'a', top_p: 1.5 }, 'g', 'invalid_message'],
    ['seed above uint32', { type: 'generate', id: 'g', prompt: 'a', seed: 2 ** 32 }, 'g', 'invalid_message'],
    ['alternatives 101', { type: 'generate', id: 'g', prompt: 'a', alternatives: 101 }, 'g', 'invalid_message'],
    [
      'too many stop strings',
      { type: 'generate', id: 'g', prompt: 'a', stop: Array(9).fill('x') },
      'g',
      'invalid_message',
    ],
    [
      'max_new_tokens over the cap',
      { type: 'generate', id: 'g', prompt: 'a', max_new_tokens: 9 },
      'g',
      'too_many_new_tokens',
    ],
    [
      'prompt over n_ctx',
      { type: 'generate', id: 'g', token_ids: Array(60).fill(1), max_new_tokens: 8 },
      'g',
      'prompt_too_long',
    ],
    ['a one-word prompt over n_ctx', { type: 'generate', id: 'g', prompt: '中'.repeat(1300) }, 'g', 'prompt_too_long'],
    [
      'hook pattern over 200 characters',
      { type: 'generate', id: 'g', prompt: 'a', hooks: ['*'.repeat(201)] },
      'g',
      'invalid_message',
    ],
    ['empty prompt', { type: 'generate', id: 'g', prompt: '' }, 'g', 'empty_prompt'],
    ['no prompt', { type: 'generate', id: 'g' }, 'g', 'missing_prompt'],
    ['token id out of range', { type: 'generate', id: 'g', token_ids: [50257] }, 'g', 'token_id_out_of_range'],
    [
      'unknown hook',
      { type: 'generate', id: 'g', prompt: 'a', hooks: ['blocks.9.hook_resid_post'] },
      'g',
      'unknown_hook',
    ],
    ['unknown model', { type: 'generate', id: 'g', prompt: 'a', model: 'gpt-5' }, 'g', 'unknown_model'],
    [
      'prefill position outside',
      { type: 'generate', id: 'g', prompt: 'a', prefill_positions: [3] },
      'g',
      'position_out_of_range',
    ],
    [
      'too many values',
      { type: 'generate', id: 'g', prompt: 'a', hooks: ['logits'], detail: 'full' },
      'g',
      'too_many_values',
    ],
    ['cancel unknown', { type: 'cancel', id: 'nope' }, 'nope', 'unknown_generation'],
  ])('%s', async (_what, frame, id, code) => {
    await expectError(frame, id, code);
  });

  it('an unknown_hook frame carries the valid_patterns its message promises, as the REST problem does', async () => {
    const next = c.next('error');
    c.send({ type: 'generate', id: 'g', prompt: 'a', hooks: ['blocks.0.attn.hook_qq'] });
    const err = (await next) as { code: string; message: string; valid_patterns?: string[]; unknown?: string[] };
    expect(err.code).toBe('unknown_hook');
    expect(err.message).toContain('valid_patterns');
    expect(err.unknown).toEqual(['blocks.0.attn.hook_qq']);
    expect(err.valid_patterns).toContain('blocks.*.attn.hook_q');
  });

  it('a plain GET without the upgrade gets a 426 problem', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/stream' });
    expect(res.statusCode).toBe(426);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(ProblemSchema.parse(res.json())).toMatchObject({ status: 426, code: 'websocket_required' });
  });

  it('a duplicate live id and a generation over WS_MAX_GENERATIONS are refused', async () => {
    const dup = c.next('error');
    // Sent back to back: the first is live (loading) when the server reads the second.
    c.send({ type: 'generate', id: 'same', prompt: 'a', max_new_tokens: 2 });
    c.send({ type: 'generate', id: 'same', prompt: 'b', max_new_tokens: 2 });
    expect(await dup).toMatchObject({ id: 'same', code: 'duplicate_id' });
    await c.untilDone('same');
    const busy = c.next('error');
    c.send({ type: 'generate', id: 'one', prompt: 'a', max_new_tokens: 2 });
    c.send({ type: 'generate', id: 'two', prompt: 'b', max_new_tokens: 2 });
    expect(await busy).toMatchObject({ id: 'two', code: 'too_many_generations' });
    await c.untilDone('one');
    // Once finished, the id can be used again.
    const again = c.next('done', 'one');
    c.send({ type: 'generate', id: 'one', prompt: 'a', max_new_tokens: 1 });
    expect(await again).toMatchObject({ reason: 'length', tokens: 1 });
  });

  it('a frame over WS_MAX_MESSAGE_BYTES closes that socket with 1009; others are unaffected', async () => {
    const big = await StreamClient.connect(server.url);
    big.send({ type: 'generate', id: 'big', prompt: 'x'.repeat(5000) });
    expect((await big.waitClosed()).code).toBe(1009);
    await expectError('nope', null, 'invalid_json');
  });

  it('connections over WS_MAX_CONNECTIONS get too_many_connections and close 1013', async () => {
    await until(() => server.app.streamHub.stats().connections === 1, 'earlier sockets to close');
    const second = await StreamClient.connect(server.url);
    const third = await StreamClient.connect(server.url);
    const closed = await third.waitClosed();
    expect(closed.code).toBe(1013);
    expect(third.frames).toEqual([expect.objectContaining({ type: 'error', id: null, code: 'too_many_connections' })]);
    expect(second.frames[0]).toMatchObject({ type: 'hello' });
    second.close();
  });
});
