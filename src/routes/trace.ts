// POST /trace: one forward pass of a prompt with every requested activation summarised.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProblemSchema } from '../schemas/problem.js';
import { TraceRequestSchema, TraceResponseSchema } from '../schemas/trace.js';
import { runTrace } from '../trace/run-trace.js';

const traceRoutes: FastifyPluginAsync = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/trace',
    {
      schema: {
        tags: ['trace'],
        summary: 'Trace a prompt through a GPT-2 model',
        description:
          'Tokenizes the prompt, runs one forward pass exposing the selected TransformerLens hooks and returns, per hook, ' +
          'statistics and a histogram over the selected positions (raw values with detail=full), attention rows, ' +
          'the logit lens, the next-token top-k and an optional greedy continuation. Values are raw (no fold_ln). See docs/trace.md.',
        body: TraceRequestSchema,
        response: {
          200: TraceResponseSchema,
          400: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          413: ProblemSchema,
          503: ProblemSchema,
        },
      },
    },
    async (request) => runTrace(request.body, app.models, app.config),
  );
};
export default traceRoutes;
