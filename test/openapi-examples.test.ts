// "Try it out" in /docs works on first use: each request body carries an example that the route accepts as is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { TraceRequestSchema } from '../src/schemas/trace.js';
import { TokenizeRequestSchema } from '../src/schemas/tokenize.js';
import { SweepRequestSchema } from '../src/schemas/sweep.js';
import { SaveTraceRequestSchema } from '../src/schemas/traces.js';
import { tinyApp } from './trace/models-dir.js';

const exampleOf = (schema: z.ZodType) => (schema.meta() as { example?: unknown } | undefined)?.example;

describe('OpenAPI request examples', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await tinyApp({}));
  });
  afterAll(() => close());

  it.each([
    ['TraceRequest', TraceRequestSchema, '/trace'],
    ['TokenizeRequest', TokenizeRequestSchema, '/tokenize'],
    ['SweepRequest', SweepRequestSchema, '/sweep'],
    ['SaveTraceRequest', SaveTraceRequestSchema, null],
  ] as const)('%s has an example its route answers with 200', async (id, schema, url) => {
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
