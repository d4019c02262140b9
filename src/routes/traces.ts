// Saved traces: POST /traces (run + store), GET /traces (list), GET /traces/:id (JSON, ?verify=true),
// GET /traces/:id/tensors (safetensors), DELETE /traces/:id. The work is in src/storage/.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../errors/problem-error.js';
import { EXPORT_MEDIA_TYPES } from '../export/run-export.js';
import { ProblemSchema } from '../schemas/problem.js';
import {
  SavedTraceListSchema,
  SavedTraceSchema,
  SaveTraceRequestSchema,
  SaveTraceResponseSchema,
  TraceGetQuery,
  TraceIdParams,
  TraceListQuery,
} from '../schemas/traces.js';
import { saveTrace, verifyTrace } from '../storage/saved-traces.js';
import { storeHandle } from '../storage/store-handle.js';

const links = (id: string) => ({ self: `/traces/${id}`, tensors: `/traces/${id}/tensors`, share: `/?trace=${id}` });
const missing = (id: string) =>
  notFound(
    'trace_not_found',
    `No saved trace has the id ${JSON.stringify(id)} (it may have been deleted or evicted).`,
    {
      id,
    },
  );

const tracesRoutes: FastifyPluginAsync = async (app) => {
  const store = storeHandle(app.config, app.log);
  app.addHook('onClose', () => store.close());
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['saved traces'];

  r.post(
    '/traces',
    {
      schema: {
        tags,
        summary: 'Run a trace and save it (recipe, JSON reply, float32 tensors)',
        description:
          'Runs the request as POST /trace does and stores its recipe (model, weights sha256, token ids, the full request ' +
          'with interventions), its JSON reply and the selected hooks of the prompt pass as a safetensors file. The oldest ' +
          'saved traces are evicted first to stay within TRACES_MAX_COUNT / TRACES_MAX_BYTES.',
        body: SaveTraceRequestSchema,
        response: {
          201: SaveTraceResponseSchema,
          400: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          413: ProblemSchema,
          503: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const saved = await saveTrace(request.body, app.models, app.config, await store.get());
      reply.code(201).header('location', `/traces/${saved.id}`);
      return { ...saved, links: links(saved.id) };
    },
  );

  r.get(
    '/traces',
    {
      schema: {
        tags,
        summary: 'List saved traces, newest first',
        querystring: TraceListQuery,
        response: { 200: SavedTraceListSchema, 400: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      const s = await store.get();
      const page = s.list(request.query.limit, request.query.cursor);
      const totals = s.totals();
      return {
        ...page,
        total_count: totals.count,
        total_bytes: totals.bytes,
        limits: { max_count: app.config.TRACES_MAX_COUNT, max_bytes: app.config.TRACES_MAX_BYTES },
      };
    },
  );

  r.get(
    '/traces/:id',
    {
      schema: {
        tags,
        summary: 'A saved trace: recipe and JSON reply (verify=true reruns the recipe and compares)',
        params: TraceIdParams,
        querystring: TraceGetQuery,
        response: { 200: SavedTraceSchema, 400: ProblemSchema, 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      const s = await store.get();
      const saved = s.get(request.params.id);
      if (!saved) throw missing(request.params.id);
      const { result, ...rest } = saved;
      const verification = request.query.verify ? await verifyTrace(saved, app.models, app.config, s) : undefined;
      return { ...rest, trace: result, links: links(saved.id), ...(verification ? { verification } : {}) } as z.infer<
        typeof SavedTraceSchema
      >;
    },
  );

  r.get(
    '/traces/:id/tensors',
    {
      schema: {
        tags,
        summary: "A saved trace's tensors as safetensors (the same layout as POST /trace with format safetensors)",
        params: TraceIdParams,
        response: { 200: z.any().describe('application/vnd.safetensors'), 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      const file = await (await store.get()).openTensors(request.params.id);
      if (!file) throw missing(request.params.id);
      return reply
        .type(EXPORT_MEDIA_TYPES.safetensors)
        .header('content-length', file.bytes)
        .header('content-disposition', `attachment; filename="trace-${request.params.id}.safetensors"`)
        .send(file.stream);
    },
  );

  r.delete(
    '/traces/:id',
    {
      schema: {
        tags,
        summary: 'Delete a saved trace',
        params: TraceIdParams,
        response: { 204: z.null().describe('Deleted'), 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      if (!(await (await store.get()).delete(request.params.id))) throw missing(request.params.id);
      return reply.code(204).send(null);
    },
  );
};
export default tracesRoutes;
