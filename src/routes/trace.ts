// POST /trace: one forward pass of a prompt with every requested activation summarised.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ProblemSchema } from '../schemas/problem.js';
import { TraceRequestSchema, TraceResponseSchema } from '../schemas/trace.js';
import { runTrace } from '../trace/run-trace.js';
import { EXPORT_MEDIA_TYPES, exportParts, requestedFormat, runExport } from '../export/run-export.js';
import { sendFile } from '../export/send-file.js';

const traceRoutes: FastifyPluginAsync = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/trace',
    {
      config: { modelWork: true },
      schema: {
        tags: ['trace'],
        summary: 'Trace a prompt through a GPT-2 model',
        description:
          'Tokenizes the prompt, runs one forward pass exposing the selected TransformerLens hooks and returns, per hook, ' +
          'statistics and a histogram over the selected positions (raw values with detail=full), attention rows, ' +
          'the logit lens, the next-token top-k and an optional greedy continuation. Values are raw (no fold_ln). See docs/trace.md. ' +
          'With "format": "safetensors" / "npz" (or Accept: application/vnd.safetensors / application/x-npz) the reply is a file ' +
          'of the selected hooks at full float32 precision instead (docs/export.md).',
        body: TraceRequestSchema,
        response: {
          200: TraceResponseSchema,
          400: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          413: ProblemSchema,
          422: ProblemSchema,
          429: ProblemSchema,
          503: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      await app.models.refresh(request.body.model ?? app.models.defaultName); // a model imported after start
      const format = requestedFormat(request.body.format, request.headers.accept);
      if (format === 'json') return runTrace(request.body, app.models, app.config);
      const exp = await runExport(request.body, app.models, app.config);
      return sendFile(reply, exportParts(exp, format), EXPORT_MEDIA_TYPES[format], `trace.${format}`);
    },
  );
};
export default traceRoutes;
