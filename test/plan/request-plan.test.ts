// The one request plan: the three transports go through one sequence, so one rule gives one code on all of them.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError } from '../../src/errors/problem-error.js';
import { planExport } from '../../src/plan/export-plan.js';
import { planGeneration } from '../../src/plan/generation-plan.js';
import { planTrace } from '../../src/plan/trace-plan.js';
import { GenerateMessageSchema } from '../../src/schemas/stream.js';
import { TraceRequestSchema } from '../../src/schemas/trace.js';
import { tinyApp } from '../trace/models-dir.js';

let app: FastifyInstance;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ app, close } = await tinyApp());
});
afterAll(() => close());

type Body = Record<string, unknown>;
const planners = {
  trace: (b: Body) => planTrace(TraceRequestSchema.parse(b), app.models, app.config),
  export: (b: Body) => planExport(TraceRequestSchema.parse({ ...b, format: 'npz' }), app.models, app.config),
  generate: ({ positions, ...b }: Body) =>
    planGeneration(
      GenerateMessageSchema.parse({ type: 'generate', id: 'g', max_new_tokens: 0, ...b, prefill_positions: positions }),
      app.models,
      app.config,
    ),
};

function codeOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (err) {
    if (err instanceof ProblemError) return err.code;
    throw err;
  }
}

describe('planRequest through every transport', () => {
  const cases: [string, Body, string][] = [
    ['both prompt fields', { prompt: 'a', token_ids: [1] }, 'prompt_and_token_ids'],
    ['no prompt', {}, 'missing_prompt'],
    ['an id outside the vocabulary', { token_ids: [1, 1_000_000] }, 'token_id_out_of_range'],
    ['an unknown hook', { prompt: 'a b', hooks: ['blocks.0.nope'] }, 'unknown_hook'],
    ['a position outside the prompt', { token_ids: [1, 2], positions: [5] }, 'position_out_of_range'],
    ['an unknown model', { model: 'no-such-model', prompt: 'a' }, 'unknown_model'],
  ];
  for (const [what, body, code] of cases) {
    it(`${what}: ${code} on /trace, its export and the stream`, () => {
      expect(codeOf(() => planners.trace(body))).toBe(code);
      expect(codeOf(() => planners.export(body))).toBe(code);
      expect(codeOf(() => planners.generate(body))).toBe(code);
    });
  }

  it('the same request gives the same tokens, hooks and positions on every transport', () => {
    const body = { prompt: 'The capital of France is', hooks: ['blocks.*.hook_resid_post'], positions: [-2, -1] };
    const [t, e, g] = [planners.trace(body), planners.export(body), planners.generate(body)];
    for (const p of [e, g]) {
      expect(p.promptIds).toEqual(t.promptIds);
      expect(p.hooks).toEqual(t.hooks);
      expect(p.positions).toEqual(t.positions);
    }
    expect(t.positions).toEqual([t.promptIds.length - 2, t.promptIds.length - 1]);
    expect(t.hooks.length).toBe(t.dims.nLayer);
  });

  it('a plan is frozen', () => {
    const p = planners.trace({ token_ids: [1, 2, 3] });
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.promptIds)).toBe(true);
    expect(Object.isFrozen(p.hooks)).toBe(true);
    expect(() => (p.promptIds as number[]).push(4)).toThrow(TypeError);
  });
});
