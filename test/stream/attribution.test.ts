// The stream's generate with attribution: true: every token frame carries the direct logit attribution of the chosen
// token at its predicting position, equal to /trace's attribution of that token on the same prefix.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../src/schemas/stream.js';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';

const CAPITAL = [464, 3139, 286, 4881, 318];

describe('GET /stream generate with attribution', () => {
  let server: StreamServer;
  let c: StreamClient;
  beforeAll(async () => {
    server = await startStreamServer();
    c = await StreamClient.connect(server.url);
  });
  afterAll(async () => {
    c.close();
    await server.close();
  });

  it('each generated token: parts sum to its logit minus the ln_final bias, and equal /trace on that prefix', async () => {
    c.send({ type: 'generate', id: 'a', token_ids: CAPITAL, max_new_tokens: 3, attribution: true, logit_lens: false });
    const frames = await c.untilDone('a');
    const tokens = frames.filter((f): f is Extract<ServerMessage, { type: 'token' }> => f.type === 'token');
    expect(tokens).toHaveLength(3);
    const prefix = [...CAPITAL];
    for (const t of tokens) {
      const a = t.attribution;
      expect(a).toBeDefined();
      if (!a) continue;
      expect(a.target.tokens.map((x) => x.id)).toEqual([t.token.id]);
      expect(a.logit).toBeCloseTo(t.logit, 4);
      expect(Math.abs(a.sum + a.ln_final_bias - a.logit)).toBeLessThan(1e-4);
      const res = await server.app.inject({
        method: 'POST',
        url: '/trace',
        payload: { token_ids: prefix, hooks: [], logit_lens: false, attribution: { tokens: [t.token.id] } },
      });
      const ref = res.json().attribution;
      expect(a.position).toBe(prefix.length - 1);
      expect(a.heads.flat().length).toBe(ref.heads.flat().length);
      a.heads.flat().forEach((v, i) => {
        expect(Math.abs(v - ref.heads.flat()[i])).toBeLessThan(1e-4);
      });
      a.mlp.forEach((v, i) => {
        expect(Math.abs(v - ref.mlp[i])).toBeLessThan(1e-4);
      });
      expect(Math.abs(a.embed - ref.embed)).toBeLessThan(1e-4);
      expect(Math.abs(a.pos_embed - ref.pos_embed)).toBeLessThan(1e-4);
      prefix.push(t.token.id);
    }
  });

  it('without attribution the token frames carry none', async () => {
    c.send({ type: 'generate', id: 'b', token_ids: CAPITAL, max_new_tokens: 1, logit_lens: false });
    const frames = await c.untilDone('b');
    const t = frames.find((f) => f.type === 'token') as Extract<ServerMessage, { type: 'token' }>;
    expect(t.attribution).toBeUndefined();
  });
});
