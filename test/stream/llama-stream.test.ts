// GET /stream on llama-family models: the same hub, plan, decode loop and worker-held KV caches as GPT-2.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config.js';
import type { DoneMessage, ServerMessage, StartedMessage } from '../../src/schemas/stream.js';
import { testApp } from '../helpers/app.js';
import { loadReference } from '../runtime/reference.js';
import { StreamClient } from './client.js';

const of = <T extends ServerMessage['type']>(frames: ServerMessage[], type: T) =>
  frames.filter((f): f is Extract<ServerMessage, { type: T }> => f.type === type);

describe('GET /stream on llama-mini and a sliding-window mistral', () => {
  let app: FastifyInstance;
  let dir: string;
  let client: StreamClient;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tensortrace-llama-stream-'));
    await symlink(path.join(PROJECT_ROOT, 'models/llama-mini'), path.join(dir, 'llama-mini'), 'dir');
    await symlink(path.join(PROJECT_ROOT, 'test/fixtures/tiny-mistral'), path.join(dir, 'tiny-mistral'), 'dir');
    app = await testApp({ MODELS_DIR: dir, DEFAULT_MODEL: 'llama-mini', MODEL_WORKERS: 1 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    if (!addr || typeof addr === 'string') throw new Error('no TCP address');
    client = await StreamClient.connect(`ws://127.0.0.1:${addr.port}/stream`, {
      headers: { origin: `http://127.0.0.1:${addr.port}` },
    });
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('llama-mini streams " Paris." and stops at <|end_of_text|>, with grouped keys in every step', async () => {
    client.send({
      type: 'generate',
      id: 'paris',
      prompt: 'The capital of France is',
      max_new_tokens: 6,
      hooks: ['blocks.*.attn.hook_rot_k', 'blocks.*.attn.hook_pattern'],
    });
    const frames = await client.untilDone('paris');
    const started = frames[0] as StartedMessage;
    expect(started.prompt_tokens.map((t) => t.text)).toEqual([
      '<|begin_of_text|>',
      'The',
      ' capital',
      ' of',
      ' France',
      ' is',
    ]);
    const tokens = of(frames, 'token').map((t) => t.token.text);
    expect(tokens).toEqual([' Paris', '.', '<|end_of_text|>']);
    const done = frames.at(-1) as DoneMessage;
    expect(done.reason).toBe('eos');
    for (const step of of(frames, 'step')) {
      const k = step.hooks.find((h) => h.hook === 'blocks.0.attn.hook_rot_k');
      expect(k?.shape.slice(1)).toEqual([2, 32]); // [pos, kv_head, d_head]
      expect(step.attention.map((a) => a.layer)).toEqual([0, 1, 2, 3]);
    }
  });

  it('a mistral with a window shorter than the prompt streams the reference greedy tokens', async () => {
    const ref = await loadReference('tiny-mistral.safetensors');
    client.send({
      type: 'generate',
      id: 'win',
      model: 'tiny-mistral',
      token_ids: ref.ids,
      max_new_tokens: 8,
      stop_at_eos: false,
      hooks: [],
    });
    const frames = await client.untilDone('win');
    expect(of(frames, 'token').map((t) => t.token.id)).toEqual(ref.greedyIds);
  });
});
