// The stream's generate with interventions: the greedy tokens are the reference's intervened full-recompute tokens,
// and bad interventions get an error frame while the connection keeps working.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/checkpoint/safetensors.js';
import type { DoneMessage } from '../../src/schemas/stream.js';
import { FIXTURES } from '../runtime/reference.js';
import { StreamClient, startStreamServer, type StreamServer } from './client.js';

describe('GET /stream generate with interventions', () => {
  let server: StreamServer;
  let c: StreamClient;
  let refGreedy: Record<string, number[]>;
  beforeAll(async () => {
    server = await startStreamServer({ MAX_NEW_TOKENS: 8 });
    c = await StreamClient.connect(server.url);
    const iv = await readSafetensors(path.join(FIXTURES, 'reference', 'tiny-gpt2.interventions.safetensors'));
    refGreedy = JSON.parse(iv.metadata.greedy_ids);
  });
  afterAll(async () => {
    c.close();
    await server.close();
  });

  it.each([
    ['zero_heads', [{ hook: 'blocks.1.attn.hook_z', heads: [0, 2], op: 'zero' }]],
    ['scale_last', [{ hook: 'blocks.0.hook_attn_out', positions: 'last', op: 'scale', factor: 2.5 }]],
    [
      'patch_resid',
      [
        {
          hook: 'blocks.1.hook_resid_post',
          positions: [3],
          op: 'patch',
          source: { token_ids: [464, 3139, 286, 8031, 318] },
        },
      ],
    ],
  ])('%s: the greedy tokens are the reference intervened tokens', async (name, interventions) => {
    c.send({
      type: 'generate',
      id: name,
      token_ids: [464, 3139, 286, 4881, 318],
      max_new_tokens: 4,
      hooks: [],
      interventions,
    });
    const frames = await c.untilDone(name);
    expect((frames.at(-1) as DoneMessage).token_ids).toEqual(refGreedy[name]);
  });

  it('a bad intervention is an error frame for that generation; the connection keeps working', async () => {
    const next = c.next('error');
    c.send({
      type: 'generate',
      id: 'bad',
      prompt: 'Hi',
      interventions: [{ hook: 'blocks.0.attn.hook_z', heads: [7], op: 'zero' }],
    });
    const err = await next;
    expect({ id: err.id, code: err.code }).toEqual({ id: 'bad', code: 'head_out_of_range' });
    expect(err.message).toContain('interventions[0].heads');
    c.send({ type: 'generate', id: 'ok', prompt: 'Hi', max_new_tokens: 1, hooks: [] });
    const frames = await c.untilDone('ok');
    expect(frames.at(-1)?.type).toBe('done');
  });
});
