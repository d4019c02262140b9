// GET /healthz (process is up) and GET /readyz (default model is runnable).
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { HealthSchema, ReadySchema } from '../schemas/health.js';

const healthRoutes: FastifyPluginAsync = async (app) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/healthz', { schema: { tags: ['health'], response: { 200: HealthSchema } } }, async () => ({
    status: 'ok' as const,
    uptime_s: Math.round(process.uptime() * 1000) / 1000,
  }));
  r.get(
    '/readyz',
    { schema: { tags: ['health'], response: { 200: ReadySchema, 503: ReadySchema } } },
    async (_req, reply) => {
      await app.models.refresh(app.config.DEFAULT_MODEL); // installed after start: ready now
      const names = app.models.list().map((m) => m.name);
      const def = app.config.DEFAULT_MODEL;
      const ready = names.includes(def);
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        default_model: def,
        runnable_models: names,
        ...(ready ? {} : { detail: `The default model "${def}" was not found under ${app.config.MODELS_DIR}.` }),
      });
    },
  );
};
export default healthRoutes;
