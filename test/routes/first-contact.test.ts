import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ProblemSchema } from '../../src/schemas/problem.js';
import type { z } from 'zod';
import { closestWords } from '../../src/errors/edit-distance.js';
import { TraceRequestSchema } from '../../src/schemas/trace.js';
import { TokenizeRequestSchema } from '../../src/schemas/tokenize.js';
import { SweepRequestSchema } from '../../src/schemas/sweep.js';
import { SaveTraceRequestSchema } from '../../src/schemas/traces.js';
import { tinyApp } from '../trace/models-dir.js';

// What a new user hits first: wrong method, misspelt fields, stray query parameters, /docs "Try it out".

const exampleOf = (schema: z.ZodType) => (schema.meta() as { example?: unknown } | undefined)?.example;
describe('first contact: wrong method, misspelt fields, unknown query parameters', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await tinyApp({}));
  });
  afterAll(() => close());

  const problem = (res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    return ProblemSchema.passthrough().parse(res.json());
  };

  it('GET /trace is a 405 that says to use POST, with an Allow header', async () => {
    const res = await app.inject({ method: 'GET', url: '/trace' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    const p = problem(res);
    expect(p.code).toBe('method_not_allowed');
    expect(p.detail).toMatch(/use POST/);
  });

  it('a path that exists under no method is still a 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('route_not_found');
  });

  it.each([
    [{ text: 'The capital of France is' }, 'text', 'prompt'],
    [{ prompt: 'x', topk: 3 }, 'topk', 'top_k'],
    [{ prompt: 'x', max_tokens: 3 }, 'max_tokens', 'max_new_tokens'],
    [{ prompt: 'x', interventions: [{ hook: 'blocks.0.attn.hook_z', op: 'zero', head: [1] }] }, 'head', 'heads'],
  ])('misspelt body field %j suggests the right one', async (payload, wrong, right) => {
    const res = await app.inject({ method: 'POST', url: '/trace', payload });
    expect(res.statusCode).toBe(400);
    const p = problem(res) as unknown as {
      code: string;
      detail: string;
      issues: { suggestions?: Record<string, string[]> }[];
    };
    expect(p.code).toBe('invalid_request');
    expect(p.detail).toContain(`did you mean "${right}" for "${wrong}"`);
    expect(p.issues[0]?.suggestions?.[wrong]).toEqual([right]);
  });

  it('an unknown query parameter is a 400 like an unknown body field; known ones still work', async () => {
    const bad = await app.inject({ method: 'POST', url: '/trace?topk=3', payload: { prompt: 'x' } });
    expect(bad.statusCode).toBe(400);
    const p = problem(bad);
    expect(p.code).toBe('invalid_request');
    expect(p.detail).toMatch(/unknown parameter "topk".*takes no query parameters/);
    const misspelt = await app.inject({ method: 'GET', url: '/models?famly=llama' });
    expect(misspelt.statusCode).toBe(400);
    expect(problem(misspelt).detail).toContain('did you mean "family" for "famly"');
    const good = await app.inject({ method: 'GET', url: '/models?family=llama' });
    expect(good.statusCode).toBe(200);
  });

  it('closestWords: squashed separators, synonyms, and nothing for far words', () => {
    expect(closestWords('topK', ['top_k', 'prompt'])).toEqual(['top_k']);
    expect(closestWords('text', ['prompt', 'top_k'], 3, { text: 'prompt' })).toEqual(['prompt']);
    expect(closestWords('zzzzzzzz', ['prompt', 'top_k'])).toEqual([]);
  });

  // "Try it out" in /docs works on first use: each request body carries an example that the route accepts as is.
  it.each([
    ['TraceRequest', TraceRequestSchema, '/trace'],
    ['TokenizeRequest', TokenizeRequestSchema, '/tokenize'],
    ['SweepRequest', SweepRequestSchema, '/sweep'],
    ['SaveTraceRequest', SaveTraceRequestSchema, null],
  ] as const)('%s has an OpenAPI example its route answers with 200', async (id, schema, url) => {
    const example = exampleOf(schema);
    expect(example).toBeDefined();
    expect(schema.safeParse(example).success).toBe(true);
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      components: { schemas: Record<string, { example?: unknown }> };
    };
    expect(doc.components.schemas[`${id}Input`]?.example).toEqual(example);
    if (url) {
      const res = await app.inject({ method: 'POST', url, payload: example as object });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    }
  });
});
