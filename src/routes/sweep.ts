// POST /sweep: a grid of single interventions (head ablation, activation patching) in one request.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProblemSchema } from '../schemas/problem.js';
import { SweepRequestSchema, SweepResponseSchema } from '../schemas/sweep.js';
import { runSweep } from '../sweep/run-sweep.js';

const sweepRoutes: FastifyPluginAsync = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/sweep',
    {
      config: { modelWork: true },
      schema: {
        tags: ['trace'],
        summary: 'Ablate every head, or patch every layer x position, in one request',
        description:
          'Runs a whole grid of single interventions on a GPT-2 model: ablate_heads ([layer, head], zero or mean) or ' +
          'patch (clean values into the corrupted run, or the reverse, at one hook per layer: [layer, position] or ' +
          '[layer, head]). Each cell equals the same one intervention through /trace with a metric. The cells run ' +
          'batched from their own layer and first changed position. See docs/interventions.md#sweeps.',
        body: SweepRequestSchema,
        response: {
          200: SweepResponseSchema,
          400: ProblemSchema,
          404: ProblemSchema,
          413: ProblemSchema,
          429: ProblemSchema,
          503: ProblemSchema,
        },
      },
    },
    async (request) => runSweep(request.body, app.models, app.config),
  );
};
export default sweepRoutes;
